// The daemon's part in `alias: expand` (alias_expansion.hpp): which zones have expanding
// remotes, the serial bump an address change makes in them (journaled like any change, so that
// a restart never sets a serial back), and the expansion recorded with every difference.
// Zones signed here count as expanded for all their secondaries: their transfers carry each
// ALIAS owner's signed addresses, so an address change must reach them as a new serial too.
#include <algorithm>

#include "anamed/wire.hpp"
#include "daemon.hpp"
#include "journal_replay.hpp"
#include "log.hpp"

namespace anamed {
namespace {

bool any_expands(const std::vector<const Remote*>& remotes) {
    return std::any_of(remotes.begin(), remotes.end(),
                       [](const Remote* r) { return r->alias_expand; });
}

}  // namespace

void Daemon::start_expansion() {
    std::set<std::string> apexes;
    for (const ZoneConfig& zc : cfg_.zones) {
        const std::string& n = zc.name;
        const std::string apex =
            lower_key(text_to_wire(n.empty() || n.back() != '.' ? n + "." : n));
        const ZonePeers* zp = peers_.zone(apex);
        const bool secondaries = zp && (!zp->notify.empty() || !zp->allow_transfer.empty());
        if (zp && (any_expands(zp->notify) || any_expands(zp->allow_transfer) ||
                   (secondaries && zc.dnssec.mode == DnssecMode::sign)))
            apexes.insert(apex);
    }
    if (!apexes.empty() && !journal_)
        log_warning(
            "remotes with alias: expand (and secondaries of signed zones) need a journal (journal: "
            "in the config) for the "
            "serial bumps an ALIAS target's address change makes: without one, such "
            "remotes see new addresses only with the zone's next change");
    expansion_.set_zones(std::move(apexes));
    publisher_.on_alias_change(
        [this](const std::vector<std::string>& targets) { expansion_.changed(targets); });
}

void Daemon::forget_expansions() {
    for (const Zone* z : store_.zones())
        if (expansion_.covers(z->apex))
            if (ZoneHistory* h = store_.history(z->apex)) h->forget_expansions();
}

void Daemon::annotate_expansions(const ChangeOutcome& out) {
    for (const auto& [apex, keys] : out.changed) {
        if (!expansion_.covers(apex)) continue;
        ZoneHistory* h = store_.history(apex);
        ZoneDelta* d = h ? h->newest() : nullptr;
        if (d && d->has_alias()) expansion_.annotate(*d);
    }
}

void Daemon::bump_expanded_zones() {
    if (!expansion_.active()) return;
    std::vector<AliasExpansion::Bump> bumps = expansion_.due(
        Clock::now(), [this](const std::string& t) { return resolver_.answer(t); }, store_.zones());
    for (AliasExpansion::Bump& b : bumps) {
        const Zone* z = store_.find(name_to_text(b.apex));
        if (z == nullptr) continue;
        if (!journal_) continue;  // start_expansion() said why
        Record soa = soa_record(*z);
        const size_t at = soa_serial_offset(soa.rdata);
        if (at == std::string::npos) continue;
        auto* serial = reinterpret_cast<uint8_t*>(soa.rdata.data()) + at;
        store32(serial, load32(serial) + 1);  // RFC 1982: the wrap is serial arithmetic
        const std::vector<WireChange> change{WireChange{
            WireChange::Op::add, z->apex_text, soa.owner, rrtype::SOA, soa.ttl, soa.rdata}};
        const uint32_t before = z->serial();
        ChangeOutcome out =
            store_.apply_wire(change, [&] { return journal_->append(journal_entries(change)); });
        if (!out.error.empty() || out.serials.empty()) {
            log_error("zone " + z->apex_text + ": the serial bump for an ALIAS address change " +
                      "failed: " + (out.error.empty() ? "nothing changed" : out.error));
            continue;
        }
        // The first bump after a start: what the remotes hold is not known, they get it all.
        const bool first = bumped_.insert(b.apex).second;
        if (ZoneDelta* d = store_.history(b.apex)->newest()) {
            d->expanded_removed = std::move(b.removed);
            d->expanded_added = std::move(b.added);
            d->expansion_known = !first;
            log_info("zone " + z->apex_text +
                     ": ALIAS target addresses changed for alias: " + "expand remotes (" +
                     std::to_string(d->expanded_removed.size()) + " record(s) out, " +
                     std::to_string(d->expanded_added.size()) + " in); serial " +
                     std::to_string(before) + " -> " + std::to_string(z->serial()));
        }
        publisher_.publish_changes(out);
        notify_secondaries(out.serials);
    }
}

}  // namespace anamed
