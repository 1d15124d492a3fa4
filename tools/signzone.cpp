// anamed-signzone: anamed's DNSSEC keys and signer from the command line, without a daemon.
//   anamed-signzone keygen ZONE KEY-DIR [ALGORITHM] [csk|ksk|zsk]
//   anamed-signzone ds ZONE KEY-DIR
//   anamed-signzone sign ZONE IN OUT KEY-DIR [--nsec3] [--opt-out] [--validity SECONDS]
// `sign` writes the zone as anamed serves it once signed, for ldns-verify-zone and friends.
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "dnssec_key.hpp"
#include "dnssec_signer.hpp"
#include "zone_loader.hpp"
#include "zone_writer.hpp"

using namespace anamed;

namespace {

int usage() {
    std::fprintf(stderr,
                 "usage: anamed-signzone keygen ZONE KEY-DIR [ALGORITHM] [csk|ksk|zsk]\n"
                 "       anamed-signzone ds ZONE KEY-DIR\n"
                 "       anamed-signzone sign ZONE IN OUT KEY-DIR [--nsec3] [--opt-out]"
                 " [--validity SECONDS]\n");
    return 2;
}

std::vector<DnssecKey> keys_or_die(const std::string& zone, const std::string& dir) {
    std::vector<std::string> errors;
    std::vector<DnssecKey> keys = load_zone_keys(dir, text_to_wire(zone), errors);
    for (const std::string& e : errors) std::fprintf(stderr, "anamed-signzone: %s\n", e.c_str());
    if (!errors.empty()) std::exit(1);
    if (keys.empty()) {
        std::fprintf(stderr, "anamed-signzone: no keys for %s in %s\n", zone.c_str(), dir.c_str());
        std::exit(1);
    }
    return keys;
}

int keygen(const std::vector<std::string>& a) {
    if (a.size() < 2 || a.size() > 4) return usage();
    const uint8_t alg = parse_dnssec_algorithm(a.size() > 2 ? a[2] : "ecdsap256sha256");
    const std::string role_text = a.size() > 3 ? a[3] : "csk";
    const KeyRole role = role_text == "ksk"   ? KeyRole::ksk
                         : role_text == "zsk" ? KeyRole::zsk
                                              : KeyRole::csk;
    if (alg == 0 || (role == KeyRole::csk && role_text != "csk")) return usage();
    const std::string wire = text_to_wire(a[0]);
    if (wire.empty()) return usage();
    const int64_t now = std::time(nullptr);
    DnssecKey key;
    std::string err = generate_key(wire, alg, role, now, key);
    if (err.empty()) err = write_key_pair(a[1], key, now);
    if (!err.empty()) {
        std::fprintf(stderr, "anamed-signzone: %s\n", err.c_str());
        return 1;
    }
    std::printf("%s\n", key.file_base.c_str());
    return 0;
}

int sign(const std::vector<std::string>& a) {
    if (a.size() < 4) return usage();
    SignPolicy policy;
    for (size_t i = 4; i < a.size(); ++i) {
        if (a[i] == "--nsec3")
            policy.nsec3 = true;
        else if (a[i] == "--opt-out")
            policy.nsec3_opt_out = policy.nsec3 = true;
        else if (a[i] == "--validity" && i + 1 < a.size())
            policy.validity = uint32_t(std::stoul(a[++i]));
        else
            return usage();
    }
    LoadResult loaded = load_zone_file(a[0], a[1]);
    for (const Diagnostic& d : loaded.diags) std::fprintf(stderr, "%s\n", d.str().c_str());
    if (!loaded.ok()) return 1;
    ZoneSigner signer(loaded.zone->apex, keys_or_die(a[0], a[3]), policy, std::time(nullptr));
    std::string err = signer.sign_zone(*loaded.zone);
    if (err.empty()) err = write_zone_file(*loaded.zone, a[2]);
    if (!err.empty()) {
        std::fprintf(stderr, "anamed-signzone: %s: %s\n", a[0].c_str(), err.c_str());
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage();
    const std::string cmd = argv[1];
    const std::vector<std::string> args(argv + 2, argv + argc);
    if (cmd == "keygen") return keygen(args);
    if (cmd == "sign") return sign(args);
    if (cmd == "ds" && args.size() == 2) {
        for (const DnssecKey& k : keys_or_die(args[0], args[1]))
            if (k.sep()) std::printf("%s\n", ds_text(k, 3600).c_str());
        return 0;
    }
    return usage();
}
