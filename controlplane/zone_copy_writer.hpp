// The secondaries' copies on disk, written on a thread of their own at a low priority from an
// image of the zone (zone_image.hpp): rendering a million names as text takes seconds, which
// the control thread (applying the next IXFR) and the serving threads must not wait for. Each
// write is atomic (zone_writer.hpp): a crash leaves the previous copy or the new one, whole.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "zone_image.hpp"

namespace anamed {

class ZoneCopyWriter {
public:
    ZoneCopyWriter() = default;
    ZoneCopyWriter(const ZoneCopyWriter&) = delete;
    ZoneCopyWriter& operator=(const ZoneCopyWriter&) = delete;
    ~ZoneCopyWriter();  // finishes what is queued first

    // Queues `image` to be written to `path`, in place of a queued write of the same path
    // that has not started.
    void write(std::shared_ptr<const ZoneImage> image, const std::string& path);
    bool busy() const;  // a write queued or under way
    void wait();        // until none is

private:
    void run();

    mutable std::mutex m_;
    std::condition_variable cv_;
    std::map<std::string, std::shared_ptr<const ZoneImage>> queued_;
    bool writing_ = false, stop_ = false;
    std::thread thread_;  // started with the first write
};

}  // namespace anamed
