#include "anamed/rrl_reporter.hpp"

#include <arpa/inet.h>

#include <chrono>

#include "anamed/log_line.hpp"

namespace anamed {

std::string prefix_text(const ClientAddr& a, unsigned bits) {
    char buf[INET6_ADDRSTRLEN] = "?";
    inet_ntop(a.len == 4 ? AF_INET : AF_INET6, a.bytes, buf, sizeof buf);
    return std::string(buf) + "/" + std::to_string(bits);
}

RrlReporter::~RrlReporter() {
    stop();
}

void RrlReporter::start() {
    if (tables_.empty() || thread_.joinable()) return;
    stop_.store(false);
    thread_ = std::thread([this] {
        while (!stop_.load()) {
            drain();
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
        drain();
    });
}

void RrlReporter::stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
}

void RrlReporter::drain() {
    RrlEvent e;
    for (RrlTable* t : tables_) {
        while (t->pop_event(e)) {
            if (e.start) {
                auto& [prefix, workers] = tags_[e.tag];
                prefix = prefix_text(e.prefix, e.bits);
                ++workers;
                Limiting& l = prefixes_[prefix];
                l.prefix = prefix;
                const std::string cls = rrl_class_name(e.cls);
                if (l.classes.find(cls) == std::string::npos)
                    l.classes += (l.classes.empty() ? "" : ",") + cls;
                if (l.buckets++ == 0)
                    write_log_line("warning",
                                   "rrl: rate limiting responses to " + prefix + " (" + cls + ")");
                continue;
            }
            auto it = tags_.find(e.tag);
            if (it == tags_.end()) continue;
            const std::string prefix = it->second.first;
            if (--it->second.second == 0) tags_.erase(it);
            auto p = prefixes_.find(prefix);
            if (p == prefixes_.end()) continue;
            p->second.limited += e.limited;
            if (--p->second.buckets == 0) {
                write_log_line("info", "rrl: stopped rate limiting " + prefix + " (" +
                                           p->second.classes +
                                           "): " + std::to_string(p->second.limited) +
                                           " responses dropped or slipped");
                prefixes_.erase(p);
            }
        }
    }
}

}  // namespace anamed
