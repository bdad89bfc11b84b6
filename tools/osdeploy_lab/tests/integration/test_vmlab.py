"""The VM lab (tools/vmlab), checked from outside its VMs.

Brings up a private VM lab (its own name and subnet) with a controller and one
compute VM from the project's image (built on the first run, about 4 minutes;
then cached), and checks each VM as a user would: SSH through the forwarded
port with the host key known beforehand, hostname, systemd with no failed
unit, the private network between the VMs (and only between them), the baked
packages installed but not started, Ansible, hw_accel_fact's decision inside a
compute VM, and the compute VM's second disk for Nova's instances (empty, at
the stable path the inventory gives as nova_instances_device; none on the
controller). Then that `up` again changes nothing, that a VM killed hard comes
back with its disks, that an interrupted `up` of a second lab is cleaned by
`down`, and that `down` leaves no process or file behind.

Under TCG each boot takes 1-3 minutes on a 2-core machine; the whole module
about 6-8 minutes.
"""
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

VMLAB = os.path.join(TOOLS, "vmlab")
NAME = "osdtvm"
NAME_B = "osdtvmb"
SUBNET = "192.168.161.0/24"
# Failed units we accept in a lab VM: none.
EXPECTED_FAILED_UNITS = set()
# each compute VM's second disk (tools/osdeploy_lab/qemu.py), by the name its virtio serial gives it
INSTANCES_DEVICE = "/dev/disk/by-id/virtio-osdeploy-instances"
INSTANCES_DISK_BYTES = 4 * 1024 ** 3


def proc_cmdlines():
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    found[int(entry)] = f.read().decode(errors="replace").split("\0")
            except OSError:
                continue
    return found


class VmLabRunner(LabCommand):
    def __init__(self, name, subnet):
        super().__init__(VMLAB, name, subnet)
        self.prefix = subnet.rsplit(".", 1)[0]

    def ip(self, host):
        return "%s.%d" % (self.prefix, 10 if host == "controller" else 10 + int(host[7:]))

    def qemu_pids(self):
        """{host: pid} of this lab's qemu processes."""
        found = {}
        for pid, argv in proc_cmdlines().items():
            if argv and os.path.basename(argv[0]).startswith("qemu-system") and "-name" in argv:
                m = re.match(r"^%s-(controller|compute\d+)," % re.escape(self.name), argv[argv.index("-name") + 1])
                if m:
                    found[m.group(1)] = pid
        return found

    def leftovers(self):
        left = {}
        left["qemu"] = sorted(self.qemu_pids().items())
        left["hub"] = [pid for pid, argv in proc_cmdlines().items() if "--lab=%s" % self.name in argv]
        left["state dir"] = [self.dir] if os.path.exists(self.dir) else []
        return {k: v for k, v in left.items() if v}


@pytest.fixture(scope="module")
def lab():
    runner = VmLabRunner(NAME, SUBNET)
    runner.run("down")      # leftovers of an aborted earlier run
    start = time.monotonic()
    try:
        runner.up = runner.run("up", "--computes", "1")
    except AssertionError:
        runner.run("down", check=False)
        raise
    print("tools/vmlab up: %.1fs\n%s" % (time.monotonic() - start, runner.up.stdout))
    yield runner
    runner.run("down", check=False)


def inventory(lab):
    with open(os.path.join(lab.dir, "inventory.ini")) as f:
        return f.read()


def instances_image(lab, host="compute1"):
    return os.path.join(lab.dir, "machines", host, "instances.img")


def test_inventory_reaches_the_vms_on_loopback_with_known_host_keys(lab):
    text = inventory(lab)
    for host in ("controller", "compute1"):
        m = re.search(r"^%s ansible_host=127\.0\.0\.1 ansible_port=(\d+) osdeploy_management_ip=(\S+)"
                      r"( nova_instances_device=\S+)?$" % host, text, re.M)
        assert m, text
        assert m.group(2) == lab.ip(host)
        # a compute's instances on its second disk, by its stable name; the controller has none
        assert m.group(3) == (None if host == "controller" else " nova_instances_device=%s" % INSTANCES_DEVICE)
    assert "StrictHostKeyChecking=yes" in text
    accel = re.search(r"^lab_accel=(kvm|tcg)$", text, re.M)
    assert accel
    # emulated hosts get the roles' wait bounds an operator would give them
    assert bool(re.search(r"^nova_service_timeout=1800$", text, re.M)) == (accel.group(1) == "tcg")
    assert re.search(r"^lab_http_client=compute1$", text, re.M)
    with open(os.path.join(lab.dir, "ssh", "known_hosts")) as f:
        assert len([ln for ln in f if ln.startswith("[127.0.0.1]:")]) == 2
    secrets = os.path.join(lab.dir, "group_vars", "all", "secrets.yml")
    assert oct(os.stat(secrets).st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("host", ["controller", "compute1"])
def test_vm_is_a_booted_debian_with_its_own_kernel(lab, host):
    out = lab.ssh(host, "hostname; cat /proc/1/comm; . /etc/os-release; echo $VERSION_ID; "
                        "systemd-detect-virt; systemctl is-system-running; "
                        "systemctl --failed --plain --no-legend").stdout.split("\n")
    hostname, pid1, version, virt, state = out[:5]
    failed = {ln.split()[0] for ln in out[5:] if ln.strip()}
    assert (hostname, pid1, version) == (host, "systemd", "12")
    assert virt in ("qemu", "kvm")           # a VM, not a container
    assert state == "running", (state, failed)
    assert failed <= EXPECTED_FAILED_UNITS


def test_private_network_between_the_vms(lab):
    addr = lab.ssh("controller", "ip -4 -o addr show dev eth1").stdout
    assert " %s/24 " % lab.ip("controller") in addr
    out = lab.ssh("compute1", "ping -c2 -W5 controller && getent hosts controller").stdout
    assert "2 received" in out and out.strip().endswith("controller") and lab.ip("controller") in out
    probe = "python3 -c 'import socket; socket.create_connection((\"%s\", 22), 10); print(\"open\")'"
    assert lab.ssh("controller", probe % lab.ip("compute1")).stdout.strip() == "open"
    # nothing on this machine is on that network
    routes = subprocess.run(["ip", "-4", "route", "get", lab.ip("controller")], capture_output=True, text=True,
                            check=False).stdout
    assert "dev lo" not in routes and lab.prefix + "." not in subprocess.run(
        ["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True).stdout


def test_baked_packages_are_installed_but_not_started(lab):
    out = lab.ssh("controller", "dpkg-query -W -f '${db:Status-Status} ${Package}\\n' mariadb-server "
                                "rabbitmq-server keystone nova-api nova-conductor nova-scheduler; "
                                "systemctl is-active mariadb nova-api || true").stdout.split("\n")
    assert sorted(out[:6]) == ["installed keystone", "installed mariadb-server", "installed nova-api",
                               "installed nova-conductor", "installed nova-scheduler", "installed rabbitmq-server"]
    assert out[6:8] == ["inactive", "inactive"]
    assert lab.ssh("compute1", "dpkg-query -W -f '${db:Status-Status}' nova-compute").stdout == "installed"


def test_ansible_and_hw_accel_fact_inside_the_compute_vm(lab):
    ansible = shutil.which("ansible")
    assert ansible, "ansible not in PATH (run through tools/test or with the venv's bin in PATH)"
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal",
               ANSIBLE_TIMEOUT="60", ANSIBLE_PIPELINING="1")
    proc = subprocess.run([ansible, "-i", os.path.join(lab.dir, "inventory.ini"), "compute1", "--one-line",
                           "-m", "osdeploy.nova.hw_accel_fact"], capture_output=True, text=True, env=env,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(re.search(r"^compute1 \| SUCCESS => (\{.*\})$", proc.stdout, re.M).group(1))
    facts = result["ansible_facts"]["hw_accel"]
    accel = re.search(r"^lab_accel=(\w+)$", inventory(lab), re.M).group(1)
    if accel == "tcg":
        # an emulated CPU (-cpu max offers svm/vmx and a working /dev/kvm inside):
        # nested guests would crawl, so the decision must be qemu, for that reason
        assert facts["virtualization"] == "qemu", facts
        assert facts["virt_type"] == "qemu" and "emulation" in facts["reason"], facts
    assert facts["reason"]


def test_the_compute_vm_has_an_empty_instances_disk_at_a_stable_path(lab):
    # the guest's view: a second virtio disk named by its serial, not the system disk, of the lab's size, and
    # empty (no signature of any kind, no partition): what the compute role's instance_storage formats
    out = lab.ssh("compute1", "readlink -e %s; findmnt -n -o SOURCE /; blockdev --getsize64 %s; ls /sys/block" % (
        INSTANCES_DEVICE, INSTANCES_DEVICE)).stdout.split("\n")
    device, root, size = out[:3]
    assert re.match(r"^/dev/vd[b-z]$", device) and root == "/dev/vda", out
    assert int(size) == INSTANCES_DISK_BYTES
    assert sorted(b for b in out[3:] if b.startswith("vd")) == ["vda", os.path.basename(device)]
    probe = lab.ssh("compute1", "blkid -p %s; echo blkid rc=$?; wipefs --no-act %s; lsblk -n -o NAME %s" % (
        device, device, device)).stdout
    assert probe == "blkid rc=2\n%s\n" % os.path.basename(device), probe
    # this machine's view: a sparse image beside the VM's overlay
    st = os.stat(instances_image(lab))
    assert st.st_size == INSTANCES_DISK_BYTES and st.st_blocks * 512 <= 1024 ** 2, st
    # the controller has the system disk only
    out = lab.ssh("controller", "ls /sys/block; ls /dev/disk/by-id 2>/dev/null; true").stdout
    assert [b for b in out.split() if b.startswith("vd")] == ["vda"] and "osdeploy-instances" not in out, out
    assert not os.path.exists(instances_image(lab, "controller"))


def test_up_again_changes_nothing(lab):
    pids = lab.qemu_pids()
    mtime = os.stat(os.path.join(lab.dir, "inventory.ini")).st_mtime_ns
    disk = os.stat(instances_image(lab))
    out = lab.run("up").stdout
    assert "up: no change" in out, out
    assert lab.qemu_pids() == pids and sorted(pids) == ["compute1", "controller"]
    assert os.stat(os.path.join(lab.dir, "inventory.ini")).st_mtime_ns == mtime
    # the instances disk is the same file, untouched, and still the VM's
    again = os.stat(instances_image(lab))
    assert (again.st_ino, again.st_size, again.st_mtime_ns) == (disk.st_ino, disk.st_size, disk.st_mtime_ns)
    assert lab.ssh("compute1", "readlink -e %s" % INSTANCES_DEVICE).stdout.strip().startswith("/dev/vd")


def test_a_killed_vm_comes_back_with_its_disks(lab):
    pids = lab.qemu_pids()
    lab.ssh("compute1", "echo survived > /root/marker && sync")
    # and on the instances disk, 1 MiB in (raw, no filesystem needed)
    write_marker = "printf instances-survived | dd of=%s bs=1M seek=1 conv=fsync status=none"
    lab.ssh("compute1", write_marker % INSTANCES_DEVICE)
    os.kill(pids["compute1"], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while "compute1" in lab.qemu_pids() and time.monotonic() < deadline:
        time.sleep(0.2)
    status = lab.run("status", check=False)
    assert status.returncode == 3 and re.search(r"^compute1 .* stopped", status.stdout, re.M), status.stdout
    out = lab.run("up").stdout
    assert "started compute1" in out and "started controller" not in out, out
    assert lab.qemu_pids()["controller"] == pids["controller"]
    assert lab.ssh("compute1", "cat /root/marker; hostname").stdout == "survived\ncompute1\n"
    read_marker = "dd if=%s bs=18 count=1 skip=1M iflag=skip_bytes status=none"
    assert lab.ssh("compute1", read_marker % INSTANCES_DEVICE).stdout == "instances-survived"
    assert "2 received" in lab.ssh("compute1", "ping -c2 -W5 controller").stdout
    assert lab.run("status").returncode == 0


def test_interrupted_up_of_a_second_lab_is_cleaned_by_down(lab):
    other = VmLabRunner(NAME_B, "192.168.162.0/24")
    other.run("down")
    try:
        proc = subprocess.Popen([VMLAB, "up", "--computes", "1"], env=other.env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 600
        while len(other.qemu_pids()) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None, "up of %s ended before it could be interrupted:\n%s" % (
            NAME_B, proc.stdout.read())
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        left = other.leftovers()
        assert {"qemu", "hub", "state dir"} <= set(left), left
        # the first lab is untouched
        assert lab.ssh("controller", "hostname").stdout.strip() == "controller"
        out = other.run("down").stdout
        assert other.leftovers() == {}, (out, other.leftovers())
    finally:
        other.run("down", check=False)


def test_down_leaves_nothing_behind(lab):
    assert lab.leftovers(), "the lab should be up before down"
    out = lab.run("down").stdout
    assert lab.leftovers() == {}, (out, lab.leftovers())
    status = lab.run("status", check=False)
    assert status.returncode == 3 and "down" in status.stdout
    assert lab.run("down").stdout.startswith("down: nothing to remove")
