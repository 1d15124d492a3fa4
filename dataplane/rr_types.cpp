// The RR type table's indexes: by number (65536 bytes) and by mnemonic (a small hash
// table), both computed at compile time from rr_table::types.
#include "anamed/rr_types.hpp"

namespace anamed {
namespace {

constexpr auto make_number_index() {
    std::array<uint8_t, 65536> index{};
    for (size_t i = 0; i < rr_type_count; ++i) index[rr_table::types[i].number] = uint8_t(i + 1);
    return index;
}

// ASCII letters fold to upper case; other bytes hash as they are (iequals has the last word).
constexpr uint8_t fold(char c) {
    return c >= 'a' && c <= 'z' ? uint8_t(c - 32) : uint8_t(c);
}

constexpr uint32_t mnemonic_hash(std::string_view s) {
    uint32_t h = 2166136261u;  // FNV-1a
    for (char c : s) h = (h ^ fold(c)) * 16777619u;
    return h;
}

constexpr bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (fold(a[i]) != fold(b[i])) return false;
    return true;
}

// Open addressing, at most a quarter full: 1 + an entry's place, 0 for a free slot.
constexpr size_t mnemonic_slots = 1024;
static_assert(mnemonic_slots >= 4 * 2 * rr_type_count);

constexpr auto make_mnemonic_index() {
    std::array<uint8_t, mnemonic_slots> slots{};
    for (size_t i = 0; i < rr_type_count; ++i)
        for (std::string_view m : {rr_table::types[i].mnemonic, rr_table::types[i].alt_mnemonic}) {
            if (m.empty()) continue;
            size_t s = mnemonic_hash(m) % mnemonic_slots;
            while (slots[s] != 0) s = (s + 1) % mnemonic_slots;
            slots[s] = uint8_t(i + 1);
        }
    return slots;
}
constexpr auto mnemonic_index = make_mnemonic_index();

// Mnemonics are unique, ALIAS's second name included.
constexpr bool mnemonics_unique() {
    for (size_t i = 0; i < rr_type_count; ++i)
        for (size_t j = 0; j < rr_type_count; ++j) {
            const std::string_view mi[2] = {rr_table::types[i].mnemonic,
                                            rr_table::types[i].alt_mnemonic};
            const std::string_view mj[2] = {rr_table::types[j].mnemonic,
                                            rr_table::types[j].alt_mnemonic};
            for (int k = 0; k < 2; ++k)
                for (int l = 0; l < 2; ++l)
                    if (!mi[k].empty() && (i != j || k != l) && iequal(mi[k], mj[l])) return false;
        }
    return true;
}
static_assert(mnemonics_unique());

constexpr bool ascending() {
    for (size_t i = 1; i < rr_type_count; ++i)
        if (rr_table::types[i - 1].number >= rr_table::types[i].number) return false;
    return true;
}
static_assert(ascending(), "rr_table::types is ordered by number, each number once");

}  // namespace

constinit const std::array<uint8_t, 65536> rr_type_index = make_number_index();

const RRType* rr_type(std::string_view mnemonic) {
    if (mnemonic.empty() || mnemonic.size() > 16) return nullptr;
    for (size_t s = mnemonic_hash(mnemonic) % mnemonic_slots; mnemonic_index[s] != 0;
         s = (s + 1) % mnemonic_slots) {
        const RRType& t = rr_table::types[mnemonic_index[s] - 1];
        if (iequal(t.mnemonic, mnemonic) ||
            (!t.alt_mnemonic.empty() && iequal(t.alt_mnemonic, mnemonic)))
            return &t;
    }
    return nullptr;
}

std::optional<uint16_t> rr_type_number(std::string_view text) {
    if (const RRType* t = rr_type(text)) return t->number;
    if (text.size() <= 4 || text.size() > 9 || !iequal(text.substr(0, 4), "TYPE"))
        return std::nullopt;
    uint32_t n = 0;
    for (char c : text.substr(4)) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + uint32_t(c - '0');
    }
    if (n > 65535) return std::nullopt;
    return uint16_t(n);
}

std::string rr_type_text(uint16_t number) {
    if (const RRType* t = rr_type(number)) return std::string(t->mnemonic);
    return "TYPE" + std::to_string(number);
}

}  // namespace anamed
