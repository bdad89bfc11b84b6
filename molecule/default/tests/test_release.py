"""nova.conf is checked against the Nova that is installed, so what is refused follows the release.

`[api] use_forwarded_for` is the example: Zed (Debian 12) still has it, deprecated for removal;
Epoxy (Debian 13's packages) removed it, and so do the releases installed from source. The same
check-mode call of nova_conf_ini on the controller (with the interpreter of the installed Nova:
Debian's, or the source environment's) is accepted with a deprecation warning on the first and
refused, naming what replaces it and the installed version, on the others; nova.conf is untouched
either way. And what each host runs is named as the lab installed it (openstack_release_fact, which
every run reads before any change). Shared by the scenarios (zed links to this file).
"""
import json
import os

import pytest
import testinfra
import yaml

from conftest import RELEASES_FILE, lab_openstack

INVENTORY = os.path.join(os.environ["OSDEPLOY_LAB_DIR"], "inventory.ini")
NOVA_CONF = "/etc/nova/nova.conf"
SETTING = json.dumps({"path": NOVA_CONF, "settings": {"api": {"use_forwarded_for": True}}})
COMPUTES = os.environ.get("OSDEPLOY_EXPECT_COMPUTES", "compute1,compute2").split(",")
UNITS = {"controller": {"nova-api", "nova-api-metadata", "nova-conductor", "nova-scheduler", "nova-novncproxy",
                        "placement-api"}}
UNITS.update({name: {"nova-compute"} for name in COMPUTES})


@pytest.fixture(name="controller")
def fixture_controller():
    return testinfra.get_host("ansible://controller?ansible_inventory=%s" % INVENTORY)


def test_an_option_epoxy_removed_is_refused_there_and_deprecated_on_zed(controller):
    before = controller.file(NOVA_CONF).sha256sum
    installed = lab_openstack()
    python = {"ansible_python_interpreter": installed["nova_python"]}
    if installed["release"] == "zed":
        result = controller.ansible("osdeploy.nova.nova_conf_ini", SETTING, check=True, extra_vars=python)
        assert result["changed"] and result["validated"]
        warnings = result.get("module_warnings", []) + result.get("warnings", [])
        assert any("[api] use_forwarded_for is deprecated for removal since 26.0.0" in w for w in warnings), result
    else:
        # a failed module's result (testinfra's JSON callback drops its "failed" flag): the refusal
        refused = controller.ansible("osdeploy.nova.nova_conf_ini", SETTING, check=True, extra_vars=python)
        assert not refused.get("changed") and len(refused.get("errors", [])) == 1, refused
        major = installed["nova"].split(".")[0]
        assert refused["errors"][0].startswith("[api] use_forwarded_for is not an option of Nova %s." % major), refused
        assert "enable_proxy_headers_parsing" in refused["msg"], refused
    assert controller.file(NOVA_CONF).sha256sum == before


@pytest.mark.parametrize("name", sorted(UNITS))
def test_each_host_is_read_as_running_the_labs_release_by_its_method(name):
    """openstack_release_fact, which every run reads before any change, names the release and install method
    the lab deployed for each Nova and Placement unit of the host, and no other unit; a source unit's
    environment is (or links to) the release's."""
    with open(RELEASES_FILE) as f:
        releases = yaml.safe_load(f)["__osdeploy_releases"]
    installed = lab_openstack()
    h = testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, INVENTORY))
    result = h.ansible("osdeploy.nova.openstack_release_fact", json.dumps({"releases": releases}), check=True,
                       become=True)
    deployed = result["ansible_facts"]["deployed_openstack"]
    assert not result.get("changed") and set(deployed["units"]) == UNITS[name], result
    assert deployed["releases"] == [installed["release"]], deployed
    for unit, data in deployed["units"].items():
        assert (data["release"], data["method"]) == (installed["release"], installed["method"]), (unit, data)
        if installed["method"] == "source":
            # the APIs run from their service's link (/opt/osdeploy/venvs/<service>), which an upgrade moves
            # and the chain reload follows; the daemons from the versioned environment itself: either way the
            # release's environment
            assert h.file(data["environment"]).linked_to == installed["environments"][data["service"]], (unit, data)
