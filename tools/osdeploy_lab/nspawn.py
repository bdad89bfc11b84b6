"""The local lab (backend nspawn): Debian hosts with systemd as PID 1 on this one machine.

    tools/lab up [--computes N] [--release R]
                                  bring up `controller` and compute1..N (default: as
                                  before, else 1); idempotent; adds or removes computes;
                                  R: the hosts' Debian release (bookworm, the default,
                                  or trixie), kept with the lab
    tools/lab openstack SPEC      the inventory's OpenStack becomes SPEC (distro or
                                  source:RELEASE), the hosts untouched: before the
                                  upgrade command (playbooks/upgrade.yml)
    tools/lab down [--now] [HOST...]  remove the whole lab (or only the named hosts; --now: no orderly poweroff)
    tools/lab status              what runs, exit 0 when every host answers SSH
    tools/lab inventory [--show]  path (or content) of the Ansible inventory
    tools/lab ssh HOST [CMD...]   SSH into a host as root
    tools/lab report              what went wrong on each host: failed units, the
                                  journal's warnings, the services' last errors
    tools/lab build [--rebuild] [--release R]
                                  build (or rebuild) the cached root filesystem only
    tools/lab prune               delete cached root filesystems no lab uses

Each host is a systemd-nspawn machine booted (`-b`, systemd as PID 1) from a
copy-on-write overlay of a Debian root filesystem (Debian 12 bookworm, or the
lab's --release) that tools/lab.d/build-rootfs makes with mmdebstrap from Debian's
packages, cached under $OSDEPLOY_CACHE (default ~/.cache/osdeploy-nova)/rootfs/<key>,
key = sha256 of the build scripts, the release's package lists, the apt sources
and the release. Another release's apt sources are this machine's with the suites
renamed (bookworm-updates -> trixie-updates). Each host lives in its own named network
namespace joined by a veth pair to the lab's bridge (<name>0); this machine has
the bridge's first address, the hosts .10 (controller) and .10+N (computeN).
Outbound traffic is NATed (iptables MASQUERADE, net.ipv4.ip_forward=1) and
limited to DNS, HTTP and HTTPS (the package registries). Compute hosts get the
host's /dev/kvm bound in.

Everything the lab creates is named after the lab (--name / OSDEPLOY_LAB_NAME,
default `osdlab`) so that `down` finds and removes it even when `up` was
interrupted and its state file is lost: processes (command line carries
--machine=<name>-<host>), network namespaces <name>-<host>, links <name>0 and
<name>-<index>, iptables chains osdeploy-lab-<name>[-in], mounts under the state dir
(default $OSDEPLOY_CACHE/lab/<name>, env OSDEPLOY_LAB_DIR), and its share of
net.ipv4.ip_forward (refcounted across labs in /run/osdeploy-lab; left on when
another router's masquerading, such as libvirt's NAT network, remains).

Environment: OSDEPLOY_LAB_NAME, OSDEPLOY_LAB_SUBNET (default 192.168.56.0/24),
OSDEPLOY_LAB_RELEASE (default bookworm; --release wins), OSDEPLOY_LAB_DIR,
OSDEPLOY_CACHE, OSDEPLOY_LAB_SOURCES (apt sources for the rootfs, default
/etc/apt/sources.list.d/debian.sources),
OSDEPLOY_LAB_BOOT_TIMEOUT (seconds, default 120).
"""

import fcntl
import hashlib
import ipaddress
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import uuid

from . import testimage
from .base import Lab, cli
from .common import (INSTANCES_DISK_BYTES, LABD, RELEASES, SUITE, LabError, cache_root, cached_build, check_release,
                     content_key, end_processes, log, mounts_under, pid_alive, proc_cmdlines, prune_cache, read_json,
                     release_sources, rootfs_sources, run, umount_all_under, write_file)

GLOBAL_RUN = "/run/osdeploy-lab"
# The compute machines' second disk: a sparse image on a loop device, bound in as this device.
INSTANCES_DEVICE = "/dev/osdeploy-instances"

# Each machine's cgroups (tools/lab.d/run-machine makes them): osdeploy-MACHINE under the cgroup of the
# process that started it, in the hierarchies systemd uses.
CGROUP_MOUNTS = (("/sys/fs/cgroup/systemd", re.compile(r"^\d+:name=systemd:(.*)$")),
                 ("/sys/fs/cgroup/unified", re.compile(r"^0::(.*)$")),
                 ("/sys/fs/cgroup", re.compile(r"^0::(.*)$")))


def machine_cgroups(machine):
    """The machine's cgroup directories that exist (searched under this process's cgroup and the root)."""
    found = []
    with open("/proc/self/cgroup") as f:
        lines = f.read().splitlines()
    for mount, pattern in CGROUP_MOUNTS:
        if not os.path.exists(os.path.join(mount, "cgroup.procs")):
            continue
        for line in lines:
            m = pattern.match(line)
            if not m:
                continue
            for base in (m.group(1).rstrip("/"), ""):
                path = "%s%s/osdeploy-%s" % (mount, base, machine)
                if os.path.isdir(path) and path not in found:
                    found.append(path)
    return found


def remove_machine_cgroups(machine):
    """Remove the machine's cgroups, deepest first (a cgroup goes once no process is left in it)."""
    done = []
    for top in machine_cgroups(machine):
        for dirpath, _dirs, _files in sorted(os.walk(top), key=lambda entry: -entry[0].count("/")):
            try:
                os.rmdir(dirpath)
            except OSError as exc:
                log("warning: cgroup %s not removed: %s" % (dirpath, exc))
        if not os.path.isdir(top):
            done.append("cgroup %s" % top)
    return done


def mounts_using(lower):
    """Overlay mount points that have `lower` as their lower layer."""
    with open("/proc/self/mounts") as f:
        return [ln.split()[1] for ln in f if "lowerdir=%s," % lower in ln or ln.split()[3].endswith("lowerdir=" + lower)]


# ---------------------------------------------------------------- root filesystem

def rootfs_inputs(release):
    """The files of tools/lab.d that make the release's root filesystem."""
    return ("build-rootfs", "customize-rootfs") + tuple(RELEASES[release]["packages"])


def rootfs_key(sources, release=SUITE):
    return content_key([(name, os.path.join(LABD, name)) for name in rootfs_inputs(release)], sources, release)


def ensure_rootfs(rebuild=False, release=SUITE):
    """Return the path of the cached root filesystem of the release, building it when missing."""
    check_release(release)
    sources = rootfs_sources()
    key = rootfs_key(sources, release)

    def build(tmp, logf, lockf):
        text = release_sources(sources, release)
        with open(sources) as f:
            same = f.read() == text
        if not same:    # this machine's sources, the suites renamed: kept beside the rootfs
            derived = os.path.join(tmp, os.path.basename(sources))
            write_file(derived, text)
        log("building the lab root filesystem %s (mmdebstrap, %s, sources %s%s)..." % (
            key, release, sources, "" if same else " with the suites of %s" % release))
        return subprocess.run([os.path.join(LABD, "build-rootfs"), os.path.join(tmp, "root"),
                               sources if same else derived, release]
                              + [os.path.join(LABD, name) for name in RELEASES[release]["packages"]],
                              stdout=logf, stderr=subprocess.STDOUT, check=False,
                              pass_fds=(lockf.fileno(),))   # an orphaned build keeps the lock

    return os.path.join(cached_build("rootfs", key, build, rebuild,
                                     in_use=lambda d: mounts_using(os.path.join(d, "root"))), "root")


def prune_rootfs():
    """Delete the cached root filesystems that neither today's inputs make nor a lab uses."""
    sources = rootfs_sources()
    used = set()
    labs = os.path.join(cache_root(), "lab")
    if os.path.isdir(labs):
        for name in os.listdir(labs):
            state = read_json(os.path.join(labs, name, "state.json"), {}) or {}
            if state.get("rootfs"):
                used.add(state["rootfs"])

    def in_use(path):
        root = os.path.join(path, "root")
        return root in used or mounts_using(root)

    prune_cache("rootfs", {rootfs_key(sources, release) for release in RELEASES}, in_use)


# ---------------------------------------------------------------- the lab

def foreign_nat(iptables_rules, nft_ruleset):
    """The masquerading rules left once this lab's are removed (`iptables -t nat -S`, `nft list ruleset`):
    another router on this machine (libvirt's NAT networks, a container engine) that needs
    net.ipv4.ip_forward."""
    found = [" ".join(line.split()) for line in iptables_rules.splitlines()
             if line.startswith("-A ") and "MASQUERADE" in line.split()]
    if not found:   # iptables over nft shows its rules in both: nft's own only when iptables has none
        found = [" ".join(line.split()) for line in nft_ruleset.splitlines() if "masquerade" in line.split()]
    return found


class NspawnLab(Lab):
    TOOL = "tools/lab"
    DEFAULT_NAME = "osdlab"
    DEFAULT_SUBNET = "192.168.56.0/24"
    BUILT_FROM = "rootfs"
    MACHINE_PROCESS = "nspawn"
    DEFAULT_BOOT_TIMEOUT = 120
    NEEDED_TOOLS = {
        "systemd-nspawn": "systemd-container", "mmdebstrap": "mmdebstrap", "ip": "iproute2",
        "iptables": "iptables", "ssh": "openssh-client", "ssh-keygen": "openssh-client",
    }
    MAX_COMPUTES = 100
    WHY_ROOT = "network namespaces, bridge, iptables, systemd-nspawn"
    build = staticmethod(ensure_rootfs)
    prune = staticmethod(prune_rootfs)

    def __init__(self, name=None, subnet=None, release=None):
        super().__init__(name, subnet, release)
        self.bridge = "%s0" % self.name
        # The provider network's wire (eth1 of every host): a bridge without an
        # address on this machine, so that guests reach each other and the
        # controller's DHCP and metadata, but nothing else.
        self.pbridge = "%sp" % self.name
        # The overlay's wire (eth2 of every host, OVERLAY_NET): Neutron's VXLAN
        # tunnels between the hosts. The userspace datapath must own the
        # tunnel endpoint's interface (the baseline moves the address onto an
        # OVS bridge), so the tunnels cannot share eth0 with SSH and the APIs.
        self.obridge = "%so" % self.name
        self.chain = "osdeploy-lab-%s" % self.name
        self.host_ip = self.net.network_address + 1

    # -- naming
    def netns(self, host):
        return self.machine(host)

    def veth(self, host):
        return "%s-%d" % (self.name, self.index(host))

    def pveth(self, host):
        return "%s-p%d" % (self.name, self.index(host))

    def oveth(self, host):
        return "%s-o%d" % (self.name, self.index(host))

    def overlay_ip(self, host):
        return self.OVERLAY_NET.network_address + 10 + self.index(host)

    def mac(self, host=None):
        """A fixed, locally administered MAC per lab host (or for the bridge): a
        restarted machine keeps its MAC, so no neighbour (ARP) cache on this
        machine or in the other hosts points to a stale one for ~30 s; and the
        bridge does not take over a port's MAC when ports come and go."""
        digest = hashlib.sha256(("%s/%s" % (self.name, host or "bridge")).encode()).digest()
        return ":".join("%02x" % b for b in (0x02,) + tuple(digest[:5]))

    def mroot(self, host):
        return os.path.join(self.mdir(host), "root")

    # -- discovery (by name: works without state)
    def found_hosts(self):
        hosts = set(super().found_hosts())
        hosts.update(ns[len(self.name) + 1:] for ns in self.list_netns())
        return sorted(hosts, key=self.index)

    def list_netns(self):
        out = run(["ip", "netns", "list"], check=False).stdout or ""
        pat = re.compile(r"^%s-(controller|compute[1-9][0-9]*)$" % re.escape(self.name))
        return [ln.split()[0] for ln in out.splitlines() if ln.split() and pat.match(ln.split()[0])]

    def lab_links(self):
        out = run(["ip", "-j", "link", "show"]).stdout
        pat = re.compile(r"^%s-[po]?[0-9]+$" % re.escape(self.name))
        return [lk["ifname"] for lk in json.loads(out or "[]")
                if lk["ifname"] in (self.bridge, self.pbridge, self.obridge) or pat.match(lk["ifname"])]

    def lab_processes(self, host=None):
        """[(pid, 'runner'|'nspawn', host)] of this lab's machine processes."""
        found = []
        pat = re.compile(r"^--machine=%s-(controller|compute[1-9][0-9]*)$" % re.escape(self.name))
        for pid, argv in proc_cmdlines().items():
            if pid == os.getpid():
                continue
            kind = None
            if any(os.path.basename(a) == "run-machine" for a in argv[:3]):
                kind = "runner"
            elif os.path.basename(argv[0]) == "systemd-nspawn":
                kind = "nspawn"
            if not kind:
                continue
            for a in argv:
                m = pat.match(a)
                if m and (host is None or m.group(1) == host):
                    found.append((pid, kind, m.group(1)))
                    break
        return found

    def netns_pids(self, host):
        if self.netns(host) not in self.list_netns():
            return []
        out = run(["ip", "netns", "pids", self.netns(host)], check=False).stdout or ""
        return [int(p) for p in out.split() if p.isdigit()]

    # -- network
    def check_subnet_free(self):
        routes = json.loads(run(["ip", "-j", "-4", "route", "show", "table", "all"]).stdout or "[]")
        for r in routes:
            dst = r.get("dst")
            if not dst or dst == "default" or r.get("dev") == self.bridge or r.get("type") in ("broadcast", "local"):
                continue
            try:
                net = ipaddress.ip_network(dst, strict=False)
            except ValueError:
                continue
            if net.overlaps(self.net) and net.prefixlen > 0:
                raise LabError("subnet %s collides with %s on %s; choose another with --subnet or "
                               "OSDEPLOY_LAB_SUBNET" % (self.net, dst, r.get("dev")))

    def ensure_bridge(self):
        links = self.lab_links()
        if self.bridge not in links:
            self.check_subnet_free()
            run(["ip", "link", "add", self.bridge, "address", self.mac(), "type", "bridge"])
            self.changes.append("bridge %s" % self.bridge)
        addr = "%s/%d" % (self.host_ip, self.net.prefixlen)
        info = json.loads(run(["ip", "-j", "-4", "addr", "show", "dev", self.bridge]).stdout or "[]")
        have = ["%s/%s" % (a["local"], a["prefixlen"]) for i in info for a in i.get("addr_info", [])]
        if addr not in have:
            run(["ip", "addr", "add", addr, "dev", self.bridge])
            self.changes.append("address %s on %s" % (addr, self.bridge))
        if not info or "UP" not in info[0].get("flags", []):
            run(["ip", "link", "set", self.bridge, "up"])
        for br, role in ((self.pbridge, "provider"), (self.obridge, "overlay")):
            if br not in links:
                run(["ip", "link", "add", br, "address", self.mac(role), "type", "bridge"])
                self.changes.append("bridge %s" % br)
            run(["ip", "link", "set", br, "up"])

    def uplink(self):
        routes = json.loads(run(["ip", "-j", "-4", "route", "show", "default"]).stdout or "[]")
        devs = [r["dev"] for r in routes if r.get("dev") and r.get("dev") != self.bridge]
        if not devs:
            raise LabError("this machine has no IPv4 default route: the lab hosts could not reach the package registries")
        return devs[0]

    def iptables_rules(self):
        """{(table, parent chain): (our chain, [rules])}.

        FORWARD: the hosts talk to each other freely; towards the outside only
        new DNS, HTTP and HTTPS connections leave, through the uplink (the path
        to the package registries); nothing new enters the lab network.
        INPUT: from the hosts, this machine answers ping and replies only
        (plus the ports in OSDEPLOY_LAB_HOST_PORTS, e.g. an apt proxy).
        POSTROUTING: what leaves the lab network is masqueraded."""
        br, net, up = self.bridge, str(self.net), self.uplink()
        est = ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"]
        reject = ["-j", "REJECT", "--reject-with", "icmp-admin-prohibited"]
        pbr, obr = self.pbridge, self.obridge
        fwd = [
            ["-i", br, "-o", br, "-j", "ACCEPT"],
            # the provider network and the overlay: between the hosts' eth1 (eth2) only
            ["-i", pbr, "-o", pbr, "-j", "ACCEPT"],
            ["-i", pbr] + reject,
            ["-o", pbr] + reject,
            ["-i", obr, "-o", obr, "-j", "ACCEPT"],
            ["-i", obr] + reject,
            ["-o", obr] + reject,
            ["-o", br] + est,
            ["-i", br, "-o", up, "-p", "udp", "-m", "udp", "--dport", "53", "-j", "ACCEPT"],
            ["-i", br, "-o", up, "-p", "tcp", "-m", "multiport", "--dports", "53,80,443", "-j", "ACCEPT"],
            ["-i", br] + reject,
            ["-o", br] + reject,
        ]
        inp = [["-i", pbr] + reject, ["-i", obr] + reject, ["-i", br] + est, ["-i", br, "-p", "icmp", "-m", "icmp", "--icmp-type", "8", "-j", "ACCEPT"]]
        ports = [p.strip() for p in os.environ.get("OSDEPLOY_LAB_HOST_PORTS", "").split(",") if p.strip()]
        for port in ports:
            if not port.isdigit():
                raise LabError("OSDEPLOY_LAB_HOST_PORTS: %r is not a port number" % port)
            inp.append(["-i", br, "-p", "tcp", "-m", "tcp", "--dport", port, "-j", "ACCEPT"])
        inp.append(["-i", br] + reject)
        nat = [["-s", net, "!", "-d", net, "-j", "MASQUERADE"]]
        return {("filter", "FORWARD"): (self.chain, fwd),
                ("filter", "INPUT"): (self.chain + "-in", inp),
                ("nat", "POSTROUTING"): (self.chain, nat)}

    def ipt(self, table, *args, check=True):
        return run(["iptables", "-w", "10", "-t", table] + list(args), check=check)

    def ensure_iptables(self):
        for (table, parent), (chain, rules) in self.iptables_rules().items():
            want = ["-N %s" % chain] + ["-A %s %s" % (chain, " ".join(r)) for r in rules]
            have = self.ipt(table, "-S", chain, check=False)
            if have.returncode != 0 or have.stdout.split("\n")[:-1] != want:
                if have.returncode != 0:
                    self.ipt(table, "-N", chain)
                else:
                    self.ipt(table, "-F", chain)
                for r in rules:
                    self.ipt(table, "-A", chain, *r)
                self.changes.append("iptables %s chain %s" % (table, chain))
            jump = ["-m", "comment", "--comment", "osdeploy lab %s" % self.name, "-j", chain]
            if self.ipt(table, "-C", parent, *jump, check=False).returncode != 0:
                self.ipt(table, "-I", parent, "1", *jump)
                self.changes.append("iptables %s %s -> %s" % (table, parent, chain))

    def remove_iptables(self):
        """Remove this lab's chains and the jumps to them (found by name)."""
        removed = []
        chains = {"filter": [self.chain, self.chain + "-in"], "nat": [self.chain]}
        for table, names in chains.items():
            listing = self.ipt(table, "-S", check=False).stdout or ""
            for line in listing.splitlines():
                parts = shlex.split(line)
                if parts[:1] == ["-A"] and parts[-2:-1] == ["-j"] and parts[-1] in names:
                    self.ipt(table, "-D", *parts[1:], check=False)
                    removed.append("%s %s -> %s" % (table, parts[1], parts[-1]))
            for chain in names:
                if self.ipt(table, "-S", chain, check=False).returncode == 0:
                    self.ipt(table, "-F", chain, check=False)
                    self.ipt(table, "-X", chain, check=False)
                    removed.append("%s chain %s" % (table, chain))
        return removed

    # ip_forward is one switch for the whole machine: labs share it. Each lab
    # holds a marker; the first sets it (remembering the value before), the last
    # one down puts that value back.
    def _global_lock(self):
        os.makedirs(os.path.join(GLOBAL_RUN, "forward.d"), exist_ok=True)
        f = open(os.path.join(GLOBAL_RUN, ".lock"), "w")
        fcntl.flock(f, fcntl.LOCK_EX)
        return f

    def ensure_ip_forward(self):
        with self._global_lock():
            marker = os.path.join(GLOBAL_RUN, "forward.d", self.name)
            write_file(marker, self.dir + "\n")
            with open("/proc/sys/net/ipv4/ip_forward") as f:
                cur = f.read().strip()
            if cur != "1":
                orig = os.path.join(GLOBAL_RUN, "ip_forward.orig")
                if not os.path.exists(orig):
                    write_file(orig, cur + "\n")
                with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
                    f.write("1\n")
                self.changes.append("net.ipv4.ip_forward %s -> 1" % cur)
                self.state["ip_forward_before"] = cur

    def release_ip_forward(self):
        with self._global_lock():
            fdir = os.path.join(GLOBAL_RUN, "forward.d")
            try:
                os.unlink(os.path.join(fdir, self.name))
            except FileNotFoundError:
                return None     # this lab never switched it on
            links = {lk["ifname"] for lk in json.loads(run(["ip", "-j", "link", "show"]).stdout or "[]")}
            users = []
            for other in os.listdir(fdir):
                if "%s0" % other in links:
                    users.append(other)
                else:       # a lab that vanished without `down`
                    os.unlink(os.path.join(fdir, other))
            orig = os.path.join(GLOBAL_RUN, "ip_forward.orig")
            if users or not os.path.exists(orig):
                return ("net.ipv4.ip_forward kept (used by lab %s)" % ", ".join(users)) if users else None
            # something else that started since routes through this machine too (libvirt's NAT network
            # switches forwarding on when it starts and finds it on): switching it off would cut it off
            others = foreign_nat(self.ipt("nat", "-S", check=False).stdout or "",
                                 run(["nft", "list", "ruleset"], check=False).stdout or "")
            if others:
                os.unlink(orig)
                return "net.ipv4.ip_forward kept (NAT of others: %s)" % "; ".join(others)
            with open(orig) as f:
                value = f.read().strip()
            with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
                f.write(value + "\n")
            os.unlink(orig)
            return "net.ipv4.ip_forward -> %s" % value

    def netns_ok(self, host):
        ns = self.netns(host)
        links = self.lab_links()
        if ns not in self.list_netns() or any(v not in links for v in (self.veth(host), self.pveth(host),
                                                                       self.oveth(host))):
            return False
        addrs = json.loads(run(["ip", "-n", ns, "-j", "-4", "addr", "show", "dev", "eth0"], check=False).stdout or "[]")
        have = ["%s/%s" % (a["local"], a["prefixlen"]) for i in addrs for a in i.get("addr_info", [])]
        route = run(["ip", "-n", ns, "-4", "route", "show", "default"], check=False).stdout or ""
        return "%s/%d" % (self.ip(host), self.net.prefixlen) in have and str(self.host_ip) in route

    def create_netns(self, host):
        ns, veth = self.netns(host), self.veth(host)
        self.remove_netns(host)
        run(["ip", "netns", "add", ns])
        run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "address", self.mac(host), "netns", ns])
        run(["ip", "link", "set", veth, "master", self.bridge, "up"])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "-n", ns, "addr", "add", "%s/%d" % (self.ip(host), self.net.prefixlen), "dev", "eth0"])
        run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        run(["ip", "-n", ns, "route", "add", "default", "via", str(self.host_ip)])
        # eth1: the provider network, no address (Neutron's bridge takes it)
        run(["ip", "link", "add", self.pveth(host), "type", "veth", "peer", "name", "eth1",
             "address", self.mac(host + "/provider"), "netns", ns])
        run(["ip", "link", "set", self.pveth(host), "master", self.pbridge, "up"])
        run(["ip", "-n", ns, "link", "set", "eth1", "up"])
        # eth2: the overlay, with the host's tunnel address (which the
        # baseline moves onto its OVS bridge where the datapath is userspace)
        run(["ip", "link", "add", self.oveth(host), "type", "veth", "peer", "name", "eth2",
             "address", self.mac(host + "/overlay"), "netns", ns])
        run(["ip", "link", "set", self.oveth(host), "master", self.obridge, "up"])
        overlay = "%s/%d" % (self.overlay_ip(host), self.OVERLAY_NET.prefixlen)
        run(["ip", "-n", ns, "addr", "add", overlay, "dev", "eth2"])
        run(["ip", "-n", ns, "link", "set", "eth2", "up"])
        self.changes.append("netns %s (%s)" % (ns, self.ip(host)))

    def remove_netns(self, host):
        done = []
        if self.veth(host) in self.lab_links():
            run(["ip", "link", "del", self.veth(host)], check=False)
            done.append("link %s" % self.veth(host))
        for link in (self.pveth(host), self.oveth(host)):
            if link in self.lab_links():
                run(["ip", "link", "del", link], check=False)
                done.append("link %s" % link)
        if self.netns(host) in self.list_netns():
            run(["ip", "netns", "del", self.netns(host)], check=False)
            done.append("netns %s" % self.netns(host))
        return done

    # -- machines
    @staticmethod
    def power_off(procs):
        """Begin the orderly poweroff of a machine's processes (lab_processes()), without waiting for it."""
        for pid, kind, _h in procs:      # the restart loop first, so it won't restart
            if kind == "runner":
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for pid, kind, _h in procs:      # nspawn: SIGTERM = orderly poweroff of the container
            if kind == "nspawn":
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass

    def stop_machine(self, host, timeout=30):
        """Stop every process of the machine (down --now: kill them at once); return what was done."""
        procs = self.lab_processes(host)
        if not procs and not self.netns_pids(host):
            return []
        self.power_off(procs)        # the restart loop first, killed, then nspawn told to power off
        if not self.stop_at_once:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if not any(pid_alive(p) for p, _k, _h in procs) and not self.netns_pids(host):
                    break
                time.sleep(0.3)
            else:
                log("%s: no clean poweroff within %ss, killing it" % (host, timeout))
        end_processes([p for p, _k, _h in procs], "%s: processes" % host, first=signal.SIGKILL,
                      more=lambda: self.netns_pids(host))
        return ["processes of %s" % host]

    def mount_root(self, host, lower):
        md = self.mdir(host)
        root = self.mroot(host)
        if os.path.realpath(root) in mounts_under(root):
            return
        for d in ("upper", "work", "root"):
            os.makedirs(os.path.join(md, d), exist_ok=True)
        run(["mount", "-t", "overlay", "overlay-%s" % self.machine(host), "-o",
             "lowerdir=%s,upperdir=%s,workdir=%s" % (lower, os.path.join(md, "upper"), os.path.join(md, "work")),
             root])

    def provision(self, host, hosts):
        """Per-machine identity, written once into the new machine's overlay."""
        root = self.mroot(host)
        write_file(os.path.join(root, "etc/hostname"), host + "\n")
        write_file(os.path.join(root, "etc/machine-id"), uuid.uuid4().hex + "\n", 0o444)
        write_file(os.path.join(root, "etc/hosts"), self.hosts_file(hosts))
        self.add_kvm_group(host)
        if host == "controller":
            self.add_firewall(host)
        self.add_writable_net_sysctls(host)
        run(["ssh-keygen", "-q", "-A", "-f", root])
        sshdir = os.path.join(root, "root/.ssh")
        os.makedirs(sshdir, mode=0o700, exist_ok=True)
        os.chmod(sshdir, 0o700)
        with open(self.key_path + ".pub") as f:
            write_file(os.path.join(sshdir, "authorized_keys"), f.read(), 0o600)

    FIREWALL = """#!/usr/sbin/nft -f
# The controller's host firewall in the osdeploy lab, written by tools/lab: it
# drops what it does not know, as an operator's would. SSH, ICMP and this lab's
# host (Ansible, the tests) come in; the compute hosts reach RabbitMQ and the
# APIs only through the rule that site.yml's firewall step adds (nova_firewall).
flush ruleset

table inet filter {
    chain input {
        type filter hook input priority filter; policy drop;
        ct state established,related accept
        iif "lo" accept
        meta l4proto { icmp, ipv6-icmp } accept
        tcp dport 22 accept
        ip saddr %(host_ip)s accept
    }
    chain forward {
        type filter hook forward priority filter; policy accept;
    }
    chain output {
        type filter hook output priority filter; policy accept;
    }
}
"""

    # systemd-nspawn mounts /proc/sys read-only unless it made the machine's
    # network namespace itself; this lab brings its own (--network-namespace-path).
    # /proc/sys/net shows the namespace of whoever reads it, so a writable
    # bind of it inside the machine reaches only the machine's namespaces:
    # Neutron's L3 agent sets sysctls in each router's namespace (ip_forward,
    # promote_secondaries), which a real host allows.
    NET_SYSCTLS_UNIT = """[Unit]
Description=Writable /proc/sys/net (osdeploy lab: this machine's own network namespaces)
DefaultDependencies=no
Before=sysinit.target network-pre.target
Wants=network-pre.target
ConditionPathIsReadWrite=!/proc/sys/net

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/mount --bind /proc/sys/net /proc/sys/net
ExecStart=/bin/mount -o remount,bind,rw /proc/sys/net

[Install]
WantedBy=sysinit.target
"""

    def add_writable_net_sysctls(self, host):
        root = self.mroot(host)
        name = "osdeploy-lab-net-sysctls.service"
        write_file(os.path.join(root, "etc/systemd/system", name), self.NET_SYSCTLS_UNIT)
        wants = os.path.join(root, "etc/systemd/system/sysinit.target.wants")
        os.makedirs(wants, exist_ok=True)
        link = os.path.join(wants, name)
        if not os.path.lexists(link):
            os.symlink("/etc/systemd/system/" + name, link)

    def add_firewall(self, host):
        """A default-drop nftables ruleset, loaded at boot by nftables.service (the package's unit)."""
        root = self.mroot(host)
        write_file(os.path.join(root, "etc/nftables.conf"), self.FIREWALL % {"host_ip": self.host_ip}, 0o755)
        wants = os.path.join(root, "etc/systemd/system/sysinit.target.wants")
        os.makedirs(wants, exist_ok=True)
        link = os.path.join(wants, "nftables.service")
        if not os.path.lexists(link):
            os.symlink("/lib/systemd/system/nftables.service", link)

    def add_kvm_group(self, host):
        """Give the machine a `kvm` group with the host's gid, so that the bound
        /dev/kvm shows as root:kvm 0660 inside, as on a real compute host, and
        the packages that later add users to `kvm` (qemu, libvirt) find it."""
        try:
            with open("/etc/group") as f:
                gid = next(ln.split(":")[2] for ln in f if ln.startswith("kvm:"))
        except StopIteration:
            return
        path = os.path.join(self.mroot(host), "etc/group")
        with open(path) as f:
            entries = [ln.split(":") for ln in f.read().splitlines() if ln]
        if any(e[0] == "kvm" for e in entries):
            return
        if any(e[2] == gid for e in entries):
            log("warning: %s: gid %s (the host's kvm group) is taken in the image; no kvm group added" % (host, gid))
            return
        with open(path, "a") as f:
            f.write("kvm:x:%s:\n" % gid)
        with open(os.path.join(self.mroot(host), "etc/gshadow"), "a") as f:
            f.write("kvm:!::\n")

    def nspawn_args(self, host):
        args = ["--quiet", "--register=no", "--keep-unit", "--boot", "--settings=no",
                "--directory=%s" % self.mroot(host), "--machine=%s" % self.machine(host),
                "--hostname=%s" % host, "--network-namespace-path=/run/netns/%s" % self.netns(host),
                "--resolv-conf=copy-host", "--link-journal=no", "--console=read-only",
                # Open vSwitch, Neutron's agents and Nova create bridges, tap
                # devices and namespaces, as on a real host; the machine has a
                # network namespace of its own, so this reaches no further.
                "--capability=CAP_NET_ADMIN"]
        if host != "controller":
            if os.path.exists("/dev/kvm"):
                args.append("--bind=/dev/kvm")
            else:
                log("warning: /dev/kvm missing on this machine; %s gets none" % host)
            args.append("--bind=%s:%s" % (self.ensure_instances_disk(host), INSTANCES_DEVICE))
        return args

    # -- the compute hosts' second disk (Nova's instances, nova_instances_device)
    def instances_loops(self, host):
        """The loop devices over the host's instances disk image ([] when none)."""
        if not os.path.exists(self.instances_image(host)):
            return []
        out = run(["losetup", "--associated", self.instances_image(host), "--noheadings", "--output", "NAME"],
                  check=False).stdout
        return [line.strip() for line in out.splitlines() if line.strip()]

    def ensure_instances_disk(self, host):
        """A sparse, empty disk image on a loop device: the machine's second disk, made once and kept with
        the machine (a re-run finds its filesystem), bound into it as INSTANCES_DEVICE."""
        image = self.instances_image(host)
        if not os.path.exists(image):
            with open(image, "wb") as f:
                f.truncate(INSTANCES_DISK_BYTES)
            self.changes.append("instances disk of %s" % host)
        loops = self.instances_loops(host)
        if loops:
            return loops[0]
        return run(["losetup", "--find", "--show", image]).stdout.strip()

    def release_instances_disk(self, host):
        done = []
        for loop in self.instances_loops(host):
            run(["losetup", "--detach", loop], check=False)
            done.append("loop device %s of %s" % (loop, host))
        return done

    def start_machine(self, host):
        md = self.mdir(host)
        # Never SYSTEMD_NSPAWN_API_VFS_WRITABLE & co. (it would expose the host's
        # /proc/sys); TERM=dumb: a console log without colour codes.
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYSTEMD_NSPAWN")}
        env["TERM"] = "dumb"
        with open(os.path.join(md, "console.log"), "a") as logf:
            logf.write("==== tools/lab: start %s at %s\n" % (self.machine(host), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
            logf.flush()
            proc = subprocess.Popen([os.path.join(LABD, "run-machine"), self.machine(host)] + self.nspawn_args(host),
                                    stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                    start_new_session=True, close_fds=True, env=env, cwd="/")
        write_file(os.path.join(md, "runner.pid"), "%d\n" % proc.pid)
        self.changes.append("started %s" % host)
        return proc

    def remove_machine(self, host, keep_disk=False):
        done = self.stop_machine(host)
        done += remove_machine_cgroups(self.machine(host))
        if mounts_under(self.mdir(host)):
            umount_all_under(self.mdir(host))
            done.append("mount %s" % self.mroot(host))
        done += self.release_instances_disk(host)
        done += self.remove_netns(host)
        if not keep_disk:
            done += self.remove_disk(host)
        return done

    def write_known_hosts(self, hosts):
        lines = []
        for h in hosts:
            with open(os.path.join(self.mroot(h), "etc/ssh/ssh_host_ed25519_key.pub")) as f:
                kind, key = f.read().split()[:2]
            lines.append("%s,%s %s %s" % (self.ip(h), h, kind, key))
        write_file(self.known_hosts, "\n".join(lines) + "\n", 0o600)

    def inventory_host_vars(self, host):
        # the tunnel endpoint: this host's address on the overlay's wire (eth2)
        return "%s baseline_overlay_ip=%s" % (super().inventory_host_vars(host), self.overlay_ip(host))

    def inventory_lab_vars(self, hosts):
        return ["lab_host_ip=%s" % self.host_ip, "lab_network=%s" % self.net]

    # The provider network of the lab's servers: a documentation range
    # (RFC 5737) on the hosts' eth1, which this machine has no address in.
    PROVIDER_CIDR = "203.0.113.0/24"
    # The overlay's addresses: RFC 2544's test range, on the hosts' eth2 only
    # (this machine has no address there, so it cannot clash with its networks).
    OVERLAY_NET = ipaddress.ip_network("198.18.0.0/24")
    FLOATING_RANGE = ("203.0.113.100", "203.0.113.199")

    def platform_group_vars(self):
        return {"compute": "# Written by `tools/lab up`: what a compute host needs as a systemd-nspawn machine.\n"
                           "# nspawn mounts the cgroup v1 controllers read-only, so libvirt must not use them.\n"
                           "nova_libvirt_qemu_conf:\n  cgroup_controllers: \"[ ]\"\n"
                           "# each compute host's second disk (a loop device), for Nova's instances\n"
                           "nova_instances_device: %s\n"
                           "# nova-compute 33 and 34 wait this long on every stop (the role's default is 60 s):\n"
                           "# 34's cleanup waits on libvirt's event thread until the time is up; the tests\n"
                           "# restart idle computes, with nothing in progress to wait for\n"
                           "nova_compute_shutdown_timeout: 5\n" % INSTANCES_DEVICE,
                "controller": "# Written by `tools/lab up`: nova-conductor and nova-scheduler 33 sleep this long on\n"
                              "# every stop (the role's default is 60 s); the tests restart them idle\n"
                              "nova_controller_shutdown_timeout: 5\n",
                "all": "# Written by `tools/lab up`: what the lab's hosts need beside the example inventory's\n"
                       "# settings (main.yml, with the lab's values). The overlay's wire: VXLAN between the\n"
                       "# hosts leaves on eth2 (userspace Open vSwitch), its addresses per host in the inventory.\n"
                       "baseline_overlay_interface: eth2\n"
                       "# servers run emulated (TCG) inside the lab's machines\n"
                       "osdeploy_verify_timeout: 600\n"
                       "# the proof logs into the test image's servers as its user\n"
                       "osdeploy_verify_ssh_user: root\n"}

    def example_values(self):
        # the provider network: eth1 of every host, on the bridge self.pbridge of this machine, which has no
        # address there (so no gateway); the image site.yml boots to prove Nova works
        return {"baseline_provider_interface": "eth1", "baseline_provider_cidr": self.PROVIDER_CIDR,
                "baseline_provider_gateway": "",
                "baseline_floating_range": {"start": self.FLOATING_RANGE[0], "end": self.FLOATING_RANGE[1]},
                "osdeploy_verify_image": testimage.ensure_image()}

    def is_down(self, hosts):
        return not hosts and self.bridge not in self.lab_links()

    def status_header(self):
        return "lab %s: %s, network %s (this machine %s on %s), state %s" % (
            self.name, self.release, self.net, self.host_ip, self.bridge, self.dir)

    # -- the steps of up() and down()
    def check_network(self):
        if self.bridge not in self.lab_links():
            self.check_subnet_free()

    def ensure_network(self):
        self.ensure_bridge()
        self.ensure_ip_forward()
        self.save_state()
        self.ensure_iptables()

    def ensure_host(self, host, hosts, built):
        meta_path = os.path.join(self.mdir(host), "meta.json")
        meta = read_json(meta_path)
        healthy = (meta and meta.get("rootfs") == built and self.running(host)
                   and self.netns_ok(host) and mounts_under(self.mroot(host)))
        if healthy:
            if write_file(os.path.join(self.mroot(host), "etc/hosts"), self.hosts_file(hosts)):
                self.changes.append("/etc/hosts of %s" % host)
            return None
        if meta and meta.get("rootfs") != built:
            log("%s: its disk was made from another root filesystem; recreating it" % host)
            meta = None
        if self.running(host) or self.netns_pids(host):
            log("%s: partly up (crashed or interrupted); restarting it" % host)
        self.remove_machine(host, keep_disk=bool(meta))
        self.mount_root(host, built)
        if not meta:
            self.provision(host, hosts)
            write_file(meta_path, json.dumps({"host": host, "rootfs": built, "ip": str(self.ip(host)),
                                              "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                                             indent=1) + "\n")
            self.changes.append("created %s" % host)
        elif write_file(os.path.join(self.mroot(host), "etc/hosts"), self.hosts_file(hosts)):
            self.changes.append("/etc/hosts of %s" % host)
        self.create_netns(host)
        return self.start_machine(host)

    def update_hosts_file(self, host, hosts):
        if mounts_under(self.mroot(host)):
            write_file(os.path.join(self.mroot(host), "etc/hosts"), self.hosts_file(hosts))

    def begin_power_off(self, hosts):
        for h in hosts:   # every machine powers off at once (a host with OpenStack's services takes ~20 s)
            self.power_off(self.lab_processes(h))

    def remove_network(self):
        done = []
        for lk in self.lab_links():
            if lk not in (self.bridge, self.pbridge, self.obridge):
                run(["ip", "link", "del", lk], check=False)
                done.append("link %s" % lk)
        for br in (self.bridge, self.pbridge, self.obridge):
            if br in self.lab_links():
                run(["ip", "link", "del", br])
                done.append("bridge %s" % br)
        done += ["iptables %s" % r for r in self.remove_iptables()]
        fwd = self.release_ip_forward()
        if fwd:
            done.append(fwd)
        if mounts_under(self.dir):
            umount_all_under(self.dir)
            done.append("mounts under %s" % self.dir)
        return done


def main(argv=None):
    return cli(argv, NspawnLab, __doc__)


if __name__ == "__main__":
    sys.exit(main())
