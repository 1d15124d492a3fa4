#include "zone_change.hpp"

#include <stdexcept>

namespace anamed {

RecordChange change_from_json(const nlohmann::json& j) {
    if (!j.is_object()) throw std::invalid_argument("a change must be a JSON object");
    auto str = [&](const char* k, bool required) -> std::string {
        if (!j.contains(k)) {
            if (required) throw std::invalid_argument(std::string("missing \"") + k + "\"");
            return "";
        }
        if (!j[k].is_string())
            throw std::invalid_argument(std::string("\"") + k + "\" must be a string");
        return j[k].get<std::string>();
    };
    RecordChange c;
    const std::string op = str("op", true);
    if (op == "add")
        c.op = RecordChange::Op::add;
    else if (op == "del")
        c.op = RecordChange::Op::del;
    else if (op == "set")
        c.op = RecordChange::Op::set;
    else
        throw std::invalid_argument("\"op\" must be add, del or set, not \"" + op + "\"");
    c.zone = str("zone", true);
    c.name = str("name", true);
    c.type = str("type", c.op != RecordChange::Op::del);
    c.rdata = str("rdata", c.op != RecordChange::Op::del);
    if (j.contains("ttl")) {
        if (!j["ttl"].is_number_unsigned() || j["ttl"].get<uint64_t>() > 0x7FFFFFFF)
            throw std::invalid_argument("\"ttl\" must be an integer from 0 to 2147483647");
        c.ttl = j["ttl"].get<uint32_t>();
    }
    for (const auto* s : {&c.zone, &c.name, &c.type, &c.rdata})
        if (s->find_first_of("\n\r;()") != std::string::npos && s != &c.rdata)
            throw std::invalid_argument(
                "names and types may not contain newlines, ';' or parentheses");
    if (c.rdata.find_first_of("\n\r") != std::string::npos)
        throw std::invalid_argument("rdata may not contain newlines");
    return c;
}

nlohmann::json change_to_json(const RecordChange& c) {
    static const char* ops[] = {"add", "del", "set"};
    nlohmann::json j{{"op", ops[int(c.op)]}, {"zone", c.zone}, {"name", c.name}};
    if (!c.type.empty()) j["type"] = c.type;
    if (!c.rdata.empty()) j["rdata"] = c.rdata;
    if (c.ttl) j["ttl"] = *c.ttl;
    return j;
}

}  // namespace anamed
