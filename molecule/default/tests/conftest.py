"""What the scenario's test files share."""
import functools
import json
import os
from urllib.parse import quote

import pytest
import yaml


@pytest.fixture(name="secret_forms")
def fixture_secret_forms():
    """[(name, form)]: each lab secret as it may appear in output, as is and percent-encoded."""
    with open(os.path.join(os.environ["OSDEPLOY_LAB_DIR"], "group_vars", "all", "secrets.yml")) as f:
        secrets = yaml.safe_load(f)
    return [(name, form) for name, value in secrets.items() if value
            for form in (str(value), quote(str(value), safe=""))]


ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
RELEASES_FILE = os.path.join(ROOT, "roles", "osdeploy", "vars", "releases.yml")
# Where a source install puts a service's environment (role osdeploy.nova.source).
VENVS = "/opt/osdeploy/venvs"


def lab_codename(lab):
    """The Debian codename of the lab's hosts: from the state of a lab tools/lab made, else (the vagrant
    scenario's VMs, whose lab folder holds only the inventory and group_vars) from its controller."""
    path = os.path.join(lab, "state.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)["release"]
    import testinfra  # pylint: disable=import-outside-toplevel
    controller = testinfra.get_host("ansible://controller?ansible_inventory=%s" % os.path.join(lab, "inventory.ini"))
    return controller.system_info.codename


def lab_openstack():
    """What the lab's hosts run of OpenStack, from the lab's state and group_vars (tools/lab up --release,
    --openstack) and the collection's release data: {method, release, nova (version), nova_python (the
    interpreter that imports that Nova), environments ({service: its environment}, for a source install)}."""
    lab = os.environ["OSDEPLOY_LAB_DIR"]
    codename = lab_codename(lab)
    with open(RELEASES_FILE) as f:
        releases = yaml.safe_load(f)["__osdeploy_releases"]
    method = lab_setting("osdeploy_install_method")
    if method == "source":
        # empty: the newest maintained release
        release = str(lab_setting("osdeploy_openstack_release") or max(
            name for name, data in releases.items() if "source" in data and data["status"] == "maintained"))
        packages = releases[release]["source"]["packages"]
        environments = {"nova": "%s/nova-%s" % (VENVS, packages["nova"]),
                        "placement": "%s/placement-%s" % (VENVS, packages["openstack-placement"])}
        return {"method": method, "release": release, "nova": packages["nova"],
                "nova_python": environments["nova"] + "/bin/python", "environments": environments}
    platform = {"bookworm": "Debian-12", "trixie": "Debian-13"}[codename]
    release, data = next((name, data) for name, data in releases.items() if platform in data.get("distro", {}))
    return {"method": method, "release": release, "nova": data["distro"][platform]["nova"],
            "nova_python": "/usr/bin/python3", "environments": {}}


@functools.lru_cache(maxsize=None)
def role_defaults():
    """The roles' own defaults (osdeploy, baseline, nova), as a host gets them where the inventory is silent (read
    once: every lab_setting asks)."""
    found = {}
    for role in ("nova", "baseline", "osdeploy"):
        with open(os.path.join(ROOT, "roles", role, "defaults", "main.yml")) as f:
            found.update(yaml.safe_load(f))
    return found


def lab_setting(name, default=None):
    """A variable of the lab's group_vars/all (tools/lab up writes them; later files win, as in Ansible), else the
    roles' default (else `default`)."""
    folder = os.path.join(os.environ["OSDEPLOY_LAB_DIR"], "group_vars", "all")
    value = role_defaults().get(name, default)
    for entry in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if entry.endswith((".yml", ".yaml")):
            with open(os.path.join(folder, entry)) as f:
                value = (yaml.safe_load(f) or {}).get(name, value)
    return value


# What only a source install has is checked only there, TLS only where it is on; the upgrade where the side
# effect made one (OSDEPLOY_LAB_UPGRADE_TO), else the compute host it added.
collect_ignore = ([] if lab_openstack()["method"] == "source" else ["test_source.py"]) + (
    [] if lab_setting("osdeploy_tls") else ["test_tls.py"]) + (
    ["test_add_compute.py"] if os.environ.get("OSDEPLOY_LAB_UPGRADE_TO", "").split() else ["test_upgrade.py"])


def pytest_collection_modifyitems(config, items):
    """Molecule's testinfra verifier names each test file on pytest's command line, where collect_ignore does
    not reach: the tests of those files are deselected (neither run nor counted)."""
    ignored = [item for item in items if os.path.basename(str(item.path)) in collect_ignore]
    if ignored:
        config.hook.pytest_deselected(items=ignored)
        items[:] = [item for item in items if item not in ignored]
