// The control socket's commands, in one table read by the daemon (dispatch: a request's
// "cmd" is a Command's name, and the daemon maps every Command to its handler), by anamectl
// (argument parsing, --help) and by its bash completion (anamectl --complete).
// Adding a command: a Command and its name here, a row in cli_commands, a handler in the
// daemon (controlplane/control_commands.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

namespace anamed {

// What the daemon runs: the "cmd" of a request on the control socket.
enum class Command : uint8_t {
    status,
    stats,
    zone_list,
    zone_check,
    zone_reload,
    zone_flush,
    change,
    record_show,
    alias_list,
    alias_show,
    alias_refresh,
    zone_status,
    zone_refresh,
    zone_retransfer,
    zone_add,
    zone_remove,
    zone_key_generate,
    zone_key_list,
    zone_ds,
    zone_key_activate,
    zone_key_retire,
    zone_key_remove,
};
inline constexpr std::array<std::string_view, 22> command_names{"status",
                                                                "stats",
                                                                "zone-list",
                                                                "zone-check",
                                                                "zone-reload",
                                                                "zone-flush",
                                                                "change",
                                                                "record-show",
                                                                "alias-list",
                                                                "alias-show",
                                                                "alias-refresh",
                                                                "zone-status",
                                                                "zone-refresh",
                                                                "zone-retransfer",
                                                                "zone-add",
                                                                "zone-remove",
                                                                "zone-key-generate",
                                                                "zone-key-list",
                                                                "zone-ds",
                                                                "zone-key-activate",
                                                                "zone-key-retire",
                                                                "zone-key-remove"};
inline constexpr size_t command_count = command_names.size();
static_assert(size_t(Command::zone_key_remove) + 1 == command_count, "a name for every Command");

inline constexpr std::string_view command_name(Command c) {
    return command_names[size_t(c)];
}
inline constexpr std::optional<Command> find_command(std::string_view name) {
    for (size_t i = 0; i < command_count; ++i)
        if (command_names[i] == name) return Command(i);
    return std::nullopt;
}

// A positional argument of a command line. Its META in lower case is the request's key
// ("ZONE" -> "zone"); the words of a rest argument are joined with spaces.
enum class Need : uint8_t { none, required, optional, rest, optional_rest };
struct ArgSpec {
    const char* meta = nullptr;
    Need need = Need::none;
};

// What an option's value is: a number <= max; a word; a file (anamectl sends it as an
// absolute path, the daemon's directory being another); words (repeatable, and words after
// it up to the next option are its too: a JSON list).
enum class Value : uint8_t { number, word, file, words };

// An option of one command: --FLAG META; its key is FLAG.
struct OptionSpec {
    const char* flag = nullptr;  // "--ttl"
    const char* meta = nullptr;  // "N"
    uint32_t max = 0;
    const char* help = nullptr;
    Value value = Value::number;
};

// How anamectl turns a command line into a request.
enum class Build : uint8_t {
    fields,       // {"cmd": NAME, "zone": ZONE, ...}
    change,       // {"cmd": "change", "changes": [{"op": the last word, "zone": ZONE, ...}]}
    change_file,  // {"cmd": "change", "changes": [one per line of FILE]}
};

// One anamectl command line: the words typed, what it sends, its arguments and its help.
struct CliCommand {
    const char* words;  // "zone list"; the first word groups commands
    Command sends;
    Build build;
    std::array<ArgSpec, 4> args;
    std::array<OptionSpec, 3> options;
    const char* summary;  // one line in `anamectl --help`
    const char* help;     // more for `anamectl WORDS --help` (may be empty)
};

namespace arg {
constexpr ArgSpec req(const char* meta) {
    return {meta, Need::required};
}
constexpr ArgSpec opt(const char* meta) {
    return {meta, Need::optional};
}
constexpr ArgSpec rest(const char* meta) {
    return {meta, Need::rest};
}
constexpr ArgSpec opt_rest(const char* meta) {
    return {meta, Need::optional_rest};
}
}  // namespace arg

inline constexpr OptionSpec ttl_option{"--ttl", "N", 0x7FFFFFFF,
                                       "TTL of the new records, in seconds"};
inline constexpr OptionSpec zone_file_option{
    "--file", "FILE", 0, "the zone file (for a secondary: where its copy is kept)", Value::file};
inline constexpr OptionSpec zone_primary_option{
    "--primary", "REMOTE", 0, "a secondary of these remotes (names under remotes:)", Value::words};
inline constexpr OptionSpec zone_catalog_option{
    "--catalog", "CATALOG", 0, "list it in this generated catalog (catalog-role: generate)",
    Value::word};
inline constexpr const char* zone_add_help =
    "  Checked as a zone of the configuration file, journaled before the reply, and served\n"
    "  after a restart. e.g. anamectl zone add customer.com --file /var/lib/anamed/c.zone\n"
    "                        anamectl zone add partner.example --primary hidden\n";
inline constexpr const char* zone_remove_help =
    "  Its names are REFUSED at once, its history and runtime changes are dropped. A zone of\n"
    "  the configuration file stays removed across restarts until zone add (or until it\n"
    "  leaves the file).\n";
inline constexpr const char* record_help =
    "  NAME is relative to ZONE ('@' for the apex) or absolute with a trailing dot.\n"
    "  e.g. anamectl record replace mywebservice.com customer42 ALIAS offsite.host.\n"
    "       anamectl record add mywebservice.com customer42 MX 10 mail.example.net.\n";
inline constexpr const char* batch_help =
    "  FILE has one change a line, 'add|replace|delete ZONE NAME [TTL] TYPE RDATA...'; '#'\n"
    "  starts a comment line. Every change applies, or none does.\n";

// clang-format off
inline constexpr CliCommand cli_commands[] = {
    {"status", Command::status, Build::fields, {}, {},
     "version, uptime, zones, snapshot, workers", ""},
    {"stats", Command::stats, Build::fields, {}, {},
     "counters by rcode, qtype, transport, frontend; ALIAS", ""},
    {"zone list", Command::zone_list, Build::fields, {}, {},
     "served zones with serials", ""},
    {"zone check", Command::zone_check, Build::fields, {arg::req("FILE"), arg::opt("ZONE")}, {},
     "load FILE as ZONE and report, without serving it", ""},
    {"zone reload", Command::zone_reload, Build::fields, {arg::opt("ZONE")}, {},
     "re-read zone files (and the journal over them)", ""},
    {"zone flush", Command::zone_flush, Build::fields, {arg::req("ZONE")}, {},
     "write ZONE, runtime changes included, to its file", ""},
    {"zone status", Command::zone_status, Build::fields, {arg::opt("ZONE")}, {},
     "secondary zones: serial, refresh times, expiry, last error", ""},
    {"zone refresh", Command::zone_refresh, Build::fields, {arg::req("ZONE")}, {},
     "check a secondary zone's primary for a new serial now", ""},
    {"zone retransfer", Command::zone_retransfer, Build::fields, {arg::req("ZONE")}, {},
     "transfer a secondary zone whole (AXFR) now", ""},
    {"zone add", Command::zone_add, Build::fields, {arg::req("ZONE")},
     {zone_file_option, zone_primary_option, zone_catalog_option},
     "serve a new zone, from --file or from --primary remotes", zone_add_help},
    {"zone remove", Command::zone_remove, Build::fields, {arg::req("ZONE")}, {},
     "stop serving ZONE, for good", zone_remove_help},
    {"zone key generate", Command::zone_key_generate, Build::fields,
     {arg::req("ZONE"), arg::opt("ROLE"), arg::opt("STATE")}, {},
     "a new DNSSEC key in the zone's key-dir (ROLE: csk, ksk or zsk)",
     "  ROLE is csk (the default: one key signs everything), ksk or zsk. The key uses the\n"
     "  zone's dnssec: algorithm; its private half never leaves the key-dir (mode 0600).\n"
     "  STATE is active (the default) or standby, to start a rollover: a standby ZSK is\n"
     "  published but does not sign yet (pre-publish); a standby KSK is neither published\n"
     "  nor signing, only `zone ds` shows its DS (double-DS). See README: Key rollover.\n"},
    {"zone key list", Command::zone_key_list, Build::fields, {arg::req("ZONE")}, {},
     "the zone's DNSSEC keys: tag, algorithm, role, state, timing", ""},
    {"zone key activate", Command::zone_key_activate, Build::fields,
     {arg::req("ZONE"), arg::req("TAG")}, {},
     "publish key TAG and sign with it from now on", ""},
    {"zone key retire", Command::zone_key_retire, Build::fields,
     {arg::req("ZONE"), arg::req("TAG")}, {},
     "stop signing with key TAG; it stays published", ""},
    {"zone key remove", Command::zone_key_remove, Build::fields,
     {arg::req("ZONE"), arg::req("TAG")}, {},
     "take key TAG out of the DNSKEY RRset (its files stay, timed)", ""},
    {"zone ds", Command::zone_ds, Build::fields, {arg::req("ZONE")}, {},
     "DS records of the zone's KSKs/CSKs (standby ones too), for the parent", ""},
    {"record add", Command::change, Build::change,
     {arg::req("ZONE"), arg::req("NAME"), arg::req("TYPE"), arg::rest("RDATA")}, {ttl_option},
     "add one record to the RRset at NAME", record_help},
    {"record replace", Command::change, Build::change,
     {arg::req("ZONE"), arg::req("NAME"), arg::req("TYPE"), arg::rest("RDATA")}, {ttl_option},
     "replace the RRset at NAME", record_help},
    {"record delete", Command::change, Build::change,
     {arg::req("ZONE"), arg::req("NAME"), arg::opt("TYPE"), arg::opt_rest("RDATA")}, {ttl_option},
     "delete RDATA, else the RRset of TYPE, else all at NAME", record_help},
    {"record show", Command::record_show, Build::fields, {arg::req("ZONE"), arg::req("NAME")}, {},
     "records at NAME", record_help},
    {"record batch", Command::change, Build::change_file, {arg::req("FILE")}, {},
     "many changes in one transaction", batch_help},
    {"alias list", Command::alias_list, Build::fields, {}, {},
     "every ALIAS target and its state", ""},
    {"alias show", Command::alias_show, Build::fields, {arg::req("TARGET")}, {},
     "one ALIAS target", ""},
    {"alias refresh", Command::alias_refresh, Build::fields, {arg::req("TARGET")}, {},
     "look TARGET up again now", ""},
};
// clang-format on

// Older words that still work (scripts written for them), and the rows they stand for. Help
// and completion show only the rows' own words.
inline constexpr std::pair<const char*, const char*> cli_aliases[] = {
    {"record set", "record replace"},
    {"record del", "record delete"},
};

// A change's "op" on the control socket for a change row's last word (the socket's
// vocabulary: add, set, del).
inline constexpr std::string_view change_op(std::string_view word) {
    return word == "replace" ? "set" : word == "delete" ? "del" : word;
}

// Options of every command line.
struct GlobalOption {
    const char* flag;
    const char* meta;  // nullptr: takes no value
    const char* help;
};
inline constexpr GlobalOption global_options[] = {
    {"--socket", "PATH",
     "control socket, or -s (else $ANAMED_SOCKET, the config's, /run/anamed.sock)"},
    {"--config", "FILE", "the control socket of this anamed.yaml, or -c"},
    {"--json", nullptr, "print anamed's answer as JSON"},
    {"--help", nullptr, "this help; after a command, that command's"},
};

}  // namespace anamed
