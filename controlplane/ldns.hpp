// ldns for C++. Without HAVE_STDBOOL_H, ldns/common.h defines `true` and `false` as the ints
// 1 and 0, which breaks standard headers read after it (<optional>'s comparisons). Reading
// <stdbool.h> first marks bool as defined; in C++ it defines nothing else.
#pragma once

// clang-format off
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers): needed for its guard macro
#include <ldns/ldns.h>
// clang-format on
