#!/usr/bin/env python3
"""The install as an operator gets it: cpack builds the .deb from the build tree, dpkg
installs it into a throwaway root (dpkg --root, no maintainer scripts to run), and the
installed anamed checks the installed configuration; the man pages render without a
warning; the unit is a notify service with hardening.

Environment: ANAMED_BUILD_DIR (the CMake build directory, built).
"""

import glob
import os
import re
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
from anamedtest import main  # noqa: E402

BUILD = os.environ.get("ANAMED_BUILD_DIR", os.path.join(HERE, "..", "..", "build"))


def run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=kw.pop("timeout", 300), **kw)


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="anamed-package-")
        cls.dir = cls._tmp.name
        p = run(["cpack", "-G", "DEB", "-B", cls.dir, "--config",
                 os.path.join(BUILD, "CPackConfig.cmake")], cwd=cls.dir, timeout=600)
        debs = glob.glob(os.path.join(cls.dir, "*.deb"))
        if p.returncode != 0 or len(debs) != 1:
            raise RuntimeError("cpack failed (%d):\n%s" % (p.returncode, p.stdout[-4000:]))
        cls.deb = debs[0]

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def test_control_fields(self):
        p = run(["dpkg-deb", "--field", self.deb, "Package", "Architecture", "Depends"])
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertRegex(p.stdout, r"(?m)^Package: anamed$")
        self.assertRegex(p.stdout, r"(?m)^Depends: .*libldns3")  # from dpkg-shlibdeps
        self.assertRegex(p.stdout, r"(?m)^Depends: .*libmicrohttpd12")

    def test_dpkg_install_into_a_root_and_check(self):
        root = os.path.join(self.dir, "root")
        admin = os.path.join(root, "var", "lib", "dpkg")
        for d in ("info", "updates", "triggers"):
            os.makedirs(os.path.join(admin, d), exist_ok=True)
        open(os.path.join(admin, "status"), "w").close()
        # --force-depends: the root's own package database is empty (the libraries are the
        # host's); --force-not-root lets a non-root user run this too.
        p = run(["dpkg", "--root=" + root, "--force-depends", "--force-not-root",
                 "--force-script-chrootless", "--log=/dev/null", "-i", self.deb])
        self.assertEqual(p.returncode, 0, p.stdout)
        status = run(["dpkg", "--root=" + root, "-s", "anamed"])
        self.assertRegex(status.stdout, r"(?m)^Status: install ok installed$", status.stdout)
        for f in ("usr/sbin/anamed", "usr/sbin/anamectl", "etc/anamed/anamed.yaml",
                  "etc/anamed/zones/example.test.zone", "usr/lib/systemd/system/anamed.service",
                  "usr/lib/sysusers.d/anamed.conf", "usr/share/bash-completion/completions/anamectl",
                  "usr/share/man/man8/anamed.8.gz", "usr/share/man/man8/anamectl.8.gz",
                  "usr/share/man/man5/anamed.yaml.5.gz"):
            self.assertTrue(os.path.exists(os.path.join(root, f)), f)
        conf = run(["dpkg-query", "--admindir=" + admin, "-W", "-f=${Conffiles}", "anamed"])
        self.assertIn("/etc/anamed/anamed.yaml", conf.stdout)
        anamed = os.path.join(root, "usr/sbin/anamed")
        # Its default configuration is the one the package installs.
        h = run([anamed, "--help"])
        self.assertIn("(default /etc/anamed/anamed.yaml)", h.stdout)
        c = run([anamed, "--check", "--config", os.path.join(root, "etc/anamed/anamed.yaml")])
        self.assertEqual(c.returncode, 0, c.stdout)
        self.assertIn("compiled: 1 zones", c.stdout)
        v = run([os.path.join(root, "usr/sbin/anamectl"), "--help"])
        self.assertEqual(v.returncode, 0, v.stdout)
        p = run(["dpkg", "--root=" + root, "--force-not-root", "--force-script-chrootless",
                 "--log=/dev/null", "--purge", "anamed"])
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertFalse(os.path.exists(anamed))

    def test_unit_is_notify_and_hardened(self):
        with open(os.path.join(HERE, "..", "..", "packaging", "anamed.service")) as f:
            text = f.read()
        for line in ("Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "User=anamed",
                     "AmbientCapabilities=CAP_NET_BIND_SERVICE", "NoNewPrivileges=yes",
                     "ProtectSystem=strict", "WatchdogSec=30s"):
            self.assertIn(line + "\n", text)
        p = run(["systemd-analyze", "verify", "--man=no", os.path.join(
            HERE, "..", "..", "packaging", "anamed.service")])
        # Where systemd-analyze exists, it knows every directive (missing binaries aside).
        if p.returncode != 127:
            self.assertNotRegex(p.stdout, r"Unknown (key|section)", p.stdout)

    def test_man_pages_render_without_warnings(self):
        pages = sorted(glob.glob(os.path.join(BUILD, "doc", "man", "*.[58]")))
        self.assertEqual([os.path.basename(p) for p in pages],
                         ["anamectl.8", "anamed.8", "anamed.yaml.5"])
        for page in pages:
            p = run(["groff", "-man", "-ww", "-z", "-t", page],
                    env={**os.environ, "LC_ALL": "C.UTF-8"})
            self.assertEqual((p.returncode, p.stdout), (0, ""), page)
            p = subprocess.run(["man", "--warnings", "-l", page], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=60,
                               env={**os.environ, "LC_ALL": "C.UTF-8", "MANWIDTH": "80"})
            self.assertEqual(p.stderr, "", page)
            self.assertRegex(p.stdout, r"NAME\s+%s - " % re.escape(
                os.path.basename(page).rsplit(".", 1)[0]))


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
