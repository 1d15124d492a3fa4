"""Other DNS servers from Debian as test peers: Knot (knotd), NSD and BIND (named), each
started in a directory of the test's, on 127.0.0.1 and a port of the test's, as a
primary or a secondary of anamed. python3 stdlib + dnspython.

  peer = Knot(workdir, port, zones=[SecondaryZone("example.test", primary=("127.0.0.1", p),
                                                 key=Key("xfr", "hmac-sha256", secret))])
  peer.wait_serial("example.test", 2026120501)
  peer.stop()
"""

import base64
import os
import shutil
import signal
import subprocess
import time

import dns.message
import dns.query
import dns.rdatatype
import dns.tsigkeyring


class Key:
    def __init__(self, name, algorithm, secret_b64):
        self.name, self.algorithm, self.secret = name, algorithm, secret_b64

    @staticmethod
    def random(name="xfr", algorithm="hmac-sha256"):
        return Key(name, algorithm, base64.b64encode(os.urandom(32)).decode())

    def keyring(self):
        return dns.tsigkeyring.from_text({self.name: (self.algorithm, self.secret)})


class SecondaryZone:
    """A zone the peer transfers from `primary` (host, port), accepting NOTIFY from it."""

    def __init__(self, name, primary, key=None):
        self.name, self.primary, self.key = name.rstrip("."), primary, key


class PrimaryZone:
    """A zone the peer serves from `file`, sending NOTIFY to and allowing transfers by
    `secondaries` [(host, port)]."""

    def __init__(self, name, file, secondaries=(), key=None):
        self.name, self.file, self.secondaries, self.key = name.rstrip("."), file, list(secondaries), key


def need(binary):
    path = shutil.which(binary) or next((p for p in ("/usr/sbin/" + binary, "/usr/bin/" + binary)
                                         if os.path.exists(p)), None)
    if path is None:
        raise RuntimeError("%s is not installed (tools/install-deps.sh installs it)" % binary)
    return path


class Peer:
    """One server process; its output in workdir/NAME.log."""

    name = "peer"

    def __init__(self, workdir, port):
        self.dir = os.path.join(workdir, self.name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = port
        self.log_path = os.path.join(self.dir, self.name + ".log")
        self.proc = None

    def start(self, args):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s:\n%s" % (self.name, self.proc.returncode, self.log()[-3000:]))
            try:
                self.query(".", "SOA", timeout=0.2)
                return self
            except Exception:
                time.sleep(0.05)
        raise RuntimeError("%s did not answer on port %d:\n%s" % (self.name, self.port, self.log()[-3000:]))

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def query(self, name, rdtype, tcp=False, timeout=2.0, keyring=None, keyname=None):
        q = dns.message.make_query(name, rdtype)
        if keyring is not None:
            q.use_tsig(keyring, keyname=keyname)
        fn = dns.query.tcp if tcp else dns.query.udp
        return fn(q, "127.0.0.1", port=self.port, timeout=timeout)

    def serial(self, zone):
        """The serial the peer serves for `zone`, or None."""
        try:
            r = self.query(zone, "SOA")
        except Exception:
            return None
        for rrset in r.answer:
            if rrset.rdtype == dns.rdatatype.SOA:
                return rrset[0].serial
        return None

    def wait_serial(self, zone, serial, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.serial(zone) == serial:
                return True
            time.sleep(0.02)
        return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self._log.close()
            self.proc = None


class Knot(Peer):
    name = "knot"

    def __init__(self, workdir, port, zones=(), extra=""):
        super().__init__(workdir, port)
        keys, remotes, acls, zone_lines = {}, [], [], []
        for i, z in enumerate(zones):
            if z.key:
                keys[z.key.name] = z.key
            kl = ("    key: %s\n" % z.key.name) if z.key else ""
            if isinstance(z, SecondaryZone):
                remotes.append("  - id: r%d\n    address: %s@%d\n%s" % (i, z.primary[0], z.primary[1], kl))
                acls.append("  - id: a%d\n    address: %s\n%s    action: [notify, transfer]\n" % (i, z.primary[0], kl))
                zone_lines.append("  - domain: %s\n    master: r%d\n    acl: a%d\n" % (z.name, i, i))
            else:
                shutil.copy(z.file, os.path.join(self.dir, z.name + ".zone"))
                notify = ""
                for j, (host, p) in enumerate(z.secondaries):
                    remotes.append("  - id: r%d_%d\n    address: %s@%d\n%s" % (i, j, host, p, kl))
                    acls.append("  - id: a%d_%d\n    address: %s\n%s    action: transfer\n" % (i, j, host, kl))
                    notify += "r%d_%d, " % (i, j)
                acl = ", ".join("a%d_%d" % (i, j) for j in range(len(z.secondaries)))
                zone_lines.append("  - domain: %s\n    file: %s.zone\n    zonefile-load: difference-no-serial\n"
                                  "    journal-content: all\n%s%s" % (
                                      z.name, z.name,
                                      ("    notify: [%s]\n" % notify.rstrip(", ")) if notify else "",
                                      ("    acl: [%s]\n" % acl) if acl else ""))
        conf = ["server:\n  rundir: %s\n  listen: 127.0.0.1@%d\n" % (self.dir, port),
                "log:\n  - target: stdout\n    any: info\n",
                "database:\n  storage: %s\n" % self.dir,
                "template:\n  - id: default\n    storage: %s\n    semantic-checks: off\n" % self.dir]
        if keys:
            conf.append("key:\n" + "".join("  - id: %s\n    algorithm: %s\n    secret: %s\n"
                                            % (k.name, k.algorithm, k.secret) for k in keys.values()))
        if remotes:
            conf.append("remote:\n" + "".join(remotes))
        if acls:
            conf.append("acl:\n" + "".join(acls))
        conf.append("zone:\n" + "".join(zone_lines))
        conf.append(extra)
        self.conf = os.path.join(self.dir, "knot.conf")
        with open(self.conf, "w") as f:
            f.write("".join(conf))
        self.start([need("knotd"), "-c", self.conf])

    def knotc(self, *args):
        return subprocess.run([need("knotc"), "-c", self.conf] + list(args), capture_output=True, text=True,
                              timeout=30)


class Nsd(Peer):
    name = "nsd"

    def __init__(self, workdir, port, zones=()):
        super().__init__(workdir, port)
        lines = ["server:\n  ip-address: 127.0.0.1@%d\n  zonesdir: \"%s\"\n  pidfile: \"\"\n"
                 "  database: \"\"\n  username: \"\"\n  xfrdfile: \"%s/xfrd.state\"\n"
                 "  zonelistfile: \"%s/zone.list\"\n  rrl-ratelimit: 0\n  verbosity: 2\n"
                 "  logfile: \"%s\"\n" % (port, self.dir, self.dir, self.dir, self.log_path),
                 "remote-control:\n  control-enable: no\n"]
        keys = {z.key.name: z.key for z in zones if z.key}
        for k in keys.values():
            lines.append("key:\n  name: %s\n  algorithm: %s\n  secret: \"%s\"\n" % (k.name, k.algorithm, k.secret))
        for z in zones:
            kn = z.key.name if z.key else "NOKEY"
            if isinstance(z, SecondaryZone):
                lines.append("zone:\n  name: %s\n  zonefile: \"%s.zone\"\n  allow-notify: %s %s\n"
                             "  request-xfr: %s@%d %s\n" % (z.name, z.name, z.primary[0], kn,
                                                            z.primary[0], z.primary[1], kn))
            else:
                shutil.copy(z.file, os.path.join(self.dir, z.name + ".zone"))
                acl = "".join("  notify: %s@%d %s\n  provide-xfr: %s %s\n" % (h, p, kn, h, kn)
                              for h, p in z.secondaries)
                lines.append("zone:\n  name: %s\n  zonefile: \"%s.zone\"\n%s" % (z.name, z.name, acl))
        self.conf = os.path.join(self.dir, "nsd.conf")
        with open(self.conf, "w") as f:
            f.write("".join(lines))
        self.start([need("nsd"), "-d", "-c", self.conf])


class Bind(Peer):
    name = "named"

    def __init__(self, workdir, port, zones=()):
        super().__init__(workdir, port)
        lines = ['options {\n  directory "%s";\n  listen-on port %d { 127.0.0.1; };\n  listen-on-v6 { none; };\n'
                 '  pid-file none;\n  recursion no;\n  dnssec-validation no;\n  notify-source 127.0.0.1;\n'
                 '  transfer-source 127.0.0.1;\n  minimal-responses no;\n};\n' % (self.dir, port)]
        keys = {z.key.name: z.key for z in zones if z.key}
        for k in keys.values():
            lines.append('key "%s" { algorithm %s; secret "%s"; };\n' % (k.name, k.algorithm, k.secret))
        for z in zones:
            kc = (' key "%s"' % z.key.name) if z.key else ""
            if isinstance(z, SecondaryZone):
                lines.append('zone "%s" {\n  type secondary;\n  file "%s.zone";\n'
                             '  primaries port %d { %s%s; };\n  allow-notify { %s; };\n};\n'
                             % (z.name, z.name, z.primary[1], z.primary[0], kc, z.primary[0]))
            else:
                shutil.copy(z.file, os.path.join(self.dir, z.name + ".zone"))
                also = "".join("%s port %d%s; " % (h, p, kc) for h, p in z.secondaries)
                allow = ('key "%s"; ' % z.key.name) if z.key else "".join("%s; " % h for h, _ in z.secondaries)
                lines.append('zone "%s" {\n  type primary;\n  file "%s.zone";\n  notify explicit;\n'
                             '  also-notify { %s};\n  allow-transfer { %s};\n  ixfr-from-differences yes;\n'
                             '  notify-delay 0;\n};\n'
                             % (z.name, z.name, also, allow))
        self.conf = os.path.join(self.dir, "named.conf")
        with open(self.conf, "w") as f:
            f.write("".join(lines))
        self.start([need("named"), "-g", "-c", self.conf, "-u", "root" if os.geteuid() == 0 else os.getlogin()])


class KnotConfdb(Peer):
    """knotd over a configuration database imported from knot.conf, so that knotc
    conf-begin / conf-set / conf-commit change it at runtime. `body` is knot.conf without
    its server:, log: and database: sections, which are the test's directory's."""

    name = "knot"

    def __init__(self, workdir, port, body):
        super().__init__(workdir, port)
        conf = ("server:\n  rundir: %s\n  listen: 127.0.0.1@%d\n"
                "log:\n  - target: stdout\n    any: info\n"
                "database:\n  storage: %s\n" % (self.dir, port, self.dir)) + body
        self.conf = os.path.join(self.dir, "knot.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.confdb = os.path.join(self.dir, "confdb")
        r = subprocess.run([need("knotc"), "-C", self.confdb, "conf-import", self.conf],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("knotc conf-import: %s%s" % (r.stdout, r.stderr))
        self.start([need("knotd"), "-C", self.confdb])

    def knotc(self, *args):
        return subprocess.run([need("knotc"), "-C", self.confdb] + list(args), capture_output=True,
                              text=True, timeout=30)
