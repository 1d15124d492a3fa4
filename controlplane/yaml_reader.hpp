// Typed reads of YAML nodes that fail with "file:line: what is wrong", shared by every part of
// the configuration file.
#pragma once

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
#include <vector>

#include "config.hpp"

namespace anamed {

class YamlReader {
public:
    // prefix: put before every message ("dpdk: " for that section).
    YamlReader(std::string path, std::string prefix = "")
        : path_(std::move(path)), prefix_(std::move(prefix)) {}

    [[noreturn]] void fail(const YAML::Node& n, const std::string& what) const {
        throw ConfigError(path_ + ":" + std::to_string(n.Mark().line + 1) + ": " + prefix_ + what);
    }
    void only_keys(const YAML::Node& map, const std::set<std::string>& keys) const {
        if (!map.IsMap()) fail(map, "expected a mapping");
        // yaml-cpp keeps a key given twice (lookups find the first): an error here, as every
        // mapping of the configuration passes through this check.
        std::set<std::string> seen;
        for (const auto& kv : map) {
            const std::string k = kv.first.as<std::string>();
            if (!seen.insert(k).second)
                fail(kv.first, "duplicate key '" + k + "' (each key may appear once)");
            if (keys.count(k)) continue;
            std::string known;
            for (const auto& x : keys) known += (known.empty() ? "" : ", ") + x;
            fail(kv.first, "unknown key '" + k + "' (known here: " + known + ")");
        }
    }
    std::string str(const YAML::Node& n, const std::string& what) const {
        if (!n.IsScalar()) fail(n, what + " must be a string");
        return n.as<std::string>();
    }
    std::vector<std::string> strings(const YAML::Node& n, const std::string& what) const {
        if (!n.IsSequence()) fail(n, what + " must be a list of strings");
        std::vector<std::string> out;
        for (const auto& x : n) out.push_back(str(x, what));
        return out;
    }
    bool flag(const YAML::Node& n, const std::string& what) const {
        try {
            if (n.IsScalar()) return n.as<bool>();
        } catch (const YAML::Exception&) {
        }
        fail(n, what + " must be true or false");
    }
    unsigned uint(const YAML::Node& n, const std::string& what, unsigned min, unsigned max) const {
        unsigned long v = 0;
        try {
            v = n.as<unsigned long>();
        } catch (const YAML::Exception&) {
            fail(n, what + " must be a non-negative integer");
        }
        if (v < min || v > max)
            fail(n,
                 what + " must be " +
                     (min == 0 ? "at most " + std::to_string(max)
                               : "between " + std::to_string(min) + " and " + std::to_string(max)));
        return unsigned(v);
    }

protected:
    std::string path_;

private:
    std::string prefix_;
};

}  // namespace anamed
