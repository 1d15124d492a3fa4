#include "xfr_stream.hpp"

#include <chrono>
#include <ctime>

#include "log.hpp"

namespace anamed {
namespace {

// Builds, signs and hands on every message of the job; runs on the job's own thread.
void produce(const TransferThreads::Job& job, MessageStream& out) {
    const auto t0 = std::chrono::steady_clock::now();
    std::optional<TsigStreamSigner> signer;
    if (job.tsig) signer.emplace(*job.tsig);
    size_t messages = 0;
    const bool ok = axfr_stream(*job.image, job.request, [&](std::string msg) {
        if (out.cancelled()) return false;
        if (signer) {
            const size_t len = msg.size();
            msg.resize(len + job.request.room);
            const size_t n = signer->sign(reinterpret_cast<uint8_t*>(msg.data()), len, msg.size(),
                                          uint64_t(std::time(nullptr)));
            if (n == 0) return false;  // never: room was kept
            msg.resize(n);
        }
        out.push(std::move(msg));
        ++messages;
        return true;
    });
    out.finish(ok);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const std::string what = job.log_prefix + ": " + std::to_string(messages) +
                             " message(s), built in " + std::to_string(int(ms)) +
                             " ms while sending";
    if (ok)
        log_info(what);
    else
        log_warning(what + (out.cancelled() ? "; the client went away" : "; it failed"));
}

}  // namespace

TransferThreads::~TransferThreads() {
    for (Running& r : running_) {
        r.stream->cancel();
        r.thread.join();
    }
}

void TransferThreads::reap() {
    for (size_t i = 0; i < running_.size();) {
        if (running_[i].done->load(std::memory_order_acquire)) {
            running_[i].thread.join();
            running_[i] = std::move(running_.back());
            running_.pop_back();
        } else {
            ++i;
        }
    }
}

std::shared_ptr<MessageStream> TransferThreads::start(Job job) {
    reap();
    if (running_.size() >= max_running) return nullptr;
    auto stream = std::make_shared<MessageStream>();
    auto done = std::make_shared<std::atomic<bool>>(false);
    // The key may be reloaded away while the thread signs: the thread signs with its own copy.
    std::shared_ptr<const TsigKey> key;
    if (job.tsig && job.tsig->key) {
        key = std::make_shared<const TsigKey>(*job.tsig->key);
        job.tsig->key = key.get();
    }
    std::thread t([job = std::move(job), key, stream, done] {
        produce(job, *stream);
        done->store(true, std::memory_order_release);
    });
    running_.push_back(Running{std::move(t), done, stream});
    return stream;
}

}  // namespace anamed
