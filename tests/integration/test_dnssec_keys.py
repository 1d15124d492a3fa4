#!/usr/bin/env python3
"""DNSSEC keys through the control socket (anamectl zone key generate / list, zone ds).

anamed runs from a configuration whose zone has `dnssec: {policy: sign, key-dir: keys}`.
Covered: keys generated in BIND's format with the private half mode 0600 and never in a
reply or the log; the list with roles; DS lines equal to dnssec-dsfromkey's; clear refusals
(unknown zone, a zone without dnssec:, a bad role); a zone with policy sign served signed
once it has a key (DO=1 answers with RRSIG, NSEC denial, DNSKEY), its AXFR passing
ldns-verify-zone, before and after a runtime change.

Environment and how to run it: see tests/integration/anamedtest.py.
"""

import glob
import os
import stat
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
from anamedtest import main  # noqa: E402
from controltest import ZONE, ControlTest, base_zone, small_zone  # noqa: E402


class TestDnssecKeys(ControlTest):

    def daemon_args(self):
        conf = os.path.join(self.dir, "anamed.yaml")
        self.keys = os.path.join(self.dir, "keys")
        os.makedirs(self.keys, exist_ok=True)
        plain = os.path.join(self.dir, "plain.zone")
        with open(plain, "w") as f:
            f.write(small_zone("plain.test"))
        with open(conf, "w") as f:
            f.write("listen: [\"127.0.0.1:%d\"]\n" % self.port)
            f.write("control: {socket: %s}\n" % self.sock_path)
            f.write("journal: %s\n" % self.journal)
            f.write("remotes: [{name: here, address: \"127.0.0.1:53\"}]\n")
            f.write("zones:\n")
            f.write("  - name: %s\n    file: %s\n    allow-transfer: [here]\n" % (ZONE, self.zfile))
            f.write("    dnssec: {policy: sign, key-dir: keys, algorithm: ed25519}\n")
            f.write("  - name: plain.test\n    file: %s\n" % plain)
        return ["--config", conf]

    def dig(self, *args):
        """dig +dnssec against anamed: the answer and authority records, one per line."""
        p = subprocess.run(["dig", "@127.0.0.1", "-p", str(self.port), "+dnssec", "+norec",
                            "+noall", "+answer", "+authority", "+comments"] + list(args),
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def verify_axfr(self):
        p = subprocess.run(["dig", "@127.0.0.1", "-p", str(self.port), "+noall", "+answer",
                            "AXFR", ZONE + "."], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        path = os.path.join(self.dir, "axfr.zone")
        with open(path, "w") as f:
            f.write(p.stdout)
        v = subprocess.run(["ldns-verify-zone", path], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        return p.stdout

    def test_a_zone_with_keys_is_served_signed(self):
        self.start(base_zone())
        self.assertNotIn("RRSIG", self.dig("www." + ZONE, "A"))  # no key yet: unsigned
        self.ctl_json("zone", "key", "generate", ZONE, "csk")
        self.ok("zone", "reload", ZONE)
        www = self.dig("www." + ZONE, "A")
        self.assertRegex(www, r"www\.ctl\.test\.\s+\d+\s+IN\s+RRSIG\s+A 15 3 ")
        # An ALIAS owner's flattened addresses are signed over its own name.
        self.assertRegex(self.dig("web." + ZONE, "A"),
                         r"web\.ctl\.test\.\s+\d+\s+IN\s+RRSIG\s+A 15 3 ")
        nx = self.dig("nothere." + ZONE, "A")
        self.assertIn("status: NXDOMAIN", nx)
        self.assertRegex(nx, r"IN\s+NSEC\s")
        self.assertRegex(self.dig(ZONE, "DNSKEY"), r"IN\s+DNSKEY\s+257 3 15 ")
        self.assertNotIn("RRSIG", self.dig("+nodnssec", "www." + ZONE, "A"))
        axfr = self.verify_axfr()
        self.assertIn("NSEC", axfr)
        # The ALIAS owner goes out as its signed addresses, which any secondary can serve.
        self.assertRegex(axfr, r"web\.ctl\.test\.\s+\d+\s+IN\s+A\s+192\.0\.2\.1")
        self.assertRegex(axfr, r"web\.ctl\.test\.\s+\d+\s+IN\s+RRSIG\s+A ")
        self.assertNotIn("TYPE65401", axfr)
        self.change_ok("record", "add", ZONE, "new", "A", "192.0.2.9")
        self.assertRegex(self.dig("new." + ZONE, "A"),
                         r"new\.ctl\.test\.\s+\d+\s+IN\s+RRSIG\s+A 15 3 ")
        self.assertIn("new.ctl.test.", self.verify_axfr())

    def private_secrets(self):
        secrets = []
        for path in glob.glob(os.path.join(self.keys, "*.private")):
            with open(path) as f:
                for line in f:
                    key, _, value = line.partition(": ")
                    if key in ("PrivateKey", "PrivateExponent", "Prime1", "Prime2"):
                        secrets.append(value.strip())
        return secrets

    def test_generate_list_and_ds(self):
        self.start(base_zone())
        made = {}
        for role in ("ksk", "zsk"):
            out = self.ctl_json("zone", "key", "generate", ZONE, role)
            self.assertTrue(out["ok"], out)
            self.assertEqual(out["key"]["role"], role)
            self.assertEqual(out["key"]["algorithm"], "ED25519")
            made[role] = out["key"]
        self.assertEqual(self.ctl_json("zone", "key", "generate", ZONE)["key"]["flags"], 257)

        privates = glob.glob(os.path.join(self.keys, "K%s.+015+*.private" % ZONE))
        self.assertEqual(len(privates), 3, os.listdir(self.keys))
        for p in privates:
            self.assertEqual(stat.S_IMODE(os.stat(p).st_mode), 0o600, p)
            self.assertTrue(os.path.exists(p[:-len(".private")] + ".key"))

        listed = self.ctl_json("zone", "key", "list", ZONE)
        tags = [k["tag"] for k in listed["keys"]]
        self.assertIn(made["ksk"]["tag"], tags)
        self.assertIn(made["zsk"]["tag"], tags)
        self.assertEqual(len(listed["keys"]), 3)
        self.assertEqual(sorted(k["role"] for k in listed["keys"]), ["ksk", "ksk", "zsk"])

        # DS for each key with the SEP flag, as BIND computes it from the .key file.
        ds = self.ctl_json("zone", "ds", ZONE)["ds"]
        self.assertEqual(len(ds), 2, ds)
        for line in ds:
            tag = int(line.split()[4])
            keyfile = glob.glob(os.path.join(self.keys, "K%s.+015+%05d.key" % (ZONE, tag)))[0]
            want = subprocess.run(["dnssec-dsfromkey", "-2", keyfile], stdout=subprocess.PIPE,
                                  text=True, check=True).stdout.split()
            self.assertEqual(line.split()[3:], want[want.index("DS"):], line)

        # Private key material is in neither replies nor the log.
        secrets = self.private_secrets()
        self.assertEqual(len(secrets), 3)
        seen = self.ok("--json", "zone", "key", "list", ZONE) + self.ok("zone", "ds", ZONE) + \
            self.server.log()
        for s in secrets:
            self.assertNotIn(s, seen)

    def test_refusals_say_why(self):
        self.start(base_zone())
        self.refused("zone", "key", "generate", "nope.test", match="not configured")
        self.refused("zone", "key", "generate", "plain.test", match="key-dir")
        self.refused("zone", "key", "generate", ZONE, "big", match="csk, ksk or zsk")
        self.refused("zone", "ds", ZONE, match="no KSK or CSK")
        self.assertEqual(os.listdir(self.keys), [])
        self.assertAlive()


if __name__ == "__main__":
    main(sys.modules[__name__])
