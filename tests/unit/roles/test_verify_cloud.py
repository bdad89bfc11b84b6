"""The proof without an image (roles/osdeploy/tasks/verify_cloud.yml): its judgement of what it read, run by
ansible-playbook on the outputs the real commands give (nova-manage's table, the CLI's JSON)."""
import json
import os
import subprocess
import sys

import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
TASKS = os.path.join(ROOT, "roles", "osdeploy", "tasks", "verify_cloud.yml")
LIST_HOSTS = """+-----------+--------------------------------------+----------+
| Cell Name |              Cell UUID               | Hostname |
+-----------+--------------------------------------+----------+
|   cell1   | dd82bbbf-3001-483c-8b6b-ce7b532cdd9a | compute1 |
+-----------+--------------------------------------+----------+"""


def judge(tmp_path, computes):
    """Run the proof's assert task on reads where compute1 is up, has a hypervisor and is mapped."""
    with open(TASKS) as f:
        task = next(t for t in yaml.safe_load(f) if "ansible.builtin.assert" in t)
    services = [{"Host": "compute1", "State": "up", "Status": "enabled"}]
    reads = {"results": [{"stdout": json.dumps(services)}, {"stdout": json.dumps([{"State": "up"}])},
                         {"stdout_lines": LIST_HOSTS.splitlines()}, {"rc": 0, "stdout_lines": []}]}
    play = [{"hosts": "controller", "gather_facts": False, "vars": {"__osdeploy_verify_reads": reads},
             "tasks": [task]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    inventory = {"all": {"vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                                  "osdeploy_compute_group": "compute"},
                         "children": {"controller": {"hosts": {"controller": None}},
                                      "compute": {"hosts": {name: {"__compute_host_name": name}
                                                            for name in computes}}}}}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    return subprocess.run(["ansible-playbook", "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "play.yml")],
                          capture_output=True, text=True, check=False)


def test_a_compute_host_up_and_mapped_passes(tmp_path):
    run = judge(tmp_path, ["compute1"])
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_compute_host_missing_from_the_reads_is_named(tmp_path):
    run = judge(tmp_path, ["compute1", "compute2"])
    assert run.returncode != 0
    assert "nova-compute not up and enabled on compute2; not mapped to a cell: compute2; hypervisors up 1 of 2" \
        in run.stdout, run.stdout
