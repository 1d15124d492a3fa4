#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "test_util.hpp"

namespace anamed::test {
namespace {

bool has_diag(const LoadResult& r, const std::string& file_line, const std::string& text,
              bool error = true) {
    for (const auto& d : r.diags)
        if (d.error == error && d.str().find(file_line) != std::string::npos &&
            d.message.find(text) != std::string::npos)
            return true;
    return false;
}
std::string dump(const LoadResult& r) {
    std::string s;
    for (const auto& d : r.diags) s += d.str() + "\n";
    return s;
}
std::string key(const std::string& text) {
    return lower_key(text_to_wire(text));
}

const std::string soa_ns =
    "$TTL 300\n@ IN SOA ns hostmaster 1 2 3 4 5\n@ IN NS ns\nns IN A 192.0.2.1\n";

TEST(ZoneLoader, LoadsTheTestZoneWithIncludeAndOrigins) {
    LoadResult r = load_zone_file("example.test", data_path("test.zone"));
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_TRUE(r.diags.empty()) << dump(r);
    const Zone& z = *r.zone;
    EXPECT_EQ(z.serial(), 2026112601u);
    EXPECT_NE(z.find(key("host.inc.example.test.")), nullptr);       // $ORIGIN inside the include
    EXPECT_NE(z.find(key("after-include.example.test.")), nullptr);  // origin restored after it
    EXPECT_NE(z.find(key("caa.example.test.")), nullptr);
    const ZoneNode* mail = z.find(key("mail.example.test."));
    ASSERT_NE(mail, nullptr);
    EXPECT_EQ(mail->find(rrtype::AAAA)->ttl, 7200u);  // class-before-TTL form
    const ZoneNode* ns2 = z.find(key("ns2.example.test."));
    ASSERT_NE(ns2, nullptr);
    EXPECT_TRUE(ns2->find(rrtype::AAAA));  // blank owner continues the previous one
    EXPECT_EQ(z.find(key("big.example.test."))->find(rrtype::TXT)->rdata.size(), 40u);
    EXPECT_EQ(z.find(key("mixedcase.example.test."))->owner(key("mixedcase.example.test.")),
              text_to_wire("MixedCase.example.test."));
    EXPECT_EQ(ns2->owner(key("ns2.example.test.")), text_to_wire("ns2.example.test."));
    EXPECT_EQ(ns2->owner("key"), "key");  // lower case as written: no copy, the key is the owner
}

// A zone "file" that is a directory, missing, or a pipe: an error or a load, never a crash
// (a directory once reported its size as 2^63 and the read buffer threw bad_alloc).
TEST(ZoneLoader, DirectoriesMissingFilesAndPipesAreHandled) {
    const TempDir tmp;
    const std::string dir = tmp.file("zone-dir.d");
    std::filesystem::create_directories(dir);
    LoadResult d = load_zone_file("example.test", dir);
    EXPECT_FALSE(d.ok());
    EXPECT_TRUE(has_diag(d, dir, "it is a directory")) << dump(d);
    LoadResult m = load_zone_file("example.test", dir + "/missing.zone");
    EXPECT_FALSE(m.ok());
    EXPECT_TRUE(has_diag(m, "missing.zone", "cannot open zone file")) << dump(m);

    const std::string fifo = tmp.file("zone.fifo");
    std::filesystem::remove(fifo);
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    std::thread writer([&] { std::ofstream(fifo) << soa_ns << "www A 192.0.2.7\n"; });
    LoadResult p = load_zone_file("example.test", fifo);
    writer.join();
    ASSERT_TRUE(p.ok()) << dump(p);
    EXPECT_TRUE(p.zone->find(key("www.example.test.")));
    std::filesystem::remove(fifo);
}

// An RRset no 64 KiB message can hold is refused where it becomes too large (the compiled
// block counts records in 16 bits); one that fits loads.
TEST(ZoneLoader, RRsetsLargerThanAMessageAreErrors) {
    const TempDir tmp;
    std::string big = soa_ns, fits = soa_ns;
    for (int i = 0; i < 3000; ++i) big += "txt TXT \"record number " + std::to_string(i) + "\"\n";
    for (int i = 0; i < 2000; ++i)
        fits += "a A 10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + "\n";
    LoadResult r = load_zone_file("example.test", tmp.write("big-rrset.zone", big));
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(has_diag(r, "big-rrset.zone:", "more than a DNS message holds")) << dump(r);
    // One TXT of 300 strings of 250: ldns would keep the first ~65,000 octets and drop the rest.
    std::string huge = soa_ns + "huge TXT";
    for (int i = 0; i < 300; ++i) huge += " \"" + std::string(250, 'x') + "\"";
    LoadResult h = load_zone_file("example.test", tmp.write("huge-rdata.zone", huge + "\n"));
    EXPECT_FALSE(h.ok());
    EXPECT_TRUE(has_diag(h, "huge-rdata.zone:5", "longer than the parser reads")) << dump(h);
    LoadResult f = load_zone_file("example.test", tmp.write("fits-rrset.zone", fits));
    ASSERT_TRUE(f.ok()) << dump(f);
    EXPECT_EQ(f.zone->find(key("a.example.test."))->find(rrtype::A)->rdata.size(), 2000u);
}

TEST(ZoneLoader, CnameBesideOtherDataIsAnErrorPointingAtAlias) {
    LoadResult r = load_zone_file("bad.test", data_path("bad-cname.zone"));
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(has_diag(r, "bad-cname.zone:", "use ALIAS")) << dump(r);
}

TEST(ZoneLoader, MissingSoaOrNsIsAnError) {
    LoadResult soa = load_zone_file("no-soa.test", data_path("no-soa.zone"));
    EXPECT_FALSE(soa.ok());
    EXPECT_TRUE(has_diag(soa, "no-soa.zone", "no SOA")) << dump(soa);
    LoadResult ns = load_zone_file("no-ns.test", data_path("no-ns.zone"));
    EXPECT_FALSE(ns.ok());
    EXPECT_TRUE(has_diag(ns, "no-ns.zone", "no NS")) << dump(ns);
}

TEST(ZoneLoader, SyntaxErrorNamesFileAndLine) {
    LoadResult r = load_zone_file("syntax.test", data_path("syntax.zone"));
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(has_diag(r, "syntax.zone:11:", "")) << dump(r);
}

TEST(ZoneLoader, OutOfZoneDataIsIgnoredWithAWarning) {
    LoadResult r = load_zone_file("outofzone.test", data_path("outofzone.zone"));
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_TRUE(has_diag(r, "outofzone.zone:", "out-of-zone", false)) << dump(r);
    EXPECT_EQ(r.zone->find(key("foo.elsewhere.")), nullptr);
}

TEST(ZoneLoader, MissingFileIsAClearError) {
    LoadResult r = load_zone_file("x.test", "/nonexistent/x.zone");
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(has_diag(r, "/nonexistent/x.zone", "cannot open")) << dump(r);
}

TEST(ZoneLoader, AliasMnemonicsAndGenericTypeMeanTheSame) {
    const TempDir tmp;
    const std::string path = tmp.write("alias.zone", soa_ns +
                                                         "a IN ALIAS target.example.\n"
                                                         "b 60 IN ANAME target.example.\n"
                                                         "c TYPE65401 target.example.\n"
                                                         "a IN MX 10 mail.example.\n");
    LoadResult r = load_zone_file("alias.test", path);
    ASSERT_TRUE(r.ok()) << dump(r);
    for (const char* n : {"a.alias.test.", "b.alias.test.", "c.alias.test."}) {
        const ZoneNode* node = r.zone->find(key(n));
        ASSERT_NE(node, nullptr) << n;
        ASSERT_TRUE(node->find(rrtype::ALIAS)) << n;
        EXPECT_EQ(node->find(rrtype::ALIAS)->rdata[0], text_to_wire("target.example."));
    }
}

TEST(ZoneLoader, SecondAliasOrCnameIsAnError) {
    const TempDir tmp;
    const std::string path = tmp.write("two.zone", soa_ns +
                                                       "a IN ALIAS one.example.\n"
                                                       "a IN ALIAS two.example.\n"
                                                       "b IN CNAME one.example.\n"
                                                       "b IN CNAME two.example.\n");
    LoadResult r = load_zone_file("two.test", path);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(has_diag(r, "two.zone:6:", "more than one ALIAS")) << dump(r);
    EXPECT_TRUE(has_diag(r, "two.zone:8:", "more than one CNAME")) << dump(r);
}

TEST(ZoneLoader, DirectiveErrorsAreReported) {
    const TempDir tmp;
    const std::string path =
        tmp.write("dir.zone", soa_ns + "$TTL banana\n$BOGUS x\n$INCLUDE missing.zone\n");
    LoadResult r = load_zone_file("dir.test", path);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(has_diag(r, "dir.zone:5:", "bad $TTL")) << dump(r);
    EXPECT_TRUE(has_diag(r, "dir.zone:6:", "unknown directive")) << dump(r);
    EXPECT_TRUE(has_diag(r, "missing.zone", "cannot open")) << dump(r);
}

TEST(ZoneLoader, RecursiveIncludeIsBounded) {
    const TempDir tmp;
    const std::string path = tmp.write("self.zone", soa_ns + "$INCLUDE self.zone\n");
    LoadResult r = load_zone_file("self.test", path);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(has_diag(r, "self.zone", "nested too deeply")) << dump(r);
}

TEST(ZoneLoader, UnbalancedParenthesesAreReported) {
    const TempDir tmp;
    const std::string path = tmp.write("paren.zone", soa_ns + "x IN TXT ( \"a\"\n");
    LoadResult r = load_zone_file("paren.test", path);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(has_diag(r, "paren.zone", "unterminated")) << dump(r);
}

TEST(ZoneLoader, MalformedSvcbParametersAreRejected) {
    const TempDir tmp;
    const std::string path = tmp.file("svcb.zone");
    std::ofstream(path)
        << "$TTL 300\n@ IN SOA ns hostmaster 1 2 3 4 5\n@ IN NS ns\nns IN A 192.0.2.1\n"
           "ok IN HTTPS 1 . alpn=h2 port=443\nbad IN HTTPS 1 . alpn\n";
    LoadResult r = load_zone_file("svcb.test", path);
    EXPECT_FALSE(r.ok());
    bool found = false;
    for (const auto& d : r.diags)
        found |= d.str().find("svcb.zone:6:") != std::string::npos &&
                 d.message.find("SVCB") != std::string::npos;
    EXPECT_TRUE(found);
}

// A string may not run over a line end: ldns would otherwise see raw newlines in a record
// (ldns 1.8.3 overflows a buffer on them: tests/fuzz/regressions/fuzz_zone_loader/).
TEST(ZoneLoader, NewlineInsideAQuotedStringIsAnError) {
    LoadResult r = load_zone_file(
        "fuzz.test",
        std::string(ANAMED_TESTDATA) +
            "/../fuzz/regressions/fuzz_zone_loader/ldns-bget-token-heap-overflow.zone");
    EXPECT_FALSE(r.ok());
    bool found = false;
    for (const auto& d : r.diags)
        found |= d.message.find("newline inside a quoted string") != std::string::npos;
    EXPECT_TRUE(found);
}

// More records than one batch of the loading pipeline (16,384), with $ORIGIN changes and an
// $INCLUDE on both sides of batch boundaries: names, origins and file:line survive the
// hand-over between the reading thread and the loader.
TEST(ZoneLoader, LargeFilesKeepOriginsIncludesAndLinesAcrossBatches) {
    const TempDir tmp;
    std::string inc = "$ORIGIN inc.big.test.\n";
    for (int i = 0; i < 20000; ++i) inc += "i" + std::to_string(i) + " A 192.0.2.2\n";
    const std::string inc_path = tmp.write("batches-inc.zone", inc);
    std::string main =
        "$TTL 300\n@ IN SOA ns hostmaster 1 2 3 4 5\n@ IN NS ns\nns IN A 192.0.2.1\n";
    int line = 4;
    for (int i = 0; i < 40000; ++i) {
        if (i % 7000 == 0) {
            main += "$ORIGIN o" + std::to_string(i / 7000) + ".big.test.\n";
            ++line;
        }
        if (i == 21000) {
            main += "$INCLUDE " + inc_path + "\n";
            ++line;
        }
        main += "n" + std::to_string(i) + " A 192.0.2.1\n";
        ++line;
    }
    main += "bad A 192.0.2.300\n";
    const int bad_line = ++line;
    main += "last TXT \"after the error\"\n";
    LoadResult r = load_zone_file("big.test", tmp.write("batches.zone", main));
    EXPECT_FALSE(r.ok());
    ASSERT_EQ(r.diags.size(), 1u) << dump(r);
    EXPECT_EQ(r.diags[0].line, bad_line) << dump(r);
    EXPECT_NE(r.diags[0].file.find("batches.zone"), std::string::npos) << dump(r);

    // The same without the error loads every name where it belongs.
    main.erase(main.find("bad A"), std::string("bad A 192.0.2.300\n").size());
    r = load_zone_file("big.test", tmp.write("batches-ok.zone", main));
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.zone->nodes.size(),
              2u + 40000u + 20000u + 1u);  // apex, ns, n*, i*, last (ENTs are not nodes)
    EXPECT_NE(r.zone->find(key("n0.o0.big.test.")), nullptr);
    EXPECT_NE(r.zone->find(key("n20999.o2.big.test.")), nullptr);
    EXPECT_NE(r.zone->find(key("i19999.inc.big.test.")), nullptr);
    EXPECT_NE(r.zone->find(key("n21000.o3.big.test.")),
              nullptr);  // the include left the origin alone
    EXPECT_NE(r.zone->find(key("n39999.o5.big.test.")), nullptr);
    EXPECT_NE(r.zone->find(key("last.o5.big.test.")), nullptr);
}

// The reader looks for the characters it must handle (; " \\ ( ) CR LF) 16 bytes at a time:
// each of them, at every offset of a line and so of a 16-byte step, must still be seen.
TEST(ZoneLoader, SpecialCharactersAtEveryOffsetAreSeen) {
    const TempDir tmp;
    std::string z = soa_ns;
    for (int k = 0; k < 40; ++k) {
        const std::string o =
            "n" + std::string(size_t(k), 'x');  // moves everything after it by one
        z += o + " TXT \"a;b\\\"c\" ; a comment \"not a string\r\n";
        z += o + " MX ( 10\r\n  mx ) ; closed\n";
        z += o + "\\.e A 192.0.2.1\n";  // an escaped dot: one label "n...x.e"
    }
    LoadResult r = load_zone_file("sp.test", tmp.write("special.zone", z));
    ASSERT_TRUE(r.ok()) << dump(r);
    for (int k = 0; k < 40; ++k) {
        const std::string o = "n" + std::string(size_t(k), 'x');
        const ZoneNode* n = r.zone->find(key(o + ".sp.test."));
        ASSERT_NE(n, nullptr) << k;
        ASSERT_TRUE(n->find(rrtype::TXT)) << k;
        EXPECT_EQ(std::string(*n->find(rrtype::TXT)->rdata.begin()), std::string("\x05"
                                                                                 "a;b\"c"))
            << k;
        EXPECT_TRUE(n->find(rrtype::MX)) << k;
        EXPECT_NE(r.zone->find(key(o + "\\.e.sp.test.")), nullptr) << k;
    }
}

// Records that repeat their owner (written again, or left blank) share its key, which the
// loader computes once per run: runs across batch boundaries, interrupted by records that do
// not parse or are not IN, and owners that differ only in case all land on their own node.
TEST(ZoneLoader, OwnerRunsLandOnTheirNode) {
    const TempDir tmp;
    std::string z = soa_ns;
    for (int i = 0; i < 3000; ++i) {
        const std::string o = "r" + std::to_string(i);
        z += o + " A 192.0.2.1\n";
        if (i % 3 == 0) z += o + " CH TXT \"not IN\"\n";   // skipped by the inserter
        if (i % 5 == 0) z += o + " TXT \"unterminated\n";  // a parse error in the run
        z += (i % 2 ? "\t" : o) + " AAAA 2001:db8::" + std::to_string(i % 9999 + 1) + "\n";
        z += (i % 7 == 0 ? "R" + std::to_string(i) : o) +
             " MX 10 mx\n";  // the same name in upper case
        z += "\t TXT \"" + o + "\"\n";
    }
    LoadResult r = load_zone_file("runs.test", tmp.write("runs.zone", z));
    // Exactly the unterminated strings (600) and the CH records (1,000) are reported.
    size_t unterminated = 0, not_in = 0;
    for (const auto& d : r.diags) {
        if (d.message.find("class IN") != std::string::npos)
            ++not_in;
        else
            ++unterminated;
    }
    EXPECT_EQ(not_in, 1000u) << dump(r);
    EXPECT_EQ(unterminated, 600u) << dump(r);
    z.clear();  // the same without the bad records loads, every run on its node
    for (int i = 0; i < 3000; ++i) {
        const std::string o = "r" + std::to_string(i);
        z += o + " A 192.0.2.1\n";
        z += (i % 2 ? "\t" : o) + " AAAA 2001:db8::" + std::to_string(i % 9999 + 1) + "\n";
        z += (i % 7 == 0 ? "R" + std::to_string(i) : o) + " MX 10 mx\n";
        z += "\t TXT \"" + o + "\"\n";
    }
    r = load_zone_file("runs.test", tmp.write("runs-ok.zone", soa_ns + z));
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.zone->nodes.size(), 2u + 3000u);  // the apex, ns and the r*
    for (int i = 0; i < 3000; ++i) {
        const ZoneNode* n = r.zone->find(key("r" + std::to_string(i) + ".runs.test."));
        ASSERT_NE(n, nullptr) << i;
        for (uint16_t t : {rrtype::A, rrtype::AAAA, rrtype::MX, rrtype::TXT})
            EXPECT_TRUE(n->find(t)) << i << " " << t;
    }
}

// Files are read 1 MiB at a time and split at the last newline of each block: a record in
// parentheses across the block boundary (at every offset of its first lines), a line longer
// than a block, and a last record without a newline all load, and lines keep their numbers.
TEST(ZoneLoader, ReadsAcrossBlockBoundaries) {
    const TempDir tmp;
    const std::string record = "p ( 3600\n IN MX 10\n mail ) ; comment ( \"\n";
    for (size_t shift = 0; shift < 24; shift += 3) {
        std::string text = soa_ns;
        int line = 4;
        const size_t pad = (size_t(1) << 20) - text.size() - shift -
                           1;  // the record starts `shift` bytes before 1 MiB
        text += ";" + std::string(pad - 1, 'x') + "\n";
        ++line;
        text += record;
        line += 3;
        text += ";" + std::string((size_t(3) << 19), 'y') + "\n";  // 1.5 MiB: longer than a block
        ++line;
        text += "t TXT \"a \\\" quote; not a comment\"\n";
        ++line;
        text += "bad A 192.0.2.300\n";
        const int bad_line = ++line;
        text += "last A 192.0.2.9";  // no newline at the end
        LoadResult r = load_zone_file("example.test", tmp.write("blocks.zone", text));
        ASSERT_EQ(r.diags.size(), 1u) << shift << "\n" << dump(r);
        EXPECT_EQ(r.diags[0].line, bad_line) << shift << "\n" << dump(r);

        text.erase(text.find("bad A"), std::string("bad A 192.0.2.300\n").size());
        r = load_zone_file("example.test", tmp.write("blocks-ok.zone", text));
        ASSERT_TRUE(r.ok()) << shift << "\n" << dump(r);
        const ZoneNode* mx = r.zone->find(key("p.example.test."));
        ASSERT_NE(mx, nullptr) << shift;
        EXPECT_EQ(mx->find(rrtype::MX)->rdata[0],
                  std::string("\0\x0a", 2) + text_to_wire("mail.example.test."))
            << shift;
        EXPECT_EQ(mx->find(rrtype::MX)->ttl, 3600u);
        const ZoneNode* t = r.zone->find(key("t.example.test."));
        ASSERT_NE(t, nullptr) << shift;
        const std::string txt = "a \" quote; not a comment";
        EXPECT_EQ(t->find(rrtype::TXT)->rdata[0], char(txt.size()) + txt) << shift;
        EXPECT_NE(r.zone->find(key("last.example.test.")), nullptr) << shift;
    }
}

}  // namespace
}  // namespace anamed::test
