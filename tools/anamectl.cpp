// anamectl: the command-line client of anamed's control socket (one JSON object per line).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
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
    std::exit(2);
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

std::string call(const std::string& path, const std::string& line) {
    std::string error;
    std::string reply = exchange(path, line, error);
    if (!error.empty()) {
        std::cerr << "anamectl: " << error << "\n";
        std::exit(2);
    }
    return reply;
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

void print_counts(std::ostream& os, const char* title, json& counts) {
    os << title << ":";
    for (const auto& [name, n] : counts.items()) os << " " << name << "=" << n;
    os << "\n";
}

void print_stats(std::ostream& os, json& r) {
    uint64_t dropped = 0;
    for (const auto& [reason, n] : r["dropped"].items()) dropped += n.get<uint64_t>();
    os << "queries " << r["queries"] << ", responses " << r["responses"] << ", truncated "
       << r["truncated"] << ", dropped " << dropped << "\n";
    print_counts(os, "rcode", r["rcode"]);
    print_counts(os, "qtype", r["qtype"]);
    if (!r["dropped"].empty()) print_counts(os, "dropped", r["dropped"]);
    for (const char* t : {"udp", "tcp"})
        os << t << ": queries=" << r["transport"][t]["queries"]
           << " responses=" << r["transport"][t]["responses"] << "\n";
    if (r["dpdk"].is_object()) {
        os << "dpdk:";
        for (auto& [name, v] : r["dpdk"].items())
            if (!v.is_object()) os << " " << name << "=" << v;
        os << "\n";
        print_counts(os, "dpdk dropped", r["dpdk"]["dropped"]);
    }
    auto& a = r["alias"];
    os << "alias: targets=" << a["targets"] << " refreshes=" << a["refreshes"]
       << " failures=" << a["failures"] << " upstream_queries=" << a["upstream_queries"]
       << " rejected_replies=" << a["rejected_replies"] << "\n";
    if (r["updates"].is_object()) {
        os << "updates:";
        for (auto& [outcome, n] : r["updates"].items()) os << " " << outcome << "=" << n;
        os << "\n";
    }
    os << "\n";
    std::vector<std::vector<std::string>> rows;
    for (auto& f : r["frontends"])
        rows.push_back({str(f["frontend"]), str(f["transport"]),
                        f.contains("port") ? str(f["port"]) : "-", str(f["worker"]),
                        str(f["queries"]), str(f["responses"]), str(f["dropped"])});
    table(os, {"FRONTEND", "TRANSPORT", "PORT", "WORKER", "QUERIES", "RESPONSES", "DROPPED"}, rows);
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
    const std::string socket_path = env ? env : "/run/anamed.sock";
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
    } catch (const anamed::cli::UsageError& e) {
        usage(e.what(), e.topic);
    }
    std::string line;
    try {
        line = req.dump() + "\n";
    } catch (const json::exception& e) {
        std::cerr << "anamectl: an argument (or batch line) is not valid UTF-8: " << e.what()
                  << "\n";
        return 2;
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
            return 1;
        }
        if (inv.json)
            out << reply.dump(2) << "\n";
        else
            print(out, req["cmd"], reply);
    } catch (const json::exception& e) {
        std::cerr << "anamectl: unreadable answer from anamed (" << e.what()
                  << "); is anamectl the same version as anamed?\n";
        return 2;
    }
    std::cout << out.str();
    return 0;
}
