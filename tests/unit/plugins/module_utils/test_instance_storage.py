"""instance_storage's decisions: a device is used only when it is empty or already holds the filesystem asked for."""
import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils import instance_storage as ist

PATH = "/var/lib/nova/instances"


def plan(probe=None, mounted=(), holders=(), partitions=(), empty=True, fstype="ext4"):
    return ist.plan("/dev/vdb", fstype, PATH, probe or {}, list(mounted), list(holders), list(partitions), empty)


def test_an_empty_device_gets_a_filesystem():
    assert plan()[0] == "make"


def test_the_filesystem_asked_for_is_kept_with_its_data():
    action, reason = plan({"TYPE": "ext4", "UUID": "u-1", "USAGE": "filesystem"}, mounted=[PATH + "/"])
    assert action == "use" and "UUID u-1" in reason and "kept" in reason


@pytest.mark.parametrize("kwargs,expected", [
    (dict(probe={"TYPE": "xfs", "USAGE": "filesystem"}),
     "device /dev/vdb holds a xfs filesystem, not ext4: it is never reformatted; wipe it yourself (wipefs -a) "
     "if its data can go; or set fstype: xfs to use it as it is"),
    (dict(probe={"TYPE": "LVM2_member", "USAGE": "raid"}),
     "device /dev/vdb holds a LVM2_member signature (raid), not ext4: it is never reformatted; wipe it yourself "
     "(wipefs -a) if its data can go"),
    (dict(probe={"PTTYPE": "gpt"}), "device /dev/vdb holds a gpt partition table: name a partition"),
    (dict(partitions=["vdb1", "vdb2"]), "device /dev/vdb has partitions (vdb1, vdb2): name the partition to use, "
                                        "e.g. /dev/vdb1"),
    (dict(holders=["dm-0"]), "device /dev/vdb is in use by dm-0"),
    (dict(mounted=["/srv/data"]), "device /dev/vdb is mounted at /srv/data: unmount it"),
    (dict(empty=False), "device /dev/vdb holds data without a known signature"),
])
def test_a_device_that_holds_something_else_is_refused_with_what_it_holds(kwargs, expected):
    with pytest.raises(ValueError) as e:
        plan(**kwargs)
    assert str(e.value).startswith(expected)


def test_mounted_elsewhere_wins_over_holding_the_right_filesystem():
    with pytest.raises(ValueError, match="mounted at /mnt"):
        plan({"TYPE": "ext4", "UUID": "u"}, mounted=["/mnt"])


def test_blkid_export_and_mountinfo_are_read():
    assert ist.parse_blkid("DEVNAME=/dev/vdb\nUUID=u-1\nTYPE=ext4\nUSAGE=filesystem\n") == {
        "DEVNAME": "/dev/vdb", "UUID": "u-1", "TYPE": "ext4", "USAGE": "filesystem"}
    mountinfo = ("22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
                 "40 22 254:16 / /var/lib/nova/instances rw shared:20 - ext4 /dev/vdb rw\n"
                 "41 22 254:16 / /srv/my\\040disk rw shared:21 - ext4 /dev/vdb rw\n")
    assert ist.mount_points(mountinfo, 254, 16) == ["/var/lib/nova/instances", "/srv/my disk"]
    assert ist.mount_points(mountinfo, 254, 32) == []


def test_after_mkfs_udev_is_made_to_see_the_filesystem_before_the_link_is_looked_for():
    calls = []

    def run_command(argv, rc=0):
        calls.append(argv)
        return rc, "", ""

    assert ist.wait_for_udev(run_command, "/usr/bin/udevadm", "/dev/vdb") == calls == [
        ["/usr/bin/udevadm", "trigger", "--action=change", "--settle", "/dev/vdb"]]
    # an older udevadm without trigger --settle: its whole queue is waited for
    calls.clear()
    ist.wait_for_udev(lambda argv: run_command(argv, rc=1 if "trigger" in argv else 0), "/sbin/udevadm", "/dev/vdb")
    assert calls[1] == ["/sbin/udevadm", "settle", "--timeout=60"]
    # no udevadm: nothing to wait for
    assert ist.wait_for_udev(run_command, None, "/dev/vdb") == []


def test_the_mount_names_the_uuid_link_where_udev_made_one():
    assert ist.mount_source("/dev/vdb", "u-1", exists=lambda p: True) == "/dev/disk/by-uuid/u-1"
    # a container without udev, or a check-mode run before the filesystem exists
    assert ist.mount_source("/dev/vdb", "u-1", exists=lambda p: False) == "/dev/vdb"
    assert ist.mount_source("/dev/disk/by-id/virtio-x", None) == "/dev/disk/by-id/virtio-x"
