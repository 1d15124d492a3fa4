#include "command_line.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace anamed::cli {
namespace {

using json = nlohmann::json;

std::string_view group_of(const CliCommand& c) {
    const std::string_view w = c.words;
    return w.substr(0, w.find(' '));
}
// The second word, empty for a command of one word.
std::string_view sub_of(const CliCommand& c) {
    const std::string_view w = c.words;
    const size_t sp = w.find(' ');
    return sp == std::string_view::npos ? std::string_view() : w.substr(sp + 1);
}

std::string key_of(std::string_view meta) {
    std::string k(meta);
    for (char& ch : k) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    return k;
}

bool takes_rest(const CliCommand& c) {
    return std::any_of(c.args.begin(), c.args.end(), [](const ArgSpec& a) {
        return a.need == Need::rest || a.need == Need::optional_rest;
    });
}
size_t required_args(const CliCommand& c) {
    return size_t(std::count_if(c.args.begin(), c.args.end(), [](const ArgSpec& a) {
        return a.need == Need::required || a.need == Need::rest;
    }));
}
size_t max_args(const CliCommand& c) {
    return size_t(std::count_if(c.args.begin(), c.args.end(),
                                [](const ArgSpec& a) { return a.need != Need::none; }));
}

// The row named by `words` (one or two of them, or an alias of them), or null.
const CliCommand* find_row(std::string_view group, std::string_view sub) {
    for (const CliCommand& c : cli_commands)
        if (group_of(c) == group && sub_of(c) == sub) return &c;
    for (const auto& [old_words, words] : cli_aliases) {
        const std::string_view w = old_words;
        if (w.substr(0, w.find(' ')) == group && w.substr(w.find(' ') + 1) == sub)
            for (const CliCommand& c : cli_commands)
                if (std::string_view(c.words) == words) return &c;
    }
    return nullptr;
}
bool is_group(std::string_view group) {
    return std::any_of(std::begin(cli_commands), std::end(cli_commands),
                       [&](const CliCommand& c) { return group_of(c) == group; });
}
// The option `flag` of any command (of `only` when given), or null.
const OptionSpec* command_option(std::string_view flag, const CliCommand* only = nullptr) {
    for (const CliCommand& c : cli_commands)
        if (only == nullptr || only == &c)
            for (const OptionSpec& o : c.options)
                if (o.flag && flag == o.flag) return &o;
    return nullptr;
}
bool is_command_option(std::string_view flag) {
    return command_option(flag) != nullptr;
}

// "zone: expected list, check, reload or flush"
std::string expected_subcommands(std::string_view group) {
    std::vector<std::string_view> subs;
    for (const CliCommand& c : cli_commands)
        if (group_of(c) == group) subs.push_back(sub_of(c));
    std::string s = std::string(group) + ": expected ";
    for (size_t i = 0; i < subs.size(); ++i)
        s += (i == 0 ? "" : i + 1 == subs.size() ? " or " : ", ") + std::string(subs[i]);
    return s;
}

// "zone: expected flush ZONE", "status: expected status"
std::string expected_args(const CliCommand& c) {
    const std::string s = synopsis(c);
    const bool two_words = !sub_of(c).empty();
    return std::string(group_of(c)) + ": expected " + (two_words ? s.substr(s.find(' ') + 1) : s);
}

void check_args(const CliCommand& c, const std::vector<std::string>& args) {
    if (args.size() < required_args(c)) throw UsageError(expected_args(c), c.words);
    if (!takes_rest(c) && args.size() > max_args(c))
        throw UsageError(std::string(c.words) + ": unexpected argument '" + args[max_args(c)] + "'",
                         c.words);
}

uint32_t option_number(const CliCommand& c, const OptionSpec& o, const std::string& v) {
    const std::string what = std::string(o.flag) + " wants a number " + o.meta + " (0 to " +
                             std::to_string(o.max) + "), got '" + v + "'";
    if (v.empty() || v.size() > 10 || v.find_first_not_of("0123456789") != std::string::npos)
        throw UsageError(what, c.words);
    const unsigned long long n = std::stoull(v);
    if (n > o.max) throw UsageError(what, c.words);
    return uint32_t(n);
}

// An option's value as the request carries it (into out[key], a list for words).
void put_option(json& out, const CliCommand& c, const OptionSpec& o, const std::string& v) {
    const std::string key = key_of(std::string_view(o.flag).substr(2));
    switch (o.value) {
    case Value::number: out[key] = option_number(c, o, v); break;
    case Value::word: out[key] = v; break;
    case Value::file: out[key] = std::filesystem::absolute(v).lexically_normal().string(); break;
    case Value::words:
        if (!out.contains(key)) out[key] = json::array();
        out[key].push_back(v);
        break;
    }
}

// The arguments into `out` under their keys; the options too, when given.
void fill(json& out, const CliCommand& c, const std::vector<std::string>& args,
          const std::vector<std::pair<std::string, std::string>>& options) {
    size_t i = 0;
    for (const ArgSpec& a : c.args) {
        if (a.need == Need::none || i >= args.size()) break;
        if (a.need == Need::rest || a.need == Need::optional_rest) {
            std::string joined;
            for (; i < args.size(); ++i) joined += (joined.empty() ? "" : " ") + args[i];
            out[key_of(a.meta)] = joined;
        } else {
            out[key_of(a.meta)] = args[i++];
        }
    }
    for (const auto& [flag, value] : options)
        if (const OptionSpec* o = command_option(flag, &c)) put_option(out, c, *o, value);
}

json change(const CliCommand& c, const std::vector<std::string>& args, const std::string* ttl) {
    check_args(c, args);
    json ch{{"op", std::string(change_op(sub_of(c)))}};
    std::vector<std::pair<std::string, std::string>> options;
    if (ttl) options.emplace_back("--ttl", *ttl);
    fill(ch, c, args, options);
    return ch;
}

json batch_from_file(const std::string& file) {
    std::ifstream in(file);
    if (!in) throw UsageError("cannot read " + file, "record batch");
    json changes = json::array();
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        const size_t first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        std::istringstream ls(line);
        std::vector<std::string> w;
        for (std::string t; ls >> t;) w.push_back(t);
        const std::string where = file + ":" + std::to_string(n) + ": ";
        const CliCommand* c = find_row("record", w[0]);
        if (c == nullptr || c->build != Build::change)
            throw UsageError(where + "expected add, replace or delete", "record batch");
        std::string ttl;
        if (w.size() > 3 && std::isdigit(static_cast<unsigned char>(w[3][0])) &&
            change_op(sub_of(*c)) != "del") {
            ttl = w[3];
            w.erase(w.begin() + 3);
        }
        w.erase(w.begin());
        try {
            changes.push_back(change(*c, w, ttl.empty() ? nullptr : &ttl));
        } catch (const UsageError& e) {
            throw UsageError(where + e.what(), "record batch");
        }
    }
    if (changes.empty()) throw UsageError(file + ": no changes", "record batch");
    return changes;
}

// "  TEXT   " up to `width`, or "  TEXT" and a new line indented to `width`.
std::string column(const std::string& s, size_t width) {
    const std::string t = "  " + s;
    return t.size() < width ? t + std::string(width - t.size(), ' ')
                            : t + "\n" + std::string(width, ' ');
}

}  // namespace

Invocation parse(const std::vector<std::string>& args, const std::string& socket) {
    Invocation inv;
    inv.socket = socket;
    std::vector<std::string> words;
    std::vector<std::pair<std::string, std::string>> options;
    bool only_words = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (only_words || (a.rfind("--", 0) != 0 && a != "-h" && a != "-s" && a != "-c")) {
            words.push_back(a);
        } else if (a == "--") {
            only_words = true;
        } else if (a == "--help" || a == "-h") {
            inv.help = true;
        } else if (a == "--json") {
            inv.json = true;
        } else if (a == "--socket" || a == "-s" || a == "--config" || a == "-c" ||
                   is_command_option(a)) {
            if (i + 1 >= args.size()) throw UsageError(a + " needs a value");
            if (a == "--socket" || a == "-s")
                inv.socket = args[++i], inv.socket_given = true;
            else if (a == "--config" || a == "-c")
                inv.config = args[++i];
            else
                options.emplace_back(a, args[i + 1]), ++i;
            // A words option takes the words after it too, up to the next option.
            if (const OptionSpec* o = command_option(a); o && o->value == Value::words)
                while (!only_words && i + 1 < args.size() && args[i + 1].rfind("-", 0) != 0)
                    options.emplace_back(a, args[++i]);
        } else {
            throw UsageError("unknown option " + a);
        }
    }
    if (words.empty()) {
        if (inv.help) return inv;
        throw UsageError("no command");
    }
    if (!is_group(words[0])) {
        if (inv.help) return inv;
        throw UsageError("unknown command '" + words[0] + "'");
    }
    const CliCommand* c = find_row(words[0], "");
    size_t used = 1;
    if (c == nullptr) {
        c = words.size() > 1 ? find_row(words[0], words[1]) : nullptr;
        used = 2;
        if (c == nullptr && words.size() > 2) {  // three words: "zone key generate"
            c = find_row(words[0], words[1] + " " + words[2]);
            used = 3;
        }
        if (c == nullptr) {
            inv.topic = words[0];
            if (inv.help) return inv;
            throw UsageError(expected_subcommands(words[0]), words[0]);
        }
    }
    inv.topic = c->words;
    if (inv.help) return inv;
    inv.cmd = c;
    inv.args.assign(words.begin() + std::ptrdiff_t(used), words.end());
    check_args(*c, inv.args);
    for (const auto& [flag, value] : options) {
        const OptionSpec* o = command_option(flag, c);
        if (o == nullptr)
            throw UsageError(std::string(c->words) + " takes no option " + flag, c->words);
        if (o->value == Value::number) option_number(*c, *o, value);
        inv.options.emplace_back(flag, value);
    }
    return inv;
}

json request(const Invocation& inv) {
    const CliCommand& c = *inv.cmd;
    json req{{"cmd", std::string(command_name(c.sends))}};
    const std::string* ttl = nullptr;
    for (const auto& [flag, value] : inv.options)
        if (flag == "--ttl") ttl = &value;
    switch (c.build) {
    case Build::fields: fill(req, c, inv.args, inv.options); break;
    case Build::change: req["changes"] = json::array({change(c, inv.args, ttl)}); break;
    case Build::change_file: req["changes"] = batch_from_file(inv.args.at(0)); break;
    }
    return req;
}

std::string synopsis(const CliCommand& c) {
    std::string s = c.words;
    for (const ArgSpec& a : c.args) {
        const std::string m = a.meta ? a.meta : "";
        switch (a.need) {
        case Need::none: break;
        case Need::required: s += " " + m; break;
        case Need::optional: s += " [" + m + "]"; break;
        case Need::rest: s += " " + m + "..."; break;
        case Need::optional_rest: s += " [" + m + "...]"; break;
        }
    }
    for (const OptionSpec& o : c.options)
        if (o.flag)
            s += std::string(" [") + o.flag + " " + o.meta +
                 (o.value == Value::words ? "...]" : "]");
    return s;
}

std::string main_help() {
    std::string h =
        "usage: anamectl [-s SOCKET | -c CONFIG] [--json] COMMAND [ARGS]\n\ncommands:\n";
    for (const CliCommand& c : cli_commands) h += column(synopsis(c), 39) + c.summary + "\n";
    h += "\noptions:\n";
    for (const GlobalOption& o : global_options)
        h += column(std::string(o.flag) + (o.meta ? std::string(" ") + o.meta : ""), 39) + o.help +
             "\n";
    h += "\n`anamectl COMMAND --help` tells more about a command.\n"
         "Exit status: 0 done, 1 anamed reported an error (or answered unreadably), 2 usage,\n"
         "3 anamed could not be reached.\n";
    return h;
}

std::string help(const std::string& topic) {
    std::string usage, more, notes;
    for (const CliCommand& c : cli_commands) {
        if (topic == c.words) {
            std::string h = "usage: anamectl " + synopsis(c) + "\n  " + c.summary + "\n" + c.help;
            for (const OptionSpec& o : c.options)
                if (o.flag) h += std::string("  ") + o.flag + " " + o.meta + ": " + o.help + "\n";
            return h;
        }
        if (group_of(c) != topic) continue;
        usage += (usage.empty() ? "usage: anamectl " : "       anamectl ") + synopsis(c) + "\n";
        more += column(c.words, 18) + c.summary + "\n";
        if (notes.find(c.help) == std::string::npos) notes += c.help;  // rows share theirs
    }
    return usage.empty() ? main_help() : usage + "\n" + more + notes;
}

std::vector<std::string> complete(const std::vector<std::string>& words, const std::string& socket,
                                  const Ask& ask) {
    const std::string cur = words.empty() ? "" : words.back();
    std::vector<std::string> pos, cands;
    std::string sock = socket;
    bool only_words = false;
    for (size_t i = 0; i + 1 < words.size(); ++i) {
        const std::string& w = words[i];
        if (only_words || w.rfind("--", 0) != 0)
            pos.push_back(w);
        else if (w == "--")
            only_words = true;
        else if (w == "--socket" || w == "--config" || is_command_option(w)) {
            const OptionSpec* o = command_option(w);
            if (i + 2 == words.size())
                return w == "--socket" || w == "--config" || (o && o->value == Value::file)
                           ? std::vector<std::string>{"@file"}
                           : cands;
            if (w == "--socket") sock = words[i + 1];
            ++i;
        }
    }
    const CliCommand* c = pos.empty() ? nullptr : find_row(pos[0], "");
    size_t used = 1;
    if (c == nullptr && pos.size() >= 2) c = find_row(pos[0], pos[1]), used = 2;
    if (c == nullptr && pos.size() >= 3) c = find_row(pos[0], pos[1] + " " + pos[2]), used = 3;
    if (!only_words && !cur.empty() && cur[0] == '-') {
        for (const GlobalOption& o : global_options) cands.push_back(o.flag);
        if (c)
            for (const OptionSpec& o : c->options)
                if (o.flag) cands.push_back(o.flag);
    } else if (pos.empty()) {
        for (const CliCommand& row : cli_commands) cands.emplace_back(group_of(row));
    } else if (c == nullptr && pos.size() <= 2) {
        // The next word of the subcommands under the words typed ("zone key generate": "key"
        // after "zone", "generate" after "zone key"), each once.
        const std::string typed = pos.size() == 2 ? pos[1] + " " : "";
        for (const CliCommand& row : cli_commands) {
            const std::string_view sub = sub_of(row);
            if (group_of(row) != pos[0] || sub.empty() || !sub.starts_with(typed)) continue;
            const std::string_view rest = sub.substr(typed.size());
            const std::string next(rest.substr(0, rest.find(' ')));
            if (std::find(cands.begin(), cands.end(), next) == cands.end()) cands.push_back(next);
        }
    } else if (c != nullptr) {
        const size_t k = pos.size() - used;
        const ArgSpec* a = nullptr;
        for (size_t i = 0; i < c->args.size() && c->args[i].need != Need::none; ++i)
            if (i == k ||
                ((c->args[i].need == Need::rest || c->args[i].need == Need::optional_rest) &&
                 i <= k))
                a = &c->args[i];
        const std::string meta = a ? a->meta : "";
        if (meta == "FILE") return {"@file"};
        if (meta == "TYPE") {
            for (const char* t : {"A", "AAAA", "ALIAS", "CAA", "CNAME", "DNAME", "DS", "HTTPS",
                                  "MX", "NAPTR", "NS", "PTR", "SOA", "SRV", "SVCB", "TXT"})
                cands.push_back(t);
            std::string upper = cur;
            for (char& ch : upper) ch = char(std::toupper(static_cast<unsigned char>(ch)));
            std::erase_if(cands, [&](const std::string& s) { return s.rfind(upper, 0) != 0; });
            return cands;
        }
        const bool zones = meta == "ZONE";
        if (zones || meta == "TARGET") {
            const json r = ask(sock, json{{"cmd", zones ? "zone-list" : "alias-list"}});
            const char* list = zones ? "zones" : "targets";
            if (r.is_object() && r.contains(list) && r[list].is_array())
                for (const json& e : r[list]) {
                    const json& v = e.value(zones ? "name" : "target", json());
                    if (v.is_string()) cands.push_back(v.get<std::string>());
                }
        }
    }
    std::erase_if(cands, [&](const std::string& s) { return s.rfind(cur, 0) != 0; });
    cands.erase(std::unique(cands.begin(), cands.end()), cands.end());
    return cands;
}

}  // namespace anamed::cli
