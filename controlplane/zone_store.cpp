#include "zone_store.hpp"

#include <chrono>

#include "log.hpp"
#include "zone_loader.hpp"

namespace anamed {

size_t ZoneStore::load(const std::vector<ZoneConfig>& zones) {
    size_t failed = 0;
    for (const auto& zc : zones) {
        const auto t0 = std::chrono::steady_clock::now();
        LoadResult r = load_zone_file(zc.name, zc.file);
        for (const auto& d : r.diags) log(d.error ? LogLevel::error : LogLevel::warning, d.str());
        if (!r.ok()) {
            ++failed;
            const std::string key = lower_key(text_to_wire(zc.name + (zc.name.back() == '.' ? "" : ".")));
            log_error("zone " + zc.name + " not loaded from " + zc.file +
                      (zones_.count(key) ? "; the previous version keeps serving" : "; it is not served") +
                      ". Fix the errors above and reload (SIGHUP).");
            continue;
        }
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        log_info("zone " + r.zone->apex_text + " loaded from " + zc.file + ": serial " +
                 std::to_string(r.zone->serial()) + ", " + std::to_string(r.zone->nodes.size()) +
                 " names, " + std::to_string(int(ms)) + " ms");
        std::string key = r.zone->apex;
        zones_[key] = std::move(r.zone);
    }
    return failed;
}

std::vector<const Zone*> ZoneStore::zones() const {
    std::vector<const Zone*> out;
    for (const auto& [k, z] : zones_) out.push_back(z.get());
    return out;
}

}  // namespace anamed
