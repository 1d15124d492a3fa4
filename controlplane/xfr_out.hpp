// The transfer streamer's messages: a zone as an AXFR answer (RFC 5936) or its history as an
// IXFR answer (RFC 1995), for the TCP server to send one after another.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "zone.hpp"
#include "zone_history.hpp"
#include "zone_image.hpp"

namespace anamed {

struct TransferRequest {
    uint16_t id = 0;
    uint16_t flags = 0;  // the request's: RD and CD are echoed
    std::string qname;   // as the client sent it (wire)
    uint16_t qtype = 0;
    uint32_t client_serial = 0;  // IXFR: the serial in the request's authority SOA
    bool udp = false;
    size_t room = 0;  // bytes to leave free in each message (a TSIG record)
};

// Records that stand in for an ALIAS RRset in a transfer: the target's resolved A/AAAA
// (owner and TTL set by the caller), for secondaries that do not know ALIAS. Null: send the
// ALIAS records themselves.
using AliasExpander =
    std::function<void(std::string_view owner, const RRset& alias, std::vector<Record>& out)>;

// The whole zone: SOA, every other record, SOA.
std::vector<std::string> axfr_messages(const Zone& z, const TransferRequest& r,
                                       const AliasExpander& expand = {});

// The same from an image (following its copy while it is filled), without ALIAS expansion,
// each message handed to `emit` as soon as it is made (emit returns false to stop). False
// when stopped, when the image failed, or when a record did not fit.
using MessageSink = std::function<bool(std::string msg)>;
bool axfr_stream(const ZoneImage& z, const TransferRequest& r, const MessageSink& emit);

// IXFR: the differences since r.client_serial when the history has them; one SOA when the
// client is current; else the whole zone (RFC 1995 §4). Over UDP, what does not fit one
// message becomes the single SOA, which tells the client to ask over TCP.
std::vector<std::string> ixfr_messages(const Zone& z, const ZoneHistory& history,
                                       const TransferRequest& r, const AliasExpander& expand = {});

}  // namespace anamed
