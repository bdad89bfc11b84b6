"""The guest test image (tools/test-image), booted as Nova's libvirt driver boots it.

The image is built (or taken from the cache) and booted by qemu under TCG from
a virtio disk through SeaBIOS, its virtio NIC on a tap device inside a network
namespace that the test creates (nothing is added to this machine's own
namespaces). The namespace plays Neutron's part as its DHCP agent does it:
dnsmasq with the router option and option 121 (the route to 169.254.169.254),
and a metadata service on 169.254.169.254 serving meta_data.json. The guest's
serial console log must show the markers with the address and the uuid, the
guest must answer ping, and every TCP/UDP checksum it sends must be filled in
(read through AF_PACKET, the way Open vSwitch's userspace datapath reads a
tap), and ACPI's power button must power it off. A second boot without a metadata service must print `metadata failed`:
the marker check can fail. A third boots the image with virtio_net's default
offloads (its initramfs repacked by the test) and must be caught sending bad
checksums: the checksum check can fail too, and csum=0 gso=0 is what passes it.

Each boot takes seconds under TCG (about 4 s to the boot marker, 5 s to the
metadata marker on a 2-core machine); the metadata-less one waits out the
guest's 60 s bound.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import pytest
from private_services import stop_process   # tools/services (pytest.ini): the integration tier's process helper

from osdeploy_lab.common import TOOLS
from osdeploy_lab.testimage import MARKERS

TEST_IMAGE = os.path.join(TOOLS, "test-image")
SNIFFER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "checksum_sniffer.py")

NS_PREFIX = "osdti-"
# TEST-NET-1: a documentation range, inside a namespace of our own anyway.
HOST_IP = "192.0.2.1"           # the namespace: DHCP server and metadata's next hop
GUEST_IP = "192.0.2.50"
NO_ROUTER = "192.0.2.254"       # nothing answers there
METADATA_IP = "169.254.169.254"
GUEST_MAC = "fa:16:3e:00:00:50"  # Neutron's MAC prefix
BOOT_TIMEOUT = 180              # to the last marker, generous for a busy 2-core machine
MAX_IMAGE_BYTES = 64 * 1024 * 1024
SHUTDOWN_TIMEOUT = 60           # Nova's [DEFAULT] shutdown_timeout: how long a clean shutdown may take


def sh(*cmd, check=True):
    return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=60)


def remove_namespace(ns):
    """Kill what still runs in the namespace, then delete it."""
    for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
        try:
            os.kill(int(pid), 9)
        except ProcessLookupError:
            pass
    sh("ip", "netns", "delete", ns, check=False)


def remove_stale_namespaces():
    """Namespaces of earlier runs whose pytest died before cleaning up."""
    for line in sh("ip", "netns", "list").stdout.splitlines():
        ns = line.split()[0] if line.split() else ""
        match = re.fullmatch(re.escape(NS_PREFIX) + r"(\d+)-\w+", ns)
        if match and not os.path.exists("/proc/%s" % match.group(1)):
            remove_namespace(ns)


@pytest.fixture(scope="module")
def image():
    proc = subprocess.run([TEST_IMAGE], capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, "tools/test-image: rc %s\n%s" % (proc.returncode, proc.stderr)
    path = proc.stdout.strip()
    assert os.path.isfile(path) and proc.stdout.count("\n") == 1, proc.stdout
    return path


class GuestNetwork:
    """A network namespace with a tap for the guest, dnsmasq, optionally a metadata
    service, and a checksum sniffer on the tap; then the guest itself."""

    def __init__(self, tag, metadata, classless_routes):
        self.ns = "%s%d-%s" % (NS_PREFIX, os.getpid(), tag)
        self.dir = tempfile.mkdtemp(prefix="osdeploy-test-image-")
        self.metadata = metadata
        self.classless_routes = classless_routes
        self.procs = []
        self.qemu = None
        self.started = None
        self.console = os.path.join(self.dir, "console.log")
        self.uuid = str(uuid.uuid4())
        self.name = "osdeploy-test-%s" % tag

    def spawn(self, name, argv):
        with open(os.path.join(self.dir, "%s.log" % name), "w") as log:
            proc = subprocess.Popen(["ip", "netns", "exec", self.ns] + argv, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def log(self, name):
        path = os.path.join(self.dir, "%s.log" % name)
        return open(path, errors="replace").read() if os.path.exists(path) else ""

    def start(self):
        sh("ip", "netns", "add", self.ns)
        for cmd in (["link", "set", "lo", "up"],
                    ["tuntap", "add", "dev", "tap0", "mode", "tap"],
                    ["addr", "add", HOST_IP + "/24", "dev", "tap0"],
                    ["addr", "add", METADATA_IP + "/32", "dev", "tap0"],
                    ["link", "set", "tap0", "up"]):
            sh("ip", "-n", self.ns, *cmd)
        # As Neutron's DHCP agent configures dnsmasq for a subnet whose
        # metadata comes through the DHCP port: the default route and the
        # metadata route in option 121, the router option beside it. Here
        # the router is a dead end, so the metadata service is reachable only
        # when the guest follows option 121.
        if self.classless_routes:
            options = ["--dhcp-option=option:router,%s" % NO_ROUTER, "--dhcp-option=option:mtu,1450",
                       "--dhcp-option=option:classless-static-route,%s/32,%s,0.0.0.0/0,%s"
                       % (METADATA_IP, HOST_IP, NO_ROUTER)]
        else:
            options = ["--dhcp-option=option:router,%s" % HOST_IP]
        self.spawn("dnsmasq", [
            "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0", "--user=root",
            "--interface=tap0", "--bind-interfaces", "--log-dhcp", "--log-facility=-",
            "--dhcp-range=%s,static,255.255.255.0,10m" % GUEST_IP,
            "--dhcp-host=%s,%s" % (GUEST_MAC, GUEST_IP),
            "--dhcp-leasefile=%s" % os.path.join(self.dir, "leases"),
            "--pid-file=%s" % os.path.join(self.dir, "dnsmasq.pid")] + options)
        if self.metadata:
            docroot = os.path.join(self.dir, "metadata")
            os.makedirs(os.path.join(docroot, "openstack", "latest"))
            with open(os.path.join(docroot, "openstack", "latest", "meta_data.json"), "w") as f:
                # The shape of Nova's answer, a keypair's "name" included: the
                # guest must print the server's name, not the key's.
                json.dump({"uuid": self.uuid, "name": self.name, "hostname": self.name + ".novalocal",
                           "keys": [{"name": "a-keypair", "type": "ssh", "data": "ssh-ed25519 AAAA"}],
                           "public_keys": {"a-keypair": "ssh-ed25519 AAAA"}, "launch_index": 0,
                           "availability_zone": "nova", "meta": {}, "devices": []}, f)
            self.spawn("metadata", [sys.executable, "-u", "-m", "http.server", "--bind", METADATA_IP,
                                    "--directory", docroot, "80"])
        self.spawn("sniffer", [sys.executable, SNIFFER, "tap0", GUEST_MAC, os.path.join(self.dir, "checksums")])
        deadline = time.monotonic() + 20
        while not (self.log("dnsmasq") and "listening" in self.checksums()
                   and (not self.metadata or "Serving HTTP" in self.log("metadata"))):
            for proc in self.procs:
                assert proc.poll() is None, "a helper exited early:\n%s" % self.logs()
            assert time.monotonic() < deadline, "helpers did not start:\n%s" % self.logs()
            time.sleep(0.1)

    def boot(self, image, machine="pc", image_format="qcow2"):
        """Boot the image as Nova's libvirt driver (virt_type qemu) would: SeaBIOS,
        virtio disk and NIC, serial console to a file, a VGA card for tty0."""
        self.started = time.monotonic()
        self.qemu = self.spawn("qemu", [
            "qemu-system-x86_64", "-name", self.ns, "-machine", machine, "-accel", "tcg", "-m", "128",
            "-nodefaults", "-display", "none", "-vga", "std",
            "-chardev", "file,id=console,path=%s" % self.console, "-serial", "chardev:console",
            "-drive", "file=%s,if=virtio,format=%s,snapshot=on" % (image, image_format),
            "-netdev", "tap,id=nic,ifname=tap0,script=no,downscript=no",
            "-device", "virtio-net-pci,netdev=nic,mac=%s" % GUEST_MAC,
            "-qmp", "unix:%s,server=on,wait=off" % os.path.join(self.dir, "qmp.sock")])

    def press_power_button(self):
        """ACPI's power button, as libvirt presses it for Nova's clean shutdown (QMP system_powerdown);
        return the seconds until qemu exited (the guest powered off), None when it still runs after
        SHUTDOWN_TIMEOUT s, Nova's own bound before it pulls the plug."""
        qmp = socket.socket(socket.AF_UNIX)
        qmp.settimeout(10)
        qmp.connect(os.path.join(self.dir, "qmp.sock"))
        with qmp, qmp.makefile("rw") as f:
            f.readline()  # the greeting
            for command in ("qmp_capabilities", "system_powerdown"):
                f.write(json.dumps({"execute": command}) + "\n")
                f.flush()
                answer = {"event": None}
                while "event" in answer:  # events (POWERDOWN) may come before the answer
                    answer = json.loads(f.readline())
                assert "return" in answer, answer
        pressed = time.monotonic()
        try:
            self.qemu.wait(timeout=SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            return None
        return round(time.monotonic() - pressed, 1)

    def wait_for_markers(self):
        """{marker: seconds after qemu started} until a hostname marker (ok or failed) appears: the guest prints
        one after its metadata marker, whether the metadata came or not."""
        seen = {}
        deadline = self.started + BOOT_TIMEOUT
        while time.monotonic() < deadline:
            text = self.console_text()
            for name, pattern in MARKERS.items():
                if name not in seen and pattern.search(text):
                    seen[name] = round(time.monotonic() - self.started, 1)
            if "hostname" in seen or "hostname_failed" in seen:
                return seen
            assert "Kernel panic" not in text, "the guest's kernel panicked:\n%s" % self.logs()
            assert self.qemu.poll() is None, "qemu exited:\n%s" % self.logs()
            time.sleep(0.1)
        raise AssertionError("no hostname marker within %s s (seen: %s)\n%s" % (BOOT_TIMEOUT, seen, self.logs()))

    def console_text(self):
        return open(self.console, errors="replace").read() if os.path.exists(self.console) else ""

    def checksums(self):
        path = os.path.join(self.dir, "checksums")
        return open(path).read() if os.path.exists(path) else ""

    def ping(self):
        return sh("ip", "netns", "exec", self.ns, "ping", "-c", "3", "-i", "0.3", "-W", "2", GUEST_IP, check=False)

    def logs(self):
        return "\n".join("---- %s\n%s" % (n, self.log(n)[-3000:]) for n in ("qemu", "dnsmasq", "metadata", "sniffer")) + \
            "\n---- console\n" + self.console_text()[-4000:]

    def stop(self):
        for proc in reversed(self.procs):
            stop_process(proc, grace=10)
        remove_namespace(self.ns)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def guest_network():
    remove_stale_namespaces()
    made = []

    def make(tag, metadata=True, classless_routes=True):
        net = GuestNetwork(tag, metadata, classless_routes)
        made.append(net)
        net.start()
        return net

    yield make
    for net in made:
        net.stop()
        assert not os.path.exists(net.dir)
        assert net.ns not in sh("ip", "netns", "list").stdout
        assert all(proc.poll() is not None for proc in net.procs)


def test_image_is_small(image):
    size = os.path.getsize(image)
    assert size <= MAX_IMAGE_BYTES, "%s is %d bytes" % (image, size)
    info = json.loads(sh("qemu-img", "info", "--output=json", image).stdout)
    assert info["format"] == "qcow2"
    assert info["virtual-size"] <= MAX_IMAGE_BYTES


def test_image_is_cached(image):
    before = os.stat(image)
    assert sh(TEST_IMAGE).stdout.strip() == image
    after = os.stat(image)
    # the same file, not rebuilt (however long the key's computation took)
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)


def test_boot_dhcp_metadata_ping(image, guest_network, record_property):
    net = guest_network("ok")
    net.boot(image)
    seen = net.wait_for_markers()
    record_property("seconds_to_markers", json.dumps(seen))
    print("TCG boot, seconds after qemu started: %s" % seen)
    text = net.console_text()
    assert {"boot", "dhcp", "metadata"} <= set(seen), net.logs()
    assert seen["boot"] <= seen["dhcp"] <= seen["metadata"]
    dhcp = MARKERS["dhcp"].search(text)
    assert (dhcp["ip"], dhcp["iface"]) == (GUEST_IP, "eth0")
    metadata = MARKERS["metadata"].search(text)
    assert (metadata["uuid"], metadata["name"]) == (net.uuid, net.name)
    # named as cloud-init names a guest: the first label of the metadata's hostname
    assert MARKERS["hostname"].search(text)["hostname"] == net.name
    # Option 121 won over the router option (RFC 3442), as Neutron needs.
    assert "route %s via %s" % (METADATA_IP, HOST_IP) in text
    assert "route default via %s" % NO_ROUTER in text
    assert "link eth0 mtu 1450" in text       # as Neutron announces it on a VXLAN network
    assert "GET /openstack/latest/meta_data.json" in net.log("metadata")

    ping = net.ping()
    assert ping.returncode == 0, ping.stdout + ping.stderr

    # What Open vSwitch's userspace datapath would forward: the guest's own
    # TCP (the metadata request) with checksums filled in.
    sent = net.checksums().splitlines()[1:]
    to_metadata = [line for line in sent if line.startswith("tcp %s:" % GUEST_IP) and "> %s:80 " % METADATA_IP in line]
    assert to_metadata, "no TCP from the guest to the metadata service seen:\n%s" % "\n".join(sent)
    assert all(line.endswith(" ok") for line in sent), "\n".join(sent)

    # Nova's clean shutdown (stop, cold migration) presses the power button and waits
    # [DEFAULT] shutdown_timeout (60 s) for the guest to power off before it pulls the plug.
    seconds = net.press_power_button()
    print("powered off %s s after the power button" % seconds)
    assert seconds is not None, "the guest ignored the power button:\n%s" % net.logs()
    assert "osdeploy-test-image: power button: powering off" in net.console_text()


def test_without_metadata_service_the_marker_says_failed(image, guest_network, record_property):
    # On q35, the other x86 machine type (PCIe chipset), which
    # deployments set with [libvirt] hw_machine_type and images with hw_machine_type.
    net = guest_network("nomd", metadata=False, classless_routes=False)
    # the guest gives up on the metadata service after 5 s instead of its 60
    net.boot(image_with_cmdline(image, net.dir, "osdeploy.metadata_wait=5"), machine="q35", image_format="raw")
    seen = net.wait_for_markers()
    record_property("seconds_to_markers", json.dumps(seen))
    print("TCG boot without metadata, seconds after qemu started: %s" % seen)
    text = net.console_text()
    assert "metadata" not in seen and "metadata_failed" in seen, net.logs()
    assert MARKERS["dhcp"].search(text)["ip"] == GUEST_IP
    # Without option 121 the router option gives the default route.
    assert "route default via %s" % HOST_IP in text
    assert "link eth0 mtu 1500" in text
    assert net.ping().returncode == 0


def image_with_cmdline(image, workdir, extra):
    """A raw copy of the image whose kernel command line ends with EXTRA."""
    raw = os.path.join(workdir, "cmdline.raw")
    cfg = os.path.join(workdir, "syslinux.cfg")
    sh("qemu-img", "convert", "-O", "raw", image, raw)
    sh("mcopy", "-i", raw, "::/syslinux.cfg", cfg)
    with open(cfg) as f:
        text = f.read()
    assert "  APPEND " in text, text
    with open(cfg, "w") as f:
        f.write(re.sub(r"^(  APPEND .*)$", r"\1 " + extra, text, flags=re.M))
    sh("mcopy", "-o", "-i", raw, cfg, "::/syslinux.cfg")
    return raw


def image_with_offload(image, workdir):
    """A raw copy of the image whose /init loads virtio_net without csum=0 gso=0:
    the guest then leaves its checksums to offload, as a stock image would."""
    raw = os.path.join(workdir, "offload.raw")
    root = os.path.join(workdir, "initramfs")
    os.makedirs(root)
    sh("qemu-img", "convert", "-O", "raw", image, raw)
    sh("mcopy", "-i", raw, "::/initrd.img", os.path.join(workdir, "initrd.img"))
    subprocess.run("xz -dc ../initrd.img | cpio -idm --quiet", shell=True, cwd=root, check=True)
    with open(os.path.join(root, "init")) as f:
        init = f.read()
    assert " csum=0 gso=0" in init
    with open(os.path.join(root, "init"), "w") as f:
        f.write(init.replace(" csum=0 gso=0", ""))
    subprocess.run("find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet"
                   " | xz --check=crc32 --lzma2=preset=6,dict=1MiB > ../initrd.new",
                   shell=True, cwd=root, check=True)
    sh("mcopy", "-o", "-i", raw, os.path.join(workdir, "initrd.new"), "::/initrd.img")
    return raw


def test_checksum_check_sees_a_guest_that_offloads(image, guest_network):
    # The checksum assertion above can fail, and csum=0 gso=0 is what makes
    # it pass: the same image with virtio_net's defaults sends TCP whose
    # checksum AF_PACKET reads unfilled (ping and DHCP would still work).
    net = guest_network("offload")
    net.boot(image_with_offload(image, net.dir), image_format="raw")
    seen = net.wait_for_markers()
    assert "dhcp" in seen, net.logs()
    sent = net.checksums().splitlines()[1:]
    assert any(line.startswith("tcp %s:" % GUEST_IP) and line.endswith(" bad") for line in sent), "\n".join(sent)
