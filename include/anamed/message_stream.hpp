// The messages of one reply that a producer on another thread is still making: a zone
// transfer handed to the TCP server as it is built, so that the first message goes out long
// before the last one exists. One producer, one consumer (the TCP server's thread), no lock:
// a ring of `capacity` messages with atomic positions. A producer ahead of its client waits
// for room, so a slow reader holds at most `capacity` messages of its transfer in memory.
// The stream's own eventfd (readable when messages or the end arrived) wakes the consumer;
// it lives as long as the stream, which both sides hold, so a write never meets a closed
// descriptor.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <string>

namespace anamed {

class MessageStream {
public:
    static constexpr size_t capacity = 64;

    MessageStream() : wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
    ~MessageStream() {
        if (wake_fd_ >= 0) close(wake_fd_);
    }
    MessageStream(const MessageStream&) = delete;
    MessageStream& operator=(const MessageStream&) = delete;
    // Consumer: the descriptor to wait on (-1: none could be made; poll instead).
    int fd() const { return wake_fd_; }
    // Consumer: clears the wake-up.
    void drain() const {
        uint64_t n;
        if (wake_fd_ >= 0) [[maybe_unused]]
            ssize_t r = read(wake_fd_, &n, sizeof n);
    }

    // Producer: appends a message, waiting while the ring is full (asleep until the consumer
    // takes some or goes); dropped when the consumer has gone.
    void push(std::string msg) {
        const uint64_t tail = tail_.load(std::memory_order_relaxed);
        while (true) {
            // Read before the check: a take() or cancel() after it changes it, and the wait
            // below then returns at once.
            const uint32_t seen = progress_.load(std::memory_order_acquire);
            if (cancelled()) return;
            if (tail - head_.load(std::memory_order_acquire) < capacity) break;
            progress_.wait(seen, std::memory_order_acquire);
        }
        ring_[tail % capacity] = std::move(msg);
        tail_.store(tail + 1, std::memory_order_release);
        wake();
    }
    // Producer: no more messages. ok false: the reply failed part-way, and the connection
    // must be closed rather than end with a partial transfer that looks whole.
    void finish(bool ok) {
        state_.store(ok ? done_ok : done_failed, std::memory_order_release);
        wake();
    }
    // Producer: whether to stop (the connection was closed).
    bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

    // Consumer: moves the messages made so far to `out`; the state after the move.
    enum class State { more, done, failed };
    State take(std::deque<std::string>& out) {
        // The state first: messages pushed before finish() are then all visible below.
        const int state = state_.load(std::memory_order_acquire);
        const uint64_t tail = tail_.load(std::memory_order_acquire);
        uint64_t head = head_.load(std::memory_order_relaxed);
        if (head != tail) {
            for (; head != tail; ++head) out.push_back(std::move(ring_[head % capacity]));
            head_.store(head, std::memory_order_release);
            progress_.fetch_add(1, std::memory_order_release);
            progress_.notify_one();
        }
        return state == producing ? State::more : state == done_ok ? State::done : State::failed;
    }
    // Consumer: gone; the producer stops at its next message.
    void cancel() {
        cancelled_.store(true, std::memory_order_release);
        progress_.fetch_add(1, std::memory_order_release);
        progress_.notify_all();
    }

private:
    void wake() const {
        const uint64_t one = 1;
        if (wake_fd_ >= 0) [[maybe_unused]]
            ssize_t r = write(wake_fd_, &one, sizeof one);
    }

    static constexpr int producing = 0, done_ok = 1, done_failed = 2;
    const int wake_fd_;
    std::array<std::string, capacity> ring_;
    alignas(64) std::atomic<uint64_t> head_{0};  // the consumer's
    alignas(64) std::atomic<uint64_t> tail_{0};  // the producer's
    std::atomic<uint32_t> progress_{0};  // moves at each take() and at cancel(): wakes push()
    std::atomic<int> state_{producing};
    std::atomic<bool> cancelled_{false};
};

}  // namespace anamed
