// anamectl's command line, read against the command table (anamed/control_commands.hpp):
// parsing into a request, help texts, and the candidates for bash completion.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "anamed/control_commands.hpp"

namespace anamed::cli {

// A command line anamectl cannot send: the message, and the help topic to print with it.
struct UsageError : std::runtime_error {
    UsageError(const std::string& msg, std::string topic_ = "")
        : std::runtime_error(msg), topic(std::move(topic_)) {}
    std::string topic;  // a group ("zone"), a command ("zone flush"), or "" for the main help
};

struct Invocation {
    std::string socket;
    bool socket_given = false;  // -s/--socket
    std::string config;         // -c/--config: the socket is this configuration's
    bool json = false;
    bool help = false;
    std::string topic;                // with help: what was named ("", "zone", "zone flush")
    const CliCommand* cmd = nullptr;  // null only with help
    std::vector<std::string> args;    // positional arguments after the command's words
    // The command's options as given: (flag, value); a words option once per word.
    std::vector<std::pair<std::string, std::string>> options;
};

// `args` without argv[0]; `socket` is the default socket. Throws UsageError.
Invocation parse(const std::vector<std::string>& args, const std::string& socket);

// The request for a parsed command line (reads a batch file). Throws UsageError.
nlohmann::json request(const Invocation& inv);

// "zone check FILE [ZONE]", "record add ZONE NAME TYPE RDATA... [--ttl N]"
std::string synopsis(const CliCommand& c);
std::string main_help();
// Help of a group ("zone") or of one command ("zone flush"); main_help() for anything else.
std::string help(const std::string& topic);

// Completion of the last of `words` (the words after "anamectl", the last one being
// typed, possibly empty): one candidate a line. "@file" asks the shell for file names.
// `ask` sends a request to anamed and returns its answer, or null (for ZONE and TARGET).
using Ask = std::function<nlohmann::json(const std::string& socket, const nlohmann::json& request)>;
std::vector<std::string> complete(const std::vector<std::string>& words, const std::string& socket,
                                  const Ask& ask);

}  // namespace anamed::cli
