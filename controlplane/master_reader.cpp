#include "master_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <filesystem>

#include "ldns.hpp"
#include "master_text.hpp"

namespace anamed {
namespace {
using namespace master_text;

constexpr int max_include_depth = 8;
constexpr uint32_t fallback_ttl = 3600;

class Reader {
public:
    Reader(MasterFile& out, std::vector<Diagnostic>& diags,
           const std::function<void(MasterRecord&)>& sink)
        : out_(out), diags_(diags), sink_(sink) {}

    void read(const std::string& path, uint32_t origin, int depth) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            diags_.push_back(
                {path, 0, "cannot open zone file: " + std::string(strerror(errno)), true});
            return;
        }
        struct stat st {};
        if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
            ::close(fd);
            diags_.push_back({path, 0, "cannot read zone file: it is a directory", true});
            return;
        }
        const uint32_t file = uint32_t(out_.files.size());
        out_.files.push_back(path);
        // A block at a time (a pipe as well as a file), each handed to split() up to its last
        // newline: an entry's text never needs more than the bytes of its own lines, and the
        // file is never held whole (a 1M-customer zone is 180 MB).
        Split sp;
        sp.origin = origin;
        std::string buf(size_t(1) << 20, '\0');
        size_t have = 0;
        for (;;) {
            if (have == buf.size()) buf.resize(2 * buf.size());  // a line longer than the block
            const ssize_t n = ::read(fd, buf.data() + have, buf.size() - have);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                diags_.push_back(
                    {path, 0, "cannot read zone file: " + std::string(strerror(errno)), true});
                break;
            }
            have += size_t(n);
            const bool eof = n == 0;
            const size_t upto =
                eof ? have : std::string_view(buf.data(), have).rfind('\n') + 1;  // npos + 1 = 0
            if (upto > 0) {
                split(std::string_view(buf.data(), upto), file, depth, sp);
                std::memmove(buf.data(), buf.data() + upto, have - upto);
                have -= upto;
            }
            if (eof) break;
        }
        ::close(fd);
        if (sp.paren > 0 || sp.quoted)
            diag(file, sp.start_line, "unterminated '(' or '\"' at end of file");
        finish(sp, file, depth);
    }

private:
    // The characters split() has to look at; everything else is copied as it comes.
    static constexpr auto special = [] {
        std::array<bool, 256> t{};
        for (uint8_t c : {';', '"', '\\', '(', ')', '\r', '\n'}) t[c] = true;
        return t;
    }();

    // The first of d[i..] that is special (d.size() when none): 16 bytes a step where SSE2 is
    // there (every x86-64), which is most of the reading thread's scan of a zone's text.
    static size_t next_special(std::string_view d, size_t i) {
#ifdef __SSE2__
        for (; i + 16 <= d.size(); i += 16)
            if (const unsigned m = match16<';', '"', '\\', '(', ')', '\r', '\n'>(d.data() + i))
                return i + size_t(__builtin_ctz(m));
#endif
        while (i < d.size() && !special[uint8_t(d[i])]) ++i;
        return i;
    }

    // Where split() is in a file, from one block to the next.
    struct Split {
        std::string cur;  // the entry so far
        int line = 1, start_line = 1, paren = 0;
        bool quoted = false, blank_owner = false, at_line_start = true;
        std::string bad;  // why the current entry cannot be handed to ldns
        uint32_t origin = 0;
    };

    void finish(Split& sp, uint32_t file, int depth) {
        if (!sp.bad.empty()) {
            diag(file, sp.start_line, sp.bad);
            sp.bad.clear();
        } else {
            sp.origin = entry(sp.cur, file, sp.start_line, sp.blank_owner, sp.origin, depth);
        }
        sp.cur.clear();
    }

    // Splits text into logical entries and hands each to entry(). `d` ends with a newline
    // unless it is the end of the file, so a look at d[i + 1] sees what the file has there.
    void split(std::string_view d, uint32_t file, int depth, Split& sp) {
        std::string& cur = sp.cur;
        for (size_t i = 0; i < d.size(); ++i) {
            if (cur.empty() && sp.at_line_start) {
                sp.start_line = sp.line;
                sp.blank_owner = (d[i] == ' ' || d[i] == '\t');
            }
            sp.at_line_start = false;
            if (!sp.quoted) {  // the common case: a run of ordinary characters, copied at once
                const size_t j = next_special(d, i);
                if (j > i) {
                    cur.append(d, i, j - i);
                    i = j - 1;
                    continue;
                }
            }
            const char c = d[i];
            if (sp.quoted) {
                if (c == '\n') {  // strings end on their line; never hand ldns a raw newline
                    sp.bad = "newline inside a quoted string (close the quote on the same line)";
                    sp.quoted = false;
                    --i;  // let the newline end the entry as usual
                    continue;
                }
                cur += c;
                if (c == '\\' && i + 1 < d.size() && d[i + 1] != '\n')
                    cur += d[++i];
                else if (c == '"')
                    sp.quoted = false;
                continue;
            }
            switch (c) {
            case ';':
                while (i + 1 < d.size() && d[i + 1] != '\n') ++i;
                break;
            case '"':  // also inside a word: SVCB's alpn="h2,h3"
                sp.quoted = true;
                cur += c;
                break;
            case '\\':
                cur += c;
                if (i + 1 < d.size() && d[i + 1] != '\n') cur += d[++i];
                break;
            case '(':
                ++sp.paren;
                cur += ' ';
                break;
            case ')':
                if (--sp.paren < 0) {
                    diag(file, sp.line, "')' without '('");
                    sp.paren = 0;
                }
                cur += ' ';
                break;
            case '\r': break;
            case '\n':
                ++sp.line;
                if (sp.paren > 0) {
                    cur += ' ';
                    break;
                }
                finish(sp, file, depth);
                sp.at_line_start = true;
                break;
            default: cur += c;
            }
        }
    }

    // Returns the origin in force after the entry.
    uint32_t entry(std::string& text, uint32_t file, int line, bool blank_owner, uint32_t origin,
                   int depth) {
        Token first = next_token(text, 0);
        if (first.len == 0) return origin;
        const std::string& orig = out_.origins[origin];
        if (!blank_owner && text[first.pos] == '$')
            return directive(text, first, file, line, origin, depth);

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
            rec_.same_owner = true;
        } else {
            append_absolute(out, first.in(text), orig);
            rec_.same_owner = out == prev_owner_;
            if (!rec_.same_owner) prev_owner_ = out;
            rest = first.pos + first.len;
        }
        out += ' ';
        out.append(text, rest);
        rec_.line = line;
        rec_.file = file;
        rec_.origin = origin;
        rec_.ttl = ttl_;
        rec_.written_as = 0;
        sink_(rec_);  // normalize_record is the parser's, for the records its fast path leaves to
                      // ldns
        return origin;
    }

    uint32_t directive(const std::string& text, Token first, uint32_t file, int line,
                       uint32_t origin, int depth) {
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
            if (end == nullptr || *end != '\0')
                diag(file, line, "bad $TTL value '" + a + "'");
            else
                ttl_ = v;
            return origin;
        }
        if (iequals(name, "$INCLUDE")) {
            if (depth >= max_include_depth) {
                diag(
                    file, line,
                    "$INCLUDE nested too deeply (limit " + std::to_string(max_include_depth) + ")");
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
    const std::function<void(MasterRecord&)>& sink_;
    uint32_t ttl_ = fallback_ttl;
    std::string prev_owner_;
    MasterRecord rec_;
};

}  // namespace

void read_master_file(const std::string& path, const std::string& origin, MasterFile& out,
                      std::vector<Diagnostic>& diags,
                      const std::function<void(MasterRecord&)>& sink) {
    out.origins.push_back(origin);
    Reader(out, diags, sink).read(path, 0, 0);
}

}  // namespace anamed
