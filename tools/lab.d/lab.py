"""The local lab: Debian hosts with systemd as PID 1 on this one machine.

    tools/lab up [--computes N] [--release R]
                                  bring up `controller` and compute1..N (default: as
                                  before, else 1); idempotent; adds or removes computes;
                                  R: the hosts' Debian release (bookworm, the default,
                                  or trixie), kept with the lab
    tools/lab down [HOST...]      remove the whole lab (or only the named hosts)
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
net.ipv4.ip_forward (refcounted across labs in /run/osdeploy-lab).

Environment: OSDEPLOY_LAB_NAME, OSDEPLOY_LAB_SUBNET (default 192.168.56.0/24),
OSDEPLOY_LAB_RELEASE (default bookworm; --release wins), OSDEPLOY_LAB_DIR,
OSDEPLOY_CACHE, OSDEPLOY_LAB_SOURCES (apt sources for the rootfs, default
/etc/apt/sources.list.d/debian.sources),
OSDEPLOY_LAB_BOOT_TIMEOUT (seconds, default 120).
"""

import argparse
import fcntl
import functools
import hashlib
import importlib.util
import ipaddress
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.realpath(__file__))   # tools/lab.d
LABD = HERE
SUITE = "bookworm"      # the default release (also the VM lab's, tools/vm.d)
# The Debian releases the lab's hosts can run, and what differs between them, as
# data: the package lists (files in tools/lab.d) installed on top of minbase. A
# list only one release needs goes beside packages.txt and is named here. (Debian
# 13's systemd 257 boots in this machine's systemd-nspawn 252 as Debian 12's does.)
RELEASES = {
    "bookworm": {"packages": ("packages.txt",)},
    "trixie": {"packages": ("packages.txt",)},
}
DEFAULT_NAME = "osdlab"
DEFAULT_SUBNET = "192.168.56.0/24"
GLOBAL_RUN = "/run/osdeploy-lab"
# The compute machines' second disk: a sparse image on a loop device, bound in as this device.
INSTANCES_DEVICE = "/dev/osdeploy-instances"
INSTANCES_DISK_BYTES = 4 * 1024 ** 3
HOST_RE = re.compile(r"^(controller|compute[1-9][0-9]*)$")
NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,9}$")
NEEDED_TOOLS = {
    "systemd-nspawn": "systemd-container", "mmdebstrap": "mmdebstrap", "ip": "iproute2",
    "iptables": "iptables", "ssh": "openssh-client", "ssh-keygen": "openssh-client",
}


class LabError(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def run(cmd, check=True, capture=True, timeout=120, input_text=None):
    """Run a command (list); return CompletedProcess; raise LabError on failure."""
    try:
        proc = subprocess.run(cmd, capture_output=capture, text=True, timeout=timeout,
                              input=input_text, check=False)
    except subprocess.TimeoutExpired:
        raise LabError("timed out after %ss: %s" % (timeout, shlex.join(cmd)))
    if check and proc.returncode != 0:
        raise LabError("command failed (rc %s): %s\n%s" % (
            proc.returncode, shlex.join(cmd), ((proc.stderr or "") + (proc.stdout or "")).strip()))
    return proc


@functools.lru_cache(maxsize=None)
def collection_credentials():
    """The collection's plugins/module_utils/credentials.py of this checkout (standard library only)."""
    path = os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..",
                        "plugins", "module_utils", "credentials.py")
    spec = importlib.util.spec_from_file_location("osdeploy_nova_credentials", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mask_credentials(text):
    """TEXT with URL passwords and the values of password, secret and token settings masked
    (the collection's own mask_log)."""
    return collection_credentials().mask_log(text)


def write_file(path, content, mode=0o644):
    """Write atomically; return True when the content changed."""
    try:
        with open(path) as f:
            if f.read() == content:
                os.chmod(path, mode)
                return False
    except FileNotFoundError:
        pass
    tmp = "%s.tmp%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(content)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    return True


def read_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


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


def rm_tree(path):
    """rm -rf that never crosses into another file system (a mount left inside)."""
    if os.path.lexists(path):
        run(["rm", "-rf", "--one-file-system", "--", path], timeout=600)


def mounts_under(path):
    """Mount points at or below path, deepest first."""
    path = os.path.realpath(path)
    found = []
    with open("/proc/self/mounts") as f:
        for line in f:
            mnt = line.split()[1].replace("\\040", " ")
            if mnt == path or mnt.startswith(path + "/"):
                found.append(mnt)
    return sorted(set(found), key=len, reverse=True)


def mounts_using(lower):
    """Overlay mount points that have `lower` as their lower layer."""
    with open("/proc/self/mounts") as f:
        return [ln.split()[1] for ln in f if "lowerdir=%s," % lower in ln or ln.split()[3].endswith("lowerdir=" + lower)]


def umount_all_under(path):
    for mnt in mounts_under(path):
        if run(["umount", mnt], check=False).returncode != 0:
            run(["umount", "-l", mnt], check=False)


# The secrets the roles need, generated per lab (site.yml has no default passwords).
LAB_SECRETS = (
    "baseline_admin_password", "osdeploy_rabbitmq_password", "baseline_keystone_db_password",
    "baseline_placement_db_password", "baseline_placement_password", "baseline_glance_db_password",
    "baseline_glance_password", "baseline_neutron_db_password", "baseline_neutron_password",
    "nova_db_password", "nova_keystone_password", "osdeploy_metadata_secret",
)
# Keystone 22 (Zed) hands its [database] connection to alembic unescaped, so a
# percent-encoded character in it breaks keystone-manage (the baseline role
# refuses such a password): this one gets only characters URLs leave as they are.
URL_SAFE_SECRETS = ("baseline_keystone_db_password",)
# oslo.messaging of Zed cannot pass a '/' in RabbitMQ credentials to kombu (the
# nova role refuses such a password): this one gets every special but '/'.
NO_SLASH_SECRETS = ("osdeploy_rabbitmq_password",)
# Special characters that break naive tools (URLs, shells, SQL, oslo.config's $),
# but no braces: Ansible would read {{ or {% in a variable as a template.
PASSWORD_SPECIALS = "@:/%$#'\"!&*()-_=+[];,.?~^"


def lab_secret(name):
    """A random password for the lab secret called name, of the characters its users accept."""
    if name in URL_SAFE_SECRETS:
        return lab_password(specials="-_.~")
    if name in NO_SLASH_SECRETS:
        return lab_password(specials=PASSWORD_SPECIALS.replace("/", ""))
    return lab_password()


def lab_password(length=24, specials=PASSWORD_SPECIALS):
    """A random password: letters, digits and at least three of the special characters."""
    import secrets
    special = specials
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789" + special
    while True:
        pw = "".join(secrets.choice(alphabet) for dummy in range(length))
        if (sum(c in special for c in pw) >= 3 and pw[0] not in special and pw[-1] not in special):
            return pw


def cache_root():
    return os.environ.get("OSDEPLOY_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "osdeploy-nova")


def proc_cmdlines():
    """{pid: [argv...]} of every process."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                raw = f.read()
        except OSError:
            continue
        if raw:
            out[int(entry)] = [a.decode(errors="replace") for a in raw.rstrip(b"\0").split(b"\0")]
    return out


def accel_inventory_vars(accel):
    """[all:vars] lines of a lab whose hosts run with this accelerator (kvm or tcg).

    Under TCG emulation Python runs 15-25 times slower than on hardware: starting
    a Nova service or registering a compute takes minutes, so the roles' waits
    get the bounds an operator would give such hosts.
    """
    out = ["lab_accel=%s" % accel]
    if accel == "tcg":
        out += ["baseline_service_timeout=1800", "nova_service_timeout=1800",
                "nova_cell_discovery_timeout=1800"]
    return out


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# ---------------------------------------------------------------- root filesystem

def rootfs_sources():
    src = os.environ.get("OSDEPLOY_LAB_SOURCES")
    if src:
        if not os.path.isfile(src):
            raise LabError("OSDEPLOY_LAB_SOURCES=%s: no such file" % src)
        return src
    for cand in ("/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"):
        if os.path.isfile(cand) and os.path.getsize(cand) > 0:
            return cand
    raise LabError("no apt sources found: set OSDEPLOY_LAB_SOURCES to a deb822 .sources or sources.list file")


def check_release(release):
    if release not in RELEASES:
        raise LabError("release %r: use one of %s" % (release, ", ".join(RELEASES)))
    return release


def release_sources(sources, release):
    """The text of the apt sources file `sources` (deb822 or one-line) for `release`:
    each suite of a release the lab knows renamed to `release`, its suffix kept
    (bookworm -> trixie, bookworm-updates -> trixie-updates, bookworm-security ->
    trixie-security). URIs, components, keys and comments stay as they are."""
    with open(sources) as f:
        text = f.read()
    others = "|".join(re.escape(r) for r in sorted(RELEASES) if r != release)
    suite = re.compile(r"(?<![^\s])(?:%s)(?=[-/]|\s|$)" % others)

    def deb822(m):
        return m.group(1) + suite.sub(release, m.group(2))

    def one_line(m):
        return m.group(1) + suite.sub(release, m.group(2)) + m.group(3)

    text = re.sub(r"(?im)^(Suites:[ \t]*)(.*)$", deb822, text)
    return re.sub(r"(?m)^(\s*deb(?:-src)?\s+(?:\[[^\]]*\]\s+)?\S+\s+)(\S+)(.*)$", one_line, text)


def rootfs_inputs(release):
    """The files of tools/lab.d that make the release's root filesystem."""
    return ("build-rootfs", "customize-rootfs") + tuple(RELEASES[release]["packages"])


def rootfs_key(sources, release=SUITE):
    h = hashlib.sha256()
    for name in rootfs_inputs(release):
        with open(os.path.join(LABD, name), "rb") as f:
            h.update(name.encode() + b"\0" + f.read() + b"\0")
    h.update(b"sources\0" + release_sources(sources, release).encode() + b"\0" + release.encode())
    return h.hexdigest()[:16]


def cached_build(kind, key, build, rebuild=False, in_use=None):
    """Return $OSDEPLOY_CACHE/<kind>/<key>, calling build(tmpdir, logfile) to make it
    when missing (or when rebuild): built in a temporary directory, renamed into
    place only when complete, under a lock so that parallel callers build once.
    in_use(dir) lists who uses an existing build (rebuild refuses then)."""
    base = os.path.join(cache_root(), kind)
    final = os.path.join(base, key)
    os.makedirs(base, exist_ok=True)
    with open(os.path.join(base, ".%s.lock" % key), "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        if os.path.isfile(os.path.join(final, "meta.json")) and not rebuild:
            return final
        if rebuild and in_use:
            users = in_use(final)
            if users:
                raise LabError("%s %s is in use by lab machines (%s): take them down first"
                               % (kind, key, ", ".join(users)))
        # Left-overs of an interrupted build: unmount (mmdebstrap binds /dev,
        # /proc, /sys inside) before deleting anything.
        for entry in os.listdir(base):
            if entry.startswith(".build-%s-" % key) or (entry == key and rebuild):
                umount_all_under(os.path.join(base, entry))
                rm_tree(os.path.join(base, entry))
        if rebuild and os.path.isdir(final):
            raise LabError("cannot remove %s" % final)
        tmp = os.path.join(base, ".build-%s-%d" % (key, os.getpid()))
        os.makedirs(tmp)
        start = time.monotonic()
        logpath = os.path.join(base, "%s.build.log" % key)
        with open(logpath, "w") as logf:
            proc = build(tmp, logf, lockf)
        if proc.returncode != 0:
            umount_all_under(tmp)
            rm_tree(tmp)
            with open(logpath) as f:
                tail = f.read().splitlines()[-25:]
            raise LabError("building the %s failed (rc %s); log %s, last lines:\n%s" % (
                kind, proc.returncode, logpath, "\n".join(tail)))
        seconds = round(time.monotonic() - start, 1)
        write_file(os.path.join(tmp, "meta.json"), json.dumps({
            "key": key, "kind": kind, "build_seconds": seconds,
            "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=1) + "\n")
        os.rename(tmp, final)
        log("%s %s built in %ss" % (kind, key, seconds))
        return final


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


# ---------------------------------------------------------------- the lab

class Lab:
    # The state key of what the lab's hosts were built from (a lab that has one
    # but no recorded release was made before releases were recorded).
    BUILT_FROM = "rootfs"
    DEFAULT_NAME = DEFAULT_NAME
    DEFAULT_SUBNET = DEFAULT_SUBNET

    def __init__(self, name=None, subnet=None, release=None):
        self.name = name or os.environ.get("OSDEPLOY_LAB_NAME") or self.DEFAULT_NAME
        if not NAME_RE.match(self.name):
            raise LabError("lab name %r: use 1-10 characters a-z0-9, starting with a letter "
                           "(it prefixes interface names, limited to 15 characters)" % self.name)
        self.dir = os.environ.get("OSDEPLOY_LAB_DIR") or os.path.join(cache_root(), "lab", self.name)
        self.dir = os.path.abspath(self.dir)
        self.state_path = os.path.join(self.dir, "state.json")
        self.state = read_json(self.state_path, {}) or {}
        requested = subnet or os.environ.get("OSDEPLOY_LAB_SUBNET")
        current = self.state.get("subnet")
        if requested and current and ipaddress.ip_network(requested) != ipaddress.ip_network(current):
            raise LabError("lab %s exists with subnet %s; `tools/lab down` first to use %s" % (
                self.name, current, requested))
        try:
            self.net = ipaddress.ip_network(requested or current or self.DEFAULT_SUBNET)
        except ValueError as exc:
            raise LabError("subnet: %s" % exc)
        if self.net.version != 4 or not self.net.is_private or self.net.prefixlen > 24:
            raise LabError("subnet %s: use a private IPv4 network of /24 or larger" % self.net)
        # The hosts' Debian release: the one the lab was made with (a lab made
        # before releases were recorded runs the default); `up` refuses another.
        self.requested_release = check_release(release) if release else None
        made_with = self.state.get("release") or (SUITE if self.state.get(self.BUILT_FROM) else None)
        self.release = check_release(made_with or self.requested_release or SUITE)
        self.bridge = "%s0" % self.name
        # The provider network's wire (eth1 of every host): a bridge without an
        # address on this machine, so that guests reach each other and the
        # controller's DHCP and metadata, but nothing else.
        self.pbridge = "%sp" % self.name
        self.chain = "osdeploy-lab-%s" % self.name
        self.host_ip = self.net.network_address + 1
        self.key_path = os.path.join(self.dir, "ssh", "id_ed25519")
        self.known_hosts = os.path.join(self.dir, "ssh", "known_hosts")
        self.inventory = os.path.join(self.dir, "inventory.ini")
        self.changes = []

    # -- naming
    def machine(self, host):
        return "%s-%s" % (self.name, host)

    def netns(self, host):
        return self.machine(host)

    @staticmethod
    def index(host):
        return 0 if host == "controller" else int(host[len("compute"):])

    def veth(self, host):
        return "%s-%d" % (self.name, self.index(host))

    def pveth(self, host):
        return "%s-p%d" % (self.name, self.index(host))

    def mac(self, host=None):
        """A fixed, locally administered MAC per lab host (or for the bridge): a
        restarted machine keeps its MAC, so no neighbour (ARP) cache on this
        machine or in the other hosts points to a stale one for ~30 s; and the
        bridge does not take over a port's MAC when ports come and go."""
        digest = hashlib.sha256(("%s/%s" % (self.name, host or "bridge")).encode()).digest()
        return ":".join("%02x" % b for b in (0x02,) + tuple(digest[:5]))

    def ip(self, host):
        idx = self.index(host)
        if 10 + idx >= self.net.num_addresses - 1:
            raise LabError("%s does not fit in %s" % (host, self.net))
        return self.net.network_address + 10 + idx

    def mdir(self, host):
        return os.path.join(self.dir, "machines", host)

    def mroot(self, host):
        return os.path.join(self.mdir(host), "root")

    @staticmethod
    def hosts_for(computes):
        return ["controller"] + ["compute%d" % i for i in range(1, computes + 1)]

    def save_state(self):
        os.makedirs(self.dir, exist_ok=True)
        write_file(self.state_path, json.dumps(self.state, indent=1, sort_keys=True) + "\n")

    def lock(self):
        os.makedirs(os.path.dirname(self.dir), exist_ok=True)
        self._lockf = open(self.dir + ".lock", "w")
        try:
            fcntl.flock(self._lockf, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("another tools/lab command works on lab %s; waiting..." % self.name)
            fcntl.flock(self._lockf, fcntl.LOCK_EX)

    # -- discovery (by name: works without state)
    def found_hosts(self):
        hosts = set()
        mroot = os.path.join(self.dir, "machines")
        if os.path.isdir(mroot):
            hosts.update(h for h in os.listdir(mroot) if HOST_RE.match(h))
        for ns in self.list_netns():
            hosts.add(ns[len(self.name) + 1:])
        for _pid, _kind, host in self.lab_processes():
            hosts.add(host)
        return sorted(hosts, key=self.index)

    def list_netns(self):
        out = run(["ip", "netns", "list"], check=False).stdout or ""
        pat = re.compile(r"^%s-(controller|compute[1-9][0-9]*)$" % re.escape(self.name))
        return [ln.split()[0] for ln in out.splitlines() if ln.split() and pat.match(ln.split()[0])]

    def lab_links(self):
        out = run(["ip", "-j", "link", "show"]).stdout
        pat = re.compile(r"^%s-p?[0-9]+$" % re.escape(self.name))
        return [lk["ifname"] for lk in json.loads(out or "[]")
                if lk["ifname"] in (self.bridge, self.pbridge) or pat.match(lk["ifname"])]

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
        if self.pbridge not in links:
            run(["ip", "link", "add", self.pbridge, "address", self.mac("provider"), "type", "bridge"])
            self.changes.append("bridge %s" % self.pbridge)
        run(["ip", "link", "set", self.pbridge, "up"])

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
        pbr = self.pbridge
        fwd = [
            ["-i", br, "-o", br, "-j", "ACCEPT"],
            # the provider network: between the hosts' eth1 only
            ["-i", pbr, "-o", pbr, "-j", "ACCEPT"],
            ["-i", pbr] + reject,
            ["-o", pbr] + reject,
            ["-o", br] + est,
            ["-i", br, "-o", up, "-p", "udp", "-m", "udp", "--dport", "53", "-j", "ACCEPT"],
            ["-i", br, "-o", up, "-p", "tcp", "-m", "multiport", "--dports", "53,80,443", "-j", "ACCEPT"],
            ["-i", br] + reject,
            ["-o", br] + reject,
        ]
        inp = [["-i", pbr] + reject, ["-i", br] + est, ["-i", br, "-p", "icmp", "-m", "icmp", "--icmp-type", "8", "-j", "ACCEPT"]]
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
            with open(orig) as f:
                value = f.read().strip()
            with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
                f.write(value + "\n")
            os.unlink(orig)
            return "net.ipv4.ip_forward -> %s" % value

    def netns_ok(self, host):
        ns = self.netns(host)
        links = self.lab_links()
        if ns not in self.list_netns() or self.veth(host) not in links or self.pveth(host) not in links:
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
        self.changes.append("netns %s (%s)" % (ns, self.ip(host)))

    def remove_netns(self, host):
        done = []
        if self.veth(host) in self.lab_links():
            run(["ip", "link", "del", self.veth(host)], check=False)
            done.append("link %s" % self.veth(host))
        if self.pveth(host) in self.lab_links():
            run(["ip", "link", "del", self.pveth(host)], check=False)
            done.append("link %s" % self.pveth(host))
        if self.netns(host) in self.list_netns():
            run(["ip", "netns", "del", self.netns(host)], check=False)
            done.append("netns %s" % self.netns(host))
        return done

    # -- machines
    def running(self, host):
        """nspawn pid when the machine's processes run, else None."""
        procs = self.lab_processes(host)
        nspawn = [p for p, kind, _h in procs if kind == "nspawn"]
        return nspawn[0] if nspawn else None

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
        """Stop every process of the machine; return what was done."""
        procs = self.lab_processes(host)
        if not procs and not self.netns_pids(host):
            return []
        self.power_off(procs)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not any(pid_alive(p) for p, _k, _h in procs) and not self.netns_pids(host):
                break
            time.sleep(0.3)
        else:
            log("%s: no clean poweroff within %ss, killing it" % (host, timeout))
        for _attempt in range(50):
            left = [p for p in self.netns_pids(host) + [p for p, _k, _h in procs] if pid_alive(p)]
            if not left:
                break
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.2)
        else:
            raise LabError("%s: processes survive SIGKILL: %s" % (host, left))
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

    def hosts_file(self, hosts):
        lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
                 "ff02::1\tip6-allnodes", "ff02::2\tip6-allrouters", "",
                 "# osdeploy lab %s (written by tools/lab)" % self.name]
        lines += ["%s\t%s" % (self.ip(h), h) for h in hosts]
        return "\n".join(lines) + "\n"

    def provision(self, host, hosts):
        """Per-machine identity, written once into the new machine's overlay."""
        root = self.mroot(host)
        write_file(os.path.join(root, "etc/hostname"), host + "\n")
        write_file(os.path.join(root, "etc/machine-id"), uuid.uuid4().hex + "\n", 0o444)
        write_file(os.path.join(root, "etc/hosts"), self.hosts_file(hosts))
        self.add_kvm_group(host)
        if host == "controller":
            self.add_firewall(host)
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
    def instances_image(self, host):
        return os.path.join(self.mdir(host), "instances.img")

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

    def console_tail(self, host, lines=30):
        try:
            with open(os.path.join(self.mdir(host), "console.log"), errors="replace") as f:
                text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "", f.read())
            return "\n".join([ln for ln in text.splitlines() if ln.strip()][-lines:])
        except FileNotFoundError:
            return "(no console log)"

    def ssh_cmd(self, host, *cmd, tty=False):
        base = ["ssh", "-i", self.key_path, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                "-o", "UserKnownHostsFile=%s" % self.known_hosts, "-o", "StrictHostKeyChecking=yes",
                "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR"]
        if tty:
            base.append("-t")
        addr, port = self.ssh_endpoint(host)
        if port != 22:
            base += ["-p", str(port)]
        return base + ["root@%s" % addr] + list(cmd)

    def ssh_endpoint(self, host):
        """(address, port) where this machine reaches the host's sshd."""
        return str(self.ip(host)), 22

    def wait_ready(self, host, deadline, proc=None):
        """Wait until SSH answers and systemd finished booting; return its state."""
        ip, port = self.ssh_endpoint(host)
        last = ""
        while True:
            if proc is not None and proc.poll() is not None:
                raise LabError("%s: the machine stopped (exit %s) while booting; console log %s, last lines:\n%s" % (
                    host, proc.returncode, os.path.join(self.mdir(host), "console.log"), self.console_tail(host)))
            left = deadline - time.monotonic()
            if left <= 0:
                raise LabError("%s: SSH on %s:%s not ready after %ss (%s); console log %s, last lines:\n%s" % (
                    host, ip, port, self.boot_timeout, last or "no answer", os.path.join(self.mdir(host), "console.log"),
                    self.console_tail(host)))
            try:
                with socket.create_connection((ip, port), timeout=min(2, max(left, 0.1))):
                    pass
            except OSError as exc:
                last = "port %s: %s" % (port, exc)
                time.sleep(0.5)
                continue
            try:
                res = subprocess.run(self.ssh_cmd(host, "systemctl is-system-running --wait"),
                                     capture_output=True, text=True, timeout=max(left, 1), check=False)
            except subprocess.TimeoutExpired:
                last = "systemd still booting"
                continue
            state = res.stdout.strip()
            if state in ("running", "degraded"):
                return state
            last = "ssh rc %s: %s %s" % (res.returncode, state, res.stderr.strip())
            time.sleep(1)

    def remove_machine(self, host, keep_disk=False):
        done = self.stop_machine(host)
        done += remove_machine_cgroups(self.machine(host))
        if mounts_under(self.mdir(host)):
            umount_all_under(self.mdir(host))
            done.append("mount %s" % self.mroot(host))
        done += self.release_instances_disk(host)
        done += self.remove_netns(host)
        if not keep_disk and os.path.lexists(self.mdir(host)):
            if mounts_under(self.mdir(host)):
                raise LabError("%s still has mounts: %s" % (self.mdir(host), mounts_under(self.mdir(host))))
            rm_tree(self.mdir(host))
            done.append("disk of %s" % host)
        return done

    # -- ssh key, known_hosts, inventory
    def ensure_key(self):
        os.makedirs(os.path.dirname(self.key_path), mode=0o700, exist_ok=True)
        os.chmod(os.path.dirname(self.key_path), 0o700)
        if not (os.path.exists(self.key_path) and os.path.exists(self.key_path + ".pub")):
            for p in (self.key_path, self.key_path + ".pub"):
                if os.path.exists(p):
                    os.unlink(p)
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "osdeploy-lab-%s" % self.name,
                 "-f", self.key_path])
            self.changes.append("ssh key %s" % self.key_path)
        os.chmod(self.key_path, 0o600)

    def write_known_hosts(self, hosts):
        lines = []
        for h in hosts:
            with open(os.path.join(self.mroot(h), "etc/ssh/ssh_host_ed25519_key.pub")) as f:
                kind, key = f.read().split()[:2]
            lines.append("%s,%s %s %s" % (self.ip(h), h, kind, key))
        write_file(self.known_hosts, "\n".join(lines) + "\n", 0o600)

    TOOL = "tools/lab"

    def inventory_host_vars(self, host):
        """How Ansible reaches the host, and its management address."""
        return "ansible_host=%s osdeploy_management_ip=%s" % (self.ip(host), self.ip(host))

    def inventory_lab_vars(self, hosts):
        return ["lab_host_ip=%s" % self.host_ip, "lab_network=%s" % self.net]

    def inventory_text(self, hosts):
        out = ["# Ansible inventory of the osdeploy lab %s, written by `%s up`." % (self.name, self.TOOL),
               "# Regenerated on every `up`; removed by `%s down`." % self.TOOL, "", "[controller]"]
        computes = [h for h in hosts if h != "controller"]
        for group, members in (("controller", ["controller"]), ("compute", computes)):
            if group != "controller":
                out += ["", "[%s]" % group]
            for h in members:
                out.append("%s %s" % (h, self.inventory_host_vars(h)))
        ssh_args = "-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes" % self.known_hosts
        out += ["", "[all:vars]", "ansible_user=root",
                "ansible_ssh_private_key_file=%s" % self.key_path,
                "ansible_ssh_common_args='%s'" % ssh_args,
                "ansible_python_interpreter=/usr/bin/python3",
                "lab_name=%s" % self.name] + self.inventory_lab_vars(hosts)
        return "\n".join(out) + "\n"

    def hosts_left_after_removing(self, hosts, only):
        """The hosts that stay when `down HOST...` removes `only` (the last computes alone)."""
        for h in only:
            if h not in hosts:
                raise LabError("lab %s has no host %s (hosts: %s)" % (self.name, h, ", ".join(hosts) or "none"))
        # Hosts are numbered 1..N: only the last computes can go alone.
        computes = len([h for h in hosts if h != "controller"])
        keep = computes - len(set(only))
        if "controller" in only or sorted(set(only), key=self.index) != self.hosts_for(computes)[keep + 1:]:
            raise LabError("only the last compute hosts can be removed alone (here: %s); `%s down` "
                           "removes the whole lab" % (" ".join(self.hosts_for(computes)[keep + 1:] or ["-"]),
                                                      self.TOOL))
        return keep

    def ensure_group_vars(self):
        """Random secrets (made once, kept) and the lab's platform settings, beside the inventory."""
        gv = os.path.join(self.dir, "group_vars")
        secrets_path = os.path.join(gv, "all", "secrets.yml")
        # A secret is made once and kept; one that a newer version of the
        # collection needs is added beside the existing ones.
        values = {}
        if os.path.exists(secrets_path):
            with open(secrets_path) as f:
                for line in f:
                    key, sep, value = line.partition(": ")
                    if sep and not line.startswith("#"):
                        values[key] = json.loads(value)
        missing = [name for name in LAB_SECRETS if name not in values]
        if missing:
            values.update({name: lab_secret(name) for name in missing})
            lines = ["# Random secrets of the osdeploy lab %s, made once by `tools/lab up`," % self.name,
                     "# kept until `tools/lab down`. Mode 0600: do not share."]
            lines += ["%s: %s" % (k, json.dumps(v)) for k, v in sorted(values.items())]
            os.makedirs(os.path.dirname(secrets_path), mode=0o700, exist_ok=True)
            write_file(secrets_path, "\n".join(lines) + "\n", 0o600)
            self.changes.append("secrets %s (%s)" % (secrets_path, ", ".join(missing)))
        for group, text in self.platform_group_vars().items():
            os.makedirs(os.path.join(gv, group), mode=0o700, exist_ok=True)
            if write_file(os.path.join(gv, group, "lab.yml"), text, 0o644):
                self.changes.append("group_vars of %s" % group)

    # The provider network of the lab's servers: a documentation range
    # (RFC 5737) on the hosts' eth1, which this machine has no address in.
    PROVIDER_CIDR = "203.0.113.0/24"

    def test_image(self):
        """The guest test image (tools/test-image builds it once, cached by content)."""
        out = run([os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "test-image")], timeout=1800).stdout
        return out.strip().splitlines()[-1]

    def platform_group_vars(self):
        """{group: YAML text} of what the hosts need because of what they are."""
        return {"compute": "# Written by `tools/lab up`: what a compute host needs as a systemd-nspawn machine.\n"
                           "# nspawn mounts the cgroup v1 controllers read-only, so libvirt must not use them.\n"
                           "nova_libvirt_qemu_conf:\n  cgroup_controllers: \"[ ]\"\n"
                           "# each compute host's second disk (a loop device), for Nova's instances\n"
                           "nova_instances_device: %s\n" % INSTANCES_DEVICE,
                "all": "# Written by `tools/lab up`: the lab's provider network (eth1 of every host, on the\n"
                       "# bridge %s of this machine) and the image site.yml boots to prove Nova works.\n"
                       "baseline_provider_interface: eth1\n"
                       "baseline_provider_cidr: %s\n"
                       "osdeploy_verify_image: %s\n"
                       "# servers run emulated (TCG) inside the lab's machines\n"
                       "osdeploy_verify_timeout: 600\n" % (self.pbridge, self.PROVIDER_CIDR, json.dumps(self.test_image()))}

    # -- commands
    def refuse_other_release(self):
        """`up` keeps the release the lab was made with: another one needs `down` first."""
        if self.requested_release and self.requested_release != self.release:
            raise LabError("lab %s exists with release %s; `%s down` first to use %s" % (
                self.name, self.release, self.TOOL, self.requested_release))

    def up(self, computes=None):
        self.lock()
        start = time.monotonic()
        self.refuse_other_release()
        if computes is None:
            computes = self.state.get("computes", 1)
        hosts = self.hosts_for(computes)
        for h in hosts:
            self.ip(h)      # fits in the subnet?
        if self.bridge not in self.lab_links():
            self.check_subnet_free()    # before creating anything
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o700)
        self.state.update({"name": self.name, "subnet": str(self.net), "computes": computes,
                           "release": self.release})
        self.save_state()

        # Hosts beyond the requested count go (declarative --computes).
        for h in self.found_hosts():
            if h not in hosts:
                log("removing %s (not in --computes %d)" % (h, computes))
                self.changes += self.remove_machine(h)

        lower = self.state.get("rootfs")
        if not lower or not os.path.isdir(lower):
            lower = ensure_rootfs(release=self.release)
            self.state["rootfs"] = lower
            self.save_state()
        self.ensure_key()
        self.ensure_group_vars()
        self.ensure_bridge()
        self.ensure_ip_forward()
        self.save_state()
        self.ensure_iptables()

        started = {}
        for h in hosts:
            meta_path = os.path.join(self.mdir(h), "meta.json")
            meta = read_json(meta_path)
            healthy = (meta and meta.get("rootfs") == lower and self.running(h)
                       and self.netns_ok(h) and mounts_under(self.mroot(h)))
            if healthy:
                if write_file(os.path.join(self.mroot(h), "etc/hosts"), self.hosts_file(hosts)):
                    self.changes.append("/etc/hosts of %s" % h)
                continue
            if meta and meta.get("rootfs") != lower:
                log("%s: its disk was made from another root filesystem; recreating it" % h)
                meta = None
            if self.running(h) or self.netns_pids(h):
                log("%s: partly up (crashed or interrupted); restarting it" % h)
            self.remove_machine(h, keep_disk=bool(meta))
            self.mount_root(h, lower)
            if not meta:
                self.provision(h, hosts)
                write_file(meta_path, json.dumps({"host": h, "rootfs": lower, "ip": str(self.ip(h)),
                                                  "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                                                 indent=1) + "\n")
                self.changes.append("created %s" % h)
            elif write_file(os.path.join(self.mroot(h), "etc/hosts"), self.hosts_file(hosts)):
                self.changes.append("/etc/hosts of %s" % h)
            self.create_netns(h)
            started[h] = self.start_machine(h)

        self.write_known_hosts(hosts)
        deadline = time.monotonic() + self.boot_timeout
        for h in hosts:
            state = self.wait_ready(h, deadline, started.get(h))
            if state != "running":
                failed = run(self.ssh_cmd(h, "systemctl --failed --plain --no-legend"), check=False).stdout.strip()
                log("warning: %s is %s; failed units:\n%s" % (h, state, failed))
        if write_file(self.inventory, self.inventory_text(hosts)):
            self.changes.append("inventory %s" % self.inventory)
        for h in hosts:
            log("%-11s %-15s running  (ssh: tools/lab ssh %s)" % (h, self.ip(h), h))
        log("inventory: %s" % self.inventory)
        if self.changes:
            log("up: changed in %.1fs: %s" % (time.monotonic() - start, "; ".join(self.changes)))
        else:
            log("up: no change (%.1fs)" % (time.monotonic() - start))

    def down(self, only=None):
        self.lock()
        start = time.monotonic()
        done = []
        hosts = self.found_hosts()
        if only:
            keep = self.hosts_left_after_removing(hosts, only)
            for h in only:
                done += self.remove_machine(h)
            left = self.hosts_for(keep)
            if self.state:
                self.state["computes"] = keep
                self.save_state()
            for h in left:
                if mounts_under(self.mroot(h)):
                    write_file(os.path.join(self.mroot(h), "etc/hosts"), self.hosts_file(left))
            if os.path.exists(self.inventory):
                write_file(self.inventory, self.inventory_text(left))
                self.write_known_hosts(left)
            log("down %s: removed %s" % (" ".join(only), "; ".join(done)))
            return
        for h in hosts:   # every machine powers off at once (a host with OpenStack's services takes ~20 s)
            self.power_off(self.lab_processes(h))
        for h in hosts:
            done += self.remove_machine(h)
        for lk in self.lab_links():
            if lk not in (self.bridge, self.pbridge):
                run(["ip", "link", "del", lk], check=False)
                done.append("link %s" % lk)
        for br in (self.bridge, self.pbridge):
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
        self.remove_state(done, start)

    def remove_state(self, done, start):
        """Last step of `down`: the state dir and the lock file; says what was removed."""
        if os.path.lexists(self.dir):
            rm_tree(self.dir)
            done.append("state dir %s" % self.dir)
        try:
            os.unlink(self.dir + ".lock")
        except FileNotFoundError:
            pass
        log("down: %s (%.1fs)" % ("; ".join(done) if done else "nothing to remove", time.monotonic() - start))

    def is_down(self, hosts):
        return not hosts and self.bridge not in self.lab_links()

    def status_header(self):
        return "lab %s: %s, network %s (this machine %s on %s), state %s" % (
            self.name, self.release, self.net, self.host_ip, self.bridge, self.dir)

    PROCESS_LABEL = "nspawn pid"

    def status(self):
        hosts = self.found_hosts()
        if self.is_down(hosts):
            log("lab %s: down" % self.name)
            return 3
        ok = True
        log(self.status_header())
        for h in hosts:
            pid = self.running(h)
            answer = "-"
            if pid:
                res = run(self.ssh_cmd(h, "systemctl is-system-running"), check=False, timeout=30)
                answer = res.stdout.strip() or "no ssh (rc %d)" % res.returncode
            ok = ok and answer in ("running", "degraded")
            log("%-11s %-15s %-8s %s %-7s %s" % (
                h, self.ip(h), "running" if pid else "stopped", self.PROCESS_LABEL, pid or "-", answer))
        if os.path.exists(self.inventory):
            log("inventory: %s" % self.inventory)
        return 0 if ok else 3

    # What a failed run needs to be explained after the lab is gone: compact,
    # and with anything that looks like a credential masked.
    REPORT_SCRIPT = r"""
echo "== failed units:"; systemctl --failed --no-legend --plain | sed 's/^/  /'
echo "== journal, warnings and worse (last 25):"
journalctl -b -p warning --no-pager -o short-monotonic \
  | grep -v -e 'pam_env(' -e kex_exchange_identification -e 'Failed to set fd limit' -e 'mlockall failed' -e 'ethtool ioctl error' \
  | tail -n 25 | sed 's/^/  /'
echo "== the services' last errors (last 15; one line a traceback, Keystone's 'not found' answers left out):"
grep -h -E ' (ERROR|CRITICAL) ' /var/log/nova/*.log /var/log/neutron/*.log \
  /var/log/placement/*.log /var/log/glance/*.log /var/log/keystone/*.log 2>/dev/null \
  | grep -v -E -e ' (ERROR|CRITICAL) [A-Za-z0-9_.]+ ( {2}|Traceback |$)' -e 'keystone\.exception\.[A-Za-z]*NotFound' \
  | cut -c1-400 | tail -n 15 | sed 's/^/  /'
echo "== the L2 agent's last port events (last 12):"
grep -h -E 'ofport|not managed by this agent|Port [0-9a-f-]+ updated|Ports .* removed' \
  /var/log/neutron/neutron-openvswitch-agent.log 2>/dev/null | tail -n 12 \
  | sed -E 's/^([0-9-]+ [0-9:.]+) [0-9]+ ([A-Z]+) [a-z0-9_.]*\.([a-z_]+) \[[^]]*\] /\1 \2 \3: /' | cut -c1-240 | sed 's/^/  /'
"""

    def report(self):
        """Print, host by host, what tells why a run failed; 0 when it could ask them all."""
        hosts = self.found_hosts()
        if self.is_down(hosts):
            log("lab %s: down, nothing to report" % self.name)
            return 0
        ok = True
        for h in sorted(hosts):
            log("==== %s" % h)
            if not self.running(h):
                log("  not running")
                continue
            res = run(self.ssh_cmd(h, self.REPORT_SCRIPT), check=False, timeout=60)
            sys.stdout.write(mask_credentials(res.stdout))
            if res.returncode != 0:
                ok = False
                log("  (ssh rc %d) %s" % (res.returncode, mask_credentials(res.stderr.strip()[:300])))
        sys.stdout.flush()
        return 0 if ok else 3

    @property
    def boot_timeout(self):
        return float(os.environ.get("OSDEPLOY_LAB_BOOT_TIMEOUT", "120"))


def prune():
    base = os.path.join(cache_root(), "rootfs")
    used = set()
    sources = rootfs_sources()
    current = {os.path.join(base, rootfs_key(sources, release), "root") for release in RELEASES}
    labs = os.path.join(cache_root(), "lab")
    if os.path.isdir(labs):
        for lab in os.listdir(labs):
            st = read_json(os.path.join(labs, lab, "state.json"), {}) or {}
            if st.get("rootfs"):
                used.add(st["rootfs"])
    removed = []
    if os.path.isdir(base):
        for entry in sorted(os.listdir(base)):
            path = os.path.join(base, entry)
            if entry.startswith(".") or not os.path.isdir(path):
                continue
            root = os.path.join(path, "root")
            if root in current or root in used or mounts_using(root):
                continue
            umount_all_under(path)
            rm_tree(path)
            for extra in (os.path.join(base, ".%s.lock" % entry), os.path.join(base, "%s.build.log" % entry)):
                if os.path.exists(extra):
                    os.unlink(extra)
            removed.append(entry)
    log("prune: removed %s" % (", ".join(removed) or "nothing"))


def cli(argv, doc, prog, lab_class, needed_tools, build, prune_cache, max_computes, why_root, releases=None):
    """The command line of tools/lab and tools/vmlab (same verbs, other machines). With
    releases (names), `up` and `build` take --release (default $OSDEPLOY_LAB_RELEASE),
    passed to lab_class and build as release=."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n", maxsplit=1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(doc.split("\n\n")[1:]))
    parser.add_argument("--name", help="lab name (default $OSDEPLOY_LAB_NAME or %s)" % lab_class.DEFAULT_NAME)
    parser.add_argument("--subnet", help="private IPv4 network (default $OSDEPLOY_LAB_SUBNET or %s)"
                        % lab_class.DEFAULT_SUBNET)
    sub = parser.add_subparsers(dest="cmd", required=True)
    release_help = ("the hosts' Debian release: %s (default $OSDEPLOY_LAB_RELEASE, else the lab's, else %s)"
                    % (", ".join(releases or ()), (releases or ("",))[0]))
    p = sub.add_parser("up", help="bring the lab up (idempotent)")
    p.add_argument("--computes", type=int, help="number of compute hosts (default: as before, else 1)")
    if releases:
        p.add_argument("--release", choices=list(releases), help=release_help)
    p = sub.add_parser("down", help="remove the lab, or only the named hosts")
    p.add_argument("hosts", nargs="*")
    sub.add_parser("status", help="show the lab's hosts")
    sub.add_parser("report", help="print each host's failed units and last errors")
    p = sub.add_parser("inventory", help="print the inventory path")
    p.add_argument("--show", action="store_true", help="print its content instead")
    p = sub.add_parser("ssh", help="ssh into a host")
    p.add_argument("host")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p = sub.add_parser("build", help="build the cached image of the hosts; print its path")
    p.add_argument("--rebuild", action="store_true")
    if releases:
        p.add_argument("--release", choices=list(releases), help=release_help)
    sub.add_parser("prune", help="remove cached images no lab uses")
    args = parser.parse_args(argv)

    try:
        if os.geteuid() != 0:
            raise LabError("%s must run as root (%s)" % (prog, why_root))
        if "/usr/sbin" not in os.environ.get("PATH", "").split(":"):
            os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
        missing = sorted({pkg for tool, pkg in needed_tools.items()
                          if not any(os.access(os.path.join(d, tool), os.X_OK)
                                     for d in os.environ["PATH"].split(":"))})
        if missing:
            raise LabError("missing tools; install: apt-get install %s (or run tools/install-deps)" % " ".join(missing))
        release = {}     # only up and build choose one; the other commands use the lab's
        if releases and args.cmd in ("up", "build"):
            chosen = args.release or os.environ.get("OSDEPLOY_LAB_RELEASE")
            if chosen and chosen not in releases:
                raise LabError("OSDEPLOY_LAB_RELEASE=%s: use one of %s" % (chosen, ", ".join(releases)))
            if chosen:
                release = {"release": chosen}
        if args.cmd == "build":
            print(build(rebuild=args.rebuild, **release), flush=True)
            return 0
        if args.cmd == "prune":
            prune_cache()
            return 0
        if args.cmd == "up" and args.computes is not None and not 0 <= args.computes <= max_computes:
            raise LabError("--computes: 0..%d" % max_computes)
        lab = lab_class(args.name, args.subnet, **release)
        if args.cmd == "up":
            lab.up(args.computes)
        elif args.cmd == "down":
            lab.down(args.hosts)
        elif args.cmd == "status":
            return lab.status()
        elif args.cmd == "report":
            return lab.report()
        elif args.cmd == "inventory":
            if not os.path.exists(lab.inventory):
                raise LabError("lab %s has no inventory: run `%s up` first" % (lab.name, prog))
            if args.show:
                with open(lab.inventory) as f:
                    sys.stdout.write(f.read())
            else:
                log(lab.inventory)
        elif args.cmd == "ssh":
            if not HOST_RE.match(args.host) or not os.path.isdir(lab.mdir(args.host)):
                raise LabError("lab %s has no host %r" % (lab.name, args.host))
            cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
            argv_ssh = lab.ssh_cmd(args.host, *cmd, tty=not cmd and sys.stdin.isatty())
            os.execvp(argv_ssh[0], argv_ssh)
        return 0
    except LabError as exc:
        print("%s: error: %s" % (prog, exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("%s: interrupted; `%s down` removes whatever was created" % (prog, prog), file=sys.stderr)
        return 130


def main(argv=None):
    return cli(argv, __doc__, "tools/lab", Lab, NEEDED_TOOLS, ensure_rootfs, prune, 100,
               "network namespaces, bridge, iptables, systemd-nspawn", releases=tuple(RELEASES))


if __name__ == "__main__":
    sys.exit(main())
