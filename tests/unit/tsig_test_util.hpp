// Shared by the TSIG tests: a private temporary directory, dnspython driven through
// tests/data/tsig/dnspython_tsig.py, and small DNS messages built by hand.
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "anamed/tsig.hpp"
#include "anamed/wire.hpp"
#include "temp_dir.hpp"
#include "zone.hpp"

namespace anamed::test {

using Bytes = std::vector<uint8_t>;

inline const std::vector<TsigAlgorithm> all_tsig_algorithms = {
    TsigAlgorithm::hmac_md5,    TsigAlgorithm::hmac_sha1,   TsigAlgorithm::hmac_sha224,
    TsigAlgorithm::hmac_sha256, TsigAlgorithm::hmac_sha384, TsigAlgorithm::hmac_sha512};

// Runs a shell command; its standard output without the final newline. A non-zero exit
// status fails the test.
inline std::string run(const std::string& cmd) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) {
        ADD_FAILURE() << "cannot run " << cmd;
        return out;
    }
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    const int status = pclose(p);
    EXPECT_EQ(status, 0) << cmd << "\n" << out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

inline Bytes read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), {});
}
inline void write_bytes(const std::string& path, const Bytes& b) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), b.size());
}

inline std::string hex(const uint8_t* p, size_t n) {
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; ++i) s += {digits[p[i] >> 4], digits[p[i] & 15]};
    return s;
}

inline std::string base64(const Bytes& b) {
    std::string out(4 * ((b.size() + 2) / 3) + 1, '\0');
    const int n =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), b.data(), int(b.size()));
    out.resize(size_t(n));
    return out;
}

// A key with a random secret of the algorithm's digest length.
inline TsigKey random_key(const std::string& name, TsigAlgorithm alg) {
    TsigKey k{text_to_wire(name), alg, Bytes(tsig_digest_size(alg))};
    RAND_bytes(k.secret.data(), int(k.secret.size()));
    return k;
}

inline uint64_t now() {
    return uint64_t(::time(nullptr));
}

// dnspython with one key, working in one temporary directory.
class Dnspython {
public:
    Dnspython(const TempDir& dir, const std::string& key_name, const TsigKey& key)
        : dir_(dir),
          prefix_(std::string("/usr/bin/python3 ") + ANAMED_TESTDATA + "/tsig/dnspython_tsig.py "),
          key_(key_name + " " + std::string(tsig_algorithm_name(key.algorithm)) + " " +
               base64(key.secret)) {}

    std::string cmd(const std::string& command, const std::string& args) const {
        return run(prefix_ + command + " " + key_ + " " + args);
    }
    std::string path(const std::string& name) const { return dir_.file(name); }
    Bytes sign_query(const std::string& qname, const std::string& qtype, int original_id = -1) {
        cmd("sign-query", path("q") + " " + qname + " " + qtype +
                              (original_id >= 0 ? " " + std::to_string(original_id) : ""));
        return read_bytes(path("q"));
    }
    // Writes query and reply to files and asks dnspython to verify the reply.
    std::string verify_reply(const Bytes& query, const Bytes& reply, const std::string& mac = "") {
        write_bytes(path("vq"), query);
        write_bytes(path("vr"), reply);
        return cmd("verify-reply", path("vq") + " " + path("vr") + (mac.empty() ? "" : " " + mac));
    }
    std::string verify_error(const Bytes& query, const Bytes& reply, const std::string& mac = "") {
        write_bytes(path("vq"), query);
        write_bytes(path("vr"), reply);
        return cmd("verify-error", path("vq") + " " + path("vr") + (mac.empty() ? "" : " " + mac));
    }

private:
    const TempDir& dir_;
    std::string prefix_, key_;
};

// A reply to a (stripped) query: its header and question, QR and AA set, and one A record
// for the question's name, so that every message of a stream differs.
inline Bytes make_reply(const Bytes& query, size_t query_len, uint8_t index) {
    size_t end = header_size;
    end = skip_name(query.data(), query_len, end) + 4;
    Bytes r(query.begin(), query.begin() + long(end));
    r[2] |= 0x84;
    store16(r.data() + 6, 1);
    store16(r.data() + 8, 0);
    store16(r.data() + 10, 0);
    const uint8_t rr[] = {0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0x0E, 0x10, 0, 4, 192, 0, 2, index};
    r.insert(r.end(), std::begin(rr), std::end(rr));
    return r;
}

}  // namespace anamed::test
