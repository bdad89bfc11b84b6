"""The scenarios outside CI (vm, vagrant, zed) link the default scenario's test files: whatever such a file imports
from beside it (conftest.py) must be linked beside it too, or the scenario's verify fails at collection, after an
hour of converge (vm and vagrant did, from 1daa2ee to 4bf2eb6, unnoticed because CI runs only default)."""
import ast
import os

import pytest

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
MOLECULE = os.path.join(ROOT, "molecule")


def scenario_test_files():
    for scenario in sorted(os.listdir(MOLECULE)):
        tests = os.path.join(MOLECULE, scenario, "tests")
        if os.path.isdir(tests):
            for name in sorted(os.listdir(tests)):
                if name.endswith(".py"):
                    yield scenario, name


def imported_modules(path):
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module.split(".")[0]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0]


@pytest.mark.parametrize("scenario,name", list(scenario_test_files()))
def test_what_a_scenarios_test_file_imports_from_beside_it_is_beside_it_in_the_scenario(scenario, name):
    linked = os.path.join(MOLECULE, scenario, "tests", name)
    home = os.path.dirname(os.path.realpath(linked))
    missing = [module for module in set(imported_modules(linked))
               if os.path.exists(os.path.join(home, module + ".py"))
               and not os.path.exists(os.path.join(MOLECULE, scenario, "tests", module + ".py"))]
    assert missing == [], "molecule/%s/tests/%s imports %s, which only %s has" % (
        scenario, name, sorted(missing), os.path.relpath(home, ROOT))


def test_the_vm_labs_scenarios_are_among_those_checked():
    assert {"vm", "vagrant"} <= {scenario for scenario, name in scenario_test_files()}
