"""inventories/example, which operators copy: Ansible reads it as the roles expect (one controller, compute hosts,
each with its addresses), and every variable it sets is one the roles document."""
import json
import os
import subprocess
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
EXAMPLE = os.path.join(ROOT, "inventories", "example")


def documented():
    names = set()
    for role in os.listdir(os.path.join(ROOT, "roles")):
        with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as f:
            for entry in yaml.safe_load(f)["argument_specs"].values():
                names.update(entry.get("options", {}))
    return names


def inventory():
    out = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", EXAMPLE, "--list"],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    return json.loads(out)


def test_ansible_reads_one_controller_and_compute_hosts_each_with_its_addresses():
    inv = inventory()
    assert len(inv["controller"]["hosts"]) == 1
    assert len(inv["compute"]["hosts"]) >= 1
    for host in inv["controller"]["hosts"] + inv["compute"]["hosts"]:
        hostvars = inv["_meta"]["hostvars"][host]
        assert {"ansible_host", "osdeploy_management_ip", "baseline_overlay_ip"} <= set(hostvars), host
        # and the group's settings reach every host
        assert hostvars["baseline_provider_cidr"] and hostvars["baseline_floating_range"]


def test_every_variable_it_sets_is_one_the_roles_document():
    inv = inventory()
    known = documented()
    for host, hostvars in inv["_meta"]["hostvars"].items():
        ours = {name for name in hostvars if not name.startswith("ansible_")}
        assert ours <= known, (host, sorted(ours - known))


def test_it_holds_no_secret():
    # secrets are generated beside it (osdeploy.nova.secrets), never shipped with a value
    for host, hostvars in inventory()["_meta"]["hostvars"].items():
        assert not [name for name in hostvars if name.endswith(("_password", "_secret"))], host
