// AXFRs built on a thread while sent (xfr_stream.hpp), the zone images they read
// (zone_image.hpp), and the secondaries' copies written off the control thread
// (zone_copy_writer.hpp, record_text.hpp).
#include "xfr_stream.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "anamed/wire.hpp"
#include "message_builder.hpp"
#include "record_text.hpp"
#include "temp_dir.hpp"
#include "zone_copy_writer.hpp"
#include "zone_edit.hpp"
#include "zone_loader.hpp"

namespace anamed::test {
namespace {

void add(Zone& z, const std::string& text) {
    ParsedRecord p;
    std::string warning;
    ASSERT_EQ(parse_record(text, z.apex_text, 300, p), "") << text;
    ZoneNode& node = z.nodes[lower_key(p.owner)];
    if (node.empty()) node.set_owner(p.owner);
    ASSERT_EQ(add_record(node, p, &warning), "") << text;
}

// n customers with the records a large zone has: A, AAAA, MX, TXT, a CNAME beside them.
std::unique_ptr<Zone> customers(size_t n) {
    auto z = std::make_unique<Zone>();
    z->apex = text_to_wire("stream.test.");
    z->apex_text = "stream.test.";
    add(*z, "@ SOA ns1 hostmaster 7 7200 3600 1209600 300");
    add(*z, "@ NS ns1");
    add(*z, "ns1 A 192.0.2.1");
    for (size_t i = 0; i < n; ++i) {
        const std::string c = "c" + std::to_string(i);
        add(*z, c + " A 198.51.100." + std::to_string(i % 250));
        add(*z, c + " AAAA 2001:db8::" + std::to_string(i % 9000 + 1));
        add(*z, c + " MX 10 mail." + c);
        add(*z, c + " TXT \"v=spf1 ip4:198.51.100." + std::to_string(i % 250) + " -all\"");
        add(*z, "www." + c + " CNAME " + c);
    }
    return z;
}

std::multiset<std::string> records_of(const Zone& z) {
    std::multiset<std::string> out;
    for (const auto& [key, node] : z.nodes)
        for (const RRset rs : node.rrsets())
            for (std::string_view rd : rs.rdata)
                out.insert(key.str() + "|" + std::to_string(rs.type) + "|" +
                           std::to_string(rs.ttl) + "|" + std::string(rd));
    return out;
}

TransferRequest axfr_request(const Zone& z) {
    TransferRequest r;
    r.id = 0x1234;
    r.qname = z.apex;
    r.qtype = rrtype::AXFR;
    return r;
}

// Everything a stream brings until its producer finishes.
std::vector<std::string> drain(MessageStream& s, MessageStream::State& end) {
    std::deque<std::string> got;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while ((end = s.take(got)) == MessageStream::State::more &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    s.take(got);
    return {got.begin(), got.end()};
}

TEST(AxfrStream, SameMessagesAsBuiltInLineAndStopsWhenAsked) {
    auto z = customers(3000);
    const TransferRequest req = axfr_request(*z);
    const std::vector<std::string> in_line = axfr_messages(*z, req);
    ASSERT_GT(in_line.size(), 3u);
    std::vector<std::string> streamed;
    EXPECT_TRUE(axfr_stream(*take_image(*z), req, [&](std::string m) {
        streamed.push_back(std::move(m));
        return true;
    }));
    EXPECT_EQ(streamed, in_line);
    size_t calls = 0;
    EXPECT_FALSE(axfr_stream(*take_image(*z), req, [&](std::string) { return ++calls < 2; }));
    EXPECT_EQ(calls, 2u);
}

TEST(AxfrStream, MessagesFilledTo16KiBAndALargerRecordAlone) {
    auto z = customers(3000);
    // A TXT of 80 strings of 255 octets: about 20 KiB, more than a 16 KiB message holds.
    std::string big = "huge TXT";
    for (int i = 0; i < 80; ++i) big += " \"" + std::string(255, char('a' + i % 26)) + "\"";
    add(*z, big);
    const TransferRequest req = axfr_request(*z);
    const std::vector<std::string> msgs = axfr_messages(*z, req);
    size_t larger = 0;
    for (const std::string& m : msgs) {
        EXPECT_LE(m.size(), 65535u);
        if (m.size() > 16384) {
            ++larger;
            EXPECT_EQ(load16(reinterpret_cast<const uint8_t*>(m.data()) + 6), 1u);  // alone
        }
    }
    EXPECT_EQ(larger, 1u);
    EXPECT_GT(msgs.size(), 10u);
    std::vector<std::string> streamed;
    EXPECT_TRUE(axfr_stream(*take_image(*z), req, [&](std::string m) {
        streamed.push_back(std::move(m));
        return true;
    }));
    EXPECT_EQ(streamed, msgs);
}

TEST(AxfrStream, ImageStaysAsTakenWhileTheZoneChanges) {
    auto z = customers(50);
    ZoneImages images;
    const auto first = images.get(*z);
    EXPECT_EQ(images.get(*z), first);  // the same version: shared
    images.fill_pending([&](const std::string&, const Zone* source) { return source == z.get(); });
    EXPECT_EQ(first->wait_copied(first->names.size()), z->nodes.size());
    const auto before = records_of(*z);
    add(*z, "later A 203.0.113.9");
    ZoneNode& apex = z->nodes[z->apex];
    const std::string soa(apex.find(rrtype::SOA)->rdata[0]);
    std::string bumped = soa;
    store32(reinterpret_cast<uint8_t*>(bumped.data()) + soa_serial_offset(soa), 8);
    apex.erase(rrtype::SOA, nullptr);
    apex.add(rrtype::SOA, 300, bumped);
    const auto second = images.get(*z);
    images.fill_pending([&](const std::string&, const Zone* source) { return source == z.get(); });
    EXPECT_NE(second, first);
    EXPECT_EQ(first->serial, 7u);
    EXPECT_EQ(second->serial, 8u);
    std::multiset<std::string> in_first;
    for (const ZoneImage::Name& n : first->names)
        for (const RRset rs : first->rrsets(n))
            for (std::string_view rd : rs.rdata)
                in_first.insert(std::string(first->key(n)) + "|" + std::to_string(rs.type) + "|" +
                                std::to_string(rs.ttl) + "|" + std::string(rd));
    EXPECT_EQ(in_first, before);
    EXPECT_EQ(first->names.size(), z->nodes.size() - 1);  // "later" is not in it
}

TEST(AxfrStream, StartsBeforeTheImageIsFilledAndEndsTheSame) {
    auto z = customers(20000);
    const TransferRequest req = axfr_request(*z);
    const std::vector<std::string> in_line = axfr_messages(*z, req);
    ZoneImages images;
    const auto image = images.get(*z);
    std::vector<std::string> streamed;
    std::atomic<size_t> made{0};
    bool ok = false;
    std::thread reader([&] {
        ok = axfr_stream(*image, req, [&](std::string m) {
            streamed.push_back(std::move(m));
            made.fetch_add(1);
            return true;
        });
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(made.load(), 0u);  // the first message needs names not copied yet
    images.fill_pending([&](const std::string&, const Zone* source) { return source == z.get(); });
    reader.join();
    EXPECT_TRUE(ok);
    EXPECT_EQ(streamed, in_line);
}

TEST(AxfrStream, ImageOfAZoneChangedBeforeItsCopyFailsItsStream) {
    auto z = customers(2000);
    ZoneImages images;
    const auto image = images.get(*z);
    bool ok = true;
    size_t messages = 0;
    std::thread reader([&] {
        ok = axfr_stream(*image, axfr_request(*z), [&](std::string) {
            ++messages;
            return true;
        });
    });
    images.fill_pending([](const std::string&, const Zone*) { return false; });  // replaced
    reader.join();
    EXPECT_FALSE(ok);
    EXPECT_EQ(messages, 0u);
    EXPECT_TRUE(image->failed());
    EXPECT_NE(images.get(*z), image);  // a failed image is not shared
}

TEST(AxfrStream, ImagesNeverFilledFailWhenTheirOwnerGoes) {
    auto z = customers(100);
    std::shared_ptr<const ZoneImage> image;
    {
        ZoneImages images;
        image = images.get(*z);
    }
    EXPECT_EQ(image->wait_copied(1), 0u);
}

TEST(TransferThreads, SignedStreamVerifiesMessageByMessage) {
    auto z = customers(2000);
    TsigKeyring ring;
    TsigKey key;
    key.name = text_to_wire("xfr-key.");
    key.secret.assign(32, 7);
    ASSERT_TRUE(ring.add(key));
    const TsigKey& k = *ring.find(key.name, key.algorithm);
    // A signed AXFR request, as a secondary sends it.
    MessageBuilder b(512);
    b.begin(0x1234, 0, z->apex, rrtype::AXFR);
    std::string req = b.finish();
    req.resize(req.size() + 400);
    TsigMac request_mac;
    const uint64_t now = uint64_t(std::time(nullptr));
    const size_t len = sign_tsig_request(reinterpret_cast<uint8_t*>(req.data()), req.size() - 400,
                                         req.size(), k, now, request_mac);
    ASSERT_GT(len, 0u);
    const TsigRequest tsig =
        verify_tsig_request(reinterpret_cast<const uint8_t*>(req.data()), len, ring, now);
    ASSERT_EQ(tsig.status, TsigStatus::ok);

    TransferThreads threads;
    TransferThreads::Job job;
    job.image = take_image(*z);
    job.request = axfr_request(*z);
    job.request.room = 400;
    job.tsig = tsig;
    job.log_prefix = "AXFR of stream.test. (unit test)";
    auto stream = threads.start(std::move(job));
    ASSERT_TRUE(stream);
    MessageStream::State end;
    const std::vector<std::string> msgs = drain(*stream, end);
    EXPECT_EQ(end, MessageStream::State::done);
    const std::vector<std::string> plain = axfr_messages(*z, axfr_request(*z));
    ASSERT_EQ(msgs.size(), plain.size());
    TsigStreamVerifier v(k, request_mac);
    for (const std::string& m : msgs) {
        const TsigReplyCheck c =
            v.verify(reinterpret_cast<const uint8_t*>(m.data()), m.size(), now);
        ASSERT_EQ(c.status, TsigStatus::ok);
    }
    EXPECT_TRUE(v.at_signed_boundary());
}

TEST(TransferThreads, CancelledStreamStopsItsProducer) {
    auto z = customers(20000);
    TransferThreads threads;
    TransferThreads::Job job;
    job.image = take_image(*z);
    job.request = axfr_request(*z);
    job.log_prefix = "AXFR of stream.test. (unit test, cancelled)";
    auto stream = threads.start(std::move(job));
    ASSERT_TRUE(stream);
    stream->cancel();
    std::deque<std::string> got;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    MessageStream::State st;
    while ((st = stream->take(got)) == MessageStream::State::more &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(st, MessageStream::State::failed);  // stopped early, never "done"
    // What it made before the cancel waits in the ring: no more than the ring holds, far
    // fewer than the whole transfer.
    EXPECT_LE(got.size(), MessageStream::capacity);
    EXPECT_GT(axfr_messages(*z, axfr_request(*z)).size(), 2 * MessageStream::capacity);
}

TEST(RecordText, DirectFormsEqualLdns) {
    const std::string owner = text_to_wire("Host-1.example.");
    std::vector<std::string> texts = {
        "Host-1.example. A 192.0.2.7",
        "Host-1.example. AAAA 2001:db8::25",
        "Host-1.example. AAAA ::ffff:192.0.2.1",
        "Host-1.example. NS ns_1.example.",
        "Host-1.example. CNAME *.wild.example.",
        "Host-1.example. MX 65535 mx.example.",
        "Host-1.example. TXT \"plain\" \"two words\" \"q\\\"uote\" \"back\\\\slash\" "
        "\"\\009tab\\255\" \"\"",
        "Host-1.example. PTR a.b.example.",
        "Host-1.example. DNAME target.example.",
        "Host-1.example. CNAME we\\.ird\\;name.example.",
        "Host-1.example. SRV 1 2 3 t.example.",
    };
    for (const std::string& t : texts) {
        ParsedRecord p;
        ASSERT_EQ(parse_record(t, "example.", 300, p), "") << t;
        EXPECT_EQ(record_text(p.owner, p.type, p.ttl, p.rdata),
                  record_text_ldns(p.owner, p.type, p.ttl, p.rdata))
            << t;
    }
    ParsedRecord alias;
    ASSERT_EQ(parse_record("a.example. ALIAS target.example.", "example.", 60, alias), "");
    EXPECT_EQ(record_text(alias.owner, alias.type, alias.ttl, alias.rdata),
              "a.example.\t60\tIN\tALIAS\ttarget.example.\n");
    EXPECT_EQ(record_text(alias.owner, alias.type, alias.ttl, alias.rdata),
              record_text_ldns(alias.owner, alias.type, alias.ttl, alias.rdata));
    // An owner that needs escaping goes through ldns.
    EXPECT_EQ(plain_name_text(text_to_wire("a\\ b.example.")), "");
    EXPECT_EQ(plain_name_text(owner), "Host-1.example.");
}

TEST(ZoneCopyWriter, WritesTheImageWholeAndItLoadsBackEqual) {
    TempDir dir;
    auto z = customers(2000);
    add(*z, "odd\\;name TXT \"semi;colon\"");
    const std::string path = dir.path() + "/copy.zone";
    {
        ZoneCopyWriter w;
        w.write(take_image(*z), path);
        w.wait();
        EXPECT_FALSE(w.busy());
    }
    EXPECT_FALSE(std::filesystem::exists(path + ".anamed-tmp"));
    LoadResult r = load_zone_file("stream.test.", path);
    for (const auto& d : r.diags) EXPECT_FALSE(d.error) << d.str();
    ASSERT_TRUE(r.zone);
    EXPECT_EQ(records_of(*r.zone), records_of(*z));
    EXPECT_EQ(r.zone->serial(), 7u);
}

}  // namespace
}  // namespace anamed::test
