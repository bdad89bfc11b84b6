"""Servers moved between the compute hosts (the upgrade's canaries, test_upgrade.py; the proof of the run that
added compute2, test_add_compute.py): the compute hosts trust each other for it, and only for it, and nothing
is left behind."""
import os
import re

import pytest
import testinfra

from conftest import lab_setting

LAB = os.environ["OSDEPLOY_LAB_DIR"]
INVENTORY = os.path.join(LAB, "inventory.ini")
COMPUTES = os.environ.get("OSDEPLOY_EXPECT_COMPUTES", "compute1,compute2").split(",")
INSTANCES = "/var/lib/nova/instances"


def host(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, INVENTORY))


def address(name):
    return host(name).ansible.get_variables()["ansible_host"]


@pytest.mark.parametrize("name", COMPUTES)
def test_nothing_is_left_behind_on_a_compute_host(name):
    h = host(name)
    assert h.check_output("virsh --connect qemu:///system list --all --name").strip() == ""
    left = set(h.check_output("ls -A %s" % INSTANCES).split())
    # the image cache, Nova's locks and node id, the filesystem's own, and the directory under which Nova's
    # libvirt driver makes each snapshot's temporary directory (a member's createImage), which must be empty
    assert left <= {"_base", "locks", "compute_nodes", "lost+found", "snapshots"}, left
    if "snapshots" in left:
        assert h.check_output("ls -A %s/snapshots" % INSTANCES).strip() == ""


@pytest.mark.parametrize("name", COMPUTES)
def test_live_migrations_go_over_ssh_to_the_hosts_own_address(name):
    conf = host(name).file("/etc/nova/nova-compute.conf").content_string
    assert re.search(r"^live_migration_scheme = ssh$", conf, re.M), conf
    assert re.search(r"^live_migration_inbound_addr = %s$" % re.escape(address(name)), conf, re.M), conf
    # with TLS, the guest's memory and disks over QEMU-native TLS (Nova then asks libvirt for it on every live
    # migration, which fails rather than go plain: the side effect's live migrations went so)
    tls = "true" if lab_setting("osdeploy_tls") else "false"
    assert re.search(r"^live_migration_with_native_tls = %s$" % tls, conf, re.M), conf


def test_the_compute_hosts_reach_each_other_as_nova_with_pinned_host_keys():
    one, other = host(COMPUTES[0]), address(COMPUTES[1])
    # nova (Nova's copies) and root (libvirtd's live migrations) both arrive as nova; BatchMode: no prompt for an
    # unknown host key, so this fails unless the key is pinned
    for user_cmd in ("runuser -u nova -- ssh -o BatchMode=yes %s id -un", "ssh -o BatchMode=yes %s id -un"):
        assert one.check_output(user_cmd % other) == "nova"
    # and libvirt's own transport, as libvirtd uses it
    out = one.check_output("virsh --connect qemu+ssh://%s/system hostname" % other)
    assert out.strip() == COMPUTES[1]


def test_the_trust_is_the_compute_hosts_alone():
    h = host(COMPUTES[0])
    keys = h.file("/var/lib/nova/.ssh/authorized_keys")
    assert (keys.user, keys.mode) == ("nova", 0o600)
    lines = [line for line in keys.content_string.splitlines() if line and not line.startswith("#")]
    assert len(lines) == len(COMPUTES), lines
    sources = ",".join(address(name) for name in COMPUTES)
    assert all(line.startswith('restrict,from="%s" ssh-ed25519 ' % sources) for line in lines), lines
    # the private key never left its host: each compute's public key is its own
    pubs = [host(name).file("/var/lib/nova/.ssh/id_ed25519.pub").content_string.split()[1] for name in COMPUTES]
    assert len(set(pubs)) == len(COMPUTES)
    # nova's key of compute1, used from the controller (not a compute host), is refused: from= holds
    controller = host("controller")
    key = h.file("/var/lib/nova/.ssh/id_ed25519").content_string
    try:
        controller.check_output("umask 077; cat > /root/osdeploy-test-key <<'EOF'\n%sEOF" % key)
        # (ssh's own 255 would end testinfra's connection: the exit status is printed instead)
        denied = controller.check_output("ssh -i /root/osdeploy-test-key -o IdentitiesOnly=yes -o BatchMode=yes "
                                         "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null nova@%s true "
                                         "2>&1; echo rc=$?" % address(COMPUTES[1]))
    finally:
        controller.run("rm -f /root/osdeploy-test-key")
    assert denied.endswith("rc=255") and "Permission denied (publickey" in denied, denied


def test_libvirt_tells_the_compute_hosts_apart():
    uuids = set()
    for name in COMPUTES:
        caps = host(name).check_output("virsh --connect qemu:///system capabilities")
        uuids.add(re.search(r"<uuid>([^<]+)</uuid>", caps).group(1))
    assert len(uuids) == len(COMPUTES)
