"""Servers moved between the compute hosts: the side effect's proof (site.yml with osdeploy_verify_migration,
once compute2 is there) moved compute1's server to compute2 (cold migration, confirmed) and back (live
migration), and the compute hosts trust each other for it, and only for it."""
import json
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


# What the side effect's site.yml run (compute2 added) may change on the hosts that were there: their trust
# in the new compute host (keys, host keys, libvirt's migration key, the controller's firewall) and its
# mapping into the cell. That run is the second one on controller and compute1, in place of Molecule's
# idempotence step: anything else it changes there is a step that does not converge in one run.
CHANGED_FOR_A_NEW_COMPUTE = {
    (COMPUTES[0], "osdeploy.nova.compute : Accept the other compute hosts' nova keys, from their addresses only"),
    (COMPUTES[0], "osdeploy.nova.compute : Pin the compute hosts' host keys for every user of this host"),
    (COMPUTES[0], "osdeploy.nova.compute : Let libvirtd (root) open live migrations as nova, with nova's key"),
    (COMPUTES[0], "osdeploy.nova.compute : Map every compute of this play into its cell, once, on the controller"),
    ("controller", "osdeploy.nova.controller : Open the controller's firewall to the compute hosts"),
    # and VXLAN from its tunnel endpoint (the controller's firewall drops what it does not know)
    ("controller",
     "osdeploy.nova.baseline : Let VXLAN in from the other hosts' tunnel endpoints (where a firewall drops)"),
}


# The converge's run leaves the proof out (molecule/default/converge.yml): the side effect's run is the proof's
# first, which makes what it keeps once (the image in Glance, from a copy it removes again; its SSH key; its
# project networks and router; and server_check's flavor, security group and keypair, which make the boot itself
# a change). test_network.py's run of the proof alone then proves that it makes them once.
MADE_BY_THE_FIRST_PROOF = {
    ("controller", "osdeploy.nova.osdeploy : Boot, reach and delete a server on every compute host"),
    ("controller", "osdeploy.nova.osdeploy : Copy the image to the controller"),
    ("controller", "osdeploy.nova.osdeploy : Upload the image to Glance"),
    ("controller", "osdeploy.nova.osdeploy : Remove the controller's copy of the image"),
    ("controller", "osdeploy.nova.osdeploy : The proof's SSH key on the controller (made once, kept)"),
    ("controller", "osdeploy.nova.osdeploy : The proof's project networks and router"),
}


def test_adding_a_compute_changed_on_the_other_hosts_only_their_trust_in_it():
    # every Molecule step's playbook run writes the timing callback's JSON there (molecule.yml); the side
    # effect ran last before verify
    with open(os.path.join(os.path.dirname(LAB), "last-run-timing.json")) as f:
        run = json.load(f)
    assert any(t["play"] == "Add compute2 to the lab" for t in run["tasks"]), "not the side effect's run"
    changed = {(name, t["name"]) for t in run["tasks"] for name, result in t["hosts"].items()
               if result["changed"] and name not in ("localhost", COMPUTES[-1])}
    expected = CHANGED_FOR_A_NEW_COMPUTE | MADE_BY_THE_FIRST_PROOF
    assert changed == expected, "changed besides %s; did not change %s" % (
        sorted(changed - expected), sorted(expected - changed))


def test_the_side_effects_proof_moved_a_server_both_ways():
    with open(os.path.join(LAB, "side-effect-proof.json")) as f:
        proof = json.load(f)
    first = proof["servers"][0]
    assert first["host"] == COMPUTES[0]
    # the servers were the project member's (the baseline's demo project), admin moved one of them
    member = host("controller").check_output("openstack --os-cloud osdeploy-admin project show myproject -f value -c id")
    assert [s["project_id"] for s in proof["servers"]] == [member] * len(COMPUTES), proof["servers"]
    assert [s["host"] for s in proof["servers"]] == COMPUTES
    assert [(m["kind"], m["source"], m["target"]) for m in first["moves"]] == [
        ("cold", COMPUTES[0], COMPUTES[1]), ("live", COMPUTES[1], COMPUTES[0])]
    assert all(m["ping"] is not None for m in first["moves"]), first["moves"]
    assert re.search(r"; moved cold to %s in [\d.]+ \(ping [\d.]+ later\), live to %s in [\d.]+ \(ping [\d.]+ later\); "
                     r"deleted in [\d.]+$" % (COMPUTES[1], COMPUTES[0]), proof["summary"][0]), proof["summary"]


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
    # migration, which fails rather than go plain: the side effect's live migration went so)
    tls = "true" if lab_setting("osdeploy_tls", False) else "false"
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
