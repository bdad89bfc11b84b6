"""What the baseline makes of its one read of the provider network (`openstack network show NAME` and
`openstack subnet list --network NAME --long`, as one JSON document): whether the network and its subnet are
missing, the network's ID for the DHCP namespace (from the read or from the subnet this run created), whether
the network must be made external (self-service networks) and whether its subnet's allocation pool must become
the floating range (roles/baseline/vars/main.yml)."""
import json
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
VARS = os.path.join(ROOT, "roles", "baseline", "vars", "main.yml")
NAMES = ("__baseline_provider_read_json", "__baseline_provider_missing_network", "__baseline_provider_subnet",
         "__baseline_provider_missing_subnet", "__baseline_provider_network_id", "__baseline_provider_make_external",
         "__baseline_provider_set_pool", "__baseline_floating_pool")
NET = "5a4fd8b4-0e0b-4b5e-9d71-3c8c0f7e2a11"
POOL = {"start": "203.0.113.100", "end": "203.0.113.199"}
WHOLE = {"start": "203.0.113.1", "end": "203.0.113.254"}
MINE = {"ID": "s-1", "Name": "provider-203.0.113.0_24", "Network": NET, "Subnet": "203.0.113.0/24",
        "Allocation Pools": [POOL]}
MINE_WHOLE = dict(MINE, **{"Allocation Pools": [WHOLE]})
OTHER = {"ID": "s-2", "Name": "other", "Network": NET, "Subnet": "198.51.100.0/24", "Allocation Pools": []}
SKIPPED = {"skipped": True, "changed": False}
EXTERNAL = {"id": NET, "router:external": True}
INTERNAL = {"id": NET, "router:external": False}


def read(network, subnets):
    return {"rc": 0, "stdout": json.dumps({"network": network, "subnets": subnets}), "stderr": ""}


CASES = {
    # name: (the read, the subnet create's result,
    #        missing network, missing subnet, network id, make external, set pool)
    "converged": (read(EXTERNAL, [OTHER, MINE]), SKIPPED, False, False, NET, False, False),
    "no network yet": (read(None, []), {"changed": True, "stdout": json.dumps({"network_id": "new-net"})},
                       True, True, "new-net", False, False),
    "a network without this subnet": (read(EXTERNAL, [OTHER]), {"changed": True, "stdout": json.dumps(
        {"network_id": NET})}, False, True, NET, False, False),
    "a network with no subnet": (read(EXTERNAL, []), {"changed": True, "stdout": json.dumps({"network_id": NET})},
                                 False, True, NET, False, False),
    "made before self-service networks": (read(INTERNAL, [MINE_WHOLE]), SKIPPED, False, False, NET, True, True),
}


def test_one_read_says_what_is_missing_and_what_to_change(tmp_path):
    role_vars = yaml.safe_load(open(VARS))
    msg = ("%s|{{ __baseline_provider_missing_network | bool }}|{{ __baseline_provider_missing_subnet | bool }}|"
           "{{ __baseline_provider_network_id }}|{{ __baseline_provider_make_external | bool }}|"
           "{{ __baseline_provider_set_pool | bool }}")
    tasks = [{"name": name, "ansible.builtin.debug": {"msg": msg % name},
              "vars": {"__baseline_provider_read": case[0], "__baseline_provider_subnet_created": case[1]}}
             for name, case in CASES.items()]
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks,
             "vars": dict({k: role_vars[k] for k in NAMES}, baseline_provider_cidr="203.0.113.0/24",
                          baseline_self_service=True, baseline_floating_range=POOL)}]
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump(play))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", str(path)]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=True)
    seen = dict((name, (net == "True", sub == "True", nid, ext == "True", pool == "True"))
                for name, net, sub, nid, ext, pool in re.findall(
                    r'"msg": "(.*)\|(True|False)\|(True|False)\|(.*)\|(True|False)\|(True|False)"', r.stdout))
    assert seen == dict((name, case[2:]) for name, case in CASES.items())
