"""The one interface of the lab's backends, and the one flow of their commands.

A lab is a controller and compute hosts (compute1..N) on a private IPv4 network
(the controller .10, computeN .10+N) that this machine reaches over SSH as root
with a key the lab makes, an Ansible inventory beside it, and random secrets for
the roles. Everything a lab has is named after it and kept in its state
directory ($OSDEPLOY_CACHE/lab/<name>, or OSDEPLOY_LAB_DIR), so that `down`
finds it also when `up` was interrupted. At every `up` each host gets this machine's
local CA certificates (ensure_host_cas), so that pip there passes the same TLS proxies.

Lab holds what every backend does the same way, among it up() and down(); a
backend implements only what its machines need (the methods that raise
NotImplementedError here, and the hooks it overrides).
"""

import argparse
import concurrent.futures
import fcntl
import ipaddress
import json
import os
import re
import socket
import subprocess
import sys
import time

from .common import (HOST_RE, NAME_RE, RELEASES, SUITE, LabError, ca_sync_script, cache_root, check_openstack,
                     check_release, example_inventory_vars, is_cached, local_ca_certificates, log, mask_credentials,
                     missing_secrets, mounts_under, openstack_group_vars, read_json, rm_tree, run, secrets_lines,
                     write_file)


class Lab:
    # -- what a backend sets
    TOOL = None                 # its command (tools/lab), as messages and files name it
    DEFAULT_NAME = None
    DEFAULT_SUBNET = None
    BUILT_FROM = None           # the state key of what its hosts boot (a root filesystem, an image)
    MACHINE_PROCESS = None      # the kind of lab_processes() that is a running host
    DEFAULT_BOOT_TIMEOUT = 120  # seconds, OSDEPLOY_LAB_BOOT_TIMEOUT
    NEEDED_TOOLS = {}           # {command: Debian package} its commands need
    MAX_COMPUTES = 20
    WHY_ROOT = None             # what needs root, for the message when not

    def __init__(self, name=None, subnet=None, release=None):
        self.name = name or os.environ.get("OSDEPLOY_LAB_NAME") or self.DEFAULT_NAME
        if not NAME_RE.match(self.name):
            raise LabError("lab name %r: use 1-10 characters a-z0-9, starting with a letter "
                           "(it prefixes interface names, limited to 15 characters)" % self.name)
        self.dir = os.environ.get("OSDEPLOY_LAB_DIR") or os.path.join(cache_root(), "lab", self.name)
        self.dir = os.path.abspath(self.dir)
        self.state_path = os.path.join(self.dir, "state.json")
        self.state = read_json(self.state_path, {}) or {}
        # down --now: the backend kills its hosts instead of powering them off in order (nspawn; the VM
        # lab's down is unchanged by it)
        self.stop_at_once = False
        requested = subnet or os.environ.get("OSDEPLOY_LAB_SUBNET")
        current = self.state.get("subnet")
        if requested and current and ipaddress.ip_network(requested) != ipaddress.ip_network(current):
            raise LabError("lab %s exists with subnet %s; `%s down` first to use %s" % (
                self.name, current, self.TOOL, requested))
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
        self.key_path = os.path.join(self.dir, "ssh", "id_ed25519")
        self.known_hosts = os.path.join(self.dir, "ssh", "known_hosts")
        self.inventory = os.path.join(self.dir, "inventory.ini")
        self.changes = []

    # ------------------------------------------------------------ what a backend implements

    @staticmethod
    def build(rebuild=False, release=SUITE):
        """Build (or take from the cache) what the hosts of the release boot; return its path."""
        raise NotImplementedError

    @staticmethod
    def prune():
        """Delete the cached builds no lab uses."""
        raise NotImplementedError

    def lab_processes(self, host=None):
        """[(pid, kind, host)] of the lab's processes (host None: one of the whole lab), found by name."""
        raise NotImplementedError

    def ensure_host(self, host, hosts, built):
        """Make the host run from `built` with the lab's `hosts` in its /etc/hosts; return the
        process that boots it when it was started, None when it already ran as it should."""
        raise NotImplementedError

    def remove_machine(self, host, keep_disk=False):
        """Stop the host and remove what it has (its disk too unless keep_disk); say what went."""
        raise NotImplementedError

    def update_hosts_file(self, host, hosts):
        """Give a host that stays the /etc/hosts of `hosts` (down HOST...)."""
        raise NotImplementedError

    def write_known_hosts(self, hosts):
        """Write the hosts' SSH host keys to self.known_hosts."""
        raise NotImplementedError

    def status_header(self):
        raise NotImplementedError

    # -- hooks with what most backends do
    def check_network(self):
        """Refuse what cannot work before up() creates anything."""

    def choose_settings(self):
        """{state key: value} of what up() decides for this run (e.g. an accelerator)."""
        return {}

    def ensure_network(self):
        """Make the lab's network (before its hosts start)."""

    def begin_power_off(self, hosts):
        """Begin stopping every host at once, before down() removes them one by one."""

    def remove_network(self):
        """Remove what the lab has besides its hosts and its state dir; say what went."""
        return []

    def is_down(self, hosts):
        return not hosts

    def platform_group_vars(self):
        """{group: YAML text} of what the hosts need because of what they are."""
        return {"all": "# Written by the lab tool: a VM is a real machine and the roles' defaults fit,\n"
                       "# but no provider network is wired between the VMs yet, so no server is booted.\n"
                       "osdeploy_verify_server: false\n"
                       "# What the VM scenarios have proven so far, under TCG emulation (hours here):\n"
                       "# Debian's packages, TLS off. `--openstack` overrides the first (openstack.yml).\n"
                       "osdeploy_install_method: distro\n"
                       "osdeploy_tls: false\n"}

    def example_values(self):
        """{variable: value} of the example inventory's settings (inventories/example/group_vars/all/main.yml)
        for this lab, which then deploys from that file as an operator's copy of it does; None: the lab's
        hosts are not wired for them (no provider network), and it keeps the roles' defaults."""
        return None

    def ssh_endpoint(self, host):
        """(address, port) where this machine reaches the host's sshd."""
        return str(self.ip(host)), 22

    def inventory_host_vars(self, host):
        """How Ansible reaches the host, and its management address."""
        return "ansible_host=%s osdeploy_management_ip=%s" % (self.ip(host), self.ip(host))

    def inventory_connection_vars(self):
        return ["ansible_user=root", "ansible_ssh_private_key_file=%s" % self.key_path]

    def ssh_common_args(self):
        return ["-o UserKnownHostsFile=%s" % self.known_hosts, "-o StrictHostKeyChecking=yes",
                "-o IdentitiesOnly=yes"]

    def inventory_lab_vars(self, hosts):
        return ["lab_network=%s" % self.net]

    def inventory_header(self):
        return ["# Ansible inventory of the osdeploy lab %s, written by `%s up`." % (self.name, self.TOOL),
                "# Regenerated on every `up`; removed by `%s down`." % self.TOOL]

    # ------------------------------------------------------------ naming
    def machine(self, host):
        return "%s-%s" % (self.name, host)

    @staticmethod
    def index(host):
        return 0 if host == "controller" else int(host[len("compute"):])

    def ip(self, host):
        idx = self.index(host)
        if 10 + idx >= self.net.num_addresses - 1:
            raise LabError("%s does not fit in %s" % (host, self.net))
        return self.net.network_address + 10 + idx

    def mdir(self, host):
        return os.path.join(self.dir, "machines", host)

    def instances_image(self, host):
        """The compute host's second disk (Nova's instances), kept with the host."""
        return os.path.join(self.mdir(host), "instances.img")

    @staticmethod
    def hosts_for(computes):
        return ["controller"] + ["compute%d" % i for i in range(1, computes + 1)]

    def hosts_file(self, hosts):
        lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
                 "ff02::1\tip6-allnodes", "ff02::2\tip6-allrouters", "",
                 "# osdeploy lab %s (written by %s)" % (self.name, self.TOOL)]
        lines += ["%s\t%s" % (self.ip(h), h) for h in hosts]
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------ state and discovery
    def save_state(self):
        os.makedirs(self.dir, exist_ok=True)
        write_file(self.state_path, json.dumps(self.state, indent=1, sort_keys=True) + "\n")

    def lock(self):
        os.makedirs(os.path.dirname(self.dir), exist_ok=True)
        self._lockf = open(self.dir + ".lock", "w")
        try:
            fcntl.flock(self._lockf, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("another %s command works on lab %s; waiting..." % (self.TOOL, self.name))
            fcntl.flock(self._lockf, fcntl.LOCK_EX)

    def found_hosts(self):
        """The lab's hosts, found by name (works without state): machine dirs and processes."""
        hosts = set()
        mroot = os.path.join(self.dir, "machines")
        if os.path.isdir(mroot):
            hosts.update(h for h in os.listdir(mroot) if HOST_RE.match(h))
        hosts.update(h for _pid, _kind, h in self.lab_processes() if h)
        return sorted(hosts, key=self.index)

    def running(self, host):
        """The pid of the host's machine process when it runs, else None."""
        procs = [p for p, kind, _h in self.lab_processes(host) if kind == self.MACHINE_PROCESS]
        return procs[0] if procs else None

    # ------------------------------------------------------------ SSH
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

    def console_tail(self, host, lines=30):
        try:
            with open(os.path.join(self.mdir(host), "console.log"), errors="replace") as f:
                text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "", f.read())
            return "\n".join([ln for ln in text.splitlines() if ln.strip()][-lines:])
        except FileNotFoundError:
            return "(no console log)"

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

    @property
    def boot_timeout(self):
        return float(os.environ.get("OSDEPLOY_LAB_BOOT_TIMEOUT", str(self.DEFAULT_BOOT_TIMEOUT)))

    # ------------------------------------------------------------ inventory and group_vars
    def inventory_text(self, hosts):
        out = self.inventory_header() + ["", "[controller]"]
        computes = [h for h in hosts if h != "controller"]
        for group, members in (("controller", ["controller"]), ("compute", computes)):
            if group != "controller":
                out += ["", "[%s]" % group]
            for h in members:
                out.append("%s %s" % (h, self.inventory_host_vars(h)))
        out += ["", "[all:vars]"] + self.inventory_connection_vars()
        out += ["ansible_ssh_common_args='%s'" % " ".join(self.ssh_common_args()),
                "ansible_python_interpreter=/usr/bin/python3",
                "lab_name=%s" % self.name] + self.inventory_lab_vars(hosts)
        return "\n".join(out) + "\n"

    def ensure_group_vars(self):
        """Random secrets (made once, kept) and the lab's platform settings, beside the inventory."""
        gv = os.path.join(self.dir, "group_vars")
        secrets_path = os.path.join(gv, "all", "secrets.yml")
        # A secret is made once and kept; one that a newer version of the
        # collection needs is added after the existing ones, which stay byte for byte.
        old = None
        if os.path.exists(secrets_path):
            with open(secrets_path) as f:
                old = f.read()
        missing = missing_secrets(old)
        if missing:
            header = ["# Random secrets of the osdeploy lab %s, made once by `%s`," % (self.name, self.TOOL),
                      "# kept until the lab is removed. Mode 0600: do not share."]
            before = "\n".join(header) + "\n" if old is None else old + ("" if old.endswith("\n") else "\n")
            os.makedirs(os.path.dirname(secrets_path), mode=0o700, exist_ok=True)
            write_file(secrets_path, before + "\n".join(secrets_lines(missing)) + "\n", 0o600)
            self.changes.append("secrets %s (%s)" % (secrets_path, ", ".join(missing)))
        files = {group: {"lab.yml": text} for group, text in self.platform_group_vars().items()}
        example = self.example_values()
        if example is not None:
            files.setdefault("all", {})["main.yml"] = example_inventory_vars(example, self.TOOL)
        if self.state.get("openstack"):
            files.setdefault("all", {})["openstack.yml"] = openstack_group_vars(self.state["openstack"])
        for group, named in files.items():
            os.makedirs(os.path.join(gv, group), mode=0o700, exist_ok=True)
            for name, text in named.items():
                if write_file(os.path.join(gv, group, name), text, 0o644):
                    self.changes.append("group_vars of %s (%s)" % (group, name))

    # ------------------------------------------------------------ commands
    def refuse_other_release(self):
        """`up` keeps the release the lab was made with: another one needs `down` first."""
        if self.requested_release and self.requested_release != self.release:
            raise LabError("lab %s exists with release %s; `%s down` first to use %s" % (
                self.name, self.release, self.TOOL, self.requested_release))

    def refuse_other_openstack(self, openstack):
        """`up` keeps what the hosts of a lab got of OpenStack: switching Debian's packages and a source
        release, or two releases, under a cloud that may be deployed is an upgrade, not a lab setting."""
        current = self.state.get("openstack") or "default"     # no choice: the collection's defaults
        if openstack != current and self.found_hosts():
            raise LabError("lab %s has hosts made for --openstack %s; `%s down` first to use %s (or, to upgrade "
                           "the cloud they run, `%s openstack %s`, then the upgrade command)" % (
                               self.name, current, self.TOOL, openstack, self.TOOL, openstack))

    def set_openstack(self, openstack):
        """The inventory's OpenStack becomes `openstack` (distro or source:RELEASE) on a lab that exists, its hosts
        untouched: what an operator changes in the inventory before the upgrade command (playbooks/upgrade.yml)."""
        self.lock()
        if not self.found_hosts() or not os.path.exists(self.inventory):
            raise LabError("lab %s has no hosts: `%s up --openstack %s` makes them" % (self.name, self.TOOL, openstack))
        self.state["openstack"] = check_openstack(openstack)
        self.save_state()
        self.ensure_group_vars()
        log("lab %s: the inventory now asks for --openstack %s (%s)" % (
            self.name, openstack, ", ".join(self.changes) or "unchanged"))

    def ensure_built(self):
        """What the hosts boot (kept in the state), built when the lab has none or its cache entry is gone."""
        built = self.state.get(self.BUILT_FROM)
        if not built or not is_cached(os.path.dirname(built)):
            built = self.build(release=self.release)
            self.state[self.BUILT_FROM] = built
            self.save_state()
        return built

    def up(self, computes=None, openstack=None):
        """The controller and `computes` compute hosts (default: as before, else 1) up and answering
        SSH, the others gone, the inventory written; idempotent. `openstack` (distro or
        source:RELEASE; default: as before, else the collection's defaults) goes into group_vars."""
        self.lock()
        start = time.monotonic()
        self.refuse_other_release()
        if computes is None:
            computes = self.state.get("computes", 1)
        hosts = self.hosts_for(computes)
        for h in hosts:
            self.ip(h)      # fits in the subnet?
        self.check_network()
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o700)
        self.state.update(self.choose_settings())
        self.state.update({"name": self.name, "subnet": str(self.net), "computes": computes,
                           "release": self.release})
        if openstack:
            self.refuse_other_openstack(openstack)
            self.state["openstack"] = check_openstack(openstack)
        self.save_state()

        # Hosts beyond the requested count go (declarative --computes).
        for h in self.found_hosts():
            if h not in hosts:
                log("removing %s (not in --computes %d)" % (h, computes))
                self.changes += self.remove_machine(h)

        built = self.ensure_built()
        self.ensure_key()
        self.ensure_group_vars()
        self.ensure_network()
        started = {}
        for h in hosts:
            proc = self.ensure_host(h, hosts, built)
            if proc is not None:
                started[h] = proc

        self.write_known_hosts(hosts)
        booted = time.monotonic()
        deadline = booted + self.boot_timeout
        for h in hosts:
            state = self.wait_ready(h, deadline, started.get(h))
            if state != "running":
                failed = run(self.ssh_cmd(h, "systemctl --failed --plain --no-legend"), check=False).stdout.strip()
                log("warning: %s is %s; failed units:\n%s" % (h, state, failed))
        if started:
            log("booted %s in %.1fs" % (", ".join(started), time.monotonic() - booted))
        self.ensure_host_cas(hosts)
        if write_file(self.inventory, self.inventory_text(hosts)):
            self.changes.append("inventory %s" % self.inventory)
        for h in hosts:
            log("%-11s %-15s ssh %s:%-5d running  (%s ssh %s)" % (
                h, self.ip(h), *self.ssh_endpoint(h), self.TOOL, h))
        log("inventory: %s" % self.inventory)
        if self.changes:
            log("up: changed in %.1fs: %s" % (time.monotonic() - start, "; ".join(self.changes)))
        else:
            log("up: no change (%.1fs)" % (time.monotonic() - start))

    def ensure_host_cas(self, hosts):
        """Make every host trust this machine's local CA certificates (LOCAL_CA_DIR/**/*.crt), as a
        copy in LAB_CA_DIR and update-ca-certificates, so that what runs there (pip) reaches the package
        registries through the same TLS-intercepting proxies. Done at every `up`, over SSH, not in
        the cached build: the certificates may change between two `up`s. Unchanged: nothing done.
        update-ca-certificates in a VM under TCG emulation takes minutes (the vm scenario's 12 ups all
        timed out at 120 s): it may take as long as the backend's boot."""
        script = ca_sync_script(local_ca_certificates())
        for h in hosts:
            if run(self.ssh_cmd(h, "sh", "-s"), input_text=script,
                   timeout=max(120, self.boot_timeout)).stdout.strip() == "changed":
                self.changes.append("CA certificates of %s" % h)

    def hosts_left_after_removing(self, hosts, only):
        """The number of computes that stay when `down HOST...` removes `only` (the last computes alone)."""
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

    def down(self, only=None, now=False):
        """Remove the whole lab, found by name (also after an interrupted up), or only the last computes.
        now: stop the hosts at once (SIGKILL), without their orderly poweroff (the lab is thrown away)."""
        self.lock()
        self.stop_at_once = now
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
                self.update_hosts_file(h, left)
            if os.path.exists(self.inventory):
                write_file(self.inventory, self.inventory_text(left))
                self.write_known_hosts(left)
            log("down %s: removed %s" % (" ".join(only), "; ".join(done)))
            return
        if not now:
            self.begin_power_off(hosts)
        for h in hosts:
            done += self.remove_machine(h, keep_disk=True)
        done += self.remove_disks(hosts)
        done += self.remove_network()
        if os.path.lexists(self.dir):
            rm_tree(self.dir)
            done.append("state dir %s" % self.dir)
        try:
            os.unlink(self.dir + ".lock")
        except FileNotFoundError:
            pass
        log("down: %s (%.1fs)" % ("; ".join(done) if done else "nothing to remove", time.monotonic() - start))

    def remove_disk(self, host):
        """Remove a stopped host's disk (its folder, with no mount left in it); say what went."""
        md = self.mdir(host)
        if not os.path.lexists(md):
            return []
        if mounts_under(md):
            raise LabError("%s still has mounts: %s" % (md, mounts_under(md)))
        rm_tree(md)
        return ["disk of %s" % host]

    def remove_disks(self, hosts):
        """Remove the disks of stopped hosts, all at once: a disk is tens of thousands of files (the
        environments, the packages), and one rm alone leaves the machine's I/O mostly idle (a lab of
        two hosts: 33 s one after the other)."""
        with concurrent.futures.ThreadPoolExecutor(max(1, len(hosts))) as pool:
            return [what for done in pool.map(self.remove_disk, hosts) for what in done]

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
            log("%-11s %-15s %-8s %s pid %-7s %s" % (
                h, self.ip(h), "running" if pid else "stopped", self.MACHINE_PROCESS, pid or "-", answer))
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


def cli(argv, lab_class, doc):
    """The command line of a backend (tools/lab, tools/vmlab: the same verbs, other machines).
    `up` and `build` take --release (default $OSDEPLOY_LAB_RELEASE), passed to lab_class and
    its build as release=."""
    prog = lab_class.TOOL
    releases = tuple(RELEASES)
    parser = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n", maxsplit=1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(doc.split("\n\n")[1:]))
    parser.add_argument("--name", help="lab name (default $OSDEPLOY_LAB_NAME or %s)" % lab_class.DEFAULT_NAME)
    parser.add_argument("--subnet", help="private IPv4 network (default $OSDEPLOY_LAB_SUBNET or %s)"
                        % lab_class.DEFAULT_SUBNET)
    sub = parser.add_subparsers(dest="cmd", required=True)
    release_help = ("the hosts' Debian release: %s (default $OSDEPLOY_LAB_RELEASE, else the lab's, else %s)"
                    % (", ".join(releases), releases[0]))
    p = sub.add_parser("up", help="bring the lab up (idempotent)")
    p.add_argument("--computes", type=int, help="number of compute hosts (default: as before, else 1)")
    p.add_argument("--release", choices=list(releases), help=release_help)
    p.add_argument("--openstack", help="what the hosts get of OpenStack: distro (Debian's packages of the release) "
                   "or source:RELEASE, e.g. source:2026.2 (default $OSDEPLOY_LAB_OPENSTACK, else the lab's, "
                   "else the collection's defaults)")
    p = sub.add_parser("openstack", help="change the inventory's OpenStack of a lab that exists (before an upgrade)")
    p.add_argument("spec", help="distro or source:RELEASE; the hosts are untouched")
    p = sub.add_parser("down", help="remove the lab, or only the named hosts")
    p.add_argument("hosts", nargs="*")
    p.add_argument("--now", action="store_true",
                   help="kill the hosts at once instead of powering them off in order (what a test's "
                        "teardown needs; the nspawn lab)")
    sub.add_parser("status", help="show the lab's hosts")
    sub.add_parser("report", help="print each host's failed units and last errors")
    p = sub.add_parser("inventory", help="print the inventory path")
    p.add_argument("--show", action="store_true", help="print its content instead")
    p = sub.add_parser("ssh", help="ssh into a host")
    p.add_argument("host")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p = sub.add_parser("build", help="build the cached image of the hosts; print its path")
    p.add_argument("--rebuild", action="store_true")
    p.add_argument("--release", choices=list(releases), help=release_help)
    sub.add_parser("prune", help="remove cached images no lab uses")
    args = parser.parse_args(argv)

    try:
        if os.geteuid() != 0:
            raise LabError("%s must run as root (%s)" % (prog, lab_class.WHY_ROOT))
        if "/usr/sbin" not in os.environ.get("PATH", "").split(":"):
            os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
        missing = sorted({pkg for tool, pkg in lab_class.NEEDED_TOOLS.items()
                          if not any(os.access(os.path.join(d, tool), os.X_OK)
                                     for d in os.environ["PATH"].split(":"))})
        if missing:
            raise LabError("missing tools; install: apt-get install %s (or run tools/install-deps)" % " ".join(missing))
        release = {}     # only up and build choose one; the other commands use the lab's
        if args.cmd in ("up", "build"):
            chosen = args.release or os.environ.get("OSDEPLOY_LAB_RELEASE")
            if chosen and chosen not in releases:
                raise LabError("OSDEPLOY_LAB_RELEASE=%s: use one of %s" % (chosen, ", ".join(releases)))
            if chosen:
                release = {"release": chosen}
        if args.cmd == "build":
            print(lab_class.build(rebuild=args.rebuild, **release), flush=True)
            return 0
        if args.cmd == "prune":
            lab_class.prune()
            return 0
        if args.cmd == "up" and args.computes is not None and not 0 <= args.computes <= lab_class.MAX_COMPUTES:
            raise LabError("--computes: 0..%d" % lab_class.MAX_COMPUTES)
        openstack = None
        if args.cmd == "up":
            openstack = args.openstack or os.environ.get("OSDEPLOY_LAB_OPENSTACK") or None
            openstack = check_openstack(openstack) if openstack else None
        lab = lab_class(args.name, args.subnet, **release)
        if args.cmd == "up":
            lab.up(args.computes, openstack)
        elif args.cmd == "openstack":
            lab.set_openstack(args.spec)
        elif args.cmd == "down":
            lab.down(args.hosts, now=args.now)
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
