"""When the baseline migrates Neutron's schema: only when `neutron-db-manage current` shows a project
that is not at the heads of its installed migrations (the role's __baseline_neutron_schema_current)."""
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
VARS = os.path.join(ROOT, "roles", "baseline", "vars", "main.yml")
LOG = "INFO  [alembic.runtime.migration] Context impl MySQLImpl.\n"
CASES = {
    # what Neutron prints for a current schema: both branches at their head, log lines between
    "current": ("Running current for neutron ...\n" + LOG + "1e0744e4ffea (head)\n6135a7bd4425 (head)\n  OK\n", True),
    "a branch behind (a package upgrade)": ("Running current for neutron ...\n1e0744e4ffea (head)\n5c85685d616d\n  OK\n",
                                            False),
    "a new database": ("Running current for neutron ...\n" + LOG + "  OK\n", False),
    "no output": ("", False),
    "a subproject never migrated": ("Running current for neutron ...\n1e0744e4ffea (head)\n6135a7bd4425 (head)\n  OK\n"
                                    "Running current for networking-sfc ...\n  OK\n", False),
    "two projects, both current": ("Running current for neutron ...\n1e0744e4ffea (head)\n  OK\n"
                                   "Running current for networking-sfc ...\n9768e6a66c9 (head)\n  OK\n", True),
    "an effective head only": ("Running current for neutron ...\n1e0744e4ffea (effective head)\n  OK\n", False),
}


def test_neutron_is_migrated_only_when_a_project_is_not_at_its_heads(tmp_path):
    role_vars = yaml.safe_load(open(VARS))
    tasks = [{"name": name, "ansible.builtin.debug": {"msg": "%s: {{ __baseline_neutron_schema_current | bool }}" % name},
              "vars": {"__baseline_neutron_schema": {"stdout": out, "stdout_lines": out.splitlines()}}}
             for name, (out, _current) in CASES.items()]
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks,
             "vars": {k: role_vars[k] for k in ("__baseline_neutron_schema_projects",
                                                "__baseline_neutron_schema_current")}}]
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump(play))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", str(path)]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=True)
    decided = dict((name, value == "True") for name, value in re.findall(r'"msg": "(.*): (True|False)"', r.stdout))
    assert decided == {name: current for name, (_out, current) in CASES.items()}
