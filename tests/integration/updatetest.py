"""Shared by the dynamic-update suites (test_update_*.py): a zone with an update-policy, the
keys it names, and the clients (nsupdate, knsupdate, dnspython) that send UPDATE to anamed."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.tsigkeyring  # noqa: E402
import dns.update  # noqa: E402

from anamedtest import Anamed, AnamedTestCase  # noqa: E402
from peers import Key  # noqa: E402

ZONE = "mywebservice.com"
ZONE_TEXT = """$ORIGIN mywebservice.com.
$TTL 300
@        SOA  ns1 hostmaster 100 7200 3600 1209600 300
@        NS   ns1
ns1      A    192.0.2.1
www      A    192.0.2.10
www      TXT  "v=spf1 -all"
mail     MX   10 mx.mywebservice.com.
mx       A    192.0.2.25
old      CNAME www
"""

POLICY = """
    update-policy:
      - {key: acme, types: [TXT], name: _acme-challenge, match: first-label}
      - {key: provisioner, types: [ALIAS, A, AAAA, MX, TXT], match: below}
      - {key: admin, types: [ANY]}
"""


class UpdateTestCase(AnamedTestCase):
    """anamed serving ZONE with POLICY, keys acme, provisioner and admin (and `other`, which
    no rule names), a journal and a control socket."""

    EXTRA_ZONE_CONFIG = ""

    def setUp(self):
        super().setUp()
        self.keys = {n: Key.random(n) for n in ("acme", "provisioner", "admin", "other")}
        self.zone_file = self.write(ZONE + ".zone", ZONE_TEXT)
        self.sock = os.path.join(self.dir, "ctl.sock")
        self.journal = self.journal_path()
        keys = "".join('  - {name: %s, algorithm: %s, secret: "%s"}\n' % (k.name, k.algorithm, k.secret)
                       for k in self.keys.values())
        self.config = self.write("anamed.yaml", """
listen: ["127.0.0.1:%d"]
control: {socket: %s}
journal: %s
keys:
%szones:
  - name: %s
    file: %s
%s%s""" % (self.port, self.sock, self.journal, keys, ZONE, self.zone_file, POLICY,
           self.EXTRA_ZONE_CONFIG))
        self.start()

    def journal_path(self):
        return os.path.join(self.dir, "journal.mdb")

    def start(self):
        self.server = Anamed(["--config", self.config], self.dir, self.port)
        self.addCleanup(self.server.close)
        self.addCleanup(self._stop_and_check, self.server)
        self.server.wait_ready()

    # -- clients ---------------------------------------------------------------------------

    def keyring(self, name):
        k = self.keys[name]
        return dns.tsigkeyring.from_text({k.name: (k.algorithm, k.secret)})

    def update(self, key="admin", tcp=False):
        """A dnspython UpdateMessage for ZONE signed with `key` (None: unsigned)."""
        if key is None:
            return dns.update.UpdateMessage(ZONE)
        k = self.keys[key]
        return dns.update.UpdateMessage(ZONE, keyring=self.keyring(key), keyname=k.name,
                                        keyalgorithm=k.algorithm)

    def send(self, msg, tcp=False):
        """The reply's rcode (a TSIG error reply raises from dnspython's check)."""
        q = dns.query.tcp if tcp else dns.query.udp
        return q(msg, "127.0.0.1", port=self.port, timeout=3).rcode()

    def nsupdate(self, key, script, tool="nsupdate"):
        """Runs `script` (without server/zone lines) through nsupdate or knsupdate signed with
        `key`; (exit status, output)."""
        k = self.keys[key]
        text = "server 127.0.0.1 %d\nzone %s.\n%s\n" % (self.port, ZONE, script.strip())
        if not text.rstrip().endswith("send"):
            text += "send\n"
        args = [tool, "-y", "%s:%s:%s" % (k.algorithm, k.name, k.secret)]
        if tool == "nsupdate":
            args.append("-v")  # TCP, as nsupdate does for its real-world uses
        p = subprocess.run(args, input=text, capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout + p.stderr

    def lookup(self, name, rdtype):
        """The served RDATA texts of (name, type), sorted; [] for none."""
        q = dns.message.make_query(dns.name.from_text(name, dns.name.from_text(ZONE)), rdtype)
        r = dns.query.udp(q, "127.0.0.1", port=self.port, timeout=3)
        want = dns.rdatatype.from_text(rdtype) if isinstance(rdtype, str) else rdtype
        out = []
        for rrset in r.answer:
            if rrset.rdtype == want:
                out += [rd.to_text() for rd in rrset]
        return sorted(out)

    def serial(self):
        return int(self.lookup("@", "SOA")[0].split()[2])
