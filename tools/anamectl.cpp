// anamectl: the command-line client of anamed's control socket (one JSON object per line).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "command_line.hpp"

using json = nlohmann::json;

namespace {

[[noreturn]] void usage(const std::string& msg, const std::string& topic = "") {
    std::cerr << "anamectl: " << msg << "\n\n" << anamed::cli::help(topic);
    std::exit(2);  // exit_usage
}

// Sends one request line and returns the answer line (unparsed); on failure, empty with
// `error` set.
std::string exchange(const std::string& path, const std::string& line, std::string& error) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        error = "cannot connect to " + path + ": " + strerror(errno) +
                " (is anamed running with this control socket? --socket or $ANAMED_SOCKET)";
        close(fd);
        return "";
    }
    for (size_t off = 0; off < line.size();) {
        const ssize_t n = send(fd, line.data() + off, line.size() - off, MSG_NOSIGNAL);
        if (n <= 0) {
            error = "connection to " + path + " lost while sending";
            close(fd);
            return "";
        }
        off += size_t(n);
    }
    std::string reply;
    char buf[65536];
    while (reply.find('\n') == std::string::npos) {
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            error = "anamed closed the connection without an answer";
            close(fd);
            return "";
        }
        reply.append(buf, size_t(n));
    }
    close(fd);
    return reply.substr(0, reply.find('\n'));
}

// Exit statuses: 1 anamed reported an error, 2 usage, 3 anamed cannot be reached.
constexpr int exit_daemon_error = 1, exit_usage = 2, exit_unreachable = 3;

std::string call(const std::string& path, const std::string& line) {
    std::string error;
    std::string reply = exchange(path, line, error);
    if (!error.empty()) {
        std::cerr << "anamectl: " << error << "\n";
        std::exit(exit_unreachable);
    }
    return reply;
}

// The control socket a configuration file names (control: {socket: ...}, relative to the
// file's directory); empty when it names none. Throws std::runtime_error.
std::string config_socket(const std::string& file) {
    YAML::Node root;
    try {
        root = YAML::LoadFile(file);
    } catch (const YAML::Exception& e) {
        throw std::runtime_error("cannot read " + file + ": " + e.what());
    }
    const YAML::Node s = root.IsMap() && root["control"] && root["control"].IsMap()
                             ? root["control"]["socket"]
                             : YAML::Node();
    if (!s || !s.IsScalar()) return "";
    const std::filesystem::path p(s.as<std::string>());
    return p.is_relative() ? (std::filesystem::path(file).parent_path() / p).string() : p.string();
}

// -s, else -c's socket, else $ANAMED_SOCKET, else the installed configuration's, else
// /run/anamed.sock.
std::string choose_socket(const anamed::cli::Invocation& inv) {
    if (inv.socket_given) return inv.socket;
    if (!inv.config.empty()) {
        const std::string s = config_socket(inv.config);
        if (s.empty()) throw std::runtime_error(inv.config + " names no control socket");
        return s;
    }
    if (const char* env = getenv("ANAMED_SOCKET")) return env;
    std::error_code ec;
    if (std::filesystem::exists(ANAMED_DEFAULT_CONFIG, ec)) try {
            if (std::string s = config_socket(ANAMED_DEFAULT_CONFIG); !s.empty()) return s;
        } catch (const std::runtime_error&) {
        }
    return "/run/anamed.sock";
}

// For completion: the answer, or null when anamed cannot be asked.
json ask(const std::string& path, const json& request) {
    std::string error;
    const std::string reply = exchange(path, request.dump() + "\n", error);
    if (!error.empty()) return nullptr;
    return json::parse(reply, nullptr, false);
}

std::string str(const json& v) {
    return v.is_string() ? v.get<std::string>() : v.is_null() ? "-" : v.dump();
}

void table(std::ostream& os, const std::vector<std::string>& head,
           const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> w(head.size());
    for (size_t i = 0; i < head.size(); ++i) w[i] = head[i].size();
    for (const auto& r : rows)
        for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
    auto line = [&](const std::vector<std::string>& r) {
        for (size_t i = 0; i < r.size(); ++i)
            os << r[i] << (i + 1 < r.size() ? std::string(w[i] - r[i].size() + 2, ' ') : "");
        os << "\n";
    };
    line(head);
    for (const auto& r : rows) line(r);
}

// One "name=value" line per number: nested objects join their keys with dots.
void print_flat(std::ostream& os, const std::string& prefix, const json& v) {
    if (v.is_object()) {
        for (const auto& [k, x] : v.items())
            print_flat(os, prefix.empty() ? k : prefix + "." + k, x);
    } else if (!v.is_null() && !v.is_array()) {
        os << prefix << "=" << str(v) << "\n";
    }
}

// The counters as name=value lines (queries=5, rcode.NOERROR=4, transport.udp.queries=3,
// frontend.kernel.udp.0.queries=3, zone.example.com.queries=2, alias.targets=1), for people
// and scripts alike.
void print_stats(std::ostream& os, json& r) {
    for (auto& [k, v] : r.items())
        if (k != "ok" && k != "frontends" && k != "zones") print_flat(os, k, v);
    if (r.contains("zones"))
        for (auto& [name, z] : r["zones"].items())
            print_flat(
                os,
                "zone." + (name.size() > 1 && name.back() == '.' ? name.substr(0, name.size() - 1)
                                                                 : name),
                z);
    for (auto& f : r["frontends"]) {
        std::string name = "frontend." + str(f["frontend"]) + "." + str(f["transport"]);
        if (f.contains("port")) name += "." + str(f["port"]);
        name += "." + str(f["worker"]);
        for (const char* k : {"queries", "responses", "truncated", "dropped"})
            if (f.contains(k)) os << name << "." << k << "=" << str(f[k]) << "\n";
    }
}

// Throws json::exception when the answer lacks a field or has one of the wrong type. `r` is
// a mutable copy: operator[] on a const json with a missing key is undefined behaviour.
void print(std::ostream& os, const std::string& cmd, json r) {
    if (cmd == "status") {
        os << "anamed " << str(r["version"]) << ", pid " << r["pid"] << ", up " << r["uptime_s"]
           << " s\n"
           << "snapshot generation " << r["snapshot"]["generation"] << ", "
           << r["snapshot"]["bytes"].get<uint64_t>() / 1024 << " KiB, "
           << r["snapshot"]["alias_targets"] << " ALIAS targets\n"
           << "queries " << r["queries"] << " (average " << int64_t(r["qps_avg"].get<double>())
           << " qps), " << r["workers"].size() << " workers; changes applied "
           << r["changes_applied"] << ", journal entries " << r["journal_entries"] << "\n\n";
        std::vector<std::vector<std::string>> rows;
        for (auto& z : r["zones"])
            rows.push_back({str(z["name"]), str(z["serial"]), str(z["names"]), str(z["file"])});
        table(os, {"ZONE", "SERIAL", "NAMES", "FILE"}, rows);
        os << "\n";
        rows.clear();
        for (size_t i = 0; i < r["workers"].size(); ++i) {
            auto& w = r["workers"][i];
            rows.push_back({std::to_string(i), str(w["kind"]), str(w["queries"]),
                            std::to_string(int64_t(w["qps"].get<double>()))});
        }
        table(os, {"WORKER", "KIND", "QUERIES", "QPS(since last status)"}, rows);
    } else if (cmd == "zone-list") {
        std::vector<std::vector<std::string>> rows;
        for (auto& z : r["zones"])
            rows.push_back({str(z["name"]), str(z["serial"]), str(z["names"]), str(z["file"])});
        table(os, {"ZONE", "SERIAL", "NAMES", "FILE"}, rows);
    } else if (cmd == "stats") {
        print_stats(os, r);
    } else if (cmd == "alias-list" || cmd == "alias-show") {
        std::vector<std::vector<std::string>> rows;
        for (auto& t : r["targets"]) {
            std::string addrs;
            for (const auto& a : t["addresses"]) addrs += (addrs.empty() ? "" : " ") + str(a);
            rows.push_back({str(t["target"]),
                            str(t["state"]) + (t["local"].get<bool>() ? " (local)" : ""),
                            addrs.empty() ? "-" : addrs, str(t["ttl"]), str(t["next_refresh_in_s"]),
                            str(t["refreshes"]) + "/" + str(t["failures"]), str(t["last_error"])});
        }
        table(os, {"TARGET", "STATE", "ADDRESSES", "TTL", "NEXT(s)", "OK/FAIL", "LAST ERROR"},
              rows);
    } else if (cmd == "record-show") {
        for (const auto& rec : r["records"]) os << str(rec) << "\n";
    } else if (cmd == "zone-check") {
        for (const auto& d : r["diagnostics"]) os << str(d) << "\n";
        if (r["ok"].get<bool>()) os << "ok: " << r["names"] << " names\n";
    } else if (cmd == "change") {
        os << "applied " << r["applied"] << " change(s);";
        for (const auto& [zone, serial] : r["serials"].items())
            os << " " << zone << " serial " << serial;
        os << "\n";
    } else {
        for (auto& [k, v] : r.items())
            if (k != "ok") os << k << ": " << str(v) << "\n";
    }
}

}  // namespace

int main(int argc, char** argv) {
    const char* env = getenv("ANAMED_SOCKET");
    const std::string socket_path = env ? env : "/run/anamed.sock";  // for completion
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && args[0] == "--complete") {  // the bash completion's helper
        args.erase(args.begin());
        if (!args.empty() && args[0] == "--") args.erase(args.begin());
        for (const auto& c : anamed::cli::complete(args, socket_path, ask)) std::cout << c << "\n";
        return 0;
    }
    anamed::cli::Invocation inv;
    json req;
    try {
        inv = anamed::cli::parse(args, socket_path);
        if (inv.help) {
            std::cout << anamed::cli::help(inv.topic);
            return 0;
        }
        req = anamed::cli::request(inv);
        inv.socket = choose_socket(inv);
    } catch (const anamed::cli::UsageError& e) {
        usage(e.what(), e.topic);
    } catch (const std::runtime_error& e) {
        std::cerr << "anamectl: " << e.what() << "\n";
        return exit_usage;
    }
    std::string line;
    try {
        line = req.dump() + "\n";
    } catch (const json::exception& e) {
        std::cerr << "anamectl: an argument (or batch line) is not valid UTF-8: " << e.what()
                  << "\n";
        return exit_usage;
    }
    const std::string answer = call(inv.socket, line);
    std::ostringstream out;  // printed only whole: a malformed answer prints nothing
    try {
        json reply = json::parse(answer);
        if (!reply.value("ok", false)) {
            const std::string error = reply.value("error", std::string("request failed"));
            if (req["cmd"] == "zone-check" && reply.contains("diagnostics"))
                for (const auto& d : reply["diagnostics"]) std::cerr << str(d) << "\n";
            std::cerr << "anamectl: " << error << "\n";
            return exit_daemon_error;
        }
        if (inv.json)
            out << reply.dump(2) << "\n";
        else
            print(out, req["cmd"], reply);
    } catch (const json::exception& e) {
        std::cerr << "anamectl: unreadable answer from anamed (" << e.what()
                  << "); is anamectl the same version as anamed?\n";
        return exit_daemon_error;
    }
    std::cout << out.str();
    return 0;
}
