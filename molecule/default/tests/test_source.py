"""A cloud installed from source (the lab's `--openstack source:RELEASE`) runs what the release data
names, from the environments, and nothing of Debian's Nova or Placement: every Nova and Placement unit of
every host runs the environment of the release's version, whose own metadata says that version; Debian's
packages of Nova and Placement are absent; the guide's commands (`nova-manage`, `nova-status`,
`placement-manage`) answer as written; the environments are root's and not writable by others; each
host's environment came from the controller's wheelhouse, which serves the release's distributions.
Collected only for a source lab (conftest.py)."""
import os

import pytest
import testinfra
import yaml

from conftest import RELEASES_FILE, ROOT, lab_openstack

INVENTORY = os.path.join(os.environ["OSDEPLOY_LAB_DIR"], "inventory.ini")
COMPUTES = os.environ.get("OSDEPLOY_EXPECT_COMPUTES", "compute1,compute2").split(",")
INSTALLED = lab_openstack()
with open(RELEASES_FILE) as f:
    VERSIONS = yaml.safe_load(f)["__osdeploy_releases"][INSTALLED["release"]]["source"]["packages"]
DISTRIBUTIONS = {"nova": "nova", "placement": "openstack-placement"}
UNITS = {"controller": ["nova-api", "nova-api-metadata", "nova-conductor", "nova-scheduler", "nova-novncproxy",
                        "placement-api"]}
UNITS.update({name: ["nova-compute"] for name in COMPUTES})


def host(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, INVENTORY))


def what_runs(name):
    """{unit: (version, where its code comes from)} of the host's active Nova and Placement units, as
    tools/what-runs (make deploy's verification) prints them."""
    with open(os.path.join(ROOT, "tools", "what-runs")) as f:
        out = host(name).check_output("sh -c %s", f.read())
    return {unit: (version, source) for unit, version, source in (line.split(None, 2) for line in out.splitlines())}


@pytest.mark.parametrize("name", ["controller"] + COMPUTES)
def test_each_unit_runs_the_environment_of_the_release(name):
    """Every unit of the host runs, from its service's environment, whose metadata says the release's
    version; no other Nova or Placement unit runs there."""
    expected = {}
    for unit in UNITS[name]:
        service = unit.split("-")[0]
        expected[unit] = (VERSIONS[DISTRIBUTIONS[service]], INSTALLED["environments"][service])
    assert what_runs(name) == expected


@pytest.mark.parametrize("name", ["controller"] + COMPUTES)
def test_debians_nova_and_placement_are_absent_or_held_with_none_of_their_own_units_running(name):
    """A fresh source install has none of Debian's Nova and Placement packages; a host the upgrade command took
    from them keeps them installed but held (no apt run upgrades them or starts their code), every unit they
    ship runs the environment (what_runs, above) or is masked."""
    h = host(name)
    packages = [line.split() for line in h.check_output(
        "dpkg-query -W -f '${db:Status-Abbrev} ${Package}\\n' 'nova-*' python3-nova 'placement-*' python3-placement "
        "2>/dev/null || true").splitlines()]
    installed = [package for status, package in packages if status[1] == "i"]
    assert [package for status, package in packages if status[1] == "i" and status[0] != "h"] == []
    if installed:
        units = set(line.rsplit("/", 1)[1][:-len(".service")] for line in h.check_output(
            "dpkg-query -L %s | grep -E '^(/usr)?/lib/systemd/system/[^/@]+[.]service$' || true"
            % " ".join(installed)).splitlines())
        theirs = units - set(UNITS[name])
        script = "for u in %s; do echo \"$u $(systemctl is-enabled $u 2>/dev/null || true)\"; done"
        states = dict(line.split() for line in h.check_output(script % " ".join(sorted(theirs))).splitlines()
                      if len(line.split()) == 2) if theirs else {}
        assert states == {unit: "masked" for unit in theirs}


@pytest.mark.parametrize("command,says", [("nova-manage --version", VERSIONS["nova"]),
                                          ("nova-status --version", VERSIONS["nova"]),
                                          ("placement-manage --version", VERSIONS["openstack-placement"])])
def test_the_guides_commands_answer_as_written(command, says):
    assert host("controller").check_output("%s 2>/dev/null" % command).strip() == says


@pytest.mark.parametrize("name", ["controller"] + COMPUTES)
def test_the_environments_are_roots_and_not_writable_by_others(name):
    h = host(name)
    services = ["nova", "placement"] if name == "controller" else ["nova"]
    for service in services:
        env = h.file(INSTALLED["environments"][service])
        assert (env.user, env.group) == ("root", "root") and not env.mode & 0o002
        writable = h.check_output("find %s -perm -o+w ! -type l | head -n 3" % INSTALLED["environments"][service])
        assert writable == "", writable


def test_the_controller_serves_the_releases_wheelhouse():
    page = host("controller").check_output(
        "python3 -c 'import urllib.request, sys; print(urllib.request.urlopen(sys.argv[1]).read().decode())' "
        "http://%s:8780/%s/" % (host("controller").ansible.get_variables()["osdeploy_management_ip"],
                                INSTALLED["release"]))
    assert "nova-%s-py3-none-any.whl" % VERSIONS["nova"] in page
    assert "openstack_placement-%s-py3-none-any.whl" % VERSIONS["openstack-placement"] in page
