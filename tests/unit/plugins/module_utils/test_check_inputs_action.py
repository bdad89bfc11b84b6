"""The check_inputs action plugin (plugins/action/check_inputs.py) driven directly: it reads the variables it is
told the names of (rendering them), passes them to module_utils/inputs.py, refuses in one message and returns
the names it checked. The rules themselves are tested in test_inputs.py."""
import json
import os
import subprocess
import sys
from unittest import mock

import pytest
from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core before 2.19 renders every string
    def trust_as_template(value):
        return value

from ansible_collections.osdeploy.nova.plugins.action.check_inputs import ActionModule

GOOD = {
    "baseline_vxlan_vni_ranges": "1:1000",
    "baseline_provider_cidr": "203.0.113.0/24",
    "baseline_provider_gateway": "203.0.113.1",
    "baseline_provider_reserved_ranges": [{"start": "203.0.113.2", "end": "203.0.113.9"}, "203.0.113.250"],
    "baseline_floating_range": {"start": "203.0.113.100", "end": "203.0.113.200"},
}
FLOATING = {"name": "baseline_floating_range", "network": "baseline_provider_cidr",
            "outside": ["baseline_provider_gateway", "baseline_provider_reserved_ranges"]}


def run(args, task_vars):
    task = mock.MagicMock(args=args, async_val=0, check_mode=False, action="osdeploy.nova.check_inputs")
    connection = mock.MagicMock()
    connection._shell.tmpdir = "/nonexistent"
    loader = DataLoader()
    action = ActionModule(task, connection, mock.MagicMock(), loader, Templar(loader=loader, variables=task_vars))
    return action.run(task_vars=task_vars)


def test_the_new_options_check_their_variables_and_return_their_names():
    result = run({"vni_ranges": ["baseline_vxlan_vni_ranges"], "address_ranges": [FLOATING],
                  "networks": ["baseline_provider_cidr"]}, dict(GOOD))
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["checked"] == ["baseline_floating_range", "baseline_provider_cidr", "baseline_provider_gateway",
                                 "baseline_provider_reserved_ranges", "baseline_vxlan_vni_ranges"]


def test_without_the_new_options_nothing_changes():
    result = run({"addresses": ["ip"]}, {"ip": "192.0.2.5"})
    assert not result.get("failed"), result
    assert result["checked"] == ["ip"]


def test_an_address_range_without_network_or_outside_is_checked_alone():
    result = run({"address_ranges": [{"name": "baseline_floating_range"}]}, dict(GOOD))
    assert not result.get("failed"), result
    assert result["checked"] == ["baseline_floating_range"]


def test_values_are_rendered_and_unset_ones_are_empty():
    # as in a play, where the inventory's and the roles' variables are trusted templates
    task_vars = dict(GOOD, first_vni=5, baseline_vxlan_vni_ranges=trust_as_template("{{ first_vni }}:1000"),
                     baseline_floating_range={"start": trust_as_template("{{ baseline_provider_gateway }}"),
                                              "end": "203.0.113.20"})
    del task_vars["baseline_provider_reserved_ranges"]
    result = run({"vni_ranges": ["baseline_vxlan_vni_ranges"], "address_ranges": [FLOATING]}, task_vars)
    assert result["failed"] is True
    assert result["msg"] == (
        "Refused before any change: baseline_floating_range (203.0.113.1-203.0.113.20) overlaps "
        "baseline_provider_gateway (203.0.113.1) in 203.0.113.1: addresses that baseline_provider_gateway holds "
        "would be given out from the range. Move or shrink baseline_floating_range to leave them out.")
    assert "baseline_provider_reserved_ranges" in result["checked"]


def test_every_refused_range_is_named_in_one_message():
    task_vars = dict(GOOD, baseline_vxlan_vni_ranges="0:10", other_vni_ranges=["1:100", "50:60"],
                     baseline_floating_range={"start": "203.0.113.0", "end": "203.0.113.5"},
                     baseline_provider_reserved_ranges=["reserved"], second_range={"start": "10.0.0.1", "end": "x"})
    second = {"name": "second_range", "network": "baseline_provider_cidr",
              "outside": ["baseline_provider_reserved_ranges"]}
    result = run({"secrets": ["no_such_password"], "vni_ranges": ["baseline_vxlan_vni_ranges", "other_vni_ranges",
                                                                  "unset_vni_ranges"],
                  "address_ranges": [FLOATING, second]}, task_vars)
    assert result["failed"] is True
    msg = result["msg"]
    assert msg.startswith("Refused before any change: no_such_password is not set")
    assert msg.endswith(".")
    for part in ["baseline_vxlan_vni_ranges must be MIN:MAX with 1 <= MIN <= MAX <= 16777215 (VXLAN's 24-bit VNI)",
                 "got '0:10' (MIN below 1, the lowest VNI)",
                 "other_vni_ranges must be MIN:MAX", "got '1:100' and '50:60' (they overlap in 50:60)",
                 "unset_vni_ranges is not set: a project (VXLAN) network needs at least one VNI",
                 "baseline_floating_range (203.0.113.0-203.0.113.5) includes 203.0.113.0, the network address of "
                 "baseline_provider_cidr (203.0.113.0/24)",
                 "baseline_floating_range (203.0.113.0-203.0.113.5) overlaps baseline_provider_gateway (203.0.113.1)",
                 "second_range must be a range {start: ADDRESS, end: ADDRESS} of IP addresses: its end must be an IP "
                 "address, got 'x'"]:
        assert part in msg
    # a variable named in two outside lists is refused once
    assert msg.count("baseline_provider_reserved_ranges must hold IP addresses") == 1
    assert result["checked"] == ["baseline_floating_range", "baseline_provider_cidr", "baseline_provider_gateway",
                                 "baseline_provider_reserved_ranges", "baseline_vxlan_vni_ranges",
                                 "no_such_password", "other_vni_ranges", "second_range", "unset_vni_ranges"]


@pytest.mark.parametrize("args", [
    {"vni_ranges": "baseline_vxlan_vni_ranges"},
    {"address_ranges": {"name": "baseline_floating_range"}},
    {"address_ranges": ["baseline_floating_range"]},
    {"address_ranges": [{"network": "baseline_provider_cidr"}]},
    {"address_ranges": [{"name": "baseline_floating_range", "outside": "baseline_provider_gateway"}]},
    {"address_ranges": [{"name": "baseline_floating_range", "inside": "baseline_provider_cidr"}]},
])
def test_malformed_new_options_are_a_task_error(args):
    result = run(args, dict(GOOD))
    assert result["failed"] is True
    assert result["msg"].startswith("check_inputs: ")
    assert "Refused before any change" not in result["msg"]


def test_an_unknown_option_is_refused():
    with pytest.raises(AnsibleActionFail, match="Invalid options for osdeploy.nova.check_inputs: vni_range"):
        run({"vni_range": ["baseline_vxlan_vni_ranges"]}, dict(GOOD))


PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    vni: 1:30
    floating: {start: "{{ gateway }}", end: 203.0.113.20}
  tasks:
    - name: Check the ranges
      osdeploy.nova.check_inputs:
        vni_ranges: [vni, vni_list]
        address_ranges:
          - {name: floating, network: cidr, outside: [gateway, reserved]}
"""


def test_in_a_play_the_message_names_the_variables_and_values_as_given(tmp_path):
    """Ansible's own variables (tagged, rendered, YAML's base-60 numbers) reach the rules as they should."""
    play = tmp_path / "play.yml"
    play.write_text(PLAY)
    extra = {"vni_list": ["1:10", "10:20"], "cidr": "203.0.113.0/24", "gateway": "203.0.113.1",
             "reserved": [{"start": "203.0.113.15", "end": "203.0.113.30"}]}
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    r = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), str(play),
                        "-e", json.dumps(extra)], env=env, capture_output=True, text=True, timeout=120, check=False)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "Refused before any change: " in out
    for part in ["vni must be MIN:MAX", "got the number 90: YAML reads an unquoted 1:30 as a base-60 number, quote it",
                 "vni_list must be MIN:MAX", "got '1:10' and '10:20' (they overlap in 10:10)",
                 "floating (203.0.113.1-203.0.113.20) overlaps gateway (203.0.113.1) in 203.0.113.1",
                 "floating (203.0.113.1-203.0.113.20) overlaps reserved (203.0.113.15-203.0.113.30) in "
                 "203.0.113.15-203.0.113.20"]:
        assert part in out, out
