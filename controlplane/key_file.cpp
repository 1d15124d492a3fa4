#include "key_file.hpp"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "config.hpp"
#include "yaml_reader.hpp"

namespace anamed {
namespace {

// BIND's named.conf syntax, as much of it as a key statement uses: words, quoted strings,
// braces and semicolons, with #, // and /* */ comments.
class BindTokens {
public:
    BindTokens(std::string path, std::string text)
        : path_(std::move(path)), text_(std::move(text)) {}

    struct Token {
        std::string text;
        bool quoted = false;
        unsigned line = 0;
    };

    [[noreturn]] void fail(unsigned line, const std::string& what) const {
        throw ConfigError(path_ + ":" + std::to_string(line) + ": " + what);
    }

    // The next token; empty text (not quoted) at the end of the file.
    Token next() {
        skip_space_and_comments();
        Token t{"", false, line_};
        if (pos_ >= text_.size()) return t;
        const char c = text_[pos_];
        if (c == '{' || c == '}' || c == ';') {
            t.text = std::string(1, c);
            ++pos_;
        } else if (c == '"') {
            const size_t end = text_.find('"', pos_ + 1);
            if (end == std::string::npos) fail(line_, "a quoted string is not closed");
            t.text = text_.substr(pos_ + 1, end - pos_ - 1);
            if (t.text.find('\n') != std::string::npos) fail(line_, "a quoted string spans lines");
            t.quoted = true;
            pos_ = end + 1;
        } else {
            const size_t start = pos_;
            while (pos_ < text_.size() && !std::isspace(uint8_t(text_[pos_])) &&
                   std::string_view("{};\"").find(text_[pos_]) == std::string_view::npos)
                ++pos_;
            t.text = text_.substr(start, pos_ - start);
        }
        return t;
    }

    Token expect(std::string_view what, const std::string& context) {
        Token t = next();
        if (t.quoted || t.text != what)
            fail(t.line, "expected '" + std::string(what) + "' " + context + ", found " + shown(t));
        return t;
    }

    static std::string shown(const Token& t) {
        if (t.text.empty() && !t.quoted) return "the end of the file";
        return t.quoted ? "\"" + t.text + "\"" : "'" + t.text + "'";
    }

private:
    void skip_space_and_comments() {
        while (pos_ < text_.size()) {
            const char c = text_[pos_];
            if (c == '\n') ++line_;
            if (std::isspace(uint8_t(c))) {
                ++pos_;
            } else if (c == '#' || text_.compare(pos_, 2, "//") == 0) {
                pos_ = std::min(text_.find('\n', pos_), text_.size());
            } else if (text_.compare(pos_, 2, "/*") == 0) {
                const size_t end = text_.find("*/", pos_ + 2);
                if (end == std::string::npos) fail(line_, "a /* comment is not closed");
                for (size_t i = pos_; i < end; ++i) line_ += text_[i] == '\n';
                pos_ = end + 2;
            } else {
                return;
            }
        }
    }

    std::string path_, text_;
    size_t pos_ = 0;
    unsigned line_ = 1;
};

// key "NAME" { algorithm ALG; secret "BASE64"; };  (after the word "key")
KeyFileEntry read_bind_key(BindTokens& in, const BindTokens::Token& key_word) {
    using Token = BindTokens::Token;
    KeyFileEntry e;
    const Token name = in.next();
    if (name.text.empty() || name.text == "{" || name.text == "}" || name.text == ";")
        in.fail(name.line, "expected the key's name after 'key', found " + BindTokens::shown(name));
    e.name = name.text;
    e.line = name.line;
    in.expect("{", "after key \"" + e.name + "\"");
    for (Token t = in.next(); t.quoted || t.text != "}"; t = in.next()) {
        if (t.text.empty() && !t.quoted)
            in.fail(t.line, "key \"" + e.name + "\" is not closed with };");
        std::string* field = t.quoted                ? nullptr
                             : t.text == "algorithm" ? &e.algorithm
                             : t.text == "secret"    ? &e.secret
                                                     : nullptr;
        if (!field)
            in.fail(t.line, "unknown statement " + BindTokens::shown(t) + " in key \"" + e.name +
                                "\" (known: algorithm, secret)");
        if (!field->empty()) in.fail(t.line, t.text + " is given twice in key \"" + e.name + "\"");
        const Token value = in.next();
        if (value.text.empty() || (!value.quoted && (value.text == ";" || value.text == "}")))
            in.fail(value.line, t.text + " needs a value");
        *field = value.text;
        in.expect(";", "after " + t.text + " " + value.text);
    }
    in.expect(";", "after the closing } of key \"" + e.name + "\"");
    if (e.algorithm.empty()) in.fail(key_word.line, "key \"" + e.name + "\" has no algorithm");
    if (e.secret.empty()) in.fail(key_word.line, "key \"" + e.name + "\" has no secret");
    return e;
}

std::vector<KeyFileEntry> read_bind(const std::string& path, std::string text) {
    BindTokens in(path, std::move(text));
    std::vector<KeyFileEntry> keys;
    for (BindTokens::Token t = in.next(); !t.text.empty() || t.quoted; t = in.next()) {
        if (t.quoted || t.text != "key")
            in.fail(t.line, "expected a key statement (key \"NAME\" { ... };), found " +
                                BindTokens::shown(t));
        keys.push_back(read_bind_key(in, t));
    }
    return keys;
}

// Knot's YAML: key: [{id, algorithm, secret}].
std::vector<KeyFileEntry> read_knot(const std::string& path, const std::string& text) {
    YamlReader r(path);
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
        throw ConfigError(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    r.only_keys(root, {"key"});
    unsigned lists = 0;  // yaml-cpp keeps the first of two equal keys without a word
    for (const auto& kv : root)
        if (++lists > 1) r.fail(kv.first, "key: is given twice; put every key in one key: list");
    const YAML::Node list = root["key"];
    if (!list.IsSequence()) r.fail(list, "key: must be a list of {id, algorithm, secret}");
    std::vector<KeyFileEntry> keys;
    for (const auto& k : list) {
        r.only_keys(k, {"id", "algorithm", "secret", "comment"});
        for (const char* field : {"id", "algorithm", "secret"})
            if (!k[field]) r.fail(k, std::string("each key needs ") + field);
        keys.push_back({r.str(k["id"], "id"), r.str(k["algorithm"], "algorithm"),
                        r.str(k["secret"], "secret"), unsigned(k["id"].Mark().line + 1)});
    }
    return keys;
}

}  // namespace

std::vector<KeyFileEntry> read_key_file(const std::string& path) {
    std::ifstream f(path);
    if (!f) throw ConfigError(path + ": cannot read the key file");
    std::stringstream ss;
    ss << f.rdbuf();
    std::string text = ss.str();
    // Knot's files start with "key:" after comments; BIND's with the word key.
    BindTokens probe(path, text);
    const BindTokens::Token first = probe.next();
    std::vector<KeyFileEntry> keys = (!first.quoted && first.text == "key:")
                                         ? read_knot(path, text)
                                         : read_bind(path, std::move(text));
    if (keys.empty()) throw ConfigError(path + ": the key file holds no key");
    return keys;
}

bool decode_base64(std::string_view text, std::vector<uint8_t>& out) {
    std::string s;
    for (char c : text)
        if (!std::isspace(uint8_t(c))) s += c;
    if (s.empty() || s.size() % 4 != 0) return false;
    size_t pad = 0;
    while (pad < 2 && s[s.size() - 1 - pad] == '=') ++pad;
    for (size_t i = 0; i < s.size() - pad; ++i)
        if (!std::isalnum(uint8_t(s[i])) && s[i] != '+' && s[i] != '/') return false;
    out.resize(s.size() / 4 * 3);
    const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(s.data()),
                                  int(s.size()));
    if (n < 0 || size_t(n) != out.size()) return false;
    out.resize(out.size() - pad);
    return true;
}

}  // namespace anamed
