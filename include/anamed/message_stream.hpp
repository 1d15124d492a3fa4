// The messages of one reply that a producer on another thread is still making: a zone
// transfer handed to the TCP server as it is built, so that the first message goes out long
// before the last one exists. One producer, one consumer (the TCP server's thread); the
// consumer is woken through an eventfd it attaches, written once per batch of new messages.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

namespace anamed {

class MessageStream {
public:
    // Producer: appends a message (dropped when the consumer has gone).
    void push(std::string msg) {
        std::lock_guard lock(m_);
        if (cancelled_.load(std::memory_order_relaxed)) return;
        ready_.push_back(std::move(msg));
        wake();
    }
    // Producer: no more messages. ok false: the reply failed part-way, and the connection
    // must be closed rather than end with a partial transfer that looks whole.
    void finish(bool ok) {
        std::lock_guard lock(m_);
        finished_ = true;
        failed_ = !ok;
        wake();
    }
    // Producer: whether to stop (the connection was closed).
    bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

    // Consumer: the eventfd to write when messages arrive (-1: none).
    void attach(int fd) {
        std::lock_guard lock(m_);
        wake_fd_ = fd;
    }
    // Consumer: moves the messages made so far to `out`; the state after the move.
    enum class State { more, done, failed };
    State take(std::deque<std::string>& out) {
        std::lock_guard lock(m_);
        while (!ready_.empty()) {
            out.push_back(std::move(ready_.front()));
            ready_.pop_front();
        }
        return !finished_ ? State::more : failed_ ? State::failed : State::done;
    }
    // Consumer: gone; the producer may stop.
    void cancel() {
        std::lock_guard lock(m_);
        cancelled_.store(true, std::memory_order_relaxed);
        ready_.clear();
        wake_fd_ = -1;
    }

private:
    // Under m_, so that the consumer's cancel() or attach() is never raced by a write to a
    // descriptor it has since closed. The eventfd is non-blocking: the write never waits.
    void wake() {
        if (wake_fd_ < 0) return;
        const uint64_t one = 1;
        [[maybe_unused]] ssize_t r = write(wake_fd_, &one, sizeof one);
    }

    std::mutex m_;
    std::deque<std::string> ready_;
    bool finished_ = false, failed_ = false;
    int wake_fd_ = -1;
    std::atomic<bool> cancelled_{false};
};

}  // namespace anamed
