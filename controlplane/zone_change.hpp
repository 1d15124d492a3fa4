// Runtime changes: add/del/set records in served zones, validated like a zone load and
// applied all-or-nothing by ZoneStore::apply. JSON is their form on the control socket and
// in the journal.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace anamed {

struct RecordChange {
    enum class Op { add, del, set } op = Op::add;
    std::string zone;   // as the user wrote it
    std::string name;   // relative to the zone, "@" for the apex, or absolute with a dot
    std::string type;   // mnemonic; may be empty for del (everything at the name)
    std::string rdata;  // presentation; may be empty for del (the whole RRset)
    std::optional<uint32_t> ttl;
};

// Throws std::invalid_argument with a message naming the offending field.
RecordChange change_from_json(const nlohmann::json& j);
nlohmann::json change_to_json(const RecordChange& c);

struct ChangeOutcome {
    std::string error;                                        // empty on success
    std::map<std::string, std::vector<std::string>> changed;  // zone apex key -> owner keys
    std::map<std::string, uint32_t> serials;                  // zone apex text -> new serial
};

}  // namespace anamed
