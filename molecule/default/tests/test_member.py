"""A project member's everyday operations on Nova (#30), each as the member, against the real cloud after
the side effect (two compute hosts; in the default scenario, the upgraded one): create with a keypair, list, show, stop, start, soft and hard reboot,
rebuild, resize and confirm onto the other compute, an image of a server, a console that answers (RFB through the proxy),
server groups with affinity and anti-affinity, delete. The moves that Nova's policy gives admin (cold and
live migration of the member's server) are the upgrade's canaries' (test_upgrade.py) or, in the zed scenario, the
proof's of the run that added compute2 (test_add_compute.py).

member_operations.py runs them on the controller in one process (lifecycle and moves at once, then the
server groups), with the member's cloud entry (the baseline's demo project); each operation is a test
here, and a failure names the operation and the server's fault.
"""
import json
import os

import pytest
import testinfra

import tag_runs_alone

LAB = os.environ["OSDEPLOY_LAB_DIR"]
INVENTORY = os.path.join(LAB, "inventory.ini")
HERE = os.path.dirname(os.path.realpath(__file__))
SCRIPT = "/root/osdeploy-member-operations.py"
MEMBER_CLOUD, ADMIN_CLOUD = "osdeploy-demo", "osdeploy-admin"
IMAGE, NETWORK, FLAVOR = "osdeploy-test-image", "provider", "osdeploy-check"
OPERATIONS = [
    ("lifecycle", "create a keypair"), ("lifecycle", "create a server"), ("lifecycle", "list servers"),
    ("lifecycle", "show the server"), ("lifecycle", "stop"), ("lifecycle", "start"),
    ("lifecycle", "soft reboot"), ("lifecycle", "hard reboot"), ("lifecycle", "rebuild"), ("lifecycle", "delete"),
    ("moves", "create a server"), ("moves", "resize and confirm"), ("moves", "create an image of the server"),
    ("moves", "console URL"), ("moves", "delete"),
    ("groups", "server group with affinity"), ("groups", "server group with anti-affinity"),
]


def controller():
    return testinfra.get_host("ansible://controller?ansible_inventory=%s" % INVENTORY)


@pytest.fixture(name="operations", scope="module")
def fixture_operations():
    """{(chain, operation): result} of one run of member_operations.py on the controller, with every documented
    tag run alone going in the background (tag_runs_alone.py): the operations mostly wait for their servers."""
    tag_runs_alone.start()
    host = controller()
    copied = host.ansible("ansible.builtin.copy", "src=%s dest=%s mode=0700" % (
        os.path.join(HERE, "member_operations.py"), SCRIPT), check=False)
    assert not copied.get("failed"), copied
    cmd = host.run("python3 %s %s %s %s %s %s" % (SCRIPT, MEMBER_CLOUD, ADMIN_CLOUD, IMAGE, NETWORK, FLAVOR))
    assert cmd.rc == 0, cmd.stderr[-4000:]
    results = json.loads(cmd.stdout)["operations"]
    for r in results:
        status = "ok" if r["ok"] else "FAIL"
        print("%-9s %-32s %-4s %6.1f s  %s" % (r["chain"], r["op"], status, r["seconds"], r["detail"]))
    return {(r["chain"], r["op"]): r for r in results}


def test_every_operation_ran(operations):
    assert sorted(operations) == sorted(OPERATIONS)


@pytest.mark.parametrize("chain,op", OPERATIONS, ids=["%s: %s" % o for o in OPERATIONS])
def test_a_member_can(chain, op, operations):
    result = operations[(chain, op)]
    assert result["ok"], "%s (%s): %s" % (op, chain, result["detail"])


def test_nothing_of_the_members_operations_is_left():
    host = controller()
    servers = json.loads(host.check_output("openstack --os-cloud %s server list -f json" % MEMBER_CLOUD))
    assert [s["Name"] for s in servers if s["Name"].startswith("osdeploy-member-")] == []
    images = json.loads(host.check_output("openstack --os-cloud %s image list -f json" % MEMBER_CLOUD))
    assert [i["Name"] for i in images if i["Name"].startswith("osdeploy-member-")] == []
