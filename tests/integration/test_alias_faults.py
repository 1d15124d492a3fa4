#!/usr/bin/env python3
"""ALIAS resolution under a misbehaving upstream (python3 stdlib only).

  * an upstream that truncates over UDP and then accepts TCP but never answers
    must stall neither the control socket nor the other targets' lookups: every
    upstream query, TCP included, runs in the resolver's event loop;
  * a CNAME chain of exactly 8 links resolves (upstream and inside the served
    zones), a chain of 9 fails, as the README says;
  * an upstream TTL of 2^32-1 is read as 0 (RFC 2181 section 8).

Run:  ANAMED_BIN=build/controlplane/anamed python3 tests/integration/test_alias_faults.py
The last line printed is "N passed, N failed, N skipped".
"""

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
import fake_upstream  # noqa: E402
from aliastest import AliasTest, rec, wait_until  # noqa: E402
from anamedtest import find_anamectl, find_binary, main, pick_free_port  # noqa: E402
from dnstest import run_dig  # noqa: E402

QUERY_TIMEOUT_MS = 3000


def chain(prefix, links, final_ttl=60):
    """prefix0.up. CNAME prefix1.up. ... CNAME prefix<links>.up. A 198.51.100.<links>."""
    recs = {}
    for i in range(links):
        recs["%s%d.up." % (prefix, i)] = {"cname": "%s%d.up." % (prefix, i + 1), "ttl": 60}
    recs["%s%d.up." % (prefix, links)] = rec(a=["198.51.100.%d" % links], ttl=final_ttl)
    return recs


def zone_text():
    local = "".join("l%d IN CNAME l%d\n" % (i, i + 1) for i in range(9)) + "l9 IN A 192.0.2.99\n"
    return ("$ORIGIN faults.test.\n$TTL 300\n"
            "@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
            "@ IN NS ns1\nns1 IN A 192.0.2.53\n"
            "stall IN ALIAS stall.up.\n"
            "ok IN ALIAS ok.up.\n"
            "eight IN ALIAS e0.up.\n"
            "nine IN ALIAS n0.up.\n"
            "huge IN ALIAS huge.up.\n"
            "local8 IN ALIAS l1\n"       # l1 -> ... -> l9: 8 links
            "local9 IN ALIAS l0\n"       # 9 links
            + local)


class AliasFaults(AliasTest):

    @classmethod
    def start_servers(cls):
        records = {"stall.up.": rec(a=["198.51.100.1"], ttl=60, mode="tcp_stall"),
                   "ok.up.": rec(a=["198.51.100.2"], ttl=1),
                   "huge.up.": rec(a=["198.51.100.3"], ttl=2 ** 32 - 1)}
        records.update(chain("e", 8))
        records.update(chain("n", 9))
        cls.fake_dir, up = cls.start_fake("up", {"mode": "normal", "records": records})
        cls.sock = os.path.join(cls.tmp, "control.sock")
        cls.port = pick_free_port(ipv6=False)
        zpath = os.path.join(cls.tmp, "faults.zone")
        with open(zpath, "w") as f:
            f.write(zone_text())
        conf = os.path.join(cls.tmp, "anamed.yaml")
        with open(conf, "w") as f:
            f.write("listen: [127.0.0.1:%d]\nworkers: 1\n"
                    "zones:\n  - {name: faults.test, file: %s}\n"
                    "upstreams: [127.0.0.1:%d]\n"
                    "alias: {refresh-min-s: 1, refresh-max-s: 60, query-timeout-ms: %d}\n"
                    "control: {socket: %s}\n" % (cls.port, zpath, up, QUERY_TIMEOUT_MS, cls.sock))
        cls.anamed = cls.spawn("anamed", [find_binary(), "--config", conf])
        ok = wait_until(lambda: os.path.exists(cls.sock) or cls.anamed.poll() is not None, 30)
        if not ok or cls.anamed.poll() is not None:
            raise RuntimeError("anamed did not start:\n" + cls.log_tail())

    def a(self, name):
        r = run_dig(self.port, name + ".faults.test", "A")
        return r["rcode"], sorted(rd for (_, _, t, rd) in r["answer"] if t == "A"), r

    def test_stalled_tcp_upstream_stalls_neither_control_nor_other_targets(self):
        # The stalled target's TCP retries come back every refresh; meanwhile anamectl
        # answers at once and ok.up. (TTL 1) keeps being refreshed.
        self.assertTrue(wait_until(lambda: fake_upstream.count(self.fake_dir, "stall.up.", "A",
                                                               "tcp") >= 1, 10),
                        "no TCP retry seen:\n" + self.log_tail(3000))
        before = fake_upstream.count(self.fake_dir, "ok.up.", "A")
        worst = 0.0
        end = time.monotonic() + 2 * QUERY_TIMEOUT_MS / 1000.0
        while time.monotonic() < end:
            t0 = time.monotonic()
            p = subprocess.run([find_anamectl(), "--socket", self.sock, "status"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=30)
            worst = max(worst, time.monotonic() - t0)
            self.assertEqual(p.returncode, 0, p.stderr)
            time.sleep(0.1)
        self.assertLess(worst, 1.0, "anamectl status took %.2f s while a TCP retry was "
                        "pending" % worst)
        self.assertGreaterEqual(fake_upstream.count(self.fake_dir, "ok.up.", "A") - before, 2)
        self.assertEqual(self.a("ok")[:2], ("NOERROR", ["198.51.100.2"]))

    def test_chain_of_eight_resolves_nine_fails(self):
        self.assertTrue(wait_until(lambda: self.a("eight")[0] == "NOERROR", 10),
                        self.log_tail(3000))
        self.assertEqual(self.a("eight")[:2], ("NOERROR", ["198.51.100.8"]))
        self.assertEqual(self.a("nine")[0], "SERVFAIL")
        self.assertEqual(self.a("local8")[:2], ("NOERROR", ["192.0.2.99"]))
        self.assertEqual(self.a("local9")[0], "SERVFAIL")

    def test_ttl_with_top_bit_is_zero(self):
        self.assertTrue(wait_until(lambda: self.a("huge")[0] == "NOERROR", 10),
                        self.log_tail(3000))
        rc, addrs, r = self.a("huge")
        self.assertEqual(addrs, ["198.51.100.3"])
        self.assertEqual([ttl for (_, ttl, t, _) in r["answer"] if t == "A"], [0], r["raw"])


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
