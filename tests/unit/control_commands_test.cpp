// The command table: the daemon handles every command, anamectl's command lines become
// the requests the daemon reads, its help and completion list every row.
#include "anamed/control_commands.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "daemon.hpp"

namespace anamed {
namespace {

using json = nlohmann::json;
using Words = std::vector<std::string>;

json request_of(const Words& args) {
    return cli::request(cli::parse(args, "/run/x.sock"));
}

// The usage error of a command line, with its help topic.
std::pair<std::string, std::string> usage_error(const Words& args) {
    try {
        request_of(args);
    } catch (const cli::UsageError& e) {
        return {e.what(), e.topic};
    }
    return {"", ""};
}

TEST(CommandTable, TheDaemonHasAHandlerForEveryCommand) {
    std::vector<Daemon::Handler> seen;
    for (size_t i = 0; i < command_count; ++i) {
        const Daemon::Handler h = Daemon::handler(Command(i));
        EXPECT_NE(h, nullptr) << command_names[i];
        EXPECT_EQ(std::count(seen.begin(), seen.end(), h), 0)
            << command_names[i] << ": a handler shared";
        seen.push_back(h);
    }
}

TEST(CommandTable, NamesAreUniqueAndFound) {
    for (size_t i = 0; i < command_count; ++i) {
        ASSERT_TRUE(find_command(command_names[i]).has_value()) << command_names[i];
        EXPECT_EQ(size_t(*find_command(command_names[i])), i);
    }
    EXPECT_FALSE(find_command("no-such-command").has_value());
    EXPECT_FALSE(find_command("").has_value());
}

TEST(CommandTable, EveryCommandIsSentByACommandLineAndRowsAreWellFormed) {
    std::set<size_t> sent;
    std::set<std::string> words;
    for (const CliCommand& c : cli_commands) {
        sent.insert(size_t(c.sends));
        EXPECT_TRUE(words.insert(c.words).second) << c.words << " twice";
        bool optional_seen = false, rest_seen = false, none_seen = false;
        for (const ArgSpec& a : c.args) {
            if (a.need == Need::none) {
                none_seen = true;
                continue;
            }
            EXPECT_FALSE(none_seen || rest_seen) << c.words << ": an argument after the last";
            EXPECT_FALSE(a.need == Need::required && optional_seen)
                << c.words << ": required after optional";
            optional_seen |= a.need == Need::optional || a.need == Need::optional_rest;
            rest_seen |= a.need == Need::rest || a.need == Need::optional_rest;
        }
    }
    EXPECT_EQ(sent.size(), command_count);
}

TEST(CommandLine, BuildsTheRequestsTheDaemonReads) {
    EXPECT_EQ(request_of({"status"}), (json{{"cmd", "status"}}));
    EXPECT_EQ(request_of({"zone", "check", "f.zone"}),
              (json{{"cmd", "zone-check"}, {"file", "f.zone"}}));
    EXPECT_EQ(request_of({"zone", "check", "f.zone", "a.test"}),
              (json{{"cmd", "zone-check"}, {"file", "f.zone"}, {"zone", "a.test"}}));
    EXPECT_EQ(request_of({"zone", "reload"}), (json{{"cmd", "zone-reload"}}));
    EXPECT_EQ(request_of({"alias", "show", "t.example."}),
              (json{{"cmd", "alias-show"}, {"target", "t.example."}}));
    EXPECT_EQ(request_of({"record", "show", "a.test", "www"}),
              (json{{"cmd", "record-show"}, {"zone", "a.test"}, {"name", "www"}}));
    // options anywhere, rest arguments joined
    EXPECT_EQ(request_of({"--json", "record", "add", "a.test", "m", "--ttl", "60", "MX", "10",
                          "mail.example."}),
              (json{{"cmd", "change"},
                    {"changes",
                     {{{"op", "add"},
                       {"zone", "a.test"},
                       {"name", "m"},
                       {"type", "MX"},
                       {"rdata", "10 mail.example."},
                       {"ttl", 60}}}}}));
    EXPECT_EQ(request_of({"record", "del", "a.test", "m"}),
              (json{{"cmd", "change"},
                    {"changes", {{{"op", "del"}, {"zone", "a.test"}, {"name", "m"}}}}}));
    // The verbs and their older words send the socket's ops.
    EXPECT_EQ(request_of({"record", "delete", "a.test", "m"}),
              request_of({"record", "del", "a.test", "m"}));
    EXPECT_EQ(
        request_of({"record", "replace", "a.test", "t", "A", "192.0.2.1"})["changes"][0]["op"],
        "set");
    EXPECT_EQ(request_of({"record", "set", "a.test", "t", "A", "192.0.2.1"}),
              request_of({"record", "replace", "a.test", "t", "A", "192.0.2.1"}));
    // after "--" everything is an argument
    EXPECT_EQ(
        request_of({"record", "set", "a.test", "t", "TXT", "--", "--ttl"})["changes"][0]["rdata"],
        "--ttl");
    const cli::Invocation inv = cli::parse({"--socket", "/s", "--json", "stats"}, "/default");
    EXPECT_EQ(inv.socket, "/s");
    EXPECT_TRUE(inv.json);
    const cli::Invocation s = cli::parse({"-s", "/t", "-c", "/etc/x.yaml", "status"}, "/default");
    EXPECT_EQ(s.socket, "/t");
    EXPECT_TRUE(s.socket_given);
    EXPECT_EQ(s.config, "/etc/x.yaml");
}

TEST(CommandLine, UsageErrorsNameTheCommandAndItsHelp) {
    EXPECT_EQ(usage_error({}), (std::pair<std::string, std::string>{"no command", ""}));
    EXPECT_EQ(usage_error({"frob"}).first, "unknown command 'frob'");
    EXPECT_EQ(usage_error({"zone"}),
              (std::pair<std::string, std::string>{
                  "zone: expected list, check, reload, flush, status, refresh, retransfer, add, "
                  "remove, key generate, key list, key activate, key retire, key remove or ds",
                  "zone"}));
    EXPECT_EQ(cli::parse({"zone", "key", "generate", "a.test", "ksk"}, "/s").cmd->sends,
              Command::zone_key_generate);
    EXPECT_EQ(usage_error({"zone", "flush"}),
              (std::pair<std::string, std::string>{"zone: expected flush ZONE", "zone flush"}));
    EXPECT_EQ(usage_error({"record", "add", "a.test", "x", "A"}).first,
              "record: expected add ZONE NAME TYPE RDATA... [--ttl N]");
    EXPECT_EQ(usage_error({"alias", "list", "x"}).first, "alias list: unexpected argument 'x'");
    EXPECT_EQ(usage_error({"record", "add", "a.test", "x", "A", "1.2.3.4", "--ttl", "soon"}).first,
              "--ttl wants a number N (0 to 2147483647), got 'soon'");
    EXPECT_EQ(
        usage_error({"record", "add", "a.test", "x", "A", "1.2.3.4", "--ttl", "2147483648"}).second,
        "record add");
    EXPECT_EQ(usage_error({"zone", "list", "--ttl", "1"}).first, "zone list takes no option --ttl");
    EXPECT_EQ(usage_error({"status", "--frob"}).first, "unknown option --frob");
    EXPECT_EQ(usage_error({"status", "--socket"}).first, "--socket needs a value");
}

TEST(CommandLine, HelpListsEveryCommand) {
    const std::string all = cli::main_help();
    for (const CliCommand& c : cli_commands) {
        EXPECT_NE(all.find("\n  " + cli::synopsis(c)), std::string::npos) << c.words;
        EXPECT_EQ(cli::help(c.words).rfind("usage: anamectl " + cli::synopsis(c) + "\n", 0), 0u)
            << c.words;
    }
    EXPECT_NE(cli::help("zone").find("       anamectl zone flush ZONE\n"), std::string::npos);
    EXPECT_EQ(cli::help("no-such-topic"), all);
    const cli::Invocation h = cli::parse({"zone", "flush", "--help"}, "");
    EXPECT_TRUE(h.help);
    EXPECT_EQ(h.topic, "zone flush");
}

TEST(CommandLine, CompletesFromTheTable) {
    Words asked;
    const cli::Ask ask = [&](const std::string& socket, const json& req) -> json {
        asked.push_back(socket + " " + req.dump());
        if (req["cmd"] == "zone-list")
            return json{{"ok", true}, {"zones", {{{"name", "a.test."}}, {{"name", "b.test."}}}}};
        return nullptr;  // anamed not there
    };
    auto complete = [&](const Words& w) { return cli::complete(w, "/default", ask); };
    EXPECT_EQ(complete({"zo"}), (Words{"zone"}));
    EXPECT_EQ(complete({""}), (Words{"status", "stats", "zone", "record", "alias"}));
    EXPECT_EQ(complete({"zone", ""}),
              (Words{"list", "check", "reload", "flush", "status", "refresh", "retransfer", "add",
                     "remove", "key", "ds"}));
    EXPECT_EQ(complete({"zone", "key", ""}),
              (Words{"generate", "list", "activate", "retire", "remove"}));
    EXPECT_EQ(complete({"record", "s"}), (Words{"show"}));  // "set" is an alias, not offered
    EXPECT_EQ(complete({"record", "re"}), (Words{"replace"}));
    EXPECT_EQ(complete({"zone", "check", "x"}), (Words{"@file"}));
    EXPECT_EQ(complete({"record", "add", "a.test", "n", "aa"}), (Words{"AAAA"}));
    EXPECT_EQ(complete({"record", "add", "a.test", "n", "A", "1.2.3.4", "--t"}), (Words{"--ttl"}));
    EXPECT_EQ(complete({"record", "add", "a.test", "n", "A", "--ttl", ""}), (Words{}));
    EXPECT_EQ(complete({"--socket", ""}), (Words{"@file"}));
    EXPECT_TRUE(asked.empty());
    EXPECT_EQ(complete({"--socket", "/s", "zone", "flush", "b"}), (Words{"b.test."}));
    EXPECT_EQ(asked, (Words{R"(/s {"cmd":"zone-list"})"}));
    EXPECT_EQ(complete({"alias", "show", ""}), (Words{}));
}

}  // namespace
}  // namespace anamed

namespace anamed {
namespace {

TEST(CommandTable, ZoneAddTakesAFileOrPrimariesAndACatalog) {
    json r = request_of({"zone", "add", "c.test", "--file", "rel/c.zone"});
    EXPECT_EQ(r["cmd"], "zone-add");
    EXPECT_EQ(r["zone"], "c.test");
    EXPECT_EQ(r["file"], (std::filesystem::current_path() / "rel/c.zone").string());
    r = request_of({"zone", "add", "p.test", "--primary", "a", "b", "--catalog", "cat.test"});
    EXPECT_EQ(r["primary"], json::array({"a", "b"}));
    EXPECT_EQ(r["catalog"], "cat.test");
    EXPECT_FALSE(r.contains("file"));
    EXPECT_EQ(request_of({"zone", "add", "p.test", "--primary", "a", "--primary", "b"})["primary"],
              json::array({"a", "b"}));
    EXPECT_EQ(request_of({"zone", "remove", "p.test"}),
              (json{{"cmd", "zone-remove"}, {"zone", "p.test"}}));
    EXPECT_EQ(usage_error({"zone", "remove", "x", "--file", "f"}).first,
              "zone remove takes no option --file");
    EXPECT_EQ(usage_error({"record", "add", "z", "n", "A", "192.0.2.1", "--primary", "x"}).first,
              "record add takes no option --primary");
    EXPECT_EQ(usage_error({"zone", "add"}).first,
              "zone: expected add ZONE [--file FILE] "
              "[--primary REMOTE...] [--catalog CATALOG]");
    EXPECT_NE(cli::help("zone add").find("--primary REMOTE: "), std::string::npos);
    const cli::Ask none = [](const std::string&, const json&) -> json { return nullptr; };
    EXPECT_EQ(cli::complete({"zone", "add", "x", "--file", ""}, "/s", none), (Words{"@file"}));
    EXPECT_EQ(cli::complete({"zone", "add", "x", "--p"}, "/s", none), (Words{"--primary"}));
}

}  // namespace
}  // namespace anamed
