// ZoneStore: the control plane's truth — every served zone as loaded from its file.
// A zone whose file fails to load is not served (first load) or keeps serving its
// previous contents (reload): a broken file is never half-applied.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config.hpp"
#include "zone.hpp"

namespace anamed {

class ZoneStore {
public:
    // Loads (or reloads) each configured zone; logs every diagnostic with file:line.
    // Returns how many zones failed.
    size_t load(const std::vector<ZoneConfig>& zones);
    std::vector<const Zone*> zones() const;
    size_t size() const { return zones_.size(); }

private:
    std::map<std::string, std::unique_ptr<Zone>> zones_;  // by lower-case wire apex
};

}  // namespace anamed
