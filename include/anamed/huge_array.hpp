// Memory for big tables looked up at random (the snapshot's node tables and indexes, the
// zone's name index): anonymous mappings advised to use transparent huge pages, so that a
// lookup in a million-name table does not also pay a TLB miss (on a VM, a two-level page
// walk) per level.
#pragma once

#include <cstddef>
#include <new>
#include <utility>

namespace anamed {

inline constexpr size_t huge_page_size = 2u << 20;  // x86-64's transparent huge page

// Below one huge page a table gains nothing from one and would cost a whole one (a server
// with 100,000 small zones): huge_alloc takes such blocks from the heap instead.
inline constexpr bool small_block(size_t bytes) {
    return bytes < huge_page_size;
}
// The memory a block of `bytes` takes: heap blocks as asked, mappings in whole huge pages.
inline constexpr size_t huge_footprint(size_t bytes) {
    return small_block(bytes) ? bytes : (bytes + huge_page_size - 1) & ~(huge_page_size - 1);
}

// `advise` false: plain pages for now, huge_promote() later. On a VM whose host backs guest
// memory lazily (free page reporting), a fresh huge page costs ~0.5 GB/s to fault against
// ~2 GB/s for small pages: the compiler writes the answer blocks (sequentially: no TLB
// pressure) into small pages, and the daemon promotes them once the snapshot serves.
// Zeroed. A small_block() comes from the heap, aligned to a cache line, never advised.
void* huge_alloc(size_t bytes, bool advise = true);
// Advises huge pages for [p, p + bytes) and collapses it into them now (MADV_COLLAPSE,
// Linux 6.1; older kernels leave it to khugepaged).
void huge_promote(void* p, size_t bytes);
void huge_free(void* p, size_t bytes);

// A fixed-size array of trivially copyable T in huge-page-advised memory.
template <class T>
class HugeArray {
public:
    HugeArray() = default;
    // defer_huge: small pages until huge_promote(data(), bytes()) (see huge_alloc).
    explicit HugeArray(size_t n, bool defer_huge = false)
        : data_(static_cast<T*>(huge_alloc(n * sizeof(T), !defer_huge))), size_(n) {
        for (size_t i = 0; i < n; ++i) new (&data_[i]) T{};
    }
    HugeArray(HugeArray&& o) noexcept : data_(o.data_), size_(o.size_) {
        o.data_ = nullptr, o.size_ = 0;
    }
    HugeArray& operator=(HugeArray&& o) noexcept {
        std::swap(data_, o.data_);
        std::swap(size_, o.size_);
        return *this;
    }
    ~HugeArray() {
        if (data_) huge_free(data_, size_ * sizeof(T));
    }
    T& operator[](size_t i) { return data_[i]; }
    const T& operator[](size_t i) const { return data_[i]; }
    size_t size() const { return size_; }
    size_t bytes() const { return size_ * sizeof(T); }
    size_t footprint() const { return huge_footprint(bytes()); }
    bool empty() const { return size_ == 0; }
    T* begin() { return data_; }
    T* end() { return data_ + size_; }
    const T* begin() const { return data_; }
    const T* end() const { return data_ + size_; }

private:
    T* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace anamed
