// Typed reads of YAML nodes that fail with "file:line: what is wrong", shared by every part of
// the configuration file.
#pragma once

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config.hpp"

namespace anamed {

// Finds a key given twice in one mapping, which yaml-cpp accepts and resolves silently to
// one of the values: the parser's events, one set of keys per open mapping.
class DuplicateKeyFinder : public YAML::EventHandler {
public:
    std::string duplicate;  // "LINE: 'KEY'" of the first duplicate
    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& m, YAML::anchor_t) override { node(m, nullptr); }
    void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { node(m, nullptr); }
    void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  const std::string& value) override {
        node(m, &value);
    }
    void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
        node(m, nullptr);
        open_.push_back({false, true, {}});
    }
    void OnSequenceEnd() override { open_.pop_back(); }
    void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {
        node(m, nullptr);
        open_.push_back({true, true, {}});
    }
    void OnMapEnd() override { open_.pop_back(); }

private:
    struct Open {
        bool map;
        bool expect_key;
        std::set<std::string> keys;
    };
    // A node starts: in a mapping it is a key and a value by turns.
    void node(const YAML::Mark& m, const std::string* scalar) {
        if (open_.empty() || !open_.back().map) return;
        Open& o = open_.back();
        if (o.expect_key && scalar && !o.keys.insert(*scalar).second && duplicate.empty())
            duplicate = std::to_string(m.line + 1) + ": duplicate key '" + *scalar + "'";
        o.expect_key = !o.expect_key;
    }
    std::vector<Open> open_;
};

class YamlReader {
public:
    // prefix: put before every message ("dpdk: " for that section).
    YamlReader(std::string path, std::string prefix = "")
        : path_(std::move(path)), prefix_(std::move(prefix)) {}

    // Parses `text` (from path_); a key given twice in a mapping is an error with its line.
    // Throws YAML::ParserException on malformed YAML.
    YAML::Node load(const std::string& text) const {
        std::istringstream in(text);
        YAML::Parser parser(in);
        DuplicateKeyFinder finder;
        while (parser.HandleNextDocument(finder)) {
        }
        if (!finder.duplicate.empty())
            throw ConfigError(path_ + ":" + finder.duplicate + " (each key may appear once)");
        return YAML::Load(text);
    }
    [[noreturn]] void fail(const YAML::Node& n, const std::string& what) const {
        throw ConfigError(path_ + ":" + std::to_string(n.Mark().line + 1) + ": " + prefix_ + what);
    }
    void only_keys(const YAML::Node& map, const std::set<std::string>& keys) const {
        if (!map.IsMap()) fail(map, "expected a mapping");
        for (const auto& kv : map) {
            const std::string k = kv.first.as<std::string>();
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
