// anamectl: the command-line client of anamed's control socket (one JSON object per line).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

using json = nlohmann::json;

namespace {

const char* main_help =
    "usage: anamectl [--socket PATH] [--json] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  status                               version, uptime, zones, snapshot, workers\n"
    "  stats                                counters by rcode and qtype, drops, ALIAS refreshes\n"
    "  zone list                            served zones with serials\n"
    "  zone check FILE [ZONE]               load FILE as ZONE and report, without serving it\n"
    "  zone reload [ZONE]                   re-read zone files (and the journal over them)\n"
    "  zone flush ZONE                      write ZONE, runtime changes included, to its file\n"
    "  record add|set|del ZONE NAME TYPE [RDATA...] [--ttl N]\n"
    "                                       change records (del without RDATA: the RRset;\n"
    "                                       without TYPE: everything at NAME)\n"
    "  record show ZONE NAME                records at NAME\n"
    "  record batch FILE                    many changes in one transaction; lines are\n"
    "                                       'add|set|del ZONE NAME [TTL] TYPE RDATA...'\n"
    "  alias list                           every ALIAS target and its state\n"
    "  alias show TARGET                    one target\n"
    "  alias refresh TARGET                 look TARGET up again now\n"
    "\n"
    "The socket is --socket, else $ANAMED_SOCKET, else /run/anamed.sock.\n"
    "Exit status: 0 done, 1 anamed refused the request, 2 usage or connection error or an\n"
    "unreadable answer.\n";

const std::map<std::string, std::string> help = {
    {"status", "usage: anamectl status\n  version, uptime, zones with serials, snapshot generation and size, workers.\n"},
    {"stats", "usage: anamectl stats [--json]\n  query counters by rcode and qtype, drops, ALIAS refresh counts.\n"},
    {"zone", "usage: anamectl zone list | check FILE [ZONE] | reload [ZONE] | flush ZONE\n"},
    {"record",
     "usage: anamectl record add|set|del ZONE NAME TYPE [RDATA...] [--ttl N]\n"
     "       anamectl record show ZONE NAME\n"
     "       anamectl record batch FILE\n"
     "  NAME is relative to ZONE ('@' for the apex) or absolute with a trailing dot.\n"
     "  e.g. anamectl record set mywebservice.com customer42 ALIAS offsite.host.\n"
     "       anamectl record add mywebservice.com customer42 MX 10 mail.example.net.\n"},
    {"alias", "usage: anamectl alias list | show TARGET | refresh TARGET\n"},
};

[[noreturn]] void usage(const std::string& msg, const std::string& topic = "") {
    std::cerr << "anamectl: " << msg << "\n\n" << (help.count(topic) ? help.at(topic) : main_help);
    std::exit(2);
}

// Sends one request line and returns the answer line (unparsed).
std::string call(const std::string& path, const std::string& line) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::cerr << "anamectl: cannot connect to " << path << ": " << strerror(errno)
                  << " (is anamed running with this control socket? --socket or $ANAMED_SOCKET)\n";
        std::exit(2);
    }
    for (size_t off = 0; off < line.size();) {
        const ssize_t n = send(fd, line.data() + off, line.size() - off, MSG_NOSIGNAL);
        if (n <= 0) {
            std::cerr << "anamectl: connection to " << path << " lost while sending\n";
            std::exit(2);
        }
        off += size_t(n);
    }
    std::string reply;
    char buf[65536];
    while (reply.find('\n') == std::string::npos) {
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            std::cerr << "anamectl: anamed closed the connection without an answer\n";
            std::exit(2);
        }
        reply.append(buf, size_t(n));
    }
    close(fd);
    return reply.substr(0, reply.find('\n'));
}

std::string str(const json& v) { return v.is_string() ? v.get<std::string>() : v.is_null() ? "-" : v.dump(); }

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

// Throws json::exception when the answer lacks a field or has one of the wrong type. `r` is
// a mutable copy: operator[] on a const json with a missing key is undefined behaviour.
void print(std::ostream& os, const std::string& cmd, json r) {
    if (cmd == "status") {
        os << "anamed " << str(r["version"]) << ", pid " << r["pid"] << ", up " << r["uptime_s"] << " s\n"
           << "snapshot generation " << r["snapshot"]["generation"] << ", "
           << r["snapshot"]["bytes"].get<uint64_t>() / 1024 << " KiB, " << r["snapshot"]["alias_targets"]
           << " ALIAS targets\n"
           << "queries " << r["queries"] << " (average " << int64_t(r["qps_avg"].get<double>()) << " qps), "
           << r["workers"].size() << " workers; changes applied " << r["changes_applied"]
           << ", journal entries " << r["journal_entries"] << "\n\n";
        std::vector<std::vector<std::string>> rows;
        for (auto& z : r["zones"]) rows.push_back({str(z["name"]), str(z["serial"]), str(z["names"]), str(z["file"])});
        table(os, {"ZONE", "SERIAL", "NAMES", "FILE"}, rows);
        os << "\n";
        rows.clear();
        for (size_t i = 0; i < r["workers"].size(); ++i) {
            auto& w = r["workers"][i];
            rows.push_back({std::to_string(i), str(w["kind"]), str(w["queries"]), std::to_string(int64_t(w["qps"].get<double>()))});
        }
        table(os, {"WORKER", "KIND", "QUERIES", "QPS(since last status)"}, rows);
    } else if (cmd == "zone-list") {
        std::vector<std::vector<std::string>> rows;
        for (auto& z : r["zones"]) rows.push_back({str(z["name"]), str(z["serial"]), str(z["names"]), str(z["file"])});
        table(os, {"ZONE", "SERIAL", "NAMES", "FILE"}, rows);
    } else if (cmd == "stats") {
        os << "queries " << r["queries"] << ", responses " << r["responses"] << ", truncated " << r["truncated"]
           << ", dropped " << r["dropped"]["unanswerable"] << "\n";
        for (const char* k : {"rcode", "qtype"}) {
            os << k << ":";
            for (const auto& [name, n] : r[k].items()) os << " " << name << "=" << n;
            os << "\n";
        }
        if (r.contains("dpdk") && r["dpdk"].is_object()) {
            auto& d = r["dpdk"];
            os << "dpdk: rx=" << d["rx"] << " tx=" << d["tx"] << " queries=" << d["queries"]
               << " answered=" << d["answered"] << " to_kernel=" << d["to_kernel"] << " arp=" << d["arp"]
               << " nd=" << d["nd"] << " echo=" << d["echo"] << "\ndpdk dropped:";
            for (const auto& [name, n] : d["dropped"].items()) os << " " << name << "=" << n;
            os << "\n";
        }
        auto& a = r["alias"];
        os << "alias: targets=" << a["targets"] << " refreshes=" << a["refreshes"] << " failures=" << a["failures"]
           << " upstream_queries=" << a["upstream_queries"] << " rejected_replies=" << a["rejected_replies"] << "\n";
    } else if (cmd == "alias-list" || cmd == "alias-show") {
        std::vector<std::vector<std::string>> rows;
        for (auto& t : r["targets"]) {
            std::string addrs;
            for (const auto& a : t["addresses"]) addrs += (addrs.empty() ? "" : " ") + str(a);
            rows.push_back({str(t["target"]), str(t["state"]) + (t["local"].get<bool>() ? " (local)" : ""),
                            addrs.empty() ? "-" : addrs, str(t["ttl"]), str(t["next_refresh_in_s"]),
                            str(t["refreshes"]) + "/" + str(t["failures"]), str(t["last_error"])});
        }
        table(os, {"TARGET", "STATE", "ADDRESSES", "TTL", "NEXT(s)", "OK/FAIL", "LAST ERROR"}, rows);
    } else if (cmd == "record-show") {
        for (const auto& rec : r["records"]) os << str(rec) << "\n";
    } else if (cmd == "zone-check") {
        for (const auto& d : r["diagnostics"]) os << str(d) << "\n";
        if (r["ok"].get<bool>()) os << "ok: " << r["names"] << " names\n";
    } else if (cmd == "change") {
        os << "applied " << r["applied"] << " change(s);";
        for (const auto& [zone, serial] : r["serials"].items()) os << " " << zone << " serial " << serial;
        os << "\n";
    } else {
        for (auto& [k, v] : r.items())
            if (k != "ok") os << k << ": " << str(v) << "\n";
    }
}

json record_change(const std::string& op, std::vector<std::string> a, const std::string& ttl) {
    if (a.size() < 2 || (op != "del" && a.size() < 4)) usage("record " + op + " needs ZONE NAME TYPE RDATA...", "record");
    json c{{"op", op}, {"zone", a[0]}, {"name", a[1]}};
    if (a.size() >= 3) c["type"] = a[2];
    std::string rdata;
    for (size_t i = 3; i < a.size(); ++i) rdata += (i > 3 ? " " : "") + a[i];
    if (!rdata.empty()) c["rdata"] = rdata;
    if (!ttl.empty()) {
        char* end = nullptr;
        const unsigned long v = std::strtoul(ttl.c_str(), &end, 10);
        if (*end || v > 0x7FFFFFFF) usage("--ttl wants a number of seconds", "record");
        c["ttl"] = v;
    }
    return c;
}

json batch_from_file(const std::string& file) {
    std::ifstream in(file);
    if (!in) usage("cannot read " + file, "record");
    json changes = json::array();
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        if (line.find_first_not_of(" \t\r") == std::string::npos || line[line.find_first_not_of(" \t")] == '#') continue;
        std::istringstream ls(line);
        std::vector<std::string> w;
        for (std::string t; ls >> t;) w.push_back(t);
        if (w[0] != "add" && w[0] != "set" && w[0] != "del")
            usage(file + ":" + std::to_string(n) + ": expected add, set or del", "record");
        std::string ttl;
        if (w.size() > 3 && std::isdigit(static_cast<unsigned char>(w[3][0])) && w[0] != "del") {
            ttl = w[3];
            w.erase(w.begin() + 3);
        }
        const std::string op = w[0];
        w.erase(w.begin());
        try {
            changes.push_back(record_change(op, w, ttl));
        } catch (...) {
            usage(file + ":" + std::to_string(n) + ": incomplete change", "record");
        }
    }
    if (changes.empty()) usage(file + ": no changes", "record");
    return changes;
}

}  // namespace

int main(int argc, char** argv) {
    std::string socket_path = getenv("ANAMED_SOCKET") ? getenv("ANAMED_SOCKET") : "/run/anamed.sock";
    bool as_json = false;
    std::string ttl;
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--socket" && i + 1 < argc) socket_path = argv[++i];
        else if (a == "--json") as_json = true;
        else if (a == "--ttl" && i + 1 < argc) ttl = argv[++i];
        else if (a == "--help" || a == "-h") {
            std::cout << (!args.empty() && help.count(args[0]) ? help.at(args[0]) : main_help);
            return 0;
        } else args.push_back(a);
    }
    if (args.empty()) usage("no command");
    const std::string top = args[0];
    const std::string sub = args.size() > 1 ? args[1] : "";
    std::vector<std::string> rest(args.begin() + std::min<size_t>(2, args.size()), args.end());
    json req;
    if (top == "status" || top == "stats") {
        req = {{"cmd", top}};
    } else if (top == "zone") {
        if (sub == "list") req = {{"cmd", "zone-list"}};
        else if (sub == "check" && !rest.empty()) req = {{"cmd", "zone-check"}, {"file", rest[0]}, {"zone", rest.size() > 1 ? rest[1] : "."}};
        else if (sub == "reload") req = rest.empty() ? json{{"cmd", "zone-reload"}} : json{{"cmd", "zone-reload"}, {"zone", rest[0]}};
        else if (sub == "flush" && !rest.empty()) req = {{"cmd", "zone-flush"}, {"zone", rest[0]}};
        else usage("zone: expected list, check FILE [ZONE], reload [ZONE] or flush ZONE", "zone");
    } else if (top == "record") {
        if (sub == "add" || sub == "set" || sub == "del") req = {{"cmd", "change"}, {"changes", json::array({record_change(sub, rest, ttl)})}};
        else if (sub == "show" && rest.size() == 2) req = {{"cmd", "record-show"}, {"zone", rest[0]}, {"name", rest[1]}};
        else if (sub == "batch" && rest.size() == 1) req = {{"cmd", "change"}, {"changes", batch_from_file(rest[0])}};
        else usage("record: expected add|set|del|show|batch", "record");
    } else if (top == "alias") {
        if (sub == "list") req = {{"cmd", "alias-list"}};
        else if (sub == "show" && rest.size() == 1) req = {{"cmd", "alias-show"}, {"target", rest[0]}};
        else if (sub == "refresh" && rest.size() == 1) req = {{"cmd", "alias-refresh"}, {"target", rest[0]}};
        else usage("alias: expected list, show TARGET or refresh TARGET", "alias");
    } else {
        usage("unknown command '" + top + "'");
    }
    std::string line;
    try {
        line = req.dump() + "\n";
    } catch (const json::exception& e) {
        std::cerr << "anamectl: an argument (or batch line) is not valid UTF-8: " << e.what()
                  << "\n";
        return 2;
    }
    const std::string answer = call(socket_path, line);
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
        if (as_json) out << reply.dump(2) << "\n";
        else print(out, req["cmd"], reply);
    } catch (const json::exception& e) {
        std::cerr << "anamectl: unreadable answer from anamed (" << e.what()
                  << "); is anamectl the same version as anamed?\n";
        return 2;
    }
    std::cout << out.str();
    return 0;
}
