"""The local lab (tools/lab), checked from outside its hosts.

Brings up a private lab (own name and subnet, so that it coexists with a
developer's lab and the Molecule tier's) with a controller and one compute host,
checks each host as a user would (SSH, hostname, systemd as PID 1 with no
failed unit, the private network, apt, /dev/kvm, Ansible), then that `up` again
changes nothing, that a crashed machine is recovered, that an interrupted `up`
of a second lab is cleaned by `down`, and that `down` leaves no process,
namespace, interface, mount, iptables rule or sysctl change behind.

The root filesystem comes from the cache (built on the first run, about a
minute); everything else takes seconds.
"""
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from osdeploy_lab.common import TOOLS
from osdeploy_lab.tests.integration.lab_command import LabCommand

LAB = os.path.join(TOOLS, "lab")
NAME = "osdtest"
NAME_B = "osdtestb"
# Failed units we accept on a lab host: none.
EXPECTED_FAILED_UNITS = set()


def free_subnet(*candidates):
    """The first candidate /24 that no route of this machine overlaps."""
    routes = json.loads(subprocess.run(["ip", "-j", "-4", "route", "show", "table", "all"],
                                       capture_output=True, text=True, check=True).stdout)
    taken = []
    for route in routes:
        dst = route.get("dst")
        if dst and dst != "default" and route.get("type") not in ("local", "broadcast"):
            taken.append(ipaddress.ip_network(dst, strict=False))
    for cand in candidates:
        net = ipaddress.ip_network(cand)
        if not any(net.overlaps(t) for t in taken if t.prefixlen > 0):
            return net
    raise AssertionError("no free subnet among %s" % (candidates,))


# The Debian release of the labs here: the default Molecule scenario's, whose root filesystem the same run
# builds (one build for both, under the cache's lock; another release would be a second build of a minute).
RELEASE, VERSION_ID = "trixie", "13"


class LabRunner(LabCommand):
    def __init__(self, name, subnet):
        super().__init__(LAB, name, subnet)
        self.env["OSDEPLOY_LAB_RELEASE"] = RELEASE
        self.net = ipaddress.ip_network(subnet)

    def ip(self, host):
        return str(self.net.network_address + (10 if host == "controller" else 10 + int(host[7:])))

    def nspawn_pids(self):
        """{host: pid} of this lab's systemd-nspawn processes."""
        found = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    argv = f.read().decode(errors="replace").split("\0")
            except OSError:
                continue
            if os.path.basename(argv[0]) != "systemd-nspawn":
                continue
            for arg in argv:
                m = re.match(r"^--machine=%s-(\S+)$" % re.escape(self.name), arg)
                if m:
                    found[m.group(1)] = int(entry)
        return found

    def leftovers(self):
        """Everything of this lab still present on the machine, by kind."""
        left = {}
        procs = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open("/proc/%s/cmdline" % entry, "rb") as f:
                        cmdline = f.read().decode(errors="replace").replace("\0", " ")
                except OSError:
                    continue
                if "--machine=%s-" % self.name in cmdline or "run-machine %s-" % self.name in cmdline:
                    procs.append("%s %s" % (entry, cmdline[:120]))
        left["processes"] = procs
        netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout
        left["netns"] = [ln.split()[0] for ln in netns.splitlines() if ln.startswith(self.name + "-")]
        links = json.loads(subprocess.run(["ip", "-j", "link", "show"], capture_output=True, text=True,
                                          check=True).stdout)
        left["links"] = [lk["ifname"] for lk in links
                         if lk["ifname"] in (self.name + "0", self.name + "p")
                         or re.match(r"^%s-p?[0-9]+$" % self.name, lk["ifname"])]
        addrs = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=True).stdout
        left["addresses"] = [ln for ln in addrs.splitlines() if str(self.net.network_address + 1) + "/" in ln]
        rules = []
        for table in ("filter", "nat"):
            out = subprocess.run(["iptables", "-w", "10", "-t", table, "-S"], capture_output=True, text=True,
                                 check=True).stdout
            rules += [ln for ln in out.splitlines()
                      if "osdeploy-lab-%s" % self.name in ln.split() or ("osdeploy-lab-%s-in" % self.name) in ln.split()
                      or str(self.net) in ln]
        left["iptables"] = rules
        with open("/proc/self/mounts") as f:
            left["mounts"] = [ln.split()[1] for ln in f if self.dir in ln]
        left["state dir"] = [self.dir] if os.path.exists(self.dir) else []
        left["forward marker"] = [m for m in ["/run/osdeploy-lab/forward.d/" + self.name] if os.path.exists(m)]
        return {k: v for k, v in left.items() if v}


def ip_forward():
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        return f.read().strip()


def other_labs_forwarding(mine):
    fdir = "/run/osdeploy-lab/forward.d"
    return [n for n in (os.listdir(fdir) if os.path.isdir(fdir) else []) if n not in mine]


def kvm_stat():
    st = os.stat("/dev/kvm")
    return (st.st_uid, st.st_gid, oct(st.st_mode), st.st_rdev)


@pytest.fixture(scope="module")
def lab():
    subnet = free_subnet("192.168.157.0/24", "192.168.167.0/24", "192.168.177.0/24")
    runner = LabRunner(NAME, subnet)
    runner.run("down")      # leftovers of an aborted earlier run
    runner.forward_before = ip_forward()
    runner.kvm_before = kvm_stat()
    start = time.monotonic()
    try:
        runner.up = runner.run("up", "--computes", "1")
    except AssertionError:
        runner.run("down", check=False)
        raise
    runner.up_seconds = time.monotonic() - start
    print("tools/lab up: %.1fs\n%s" % (runner.up_seconds, runner.up.stdout))
    yield runner
    runner.run("down", check=False)


def test_up_writes_inventory_and_key(lab):
    assert "controller" in lab.up.stdout and "compute1" in lab.up.stdout
    inventory = lab.run("inventory").stdout.strip()
    assert inventory == os.path.join(lab.dir, "inventory.ini")
    with open(inventory) as f:
        text = f.read()
    groups = dict(re.findall(r"^\[(\w+(?::vars)?)\]\n((?:[^\[\n].*\n?)*)", text, re.M))
    assert groups["controller"].split()[0] == "controller"
    assert "ansible_host=%s" % lab.ip("controller") in groups["controller"]
    assert "osdeploy_management_ip=%s" % lab.ip("controller") in groups["controller"]
    assert groups["compute"].split()[0] == "compute1"
    assert "ansible_host=%s" % lab.ip("compute1") in groups["compute"]
    assert "osdeploy_management_ip=%s" % lab.ip("compute1") in groups["compute"]
    assert "ansible_user=root" in groups["all:vars"]
    assert "ansible_python_interpreter=/usr/bin/python3" in groups["all:vars"]
    key = re.search(r"^ansible_ssh_private_key_file=(\S+)$", groups["all:vars"], re.M).group(1)
    assert key.startswith(lab.dir + "/")
    assert oct(os.stat(key).st_mode & 0o777) == "0o600"
    with open(key) as f:
        assert "OPENSSH PRIVATE KEY" in f.read()


@pytest.mark.parametrize("host", ["controller", "compute1"])
def test_host_is_a_booted_debian_with_systemd(lab, host):
    out = lab.ssh(host, "hostname; cat /proc/1/comm; . /etc/os-release; echo $VERSION_ID; "
                        "systemctl is-system-running; systemctl --failed --plain --no-legend; "
                        "python3 -c 'import sys; print(sys.version_info[0])'").stdout.split("\n")
    hostname, pid1, version, system_state = out[:4]
    failed = {ln.split()[0] for ln in out[4:-2] if ln.strip()}
    assert hostname == host
    assert pid1 == "systemd"
    assert version == VERSION_ID
    assert system_state in ("running", "degraded")
    assert failed <= EXPECTED_FAILED_UNITS, "failed units on %s: %s" % (host, failed)
    assert out[-2] == "3"


def test_private_network(lab):
    c_ip, n_ip = lab.ip("controller"), lab.ip("compute1")
    addr = lab.ssh("controller", "ip -4 -o addr show dev eth0").stdout
    assert " %s/%d " % (c_ip, lab.net.prefixlen) in addr
    # by name (the lab's /etc/hosts) and by address, both directions
    assert "1 received" in lab.ssh("controller", "ping -c1 -W3 compute1").stdout
    out = lab.ssh("compute1", "ping -c1 -W3 %s && getent hosts controller" % c_ip).stdout
    assert "1 received" in out and out.strip().endswith("controller") and c_ip in out
    probe = "python3 -c 'import socket; socket.create_connection((\"%s\", 22), 5); print(\"open\")'"
    assert lab.ssh("compute1", probe % c_ip).stdout.strip() == "open"
    assert lab.ssh("controller", probe % n_ip).stdout.strip() == "open"


def test_provider_network_links_the_hosts_eth1_and_not_this_machine(lab):
    # eth1 of every host is up on the lab's provider bridge, which has no address here
    bridge = lab.name + "p"
    ports = subprocess.run(["ip", "-o", "link", "show", "master", bridge], capture_output=True, text=True,
                           check=True).stdout
    assert "%s-p0@" % lab.name in ports and "%s-p1@" % lab.name in ports, ports
    assert subprocess.run(["ip", "-4", "-o", "addr", "show", "dev", bridge], capture_output=True, text=True,
                          check=True).stdout.strip() == ""
    # L2 between the hosts: a link-local probe address on eth1 of each, removed again
    for h, addr in (("controller", "169.254.77.1/24"), ("compute1", "169.254.77.2/24")):
        lab.ssh(h, "ip addr add %s dev eth1" % addr)
    try:
        assert "1 received" in lab.ssh("controller", "ping -c1 -W3 -I eth1 169.254.77.2").stdout
    finally:
        for h, addr in (("controller", "169.254.77.1/24"), ("compute1", "169.254.77.2/24")):
            lab.ssh(h, "ip addr del %s dev eth1" % addr)


def test_hosts_may_administer_their_own_network_namespace_only(lab):
    # CAP_NET_ADMIN (bit 12) for Open vSwitch, Neutron and Nova's taps, inside the machine's namespace
    for h in ("controller", "compute1"):
        eff = int(lab.ssh(h, "awk '/^CapEff/ {print $2}' /proc/1/status").stdout.strip(), 16)
        assert eff & (1 << 12), h
        assert not eff & (1 << 16), h     # no CAP_SYS_MODULE


def test_outbound_only_to_package_registries(lab):
    updates = {h: subprocess.Popen([LAB, "ssh", h, "--", "apt-get update 2>&1"], env=lab.env, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
               for h in ("controller", "compute1")}      # both at once: half the time
    for host, proc in updates.items():
        out = proc.communicate(timeout=300)[0]
        assert proc.returncode == 0, "%s: apt-get update: rc %s\n%s" % (host, proc.returncode, out)
        assert "deb.debian.org" in out and not re.search(r"^(E|Err|W):", out, re.M), out
    # Any other destination/port is refused by the lab's FORWARD/INPUT chains
    # before a packet leaves this machine (EHOSTUNREACH from the REJECT).
    gateway = json.loads(subprocess.run(["ip", "-j", "-4", "route", "show", "default"], capture_output=True,
                                        text=True, check=True).stdout)[0]["gateway"]
    probe = ("python3 -c 'import socket\nfor d in [(\"%s\", 22), (\"%s\", 22)]:\n"
             "    try:\n        socket.create_connection(d, 5); print(\"open\")\n"
             "    except OSError as e: print(e.errno)'")
    out = lab.ssh("controller", probe % (gateway, str(lab.net.network_address + 1))).stdout.split()
    assert out == ["113", "113"]


def test_kvm_bound_into_compute_only(lab):
    out = lab.ssh("compute1", "stat -c '%F %t:%T %G %a' /dev/kvm").stdout.strip()
    assert out == "character special file a:e8 kvm 660"
    assert lab.ssh("controller", "test -e /dev/kvm", check=False).returncode == 1
    # the containers' boot did not regroup the host's device node
    assert kvm_stat() == lab.kvm_before


def test_ansible_ping(lab):
    ansible = shutil.which("ansible")
    assert ansible, "ansible not in PATH (run through tools/test or with the venv's bin in PATH)"
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal")
    proc = subprocess.run([ansible, "-i", os.path.join(lab.dir, "inventory.ini"), "all", "--one-line",
                           "-m", "ansible.builtin.ping"], capture_output=True, text=True, env=env, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    hosts = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"^(\S+) \| (\w+) => (\{.*\})$", line)
        if m:
            hosts[m.group(1)] = (m.group(2), json.loads(m.group(3)))
    assert sorted(hosts) == ["compute1", "controller"], proc.stdout
    for status, res in hosts.values():
        assert status == "SUCCESS"
        assert res["ping"] == "pong"
        assert res["changed"] is False


def _our_rules(lab):
    out = []
    for table in ("filter", "nat"):
        out.append(subprocess.run(["iptables", "-w", "10", "-t", table, "-S"], capture_output=True, text=True,
                                  check=True).stdout)
    return [ln for ln in "\n".join(out).splitlines() if "osdeploy-lab-%s" % lab.name in ln]


def test_up_again_changes_nothing(lab):
    pids = lab.nspawn_pids()
    inventory = os.path.join(lab.dir, "inventory.ini")
    mtime = os.stat(inventory).st_mtime_ns
    rules = _our_rules(lab)
    machine_ids = {h: lab.ssh(h, "cat /etc/machine-id").stdout for h in ("controller", "compute1")}
    out = lab.run("up").stdout
    assert "up: no change" in out, out
    assert lab.nspawn_pids() == pids and sorted(pids) == ["compute1", "controller"]
    assert os.stat(inventory).st_mtime_ns == mtime
    assert _our_rules(lab) == rules
    assert {h: lab.ssh(h, "cat /etc/machine-id").stdout for h in machine_ids} == machine_ids
    assert machine_ids["controller"] != machine_ids["compute1"]


def test_crashed_machine_is_recovered(lab):
    pids = lab.nspawn_pids()
    marker = lab.ssh("compute1", "echo survived > /root/marker && cat /etc/machine-id").stdout
    # a hard crash: every process of compute1 killed at once
    victims = subprocess.run(["ip", "netns", "pids", "%s-compute1" % lab.name], capture_output=True, text=True,
                             check=True).stdout.split()
    victims += [str(pids["compute1"])]
    victims += subprocess.run(["pgrep", "-f", "run-machine %s-compute1 " % lab.name], capture_output=True,
                              text=True, check=False).stdout.split()
    # (some may be gone already: short-lived processes of the container)
    subprocess.run(["kill", "-9"] + victims, capture_output=True, check=False)
    deadline = time.monotonic() + 30
    while "compute1" in lab.nspawn_pids() and time.monotonic() < deadline:
        time.sleep(0.2)
    status = lab.run("status", check=False)
    assert status.returncode == 3 and re.search(r"^compute1 .* stopped", status.stdout, re.M), status.stdout
    out = lab.run("up").stdout
    assert "started compute1" in out and "started controller" not in out, out
    assert lab.nspawn_pids()["controller"] == pids["controller"]
    # the same machine (its disk kept), running again
    assert lab.ssh("compute1", "cat /root/marker /etc/machine-id").stdout == "survived\n" + marker
    assert lab.run("status").returncode == 0


def test_reboot_inside_a_host_brings_it_back(lab):
    before = lab.nspawn_pids()
    boot_id = lab.ssh("compute1", "cat /proc/sys/kernel/random/boot_id").stdout
    lab.ssh("compute1", "systemctl reboot", check=False)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        pids = lab.nspawn_pids()
        if pids.get("compute1") not in (None, before["compute1"]):
            ready = lab.ssh("compute1", "systemctl is-system-running --wait", check=False)
            if ready.stdout.strip() == "running":
                break
        time.sleep(0.5)
    else:
        raise AssertionError("compute1 did not come back after a reboot: %s" % lab.run("status", check=False).stdout)
    assert lab.nspawn_pids()["controller"] == before["controller"]
    # nspawn gives each boot of the container its own boot_id
    assert lab.ssh("compute1", "cat /proc/sys/kernel/random/boot_id").stdout != boot_id
    assert "up: no change" in lab.run("up").stdout


def test_interrupted_up_of_a_second_lab_is_cleaned_by_down(lab):
    other = LabRunner(NAME_B, free_subnet("192.168.158.0/24", "192.168.168.0/24", "192.168.178.0/24"))
    other.run("down")
    try:
        _interrupt_up_then_down(lab, other)
    finally:
        other.run("down", check=False)


def _interrupt_up_then_down(lab, other):
    proc = subprocess.Popen([LAB, "up", "--computes", "1"], env=other.env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    console = os.path.join(other.dir, "machines", "controller", "console.log")
    while not os.path.exists(console) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "up of %s ended before it could be interrupted:\n%s" % (NAME_B, proc.stdout.read())
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    left = other.leftovers()
    assert {"netns", "links", "iptables", "mounts", "state dir"} <= set(left), left
    # both labs coexist: the first one is untouched
    assert lab.ssh("controller", "hostname").stdout.strip() == "controller"
    # killed at once (what Molecule's destroy does), not powered off in order: nothing is left either
    out = other.run("down", "--now").stdout
    assert other.leftovers() == {}, (out, other.leftovers())
    assert ip_forward() == "1", "ip_forward must stay on while lab %s is up" % lab.name
    assert lab.ssh("compute1", "ping -c1 -W3 controller").returncode == 0


def test_down_leaves_nothing_behind(lab):
    assert lab.leftovers(), "the lab should be up before down"
    start = time.monotonic()
    out = lab.run("down").stdout
    print("tools/lab down: %.1fs\n%s" % (time.monotonic() - start, out))
    assert lab.leftovers() == {}, lab.leftovers()
    if not other_labs_forwarding([NAME, NAME_B]):
        # back to what it was, unless another router's NAT (libvirt's) came meanwhile and needs it
        assert ip_forward() == lab.forward_before or "ip_forward kept (NAT of others" in out, out
    assert kvm_stat() == lab.kvm_before
    status = lab.run("status", check=False)
    assert status.returncode == 3 and "down" in status.stdout
    assert lab.run("down").stdout.startswith("down: nothing to remove")
