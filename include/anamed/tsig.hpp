// TSIG (RFC 8945): HMAC transaction signatures for zone transfers, NOTIFY and dynamic updates.
//
// Server side: verify_tsig_request() checks a request's TSIG RR and says what the reply must
// carry; sign_tsig_reply() appends the reply's TSIG (signed, or unsigned for BADKEY/BADSIG);
// TsigStreamSigner signs the messages of an AXFR/IXFR reply one after another.
// Client side: sign_tsig_request() signs a NOTIFY, SOA query or transfer request and keeps its
// MAC; verify_tsig_reply() and TsigStreamVerifier check what comes back.
//
// Messages are untrusted bytes: every read is bounds-checked, nothing throws, and MACs are
// compared in constant time. HMAC comes from OpenSSL's libcrypto. Times are seconds since the
// epoch, passed in by the caller (time(nullptr) in production).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace anamed {

enum class TsigAlgorithm : uint8_t {
    hmac_md5,
    hmac_sha1,
    hmac_sha224,
    hmac_sha256,
    hmac_sha384,
    hmac_sha512
};

// "hmac-sha256" etc., as written in configurations ("hmac-md5" for HMAC-MD5.SIG-ALG.REG.INT).
std::string_view tsig_algorithm_name(TsigAlgorithm a);
// The configuration spelling in any case, or an algorithm's domain name (with or without the
// final dot). False when the name is not one of the six algorithms.
bool parse_tsig_algorithm(std::string_view text, TsigAlgorithm& out);
// The algorithm's name as it travels in a TSIG RR: lower-case wire format.
std::string_view tsig_algorithm_wire(TsigAlgorithm a);
// The HMAC's full output length in octets.
size_t tsig_digest_size(TsigAlgorithm a);

// TSIG error codes (the TSIG RR's Error field); a reply carrying one has RCODE NOTAUTH.
namespace tsig_error {
inline constexpr uint16_t NOERROR = 0, BADSIG = 16, BADKEY = 17, BADTIME = 18, BADTRUNC = 22;
}
inline constexpr uint8_t rcode_notauth = 9;
inline constexpr uint16_t tsig_default_fudge = 300;
inline constexpr size_t tsig_max_mac = 64;  // HMAC-SHA512

struct TsigKey {
    std::string name;  // lower-case wire format
    TsigAlgorithm algorithm = TsigAlgorithm::hmac_sha256;
    std::vector<uint8_t> secret;
    // The shortest truncated MAC accepted from a peer (RFC 8945 §5.2.2.1); 0: the full length.
    // A shorter one that the RFC still allows is answered with BADTRUNC.
    size_t min_mac_size = 0;
};

// The keys a server knows, looked up by the name and algorithm a TSIG RR carries.
class TsigKeyring {
public:
    // False (and nothing added) when the name is not a valid wire name or a key with the same
    // name and algorithm is present already.
    bool add(TsigKey key);
    // name: wire format in any case.
    const TsigKey* find(std::string_view name, TsigAlgorithm algorithm) const;
    size_t size() const { return keys_.size(); }

private:
    std::vector<TsigKey> keys_;
};

// A MAC as it travels, truncated or not.
struct TsigMac {
    uint8_t bytes[tsig_max_mac];
    uint8_t size = 0;
};

enum class TsigStatus : uint8_t {
    ok,                // signed, and the signature verified
    unsigned_message,  // no TSIG RR (for a stream: where one is required)
    unsigned_pending,  // (streams) no TSIG RR, covered by the next signed message's MAC
    formerr,           // TSIG RR malformed, not last, not alone, or a MAC length §5.2.2.1 forbids
    badkey,            // key name or algorithm unknown (or, in a reply, not the request's)
    badsig,            // the MAC does not verify
    badtime,           // time signed is more than fudge seconds away from now
    badtrunc,          // truncated further than the key's min_mac_size allows
    peer_error,        // (replies) the peer's TSIG reports an error: see TsigReplyCheck::peer_error
    internal,          // libcrypto failed (out of memory)
};
std::string_view tsig_status_name(TsigStatus s);

// What verify_tsig_request() found. Everything sign_tsig_reply() needs is copied in: the
// request buffer may be reused meanwhile. No allocation.
struct TsigRequest {
    TsigStatus status = TsigStatus::unsigned_message;
    uint16_t error = tsig_error::NOERROR;  // the TSIG error the reply carries
    const TsigKey* key = nullptr;          // set unless status is unsigned/formerr/badkey
    size_t tsig_offset = 0;                // where the TSIG RR starts: [0, tsig_offset) is the rest
    uint16_t original_id = 0;
    uint64_t time_signed = 0;
    uint16_t fudge = 0;
    TsigMac mac;            // the request's MAC as received, truncated if it was
    uint8_t key_name[255];  // as received, lower-cased (echoed in BADKEY replies)
    uint8_t key_name_len = 0;
    uint8_t algorithm[255];  // as received, lower-cased
    uint8_t algorithm_len = 0;

    bool is_signed() const {
        return status != TsigStatus::unsigned_message && status != TsigStatus::formerr;
    }
};

// Checks a request's TSIG in the RFC 8945 §5.2 order: key, MAC, time, truncation. status ok
// with key set: process the message (strip_tsig first); unsigned_message: no TSIG; formerr:
// reply FORMERR without TSIG; badkey/badsig/badtime/badtrunc: reply with write_tsig_error_reply;
// internal: SERVFAIL.
TsigRequest verify_tsig_request(const uint8_t* msg, size_t len, const TsigKeyring& keys,
                                uint64_t now);

// The message without its TSIG RR and with ARCOUNT decremented, in place (RFC 8945 §5.2).
// tsig_offset from TsigRequest or TsigReplyCheck. Returns the new length.
size_t strip_tsig(uint8_t* msg, size_t tsig_offset);

// Appends the TSIG RR for a reply to a signed request (req.is_signed()) at msg[len..cap) and
// increments ARCOUNT; msg[0..len) is the finished reply without TSIG. A verified request gets a
// reply signed over its MAC; a TSIG error sets RCODE NOTAUTH and follows §5.3.2: BADKEY and
// BADSIG unsigned (empty MAC), BADTIME signed with the request's time and the server's time in
// Other Data, BADTRUNC signed. Returns the new length, 0 when it does not fit or failed.
size_t sign_tsig_reply(uint8_t* msg, size_t len, size_t cap, const TsigRequest& req, uint64_t now);

// The whole reply to a request whose TSIG failed (badkey, badsig, badtime, badtrunc): the
// request's ID, opcode, RD and question, QR set, RCODE NOTAUTH, then the TSIG RR as
// sign_tsig_reply writes it. Returns its length, 0 when the request has no question section
// that fits or out is too small.
size_t write_tsig_error_reply(const uint8_t* request, size_t request_len, const TsigRequest& req,
                              uint8_t* out, size_t cap, uint64_t now);

// Signs the messages of a multi-message reply (AXFR/IXFR, RFC 8945 §5.3.1), every one of
// them: the first over the request MAC and all TSIG variables, each later one over the
// previous MAC, itself and the timers only.
class TsigStreamSigner {
public:
    // req: a verified request (status ok); it need not outlive the signer, req.key must.
    explicit TsigStreamSigner(const TsigRequest& req);
    // Same as sign_tsig_reply for the next message. 0 when it does not fit or failed.
    size_t sign(uint8_t* msg, size_t len, size_t cap, uint64_t now);

private:
    const TsigKey* key_;
    TsigMac prev_;  // the request MAC, then each signed message's MAC
    bool first_ = true;
};

// Client side: appends a TSIG RR signed with key to a request (NOTIFY, SOA query, IXFR/AXFR
// request, UPDATE); its original ID is the header's ID. request_mac receives the MAC, for
// verifying the reply. Returns the new length, 0 when it does not fit or failed.
size_t sign_tsig_request(uint8_t* msg, size_t len, size_t cap, const TsigKey& key, uint64_t now,
                         TsigMac& request_mac, uint16_t fudge = tsig_default_fudge);

struct TsigReplyCheck {
    TsigStatus status = TsigStatus::unsigned_message;
    uint16_t peer_error = tsig_error::NOERROR;  // status peer_error: the peer's TSIG error
    size_t tsig_offset = 0;                     // for strip_tsig; 0 when there is no TSIG
    uint64_t peer_time = 0;                     // BADTIME: the peer's clock, from Other Data
};

// Checks the messages of a reply to a request signed with key, in order: a single reply or a
// transfer stream. Every message may be signed, or signed ones may have up to 99 unsigned ones
// between them (§5.3.1); the first must be signed, and the caller must see at_signed_boundary()
// after the last one. A signed error reply with a valid MAC (BADTIME, BADTRUNC) gives
// peer_error; an unsigned one (BADKEY, BADSIG) gives peer_error without proof of origin.
class TsigStreamVerifier {
public:
    // key must outlive the verifier.
    TsigStreamVerifier(const TsigKey& key, const TsigMac& request_mac);
    ~TsigStreamVerifier();
    TsigStreamVerifier(const TsigStreamVerifier&) = delete;
    TsigStreamVerifier& operator=(const TsigStreamVerifier&) = delete;

    TsigReplyCheck verify(const uint8_t* msg, size_t len, uint64_t now);
    // The last message verified was signed (and nothing failed): a transfer may end here.
    bool at_signed_boundary() const { return !failed_ && !first_ && pending_ == 0; }

private:
    struct Running;  // the HMAC over the previous MAC and the unsigned messages since
    TsigReplyCheck fail(TsigReplyCheck r);

    const TsigKey& key_;
    TsigMac prev_;
    std::unique_ptr<Running> running_;
    unsigned pending_ = 0;  // unsigned messages since the last signed one
    bool first_ = true;
    bool failed_ = false;
};

// A single reply: TsigStreamVerifier's first message.
TsigReplyCheck verify_tsig_reply(const uint8_t* msg, size_t len, const TsigKey& key,
                                 const TsigMac& request_mac, uint64_t now);

}  // namespace anamed
