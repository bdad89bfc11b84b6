"""What the scenario's test files share."""
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


def lab_openstack():
    """What the lab's hosts run of OpenStack, from the lab's state and group_vars (tools/lab up --release,
    --openstack) and the collection's release data: {method, release, nova (version), nova_python (the
    interpreter that imports that Nova), environments ({service: its environment}, for a source install)}."""
    lab = os.environ["OSDEPLOY_LAB_DIR"]
    with open(os.path.join(lab, "state.json")) as f:
        codename = json.load(f)["release"]
    path = os.path.join(lab, "group_vars", "all", "openstack.yml")
    chosen = {}
    if os.path.exists(path):
        with open(path) as f:
            chosen = yaml.safe_load(f) or {}
    with open(RELEASES_FILE) as f:
        releases = yaml.safe_load(f)["__osdeploy_releases"]
    method = chosen.get("osdeploy_install_method", "distro")
    if method == "source":
        release = str(chosen["osdeploy_openstack_release"])
        packages = releases[release]["source"]["packages"]
        environments = {"nova": "%s/nova-%s" % (VENVS, packages["nova"]),
                        "placement": "%s/placement-%s" % (VENVS, packages["openstack-placement"])}
        return {"method": method, "release": release, "nova": packages["nova"],
                "nova_python": environments["nova"] + "/bin/python", "environments": environments}
    platform = {"bookworm": "Debian-12", "trixie": "Debian-13"}[codename]
    release, data = next((name, data) for name, data in releases.items() if platform in data.get("distro", {}))
    return {"method": method, "release": release, "nova": data["distro"][platform]["nova"],
            "nova_python": "/usr/bin/python3", "environments": {}}


# What only a source install has is checked only there.
collect_ignore = [] if lab_openstack()["method"] == "source" else ["test_source.py"]
