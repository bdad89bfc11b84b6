"""instance_storage on real block devices: loop devices over files, made and removed by the tests."""
import hashlib
import os
import subprocess
import tempfile

import pytest

SIZE = 64 * 1024 * 1024


@pytest.fixture
def loop():
    """A new loop device over a sparse file of zeros; yields its path."""
    fd, backing = tempfile.mkstemp(prefix="osdeploy-instances-", dir="/var/tmp")
    os.ftruncate(fd, SIZE)
    os.close(fd)
    device = subprocess.run(["losetup", "--find", "--show", backing], check=True, capture_output=True,
                            text=True).stdout.strip()
    try:
        yield device
    finally:
        subprocess.run(["umount", "--all-targets", device], check=False, capture_output=True)
        subprocess.run(["losetup", "-d", device], check=False)
        os.unlink(backing)


def blkid(device):
    proc = subprocess.run(["blkid", "-p", "-o", "export", device], capture_output=True, text=True, check=False)
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def digest(device):
    with open(device, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_an_empty_device_is_previewed_then_formatted_once(ansible_module, loop):
    preview = ansible_module("instance_storage", {"device": loop}, check=True, diff=True)
    assert not preview.failed, preview.output
    assert preview["changed"] is True and preview["created"] is True and preview["uuid"] is None
    # the diff, as Ansible prints it: the filesystem type before and after
    assert '-    "fstype": null' in preview.output and '+    "fstype": "ext4"' in preview.output, preview.output
    assert blkid(loop) == {}, "check mode wrote to the device"

    made = ansible_module("instance_storage", {"device": loop})
    assert not made.failed, made.output
    assert made["changed"] is True and made["created"] is True
    assert blkid(loop)["TYPE"] == "ext4" and blkid(loop)["UUID"] == made["uuid"]
    link = "/dev/disk/by-uuid/%s" % made["uuid"]
    assert made["mount_source"] == (link if os.path.exists(link) else loop)

    again = ansible_module("instance_storage", {"device": loop}, check=True)
    assert again["changed"] is False and again["uuid"] == made["uuid"]
    again = ansible_module("instance_storage", {"device": loop})
    assert again["changed"] is False and again["created"] is False and again["uuid"] == made["uuid"]
    # the run that formats names what every later run names (where udev runs, it has made the link by then)
    assert again["mount_source"] == made["mount_source"]


def test_a_filesystem_with_files_is_kept_and_its_files_with_it(ansible_module, loop):
    subprocess.run(["mkfs.ext4", "-q", loop], check=True)
    with tempfile.TemporaryDirectory() as mnt:
        subprocess.run(["mount", loop, mnt], check=True)
        try:
            with open(os.path.join(mnt, "instance-disk"), "w") as f:
                f.write("a guest's disk")
            # mounted at the instances path (here: mnt) is fine
            res = ansible_module("instance_storage", {"device": loop, "path": mnt})
            assert not res.failed, res.output
            assert res["changed"] is False and res["mounted_at"] == [mnt]
            # mounted anywhere else is refused
            res = ansible_module("instance_storage", {"device": loop})
            assert res.failed and "is mounted at %s" % mnt in res["msg"], res.output
            assert os.path.exists(os.path.join(mnt, "instance-disk"))
        finally:
            subprocess.run(["umount", mnt], check=True)


def test_another_filesystem_is_refused_and_left_as_it_was(ansible_module, loop):
    subprocess.run(["mkfs.ext4", "-q", loop], check=True)
    before = digest(loop)
    res = ansible_module("instance_storage", {"device": loop, "fstype": "xfs"})
    assert res.failed
    assert res["msg"].startswith("device: device %s holds a ext4 filesystem, not xfs: it is never reformatted" % loop)
    assert "set fstype: ext4" in res["msg"]
    assert digest(loop) == before


def test_data_without_a_signature_is_refused_and_left_as_it_was(ansible_module, loop):
    with open(loop, "r+b") as f:
        f.seek(SIZE - 4096)
        f.write(os.urandom(4096))    # only the end: the probe reads both ends
    before = digest(loop)
    res = ansible_module("instance_storage", {"device": loop})
    assert res.failed and "holds data without a known signature" in res["msg"], res.output
    assert digest(loop) == before


def test_a_partition_table_is_refused(ansible_module, loop):
    # an MBR with one Linux partition: what fdisk leaves in the guides
    mbr = bytearray(512)
    mbr[446:462] = bytes([0, 0, 0, 0, 0x83, 0, 0, 0]) + (2048).to_bytes(4, "little") + (4096).to_bytes(4, "little")
    mbr[510:512] = b"\x55\xaa"
    with open(loop, "r+b") as f:
        f.write(mbr)
    before = digest(loop)
    res = ansible_module("instance_storage", {"device": loop})
    assert res.failed and "holds a dos partition table: name a partition" in res["msg"], res.output
    assert digest(loop) == before


@pytest.mark.parametrize("device,expected", [
    ("/dev/osdeploy-no-such-disk", "device: /dev/osdeploy-no-such-disk does not exist on this host"),
    ("/etc/hostname", "device: /etc/hostname is not a block device"),
])
def test_a_device_that_is_not_one_is_named(ansible_module, device, expected):
    res = ansible_module("instance_storage", {"device": device})
    assert res.failed and res["msg"].startswith(expected), res.output


def test_an_unknown_fstype_is_refused_by_its_choices(ansible_module, loop):
    res = ansible_module("instance_storage", {"device": loop, "fstype": "btrfs"})
    assert res.failed and "fstype" in res["msg"] and "ext4, xfs" in res["msg"], res.output
    assert blkid(loop) == {}
