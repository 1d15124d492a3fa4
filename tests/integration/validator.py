"""A validating resolver for the DNSSEC tests: unbound, with anamed as the authoritative
server of the test's zones."""

import os
import subprocess
import time

import dns.message
import dns.query

from anamedtest import pick_free_port


class Unbound:
    """A validating unbound on a free port in directory d, sending `zones` to anamed on
    anamed_port, with `anchor` (a DNSKEY or DS record) as its trust anchor. It caches
    nothing, so that each query reaches anamed."""

    def __init__(self, d, anamed_port, anchor, zones, aggressive_nsec=False):
        self.port = pick_free_port(ipv6=False)
        conf = os.path.join(d, "unbound.conf")
        stubs = "".join("stub-zone:\n  name: \"%s\"\n  stub-addr: 127.0.0.1@%d\n"
                        % (z, anamed_port) for z in zones)
        with open(conf, "w") as f:
            f.write("""server:
  interface: 127.0.0.1
  port: %d
  do-ip6: no
  username: ""
  chroot: ""
  directory: "%s"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 1
  do-not-query-localhost: no
  module-config: "validator iterator"
  trust-anchor: "%s"
  val-log-level: 2
  local-zone: "test." nodefault
  harden-dnssec-stripped: yes
  qname-minimisation: no
  aggressive-nsec: %s
  cache-max-ttl: 0
  cache-max-negative-ttl: 0
  minimal-responses: yes
  target-fetch-policy: "0 0 0 0 0"
remote-control:
  control-enable: no
%s""" % (self.port, d, anchor, "yes" if aggressive_nsec else "no", stubs))
        self.log = open(os.path.join(d, "unbound.log"), "wb")
        self.proc = subprocess.Popen(["unbound", "-d", "-c", conf], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                dns.query.udp(dns.message.make_query(zones[0], "SOA"), "127.0.0.1",
                              port=self.port, timeout=0.5)
                return
            except Exception:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("unbound did not start")
                time.sleep(0.1)

    def query(self, name, qtype):
        q = dns.message.make_query(name, qtype, want_dnssec=True)
        return dns.query.udp(q, "127.0.0.1", port=self.port, timeout=5)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=5)
        self.log.close()
