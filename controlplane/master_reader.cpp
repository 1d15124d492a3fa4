#include "master_reader.hpp"

#include "ldns.hpp"

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "master_text.hpp"

namespace anamed {
namespace {
using namespace master_text;

constexpr int max_include_depth = 8;
constexpr uint32_t fallback_ttl = 3600;

class Reader {
public:
    Reader(MasterFile& out, std::vector<Diagnostic>& diags, const std::function<void(const MasterRecord&)>& sink)
        : out_(out), diags_(diags), sink_(sink) {}

    void read(const std::string& path, uint32_t origin, int depth) {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            diags_.push_back({path, 0, "cannot open zone file: " + std::string(strerror(errno)), true});
            return;
        }
        // One read into a buffer of the file's size (a stringstream would copy it twice);
        // anything that cannot seek (a pipe) is read as a stream.
        std::error_code ec;
        const auto status = std::filesystem::status(path, ec);
        if (std::filesystem::is_directory(status)) {
            diags_.push_back({path, 0, "cannot read zone file: it is a directory", true});
            return;
        }
        std::string data;
        std::streamoff size = -1;
        if (std::filesystem::is_regular_file(status)) {
            in.seekg(0, std::ios::end);
            size = in.tellg();
            in.seekg(0, std::ios::beg);
        }
        if (size > 0 && in) {
            data.resize(size_t(size));
            in.read(data.data(), size);
            data.resize(size_t(in.gcount()));
        } else {
            in.clear();
            std::stringstream ss;
            ss << in.rdbuf();
            data = ss.str();
        }
        if (in.bad()) {
            diags_.push_back({path, 0, "cannot read zone file: " + std::string(strerror(errno)), true});
            return;
        }
        const uint32_t file = uint32_t(out_.files.size());
        out_.files.push_back(path);
        split(data, file, origin, depth);
    }

private:
    // The characters split() has to look at; everything else is copied as it comes.
    static constexpr auto special = [] {
        std::array<bool, 256> t{};
        for (uint8_t c : {';', '"', '\\', '(', ')', '\r', '\n'}) t[c] = true;
        return t;
    }();

    // Splits the file into logical entries and hands each to entry().
    void split(const std::string& d, uint32_t file, uint32_t origin, int depth) {
        std::string cur;
        int line = 1, start_line = 1, paren = 0;
        bool quoted = false, blank_owner = false, at_line_start = true;
        std::string bad;  // why the current entry cannot be handed to ldns
        auto finish = [&]() {
            if (!bad.empty()) {
                diag(file, start_line, bad);
                bad.clear();
            } else {
                origin = entry(cur, file, start_line, blank_owner, origin, depth);
            }
            cur.clear();
        };
        for (size_t i = 0; i < d.size(); ++i) {
            if (cur.empty() && at_line_start) {
                start_line = line;
                blank_owner = (d[i] == ' ' || d[i] == '\t');
            }
            at_line_start = false;
            if (!quoted) {  // the common case: a run of ordinary characters, copied at once
                size_t j = i;
                while (j < d.size() && !special[uint8_t(d[j])]) ++j;
                if (j > i) {
                    cur.append(d, i, j - i);
                    i = j - 1;
                    continue;
                }
            }
            const char c = d[i];
            if (quoted) {
                if (c == '\n') {  // strings end on their line; never hand ldns a raw newline
                    bad = "newline inside a quoted string (close the quote on the same line)";
                    quoted = false;
                    --i;  // let the newline end the entry as usual
                    continue;
                }
                cur += c;
                if (c == '\\' && i + 1 < d.size() && d[i + 1] != '\n') cur += d[++i];
                else if (c == '"') quoted = false;
                continue;
            }
            switch (c) {
            case ';':
                while (i + 1 < d.size() && d[i + 1] != '\n') ++i;
                break;
            case '"':  // also inside a word: SVCB's alpn="h2,h3"
                quoted = true;
                cur += c;
                break;
            case '\\':
                cur += c;
                if (i + 1 < d.size() && d[i + 1] != '\n') cur += d[++i];
                break;
            case '(':
                ++paren;
                cur += ' ';
                break;
            case ')':
                if (--paren < 0) {
                    diag(file, line, "')' without '('");
                    paren = 0;
                }
                cur += ' ';
                break;
            case '\r':
                break;
            case '\n':
                ++line;
                if (paren > 0) {
                    cur += ' ';
                    break;
                }
                finish();
                at_line_start = true;
                break;
            default:
                cur += c;
            }
        }
        if (paren > 0 || quoted) diag(file, start_line, "unterminated '(' or '\"' at end of file");
        finish();
    }

    // Returns the origin in force after the entry.
    uint32_t entry(std::string& text, uint32_t file, int line, bool blank_owner, uint32_t origin, int depth) {
        Token first = next_token(text, 0);
        if (first.len == 0) return origin;
        const std::string& orig = out_.origins[origin];
        if (!blank_owner && text[first.pos] == '$') return directive(text, first, file, line, origin, depth);

        // The record's text goes into rec_, whose buffer is reused from record to record.
        std::string& out = rec_.text;
        out.clear();
        size_t rest = 0;
        if (blank_owner) {
            if (prev_owner_.empty()) {
                diag(file, line, "record without an owner name and no previous owner");
                return origin;
            }
            out += prev_owner_;
        } else {
            const std::string_view name = first.in(text);
            if (name == "@") out += orig;
            else if (ends_with_unescaped_dot(name)) out += name;
            else {
                (out += name) += '.';
                if (orig != ".") out += orig;
            }
            prev_owner_ = out;
            rest = first.pos + first.len;
        }
        out += ' ';
        out.append(text, rest);
        rec_.line = line;
        rec_.file = file;
        rec_.origin = origin;
        rec_.ttl = ttl_;
        rec_.alias = false;
        normalize_record(rec_);
        sink_(rec_);
        return origin;
    }

    uint32_t directive(const std::string& text, Token first, uint32_t file, int line, uint32_t origin,
                       int depth) {
        const std::string_view name = first.in(text);
        Token arg = next_token(text, first.pos + first.len);
        Token arg2 = next_token(text, arg.pos + arg.len);
        if (arg.len == 0) {
            diag(file, line, std::string(name) + " needs an argument");
            return origin;
        }
        const std::string a(arg.in(text));
        if (iequals(name, "$ORIGIN")) {
            out_.origins.push_back(absolute(a, out_.origins[origin]));
            return uint32_t(out_.origins.size() - 1);
        }
        if (iequals(name, "$TTL")) {
            const char* end = nullptr;
            uint32_t v = ldns_str2period(a.c_str(), &end);
            if (end == nullptr || *end != '\0') diag(file, line, "bad $TTL value '" + a + "'");
            else ttl_ = v;
            return origin;
        }
        if (iequals(name, "$INCLUDE")) {
            if (depth >= max_include_depth) {
                diag(file, line, "$INCLUDE nested too deeply (limit " + std::to_string(max_include_depth) + ")");
                return origin;
            }
            std::filesystem::path p(a);
            if (p.is_relative()) p = std::filesystem::path(out_.files[file]).parent_path() / p;
            uint32_t inc_origin = origin;
            if (arg2.len) {
                out_.origins.push_back(absolute(arg2.in(text), out_.origins[origin]));
                inc_origin = uint32_t(out_.origins.size() - 1);
            }
            read(p.string(), inc_origin, depth + 1);
            return origin;  // RFC 1035 §5.1: the include does not change the parent's origin
        }
        diag(file, line, "unknown directive " + std::string(name));
        return origin;
    }

    void diag(uint32_t file, int line, std::string msg) {
        diags_.push_back({out_.files[file], line, std::move(msg), true});
    }

    MasterFile& out_;
    std::vector<Diagnostic>& diags_;
    const std::function<void(const MasterRecord&)>& sink_;
    uint32_t ttl_ = fallback_ttl;
    std::string prev_owner_;
    MasterRecord rec_;
};

}  // namespace

void read_master_file(const std::string& path, const std::string& origin, MasterFile& out,
                      std::vector<Diagnostic>& diags, const std::function<void(const MasterRecord&)>& sink) {
    out.origins.push_back(origin);
    Reader(out, diags, sink).read(path, 0, 0);
}

}  // namespace anamed
