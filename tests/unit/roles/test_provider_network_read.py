"""What the baseline makes of its one read of the provider network (`openstack subnet list --network NAME -f
json`): whether the network and its subnet are missing, and the network's ID for the DHCP namespace, from the
read or from the subnet this run created (roles/baseline/vars/main.yml)."""
import json
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
VARS = os.path.join(ROOT, "roles", "baseline", "vars", "main.yml")
NAMES = ("__baseline_provider_missing_network", "__baseline_provider_subnet", "__baseline_provider_missing_subnet",
         "__baseline_provider_network_id")
NET = "5a4fd8b4-0e0b-4b5e-9d71-3c8c0f7e2a11"
MINE = {"ID": "s-1", "Name": "provider-203.0.113.0_24", "Network": NET, "Subnet": "203.0.113.0/24"}
OTHER = {"ID": "s-2", "Name": "other", "Network": NET, "Subnet": "198.51.100.0/24"}
SKIPPED = {"skipped": True, "changed": False}
CASES = {
    # name: (the read, the subnet create's result, missing network, missing subnet, network id or None)
    "converged": ({"rc": 0, "stdout": json.dumps([OTHER, MINE]), "stderr": ""}, SKIPPED, False, False, NET),
    "no network yet": ({"rc": 1, "stdout": "", "stderr": "No Network found for provider"},
                       {"changed": True, "stdout": json.dumps({"network_id": "new-net"})}, True, True, "new-net"),
    "a network without this subnet": ({"rc": 0, "stdout": json.dumps([OTHER]), "stderr": ""},
                                      {"changed": True, "stdout": json.dumps({"network_id": NET})}, False, True, NET),
    "a network with no subnet": ({"rc": 0, "stdout": "[]", "stderr": ""},
                                 {"changed": True, "stdout": json.dumps({"network_id": NET})}, False, True, NET),
}


def test_one_read_says_what_is_missing_and_the_network_id(tmp_path):
    role_vars = yaml.safe_load(open(VARS))
    msg = ("%s|{{ __baseline_provider_missing_network | bool }}|{{ __baseline_provider_missing_subnet | bool }}|"
           "{{ __baseline_provider_network_id }}")
    tasks = [{"name": name, "ansible.builtin.debug": {"msg": msg % name},
              "vars": {"__baseline_provider_read": read, "__baseline_provider_subnet_created": created}}
             for name, (read, created, _n, _s, _i) in CASES.items()]
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks,
             "vars": dict({k: role_vars[k] for k in NAMES}, baseline_provider_cidr="203.0.113.0/24")}]
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump(play))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", str(path)]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=True)
    seen = dict((name, (net == "True", sub == "True", nid))
                for name, net, sub, nid in re.findall(r'"msg": "(.*)\|(True|False)\|(True|False)\|(.*)"', r.stdout))
    assert seen == dict((name, (n, s, i)) for name, (_r, _c, n, s, i) in CASES.items())
