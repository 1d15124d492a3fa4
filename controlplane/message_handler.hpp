// The control plane's side of the dispatch seam (anamed/dispatch.hpp): every message the
// workers hand off is answered here, by its class, on the control-plane thread. A TSIG on
// the message is verified first, whatever its class, and the reply signed (RFC 8945).
#pragma once

#include <functional>

#include "anamed/handoff.hpp"
#include "anamed/snapshot.hpp"
#include "anamed/tsig.hpp"
#include "remotes.hpp"
#include "update.hpp"
#include "xfr_out.hpp"
#include "xfr_stream.hpp"
#include "zone_store.hpp"

namespace anamed {

class MessageHandler {
public:
    struct Context {
        const ZoneStore* store = nullptr;
        const Peers* peers = nullptr;
        std::function<const ZoneHistory*(const Zone&)> history;  // null: none kept
        std::function<const Snapshot*()> snapshot;
        // The signed copy of a zone (lower-case wire apex) that transfers carry; null when
        // the zone is not signed here (transfers read the store's zone).
        std::function<const Zone*(const std::string& apex)> signed_zone;
        AliasExpander alias_expander;         // for remotes with alias: expand
        AliasExpander signed_alias_expander;  // for zones signed here: addresses + RRSIGs
        // A NOTIFY for the zone `apex` (lower-case wire) from `peer` with `key` (null:
        // unsigned): the RCODE to answer (secondary.hpp). Null: NOTIFY is not accepted.
        std::function<uint8_t(const std::string& apex, const sockaddr_storage& peer,
                              const TsigKey* key)>
            notify;
        // Dynamic updates: applies a checked batch (UpdateContext::apply).
        std::function<ChangeOutcome(const std::vector<WireChange>&, bool*)> apply_update;
    };
    explicit MessageHandler(Context c) : ctx_(std::move(c)) {}

    // The reply to one handed-off message (no message: none is sent).
    Reply handle(const HandoffMessage& m);
    // Whether the reply to `m` may be streamed (an AXFR or IXFR over TCP). The caller lets
    // nothing change the zones between handle() of such a message and fill_images(), and
    // sends its reply in between: the stream starts while the zone is copied.
    static bool may_stream(const HandoffMessage& m) {
        return m.cls == MessageClass::transfer && m.transport == Transport::tcp;
    }
    // Copies the zones into the images of the transfers handle() began to stream.
    void fill_images();

    struct Counters {
        uint64_t axfr = 0, ixfr = 0, transfers_refused = 0, tsig_errors = 0, signed_queries = 0,
                 notifies = 0, notifies_refused = 0;
        // UPDATE messages by outcome (update.hpp): applied, valid but changing nothing,
        // a prerequisite failed, refused (policy, rules, not authoritative), malformed
        // (FORMERR, NOTZONE), failed (journal, no primary answered), forwarded.
        uint64_t updates_applied = 0, updates_unchanged = 0, updates_prerequisite_failed = 0,
                 updates_refused = 0, updates_malformed = 0, updates_failed = 0,
                 updates_forwarded = 0;
    };
    const Counters& counters() const { return counters_; }

private:
    // body: the message without its TSIG; tsig: what verifying it found.
    Reply transfer(const HandoffMessage& m, const std::vector<uint8_t>& body,
                   const TsigRequest& tsig);
    Reply notify(const HandoffMessage& m, const std::vector<uint8_t>& body,
                 const TsigRequest& tsig);
    Reply update(const HandoffMessage& m, const std::vector<uint8_t>& body,
                 const TsigRequest& tsig);
    Reply signed_query(const HandoffMessage& m, const std::vector<uint8_t>& body,
                       const TsigRequest& tsig);
    // A reply of header and question with `rcode`, signed when the request was.
    Reply error(const HandoffMessage& m, const std::vector<uint8_t>& body, const TsigRequest& tsig,
                uint8_t rcode);
    Reply sign(Reply r, const TsigRequest& tsig);

    // A whole zone over TCP: built on a transfer thread from an image of the zone while it
    // is sent. An empty reply when no thread is free (build it in line).
    Reply stream_axfr(const Zone& z, const TransferRequest& req, const TsigRequest& tsig,
                      std::string log_prefix);

    Context ctx_;
    Counters counters_;
    ZoneImages images_;
    TransferThreads transfers_;  // last: its threads stop before the rest goes
};

}  // namespace anamed
