"""The VM lab (backend qemu): the same hosts as tools/lab, as full qemu virtual machines.

    tools/vmlab up [--computes N] [--release R]
                                    start `controller` and compute1..N (default: as
                                    before, else 1); idempotent; adds or removes computes;
                                    R: the VMs' Debian release (bookworm, the default,
                                    or trixie), kept with the lab
    tools/vmlab down [HOST...]      remove the whole lab (or only the last computes)
    tools/vmlab status              what runs, exit 0 when every VM answers SSH
    tools/vmlab inventory [--show]  path (or content) of the Ansible inventory
    tools/vmlab ssh HOST [CMD...]   SSH into a VM as root
    tools/vmlab build [--rebuild] [--release R]
                                    build (or rebuild) the cached disk image of the
                                    release only; prints its directory
    tools/vmlab prune               delete cached images no lab uses

Each host is a qemu VM (systemd, sshd) booted directly from the kernel of a
Debian disk image (Debian 12 bookworm, or the lab's --release) that
tools/vm.d/build-image makes with mmdebstrap, with every Debian package the
roles install already installed (not started): cached under $OSDEPLOY_CACHE
(default ~/.cache/osdeploy-nova)/vm-image/<key>, key = sha256 of the build
scripts, the release's package lists, the apt sources and the release (one
image per release). Another release's apt sources are this machine's with the
suites renamed, as for the nspawn lab (nspawn.py). Each
VM writes to a qcow2 overlay of it (copy-on-write, deleted by `down`). Each
compute VM also has a second, empty disk for Nova's instances: a sparse raw
image beside its overlay (made at its first `up`, kept until `down`) that the
guest sees as /dev/disk/by-id/virtio-osdeploy-instances (a fixed virtio
serial), the inventory's `nova_instances_device` of that host.

Accelerator: KVM when hw_accel_fact's decision on this machine says it works
for unmodified guests, else TCG (multi-threaded); OSDEPLOY_VM_ACCEL=kvm|tcg
forces one. Two NICs per VM: eth0 qemu user-mode networking (outbound NAT for
apt; sshd forwarded to 127.0.0.1:<port>, the only way in from this machine),
eth1 the lab's private network (OSDEPLOY_LAB_SUBNET, default 192.168.57.0/24;
controller .10, computeN .10+N) made of unix datagram sockets joined by a small
hub process (hub.py here): no interface, bridge, route or firewall rule on
this machine. The VM's identity (hostname, /etc/hosts, eth1, root's
authorized key, SSH host key) reaches it through qemu's fw_cfg.

Everything is found by name for `down`, even when `up` was interrupted: qemu
processes `-name <lab>-<host>`, the hub `hub.py --lab=<lab>`, the state dir
(default $OSDEPLOY_CACHE/lab/<name>, env OSDEPLOY_LAB_DIR).

Environment: OSDEPLOY_LAB_NAME (default osdvm), OSDEPLOY_LAB_SUBNET,
OSDEPLOY_LAB_RELEASE (default bookworm; --release wins), OSDEPLOY_LAB_DIR,
OSDEPLOY_CACHE, OSDEPLOY_LAB_SOURCES, OSDEPLOY_VM_ACCEL,
OSDEPLOY_VM_CPUS (default 2), OSDEPLOY_VM_MEMORY_CONTROLLER (MiB, default 4096),
OSDEPLOY_VM_MEMORY_COMPUTE (default 2560), OSDEPLOY_LAB_BOOT_TIMEOUT (seconds,
default 600).
"""

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid

from .base import Lab, cli
from .common import (INSTANCES_DISK_BYTES, PACKAGE, RELEASES, SUITE, TOOLS, VMD, LabError, accel_inventory_vars,
                     cached_build, check_release, choose_accel, content_key, end_processes, log, proc_cmdlines,
                     prune_cache, read_json, release_sources, rootfs_sources, run, write_file)

# The files of tools/ that make every image; each release's package lists come on top.
IMAGE_INPUTS = (("vm.d", "build-image"), ("vm.d", "customize-image"), ("vm.d", "osdeploy-vm-config"),
                ("lab.d", "customize-rootfs"))
# What the image installs for each release of the lab (RELEASES): the nspawn
# lab's package lists of that release (in tools/lab.d) and these lists of
# tools/vm.d. A list only one release needs goes beside packages-vm.txt and is
# named here. (Every package of these lists has the same name in trixie as in
# bookworm: checked against trixie's package index, 13.x.)
IMAGE_PACKAGES = {
    "bookworm": ("packages-vm.txt", "packages-baked.txt"),
    "trixie": ("packages-vm.txt", "packages-baked.txt"),
}
KERNEL_CMDLINE = "root=/dev/vda rw console=ttyS0 net.ifnames=0 quiet"
# Each compute VM's second disk, for Nova's instances (nova_instances_device): the
# fixed virtio serial gives it a stable name in the guest, whatever its vdX.
INSTANCES_SERIAL = "osdeploy-instances"
INSTANCES_DEVICE = "/dev/disk/by-id/virtio-%s" % INSTANCES_SERIAL


def package_files(release):
    """The package lists the image of the release installs, as (directory of tools/, name)."""
    return (tuple(("lab.d", name) for name in RELEASES[release]["packages"])
            + tuple(("vm.d", name) for name in IMAGE_PACKAGES[release]))


def image_key(sources, release=SUITE):
    return content_key([("%s/%s" % (sub, name), os.path.join(TOOLS, sub, name))
                        for sub, name in IMAGE_INPUTS + package_files(release)], sources, release)


def ensure_image(rebuild=False, release=SUITE):
    """Return the directory of the release's cached VM image (disk.qcow2, vmlinuz, initrd.img)."""
    check_release(release)
    sources = rootfs_sources()
    key = image_key(sources, release)

    def build(tmp, logf, lockf):
        # this machine's apt sources with the suites of the release (the same file
        # for the default release), kept beside the image
        apt_sources = os.path.join(tmp, os.path.basename(sources))
        write_file(apt_sources, release_sources(sources, release))
        log("building the VM image %s (mmdebstrap, %s, the apt sources of %s for %s, every package "
            "the roles install; several minutes, log in %s)..." % (key, release, sources, release, logf.name))
        lists = [os.path.join(TOOLS, sub, name) for sub, name in package_files(release)]
        return subprocess.run([os.path.join(VMD, "build-image"), os.path.join(tmp, "image"), apt_sources, release]
                              + lists, stdout=logf, stderr=subprocess.STDOUT, check=False,
                              pass_fds=(lockf.fileno(),))

    return os.path.join(cached_build("vm-image", key, build, rebuild, in_use=vms_using), "image")


def vms_using(directory):
    """The lab VMs whose qemu uses a file of DIRECTORY (a cached image)."""
    return sorted(h for h, argv in qemu_processes().items() if any(directory in a for a in argv))


def prune_images():
    """Delete the cached VM images that neither today's inputs make nor a running VM uses."""
    sources = rootfs_sources()
    prune_cache("vm-image", {image_key(sources, release) for release in RELEASES}, vms_using)


def qemu_processes():
    """{'<lab>-<host>': argv} of every lab VM's qemu on this machine."""
    found = {}
    for _pid, argv in proc_cmdlines().items():
        if not argv or not os.path.basename(argv[0]).startswith("qemu-system"):
            continue
        for i, a in enumerate(argv[:-1]):
            if a == "-name":
                found[argv[i + 1].split(",")[0]] = argv
    return found


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class QemuLab(Lab):
    TOOL = "tools/vmlab"
    DEFAULT_NAME = "osdvm"
    DEFAULT_SUBNET = "192.168.57.0/24"
    BUILT_FROM = "image"     # a VM lab made before releases were recorded runs Debian 12's image
    MACHINE_PROCESS = "qemu"
    DEFAULT_BOOT_TIMEOUT = 600
    NEEDED_TOOLS = {"qemu-system-x86_64": "qemu-system-x86", "qemu-img": "qemu-utils", "mmdebstrap": "mmdebstrap",
                    "mkfs.ext4": "e2fsprogs", "ssh": "openssh-client", "ssh-keygen": "openssh-client"}
    MAX_COMPUTES = 20
    WHY_ROOT = "mmdebstrap builds the image as root"
    build = staticmethod(ensure_image)
    prune = staticmethod(prune_images)

    def __init__(self, name=None, subnet=None, release=None):
        super().__init__(name, subnet, release)
        self.netdir = os.path.join(self.dir, "net")

    # -- naming and discovery
    def ssh_endpoint(self, host):
        meta = read_json(os.path.join(self.mdir(host), "meta.json"), {}) or {}
        if not meta.get("ssh_port"):
            raise LabError("lab %s has no VM %s" % (self.name, host))
        return "127.0.0.1", meta["ssh_port"]

    def lab_processes(self, host=None):
        """[(pid, 'qemu'|'hub', host)] of this lab."""
        found = []
        for pid, argv in proc_cmdlines().items():
            if pid == os.getpid() or not argv:
                continue
            if os.path.basename(argv[0]).startswith("qemu-system"):
                for i, a in enumerate(argv[:-1]):
                    m = re.match(r"^%s-(controller|compute[1-9][0-9]*)$" % re.escape(self.name),
                                 argv[i + 1].split(",")[0]) if a == "-name" else None
                    if m and host in (None, m.group(1)):
                        found.append((pid, "qemu", m.group(1)))
            elif host is None and "--lab=%s" % self.name in argv and any(a.endswith("hub.py") for a in argv[:3]):
                found.append((pid, "hub", None))
        return found

    # -- the private network's hub
    def ensure_hub(self):
        if any(kind == "hub" for _p, kind, _h in self.lab_processes()):
            return
        os.makedirs(self.netdir, mode=0o700, exist_ok=True)
        with open(os.path.join(self.dir, "hub.log"), "a") as logf:
            subprocess.Popen([sys.executable, os.path.join(PACKAGE, "hub.py"), "--lab=%s" % self.name, self.netdir],
                             stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                             start_new_session=True, close_fds=True, cwd="/")
        hub_sock = os.path.join(self.netdir, "hub.sock")
        deadline = time.monotonic() + 10
        while not os.path.exists(hub_sock):
            if time.monotonic() > deadline:
                raise LabError("the private network's hub did not start; see %s" % os.path.join(self.dir, "hub.log"))
            time.sleep(0.1)
        self.changes.append("hub of the private network")

    # -- VMs
    def fw_cfg(self, host, hosts):
        """Write the VM's fw_cfg files (identity read by osdeploy-vm-config at boot)."""
        md = self.mdir(host)
        cfg = os.path.join(md, "fw_cfg")
        os.makedirs(cfg, mode=0o700, exist_ok=True)
        write_file(os.path.join(cfg, "hostname"), host + "\n")
        write_file(os.path.join(cfg, "hosts"), self.hosts_file(hosts))
        interfaces = ("# osdeploy lab %s: the private network (written by tools/vmlab)\n"
                      "auto eth1\niface eth1 inet static\n    address %s/%d\n")
        write_file(os.path.join(cfg, "interfaces"), interfaces % (self.name, self.ip(host), self.net.prefixlen))
        with open(self.key_path + ".pub") as f:
            write_file(os.path.join(cfg, "authorized_keys"), f.read(), 0o600)
        key = os.path.join(cfg, "ssh_host_ed25519_key")
        if not os.path.exists(key):
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "%s@%s" % (host, self.name), "-f", key])
        return cfg

    def mac_for(self, host, nic):
        digest = hashlib.sha256(("%s/%s/%s" % (self.name, host, nic)).encode()).digest()
        return ":".join("%02x" % b for b in (0x52, 0x54, 0x00) + tuple(digest[:3]))

    # -- the compute VMs' second disk (Nova's instances, nova_instances_device)
    def ensure_instances_disk(self, host):
        """The compute VM's second disk: a sparse, empty raw image beside its overlay, made once and kept
        with the VM (a restart finds its filesystem), seen in the guest as INSTANCES_DEVICE."""
        path = self.instances_image(host)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.truncate(INSTANCES_DISK_BYTES)
            self.changes.append("instances disk of %s" % host)
        return path

    def runs_with_instances_disk(self, host):
        """Whether the host's running qemu has its instances disk (a VM started before the lab had one has not)."""
        argv = qemu_processes().get("%s-%s" % (self.name, host), [])
        path = self.instances_image(host)
        return os.path.exists(path) and any(path in a for a in argv)

    def qemu_argv(self, host, image, meta, accel):
        md = self.mdir(host)
        cfg = os.path.join(md, "fw_cfg")
        memory = os.environ.get("OSDEPLOY_VM_MEMORY_CONTROLLER" if host == "controller"
                                else "OSDEPLOY_VM_MEMORY_COMPUTE", "4096" if host == "controller" else "2560")
        argv = ["qemu-system-x86_64", "-name", "%s-%s,process=%s-%s" % (self.name, host, self.name, host),
                "-machine", "q35"]
        if accel == "kvm":
            argv += ["-accel", "kvm", "-cpu", "host"]
        else:
            argv += ["-accel", "tcg,thread=multi,tb-size=256", "-cpu", "max"]
        argv += ["-smp", os.environ.get("OSDEPLOY_VM_CPUS", "2"), "-m", memory,
                 "-kernel", os.path.join(image, "vmlinuz"), "-initrd", os.path.join(image, "initrd.img"),
                 "-append", KERNEL_CMDLINE,
                 # The disks as explicit devices, the system disk first: it gets the
                 # lowest PCI slot, so the guest names it vda (root=/dev/vda), and the
                 # instances disk after it (an if=virtio drive would come after
                 # every -device and lose vda to the instances disk).
                 "-drive", "file=%s,if=none,id=system,format=qcow2,cache=unsafe,discard=unmap" % os.path.join(
                     md, "disk.qcow2"),
                 "-device", "virtio-blk-pci,drive=system"]
        if host != "controller":
            argv += ["-drive", "file=%s,if=none,id=instances,format=raw,cache=unsafe,discard=unmap" %
                     self.instances_image(host),
                     "-device", "virtio-blk-pci,drive=instances,serial=%s" % INSTANCES_SERIAL]
        argv += ["-netdev", "user,id=mgmt,hostfwd=tcp:127.0.0.1:%d-:22" % meta["ssh_port"],
                 "-device", "virtio-net-pci,netdev=mgmt,mac=%s" % self.mac_for(host, "mgmt"),
                 "-netdev", "dgram,id=lab,local.type=unix,local.path=%s,remote.type=unix,remote.path=%s" % (
                     os.path.join(self.netdir, "%s.sock" % host), os.path.join(self.netdir, "hub.sock")),
                 "-device", "virtio-net-pci,netdev=lab,mac=%s" % self.mac_for(host, "lab"),
                 "-device", "virtio-rng-pci",
                 "-display", "none", "-vga", "none", "-monitor", "none", "-serial", "file:%s" % os.path.join(
                     md, "console.log"),
                 "-smbios", "type=1,serial=%s" % meta["uuid"], "-uuid", meta["uuid"]]
        for name in ("hostname", "hosts", "interfaces", "authorized_keys", "ssh_host_ed25519_key"):
            argv += ["-fw_cfg", "name=opt/osdeploy/%s,file=%s" % (name, os.path.join(cfg, name))]
        return argv

    def start_vm(self, host, image, meta, accel):
        md = self.mdir(host)
        if not port_free(meta["ssh_port"]):
            meta["ssh_port"] = free_port()
            write_file(os.path.join(md, "meta.json"), json.dumps(meta, indent=1) + "\n")
        sock = os.path.join(self.netdir, "%s.sock" % host)
        if os.path.exists(sock):
            os.unlink(sock)
        with open(os.path.join(md, "qemu.log"), "a") as logf:
            logf.write("==== tools/vmlab: start %s at %s\n" % (host, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
            logf.flush()
            proc = subprocess.Popen(self.qemu_argv(host, image, meta, accel), stdin=subprocess.DEVNULL,
                                    stdout=logf, stderr=subprocess.STDOUT, start_new_session=True,
                                    close_fds=True, cwd="/")
        self.changes.append("started %s" % host)
        return proc

    def console_tail(self, host, lines=30):
        text = super().console_tail(host, lines)
        try:
            with open(os.path.join(self.mdir(host), "qemu.log"), errors="replace") as f:
                qemu = f.read().strip().splitlines()[-5:]
        except FileNotFoundError:
            qemu = []
        return text + ("\nqemu: " + "\nqemu: ".join(qemu) if qemu else "")

    def stop_machine(self, host, timeout=10):
        procs = [p for p, kind, _h in self.lab_processes(host) if kind == "qemu"]
        if not procs:
            return []
        # A lab VM is disposable: no orderly shutdown, like pulling the plug.
        end_processes(procs, "%s: qemu" % host)
        return ["VM %s" % host]

    def remove_machine(self, host, keep_disk=False):
        done = self.stop_machine(host)
        sock = os.path.join(self.netdir, "%s.sock" % host)
        if os.path.exists(sock):
            os.unlink(sock)
        if not keep_disk:
            done += self.remove_disk(host)
        return done

    def write_known_hosts(self, hosts):
        lines = []
        for h in hosts:
            with open(os.path.join(self.mdir(h), "fw_cfg", "ssh_host_ed25519_key.pub")) as f:
                kind, key = f.read().split()[:2]
            lines.append("[127.0.0.1]:%d %s %s" % (self.ssh_endpoint(h)[1], kind, key))
        write_file(self.known_hosts, "\n".join(lines) + "\n", 0o600)

    def inventory_host_vars(self, host):
        out = "ansible_host=127.0.0.1 ansible_port=%d osdeploy_management_ip=%s" % (
            self.ssh_endpoint(host)[1], self.ip(host))
        if host != "controller":
            # the compute VM's second disk, by its stable name
            out += " nova_instances_device=%s" % INSTANCES_DEVICE
        return out

    def inventory_lab_vars(self, hosts):
        out = ["lab_network=%s" % self.net] + accel_inventory_vars(self.state.get("accel", "tcg"))
        computes = [h for h in hosts if h != "controller"]
        if computes:
            # The private network is not reachable from this machine: HTTP
            # clients of the controller run on a compute VM.
            out.append("lab_http_client=%s" % computes[0])
        return out

    # -- the steps of up() and down()
    def choose_settings(self):
        accel, why = choose_accel()
        if self.state.get("accel") not in (None, accel):
            log("accelerator changed from %s to %s: restarting the VMs" % (self.state["accel"], accel))
            for h in self.found_hosts():
                self.stop_machine(h)
        log("accelerator: %s (%s)" % (accel, why))
        return {"accel": accel, "kind": "vm"}

    def ensure_network(self):
        self.ensure_hub()

    def ensure_host(self, host, hosts, built):
        md = self.mdir(host)
        meta_path = os.path.join(md, "meta.json")
        meta = read_json(meta_path)
        if meta and meta.get("image") != built:
            log("%s: its disk was made from another image; recreating it" % host)
            self.remove_machine(host)
            meta = None
        cfg_changed = False
        if meta:
            cfg_changed = write_file(os.path.join(md, "fw_cfg", "hosts"), self.hosts_file(hosts))
        restart = False
        if meta and self.running(host):
            if host == "controller" or self.runs_with_instances_disk(host):
                if cfg_changed:
                    # /etc/hosts of a running VM: its fw_cfg copy is read at the next
                    # boot; now, over SSH
                    run(self.ssh_cmd(host, "cat > /etc/hosts"), input_text=self.hosts_file(hosts))
                    self.changes.append("/etc/hosts of %s" % host)
                return None
            log("%s: runs without its instances disk (started before the lab gave it one); "
                "restarting it with one" % host)
            restart = True
        if self.running(host):
            self.stop_machine(host)
        if not meta:
            os.makedirs(md, mode=0o700, exist_ok=True)
            run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2",
                 "-b", os.path.join(built, "disk.qcow2"), os.path.join(md, "disk.qcow2")])
            meta = {"host": host, "image": built, "ip": str(self.ip(host)), "ssh_port": free_port(),
                    "uuid": str(uuid.uuid4()),
                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            self.fw_cfg(host, hosts)
            write_file(meta_path, json.dumps(meta, indent=1) + "\n")
            self.changes.append("created %s" % host)
        else:
            if not restart:
                log("%s: not running; starting it again" % host)
            self.fw_cfg(host, hosts)
        if host != "controller":
            self.ensure_instances_disk(host)
        return self.start_vm(host, built, meta, self.state["accel"])

    def update_hosts_file(self, host, hosts):
        write_file(os.path.join(self.mdir(host), "fw_cfg", "hosts"), self.hosts_file(hosts))

    def remove_network(self):
        hubs = [pid for pid, kind, _h in self.lab_processes() if kind == "hub"]
        end_processes(hubs, "the private network's hub")
        return ["hub"] * len(hubs)

    def status_header(self):
        return "VM lab %s: %s, private network %s, accelerator %s, state %s" % (
            self.name, self.release, self.net, self.state.get("accel", "?"), self.dir)


def main(argv=None):
    return cli(argv, QemuLab, __doc__)


if __name__ == "__main__":
    sys.exit(main())
