"""host_firewall against real nftables and iptables, in network namespaces the tests make and delete.

Nothing here touches this machine's own firewall, network or /etc:

- Every namespace is new (``ip netns add osdfw-<random>``); the veth pairs are made inside them (``ip -n A link add
  ... peer ... netns B``), never in the machine's own namespace, and the namespaces are deleted in the fixtures'
  ``finally``.
- The module runs through Ansible with a wrapper script as its Python interpreter. The wrapper enters a private
  mount namespace (``unshare --mount``, private propagation) in which /etc is an overlay: the real /etc below, a
  temporary directory of the test above. Then ``ip netns exec`` enters the test's network namespace and runs
  /usr/bin/python3. The module reads and writes /etc/nftables.conf, /etc/nftables.d/ and /etc/iptables/ as it
  would on a target; every write lands in the test's upper directory, where the test seeds and reads the files,
  and disappears with the mount namespace when the module ends.

  Why an overlay rather than bind mounts: a bind mount needs its target to exist, and /etc/nftables.d (and
  /etc/iptables) do not exist on this machine, so binding over them would mean creating them in the real /etc;
  and the module replaces files by rename (atomic writes), which fails on a bind-mounted file (EBUSY). An
  overlay has neither problem, keeps the rest of /etc as it is (Python and Ansible's module need it) and works
  whether or not the machine has /etc/nftables.conf. Each test also checks that the real files did not change.
"""
import os
import secrets
import shlex
import shutil
import stat
import subprocess
import sys
import time

import pytest

NFT = "/usr/sbin/nft"
DEFAULT_DROP = """table inet filter {
\tchain input {
\t\ttype filter hook input priority 0; policy drop;
\t\tct state established,related accept
\t\tiif lo accept
\t}
}
"""
# A connect gets this long, then counts as refused (a dropped SYN never gets an answer).
CONNECT_TIMEOUT = 1.0
LISTENER = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(16)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    c.close()
"""
CONNECT = ("import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=%s, "
           "source_address=(sys.argv[3], 0) if sys.argv[3:] else None).close()" % CONNECT_TIMEOUT)

pytestmark = pytest.mark.skipif(not os.path.exists(NFT), reason="nft is missing: bash tools/install-deps")


def sh(*cmd, check=True, stdin=None):
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60, input=stdin)
    if check and proc.returncode != 0:
        raise AssertionError("%s: rc %s\n%s%s" % (" ".join(cmd), proc.returncode, proc.stdout, proc.stderr))
    return proc


def stop(procs, timeout=15):
    """Terminate the processes, in order; kill what does not end within timeout."""
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def real_files():
    """The machine's own persistence files, to prove that the tests leave them alone."""
    found = {}
    for path in ("/etc/nftables.conf", "/etc/nftables.d", "/etc/iptables/rules.v4", "/etc/iptables/rules.v6"):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                found[path] = f.read()
        else:
            found[path] = os.path.isdir(path) and sorted(os.listdir(path))
    return found


class Host(object):
    """A network namespace with an /etc overlay for the module; made by the `hosts` fixture."""

    def __init__(self, folder):
        self.ns = "osdfw-%s" % secrets.token_hex(4)
        self.folder = folder
        self.upper = os.path.join(folder, "etc-upper")     # what the module writes under /etc
        self.work = os.path.join(folder, "etc-work")
        self.python = os.path.join(folder, "python")       # the interpreter for run_module
        self.enter = os.path.join(folder, "enter")         # enter COMMAND...: the same view for the test
        self.procs = []
        self.address = None

    def create(self):
        os.makedirs(self.upper)
        os.makedirs(self.work)
        mount = "mount -t overlay osdfw-etc -o lowerdir=/etc,upperdir=%s,workdir=%s /etc" % (
            shlex.quote(self.upper), shlex.quote(self.work))
        inner = "%s && exec ip netns exec %s \"$@\"" % (mount, self.ns)
        with open(self.enter, "w") as f:
            f.write("#!/bin/sh\nexec unshare --mount --propagation private sh -c %s osdfw-enter \"$@\"\n"
                    % shlex.quote(inner))
        with open(self.python, "w") as f:
            f.write("#!/bin/sh\nexec %s /usr/bin/python3 \"$@\"\n" % shlex.quote(self.enter))
        for path in (self.enter, self.python):
            os.chmod(path, 0o755)
        sh("ip", "netns", "add", self.ns)
        sh("ip", "-n", self.ns, "link", "set", "lo", "up")
        return self

    def run(self, *cmd, check=True, stdin=None):
        """A command in the namespace (without the /etc overlay)."""
        return sh("ip", "netns", "exec", self.ns, *cmd, check=check, stdin=stdin)

    def nft(self, *args, stdin=None):
        return self.run(NFT, *args, stdin=stdin).stdout

    def ruleset(self):
        return self.nft("list", "ruleset")

    def owned(self):
        """The lines of the namespace's firewall that carry the module's tag."""
        text = self.ruleset() + self.run("iptables", "-S").stdout + self.run("ip6tables", "-S").stdout
        return [line.strip() for line in text.splitlines() if "osdeploy-nova:" in line]

    def listen(self, port):
        proc = subprocess.Popen(["ip", "netns", "exec", self.ns, sys.executable, "-c", LISTENER, str(port)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.procs.append(proc)
        assert proc.stdout.readline().strip() == "listening", "the listener did not start"

    def connects(self, address, port, source=None):
        """Whether a TCP connect from this namespace (from its address source, if given) to address:port succeeds
        within CONNECT_TIMEOUT."""
        return self.run(sys.executable, "-c", CONNECT, address, str(port), *([source] if source else []),
                        check=False).returncode == 0

    def remove(self):
        stop(self.procs)
        sh("ip", "netns", "delete", self.ns, check=False)


@pytest.fixture
def hosts(tmp_path):
    """make(): a new namespace (a Host); link(a, b): a veth pair between two, with addresses 10.99.N.1 and .2."""
    made = []
    before = real_files()

    def make():
        host = Host(str(tmp_path / ("host%d" % len(made))))
        made.append(host)
        return host.create()

    def link(a, b):
        net = "10.99.%d" % secrets.randbelow(250)
        sh("ip", "-n", a.ns, "link", "add", "osdfw0", "type", "veth", "peer", "name", "osdfw0", "netns", b.ns)
        for host, address in ((a, net + ".1"), (b, net + ".2")):
            sh("ip", "-n", host.ns, "addr", "add", address + "/24", "dev", "osdfw0")
            sh("ip", "-n", host.ns, "link", "set", "osdfw0", "up")
            host.address = address
        return net

    make.link = link
    try:
        yield make
    finally:
        for host in made:
            host.remove()
    assert real_files() == before, "the machine's own firewall files changed"


def ok(res):
    assert not res.failed, res.output
    return res


def test_the_ports_open_to_the_sources_only_and_stay_open_once(ansible_module, hosts):
    a, b = hosts(), hosts()
    net = hosts.link(a, b)
    a.nft("-f", "-", stdin=DEFAULT_DROP)
    port = 5000 + secrets.randbelow(1000)
    a.listen(port)
    assert not b.connects(a.address, port), "the default-drop ruleset let the connect through"

    args = {"sources": [b.address], "tcp_ports": [port], "persist": False}
    res = ok(ansible_module("host_firewall", args, python=a.python))
    assert (res["changed"], res["backend"], res["active"]) == (True, "nftables", True)
    assert res["chains"] == ["inet filter input"] and res["persisted"] is False
    assert len(res["added"]) == 1 and res["removed"] == []
    assert b.connects(a.address, port)
    assert len(a.owned()) == 1
    # the rule is inserted before the chain's own rules
    assert a.nft("list", "chain", "inet", "filter", "input").splitlines()[3].strip().startswith("ip saddr %s " % (
        b.address))

    again = ok(ansible_module("host_firewall", args, python=a.python))
    assert again["changed"] is False and again["added"] == again["removed"] == []
    assert again["rules"] == res["rules"]

    # another source: check mode reports the new rule and the stale one, and changes nothing
    before = a.ruleset()
    wider = dict(args, sources=[b.address, net + ".3"])
    preview = ok(ansible_module("host_firewall", wider, check=True, diff=True, python=a.python))
    assert preview["changed"] is True and len(preview["added"]) == 1 and len(preview["removed"]) == 1
    assert preview["rules"] != res["rules"]
    assert a.ruleset() == before, "check mode changed the ruleset"

    done = ok(ansible_module("host_firewall", wider, python=a.python))
    assert done["changed"] is True and done["rules"] == preview["rules"]
    owned = a.owned()
    assert len(owned) == 1 and done["rules"][0].split('"')[1] in owned[0], owned
    assert b.connects(a.address, port)
    assert ok(ansible_module("host_firewall", wider, python=a.python))["changed"] is False


@pytest.mark.parametrize("ruleset", [
    "",
    "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n\t}\n}\n",
], ids=["empty", "accept-policy"])
def test_no_active_firewall_is_left_alone(ansible_module, hosts, ruleset):
    a = hosts()
    if ruleset:
        a.nft("-f", "-", stdin=ruleset)
    before = a.ruleset()
    res = ok(ansible_module("host_firewall", {"sources": ["10.99.0.2"], "tcp_ports": [5000]}, python=a.python))
    assert (res["changed"], res["backend"], res["active"], res["persisted"]) == (False, "none", False, False)
    assert res["added"] == [] and "no active host firewall" in res["msg"]
    assert a.ruleset() == before
    assert os.listdir(a.upper) == []


def test_iptables_with_a_drop_policy_is_opened_saved_and_closed_again(ansible_module, hosts):
    a, b = hosts(), hosts()
    hosts.link(a, b)
    a.run("iptables", "-P", "INPUT", "DROP")
    port = 6000 + secrets.randbelow(1000)
    a.listen(port)
    assert not b.connects(a.address, port)
    # iptables-persistent's file, in the namespace's /etc (the overlay)
    os.makedirs(os.path.join(a.upper, "iptables"))
    saved = os.path.join(a.upper, "iptables", "rules.v4")
    with open(saved, "w") as f:
        f.write(a.run("iptables-save").stdout)

    args = {"sources": [b.address], "tcp_ports": [port, 22]}
    res = ok(ansible_module("host_firewall", args, python=a.python))
    assert (res["changed"], res["backend"], res["active"]) == (True, "iptables", True)
    assert res["chains"] == ["iptables INPUT", "ip6tables INPUT"]
    assert res["persisted"] == ["/etc/iptables/rules.v4"]
    assert b.connects(a.address, port)
    comment = res["rules"][0].split('"')[1]
    assert ["-A INPUT -s %s/32 -p tcp -m multiport --dports 22,%d -m comment --comment \"%s\" -j ACCEPT" % (
        b.address, port, comment)] == [line for line in a.run("iptables", "-S", "INPUT").stdout.splitlines()
                                       if "osdeploy-nova:" in line]
    with open(saved) as f:
        assert f.read().count(comment) == 1

    assert ok(ansible_module("host_firewall", args, python=a.python))["changed"] is False

    gone = ok(ansible_module("host_firewall", {"state": "absent"}, python=a.python))
    assert gone["changed"] is True and len(gone["removed"]) == 1
    assert a.owned() == []
    with open(saved) as f:
        assert "osdeploy-nova:" not in f.read()
    assert not b.connects(a.address, port)
    assert ok(ansible_module("host_firewall", {"state": "absent"}, python=a.python))["changed"] is False


def test_nftables_rules_are_persisted_through_an_include_and_removed_with_it(ansible_module, hosts):
    a, b = hosts(), hosts()
    hosts.link(a, b)
    conf = os.path.join(a.upper, "nftables.conf")
    original = ("#!/usr/sbin/nft -f\n\nflush ruleset\n\n" + DEFAULT_DROP).encode()
    with open(conf, "wb") as f:
        f.write(original)
    a.nft("-f", conf)
    args = {"sources": [b.address], "tcp_ports": [5000, 5672]}

    res = ok(ansible_module("host_firewall", args, python=a.python))
    path = "/etc/nftables.d/osdeploy-nova.nft"
    assert res["changed"] is True and res["persisted"] == [path, "/etc/nftables.conf"]
    written = os.path.join(a.upper, "nftables.d", "osdeploy-nova.nft")
    assert stat.S_IMODE(os.stat(written).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(os.path.dirname(written)).st_mode) == 0o755
    with open(written) as f:
        assert "insert rule inet filter input %s\n" % res["rules"][0] in f.read()
    with open(conf, "rb") as f:
        assert f.read() == original + b'include "%s"\n' % path.encode()
    # what nftables.service does at boot, in the namespace's view of /etc: the rule comes back, first in the chain
    assert a.run(a.enter, NFT, "-c", "-f", "/etc/nftables.conf", check=False).returncode == 0
    a.nft("flush", "ruleset")
    sh(a.enter, NFT, "-f", "/etc/nftables.conf")
    chain = a.nft("list", "chain", "inet", "filter", "input").splitlines()
    assert res["rules"][0].split('"')[1] in chain[3], chain

    again = ok(ansible_module("host_firewall", args, python=a.python))
    assert again["changed"] is False and again["persisted"] == res["persisted"]
    with open(conf, "rb") as f:
        assert f.read().count(b"include") == 1

    gone = ok(ansible_module("host_firewall", {"state": "absent"}, python=a.python))
    assert gone["changed"] is True and gone["persisted"] is False and len(gone["removed"]) == 1
    assert not os.path.exists(written)
    with open(conf, "rb") as f:
        assert f.read() == original
    assert a.owned() == []
    assert ok(ansible_module("host_firewall", {"state": "absent"}, python=a.python))["changed"] is False


def test_a_bad_source_is_refused_naming_sources_and_nothing_changes(ansible_module, hosts):
    a = hosts()
    a.nft("-f", "-", stdin=DEFAULT_DROP)
    before = a.ruleset()
    res = ansible_module("host_firewall", {"sources": ["10.99.0.2", "10.99.0.300"], "tcp_ports": [5000]},
                         python=a.python)
    assert res.failed
    assert res["msg"].startswith("sources: '10.99.0.300' is not an IPv4/IPv6 address or network"), res["msg"]
    assert a.ruleset() == before and os.listdir(a.upper) == []


# -- firewalld ------------------------------------------------------------------------------------
def firewalld_root():
    """The firewalld package tools/install-deps extracted into the cache (never installed), None when missing."""
    cache = os.environ.get("OSDEPLOY_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "osdeploy-nova")
    folder = os.path.join(cache, "firewalld")
    found = sorted(os.path.join(folder, name, "root") for name in os.listdir(folder)) if os.path.isdir(folder) else []
    found = [root for root in found if os.path.exists(os.path.join(root, "usr", "sbin", "firewalld"))]
    return found[-1] if found else None


BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""


class Firewalld(object):
    """firewalld from the extracted package, running in a host's network namespace on a D-Bus of its own.

    Its permanent configuration is a copy of the package's /etc/firewalld in the test's folder
    (``--system-config``); a tmpfs hides /run from it (it keeps temporary files in /run/firewalld). The module
    reaches it through ``bin/firewall-cmd``, a wrapper the host's Python wrapper puts first on PATH. polkit is not
    on this bus, so firewalld authorises by uid (root).
    """

    def __init__(self, host, root):
        self.host, self.root = host, root
        self.folder = os.path.join(host.folder, "firewalld")
        self.etc = os.path.join(self.folder, "etc")
        self.bus = os.path.join(self.folder, "bus")
        self.bin = os.path.join(self.folder, "bin")
        self.env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS="unix:path=%s" % self.bus,
                        PYTHONPATH=os.path.join(root, "usr", "lib", "python3", "dist-packages"))
        self.procs = []

    def start(self):
        os.makedirs(self.bin)
        shutil.copytree(os.path.join(self.root, "etc", "firewalld"), self.etc)
        conf = os.path.join(self.folder, "bus.conf")
        with open(conf, "w") as f:
            f.write(BUS_CONF % self.bus)
        self.procs.append(subprocess.Popen(["dbus-daemon", "--nofork", "--config-file=%s" % conf],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(lambda: os.path.exists(self.bus), "the private D-Bus")
        daemon = "mount -t tmpfs osdfw-run /run && exec /usr/bin/python3 %s --nofork --nopid --system-config %s " \
                 "--default-config %s --log-file %s" % (
                     shlex.quote(os.path.join(self.root, "usr", "sbin", "firewalld")), shlex.quote(self.etc),
                     shlex.quote(os.path.join(self.root, "usr", "lib", "firewalld")),
                     shlex.quote(os.path.join(self.folder, "log")))
        self.procs.append(subprocess.Popen(
            ["ip", "netns", "exec", self.host.ns, "unshare", "--mount", "--propagation", "private", "sh", "-c", daemon],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wrapper = os.path.join(self.bin, "firewall-cmd")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexport DBUS_SYSTEM_BUS_ADDRESS=%s PYTHONPATH=%s\nexec /usr/bin/python3 %s \"$@\"\n" % (
                shlex.quote(self.env["DBUS_SYSTEM_BUS_ADDRESS"]), shlex.quote(self.env["PYTHONPATH"]),
                shlex.quote(os.path.join(self.root, "usr", "bin", "firewall-cmd"))))
        os.chmod(wrapper, 0o755)
        wait_for(lambda: self.cmd("--state", check=False).returncode == 0, "firewalld", timeout=60)
        # the module's interpreter finds this firewall-cmd first
        with open(self.host.python, "w") as f:
            f.write("#!/bin/sh\nPATH=%s:$PATH exec %s /usr/bin/python3 \"$@\"\n" % (
                shlex.quote(self.bin), shlex.quote(self.host.enter)))
        return self

    def cmd(self, *args, check=True):
        return sh(os.path.join(self.bin, "firewall-cmd"), *args, check=check)

    def stop(self):
        stop(reversed(self.procs))      # firewalld before its D-Bus


def wait_for(ready, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError("%s did not come up within %d s" % (what, timeout))
        time.sleep(0.2)


@pytest.fixture
def firewalld(hosts):
    """start(host): firewalld running in that host's namespace; stopped at the end."""
    root = firewalld_root()
    if root is None:
        pytest.fail("the extracted firewalld package is missing: run bash tools/install-deps")
    started = []

    def start(host):
        started.append(Firewalld(host, root))
        return started[-1].start()

    try:
        yield start
    finally:
        for daemon in started:
            daemon.stop()


def test_firewalld_gets_a_policy_that_opens_the_ports_to_the_sources_survives_a_reload_and_goes(
        ansible_module, hosts, firewalld):
    a, b = hosts(), hosts()
    net = hosts.link(a, b)
    other_source = net + ".3"           # b's second address, not among the sources
    b.run("ip", "addr", "add", other_source + "/24", "dev", "osdfw0")
    fw = firewalld(a)
    port, other = 7000 + secrets.randbelow(500), 7600 + secrets.randbelow(300)
    a.listen(port)
    a.listen(other)
    assert not b.connects(a.address, port), "firewalld's default zone let the connect through"

    args = {"sources": [b.address, "fd00:99::/64"], "tcp_ports": [port]}
    preview = ok(ansible_module("host_firewall", args, check=True, diff=True, python=a.python))
    assert (preview["changed"], preview["backend"], preview["active"]) == (True, "firewalld", True), preview
    assert fw.cmd("--permanent", "--info-policy", "osdeploy-nova", check=False).returncode != 0, \
        "check mode made the policy"
    assert not b.connects(a.address, port)

    res = ok(ansible_module("host_firewall", args, python=a.python))
    assert res["changed"] is True and res["added"] == preview["added"] and len(res["added"]) == 2, res
    assert res["persisted"] == ["/etc/firewalld/policies/osdeploy-nova.xml"]
    assert b.connects(a.address, port)
    assert not b.connects(a.address, port, source=other_source), "an address that was not asked for got in"
    assert not b.connects(a.address, other), "a port that was not asked for is open"
    with open(os.path.join(fw.etc, "policies", "osdeploy-nova.xml")) as f:
        xml = f.read()
    assert '<source address="%s"/>' % b.address in xml and '<port port="%d" protocol="tcp"/>' % port in xml
    info = fw.cmd("--info-policy", "osdeploy-nova").stdout
    assert "osdeploy-nova (active)" in info and "ingress-zones: ANY" in info and "egress-zones: HOST" in info
    # firewalld's own nftables rules were not edited by the module: no rule carries its tag
    assert a.owned() == []

    again = ok(ansible_module("host_firewall", args, python=a.python))
    assert again["changed"] is False and again["added"] == again["removed"] == [], again

    # the rules are firewalld's own: a reload (or a restart) keeps them
    fw.cmd("--reload")
    assert b.connects(a.address, port)
    # a runtime-only change is put back
    fw.cmd("--policy", "osdeploy-nova", "--remove-rich-rule", res["rules"][0])
    assert not b.connects(a.address, port)
    fixed = ok(ansible_module("host_firewall", args, python=a.python))
    assert fixed["changed"] is True and fixed["added"] == [], fixed
    assert b.connects(a.address, port)

    # nftables directly, under firewalld: refused before anything changes
    refused = ansible_module("host_firewall", dict(args, backend="nftables"), python=a.python)
    assert refused.failed and "firewalld runs on this host" in refused["msg"], refused.output

    gone = ok(ansible_module("host_firewall", {"state": "absent"}, python=a.python))
    assert gone["changed"] is True and len(gone["removed"]) == 2, gone
    assert not b.connects(a.address, port)
    assert not os.path.exists(os.path.join(fw.etc, "policies", "osdeploy-nova.xml"))
    assert ok(ansible_module("host_firewall", {"state": "absent"}, python=a.python))["changed"] is False
