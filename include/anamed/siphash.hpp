// SipHash-2-4 (Aumasson and Bernstein), the keyed hash RFC 9018's server cookies use:
// allocation-free, for the answer path.
#pragma once

#include <cstddef>
#include <cstdint>

namespace anamed {

// The 64-bit SipHash-2-4 of data under a 16-byte key, as the reference implementation
// computes it (its result read as a little-endian integer).
uint64_t siphash24(const uint8_t key[16], const uint8_t* data, size_t len) noexcept;

}  // namespace anamed
