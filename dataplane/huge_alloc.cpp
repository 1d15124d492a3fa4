// The huge-page allocator behind HugeArray and the snapshot's arenas (anamed/huge_array.hpp).
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "anamed/huge_array.hpp"

namespace anamed {
namespace {
size_t round_up(size_t n) {
    return (n + huge_page_size - 1) & ~(huge_page_size - 1);
}
}  // namespace

void* huge_alloc(size_t bytes, bool advise) {
    if (bytes == 0) return nullptr;
    if (small_block(bytes)) {
        void* p = std::aligned_alloc(64, (bytes + 63) & ~size_t(63));
        if (p == nullptr) throw std::bad_alloc();
        return std::memset(p, 0, bytes);
    }
    // Aligned to a huge page, so that every 2 MB of the block can be one (kernels before 6.7
    // place a large anonymous mapping anywhere): map a page more and trim both ends.
    const size_t len = round_up(bytes);
    void* m = mmap(nullptr, len + huge_page_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::bad_alloc();
    const auto start = reinterpret_cast<uintptr_t>(m);
    const uintptr_t aligned = (start + huge_page_size - 1) & ~uintptr_t(huge_page_size - 1);
    if (aligned > start) munmap(m, aligned - start);
    if (const size_t tail = start + len + huge_page_size - (aligned + len))
        munmap(reinterpret_cast<void*>(aligned + len), tail);
    void* p = reinterpret_cast<void*>(aligned);
    if (advise) madvise(p, len, MADV_HUGEPAGE);  // advice only: fine if refused
    return p;
}

void huge_promote(void* p, size_t bytes) {
    if (p == nullptr || small_block(bytes)) return;
    madvise(p, round_up(bytes), MADV_HUGEPAGE);
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25  // Linux 6.1
#endif
    madvise(p, round_up(bytes), MADV_COLLAPSE);  // best effort; khugepaged does it later otherwise
}

void huge_free(void* p, size_t bytes) {
    if (p == nullptr) return;
    if (small_block(bytes))
        std::free(p);
    else
        munmap(p, round_up(bytes));
}

}  // namespace anamed
