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


def load_conftest(lab_dir, monkeypatch):
    """The default scenario's conftest.py as a module, its lab folder lab_dir (it reads the lab at import)."""
    import importlib.util  # pylint: disable=import-outside-toplevel
    monkeypatch.setenv("OSDEPLOY_LAB_DIR", str(lab_dir))
    path = os.path.join(MOLECULE, "default", "tests", "conftest.py")
    spec = importlib.util.spec_from_file_location("scenario_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeController:
    """What testinfra's host gives the conftest of a lab without a state file: its system's codename."""

    def __init__(self, asked):
        self.asked = asked
        self.system_info = type("SystemInfo", (), {"codename": "bookworm"})()


def test_a_lab_without_a_state_file_is_read_from_its_controller(tmp_path, monkeypatch):
    """The vagrant scenario's lab folder has only its inventory and group_vars: its release comes from the
    controller (make molecule-vagrant failed at collection when conftest.py required the state file)."""
    import testinfra  # pylint: disable=import-outside-toplevel
    asked = []
    monkeypatch.setattr(testinfra, "get_host", lambda spec: asked.append(spec) or FakeController(asked))
    (tmp_path / "group_vars" / "all").mkdir(parents=True)
    # what the VM labs write (tools/osdeploy_lab/base.py: platform_group_vars)
    (tmp_path / "group_vars" / "all" / "lab.yml").write_text("osdeploy_install_method: distro\nosdeploy_tls: false\n")
    monkeypatch.delenv("OSDEPLOY_LAB_UPGRADE_TO", raising=False)
    module = load_conftest(tmp_path, monkeypatch)
    assert asked == ["ansible://controller?ansible_inventory=%s" % (tmp_path / "inventory.ini")]
    assert module.lab_openstack()["method"] == "distro"
    assert module.lab_openstack()["nova_python"] == "/usr/bin/python3"
    # and no upgrade: the side effect added a compute host (the zed and vagrant scenarios)
    assert module.collect_ignore == ["test_source.py", "test_tls.py", "test_upgrade.py"]


def test_a_lab_that_sets_nothing_gets_the_collections_defaults(tmp_path, monkeypatch):
    (tmp_path / "group_vars" / "all").mkdir(parents=True)
    (tmp_path / "state.json").write_text('{"release": "trixie"}')
    monkeypatch.delenv("OSDEPLOY_LAB_UPGRADE_TO", raising=False)
    module = load_conftest(tmp_path, monkeypatch)
    # the newest maintained release from source, TLS on
    assert module.lab_openstack()["method"] == "source" and module.lab_openstack()["release"] == "2026.2"
    assert module.lab_setting("osdeploy_tls") is True
    assert module.collect_ignore == ["test_upgrade.py"]


def test_a_lab_with_a_state_file_and_its_settings(tmp_path, monkeypatch):
    (tmp_path / "group_vars" / "all").mkdir(parents=True)
    (tmp_path / "state.json").write_text('{"release": "trixie"}')
    (tmp_path / "group_vars" / "all" / "openstack.yml").write_text(
        "osdeploy_install_method: source\nosdeploy_openstack_release: '2026.2'\n")
    (tmp_path / "group_vars" / "all" / "zz-tls.yml").write_text("osdeploy_tls: true\n")
    monkeypatch.setenv("OSDEPLOY_LAB_UPGRADE_TO", "source:2026.2")
    module = load_conftest(tmp_path, monkeypatch)
    assert module.lab_openstack()["release"] == "2026.2"
    # the side effect upgraded the cloud (the default scenario): it added no compute host
    assert module.collect_ignore == ["test_add_compute.py"]
    assert module.lab_setting("osdeploy_tls") is True and module.lab_setting("absent", 3) == 3
