"""Nova's instances on a disk of their own: each compute host's inventory variable nova_instances_device.

Shared by the scenarios that give their compute hosts a second disk (vm links to this file): the nspawn
lab's loop device at /dev/osdeploy-instances, the VM lab's virtio disk at
/dev/disk/by-id/virtio-osdeploy-instances. The device is read from the inventory, and the mount is
compared with the node that name resolves to on the host.
"""
import os

import pytest
import testinfra

INVENTORY = os.path.join(os.environ["OSDEPLOY_LAB_DIR"], "inventory.ini")
COMPUTES = os.environ.get("OSDEPLOY_EXPECT_COMPUTES", "compute1,compute2").split(",")
INSTANCES = "/var/lib/nova/instances"


def host(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, INVENTORY))


def instances_device(h):
    """The host's nova_instances_device as its kernel names it (a stable symlink resolved)."""
    device = h.ansible.get_variables().get("nova_instances_device")
    assert device, "the lab gives every compute host nova_instances_device"
    return h.check_output("realpath --canonicalize-existing %s" % device)


@pytest.mark.parametrize("name", COMPUTES)
def test_the_instances_directory_is_its_own_filesystem_owned_by_nova(name):
    h = host(name)
    out = h.check_output("findmnt --noheadings --output SOURCE,FSTYPE --mountpoint %s" % INSTANCES)
    assert out.split() == [instances_device(h), "ext4"]
    d = h.file(INSTANCES)
    assert (d.user, d.group, d.mode) == ("nova", "nova", 0o755)


@pytest.mark.parametrize("name", COMPUTES)
def test_the_mount_comes_back_at_boot_before_nova_compute(name):
    h = host(name)
    unit = h.check_output("systemd-escape --path --suffix=mount %s" % INSTANCES)
    assert h.check_output("systemctl is-enabled %s" % unit) == "enabled"
    assert INSTANCES in h.check_output("systemctl show --property=RequiresMountsFor --value nova-compute")


@pytest.mark.parametrize("name", COMPUTES)
def test_nova_used_it(name):
    # the proof booted a server here: its image was cached in _base, on the instances filesystem
    h = host(name)
    assert h.file(INSTANCES + "/_base").is_directory
    assert h.check_output("findmnt --noheadings --output TARGET --target %s/_base" % INSTANCES) == INSTANCES
