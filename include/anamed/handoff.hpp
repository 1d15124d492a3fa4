// Messages the workers hand to the control plane, and the replies that come back.
//
// The workers push onto a bounded lock-free queue and wake the control plane through an
// eventfd; a full queue drops the message (UDP clients retry; TCP clients get no reply to
// that one message and the connection closes). Nothing else is shared between the planes.
#pragma once

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "anamed/dispatch.hpp"
#include "anamed/message_stream.hpp"
#include "anamed/respond.hpp"

namespace anamed {

// Vyukov's bounded multi-producer queue: one atomic sequence per cell, no lock.
template <class T>
class BoundedQueue {
public:
    explicit BoundedQueue(size_t capacity) {
        size_t cap = 2;
        while (cap < capacity) cap <<= 1;
        cells_ = std::make_unique<Cell[]>(cap);
        mask_ = cap - 1;
        for (size_t i = 0; i < cap; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
    }
    // False when full.
    bool push(T&& v) {
        size_t pos = head_.load(std::memory_order_relaxed);
        for (;;) {
            Cell& c = cells_[pos & mask_];
            const size_t seq = c.seq.load(std::memory_order_acquire);
            const intptr_t diff = intptr_t(seq) - intptr_t(pos);
            if (diff == 0) {
                if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
                    c.value = std::move(v);
                    c.seq.store(pos + 1, std::memory_order_release);
                    return true;
                }
            } else if (diff < 0) {
                return false;
            } else {
                pos = head_.load(std::memory_order_relaxed);
            }
        }
    }
    // False when empty.
    bool pop(T& v) {
        size_t pos = tail_.load(std::memory_order_relaxed);
        for (;;) {
            Cell& c = cells_[pos & mask_];
            const size_t seq = c.seq.load(std::memory_order_acquire);
            const intptr_t diff = intptr_t(seq) - intptr_t(pos + 1);
            if (diff == 0) {
                if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
                    v = std::move(c.value);
                    c.seq.store(pos + mask_ + 1, std::memory_order_release);
                    return true;
                }
            } else if (diff < 0) {
                return false;
            } else {
                pos = tail_.load(std::memory_order_relaxed);
            }
        }
    }

private:
    struct alignas(64) Cell {
        std::atomic<size_t> seq;
        T value;
    };
    std::unique_ptr<Cell[]> cells_;
    size_t mask_ = 0;
    alignas(64) std::atomic<size_t> head_{0};
    alignas(64) std::atomic<size_t> tail_{0};
};

// A queue whose consumer sleeps in poll() on fd() until a producer pushes.
template <class T>
class WakingQueue {
public:
    explicit WakingQueue(size_t capacity)
        : q_(capacity), fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
    ~WakingQueue() { close(fd_); }
    WakingQueue(const WakingQueue&) = delete;
    WakingQueue& operator=(const WakingQueue&) = delete;

    bool push(T&& v) {
        if (!q_.push(std::move(v))) return false;
        const uint64_t one = 1;
        [[maybe_unused]] ssize_t r = write(fd_, &one, sizeof one);
        return true;
    }
    bool pop(T& v) { return q_.pop(v); }
    int fd() const { return fd_; }
    // Clears the wake-up; call before draining with pop() so no push is missed.
    void drain_signal() {
        uint64_t n;
        [[maybe_unused]] ssize_t r = read(fd_, &n, sizeof n);
    }

private:
    BoundedQueue<T> q_;
    int fd_;
};

// One handed-off message and where its reply goes.
struct HandoffMessage {
    MessageClass cls = MessageClass::other;
    Transport transport = Transport::udp;
    sockaddr_storage peer{};
    socklen_t peer_len = 0;
    int udp_fd = -1;    // UDP: the socket it arrived on, which the reply leaves from
    uint64_t conn = 0;  // TCP: the connection, as the TCP server names it
    std::vector<uint8_t> bytes;
};

// What the control plane sends back: no message (drop), one, or a stream (a transfer).
// A transfer built on another thread comes as `more`: its messages follow `messages` as the
// producer makes them (TCP only).
struct Reply {
    std::vector<std::string> messages;
    std::shared_ptr<MessageStream> more;
};

using HandoffQueue = WakingQueue<std::unique_ptr<HandoffMessage>>;

}  // namespace anamed
