"""A compute host added to a running cloud (the zed scenario's side effect, add_compute.yml: compute2 in the
inventory, then site.yml again with osdeploy_verify_migration): that run changed on the hosts that were there only
their trust in the new one, and its proof moved compute1's server to compute2 (cold migration, confirmed) and back
(live migration)."""
import json
import os
import re

import testinfra

LAB = os.environ["OSDEPLOY_LAB_DIR"]
INVENTORY = os.path.join(LAB, "inventory.ini")
COMPUTES = os.environ.get("OSDEPLOY_EXPECT_COMPUTES", "compute1,compute2").split(",")


def host(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, INVENTORY))


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
