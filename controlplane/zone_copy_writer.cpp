#include "zone_copy_writer.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>

#include "log.hpp"
#include "zone_writer.hpp"

namespace anamed {
namespace {

// Below the serving and control threads: on a small machine the copy waits, answers do not.
constexpr int writer_nice = 10;

void write_one(const ZoneImage& image, const std::string& path) {
    const auto t0 = std::chrono::steady_clock::now();
    if (std::string err = write_zone_file(image, path); !err.empty()) {
        log_error("zone " + image.apex_text + ": its copy could not be written: " + err);
        return;
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    log_info("zone " + image.apex_text + " serial " + std::to_string(image.serial) +
             " written to " + path + " in " + std::to_string(ms) + " ms");
}

}  // namespace

ZoneCopyWriter::~ZoneCopyWriter() {
    {
        std::lock_guard lock(m_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void ZoneCopyWriter::write(std::shared_ptr<const ZoneImage> image, const std::string& path) {
    {
        std::lock_guard lock(m_);
        queued_[path] = std::move(image);
        if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    }
    cv_.notify_all();
}

bool ZoneCopyWriter::busy() const {
    std::lock_guard lock(m_);
    return writing_ || !queued_.empty();
}

void ZoneCopyWriter::wait() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [this] { return !writing_ && queued_.empty(); });
}

void ZoneCopyWriter::run() {
    setpriority(PRIO_PROCESS, uint32_t(gettid()), writer_nice);
    std::unique_lock lock(m_);
    while (true) {
        cv_.wait(lock, [this] { return stop_ || !queued_.empty(); });
        if (queued_.empty()) return;  // stopping, everything written
        auto it = queued_.begin();
        const std::string path = it->first;
        std::shared_ptr<const ZoneImage> image = std::move(it->second);
        queued_.erase(it);
        writing_ = true;
        lock.unlock();
        write_one(*image, path);
        image.reset();  // freed here, not on the control thread
        lock.lock();
        writing_ = false;
        cv_.notify_all();
    }
}

}  // namespace anamed
