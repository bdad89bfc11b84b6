"""What a host runs of Nova and Placement (module_utils/release_fact.py, the openstack_release_fact module), read
from fixture trees laid out as a source install, Debian's packages, and a host between the two."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils.release_fact import (
    debian_versions, environment_of, exec_start, read_units, unit_file)
from ansible_collections.osdeploy.nova.plugins.modules import openstack_release_fact

RELEASES = {
    "2026.2": {"majors": {"nova": 34, "openstack-placement": 16}},
    "2026.1": {"majors": {"nova": 33, "openstack-placement": 15}},
    "2025.1": {"majors": {"nova": 31, "openstack-placement": 13}},
}
DPKG_STATUS = """Package: python3-nova
Status: install ok installed
Version: 2:31.0.0-6

Package: python3-placement
Status: install ok installed
Version: 13.0.0-3

Package: nova-compute
Status: deinstall ok config-files
Version: 2:30.0.0-1
"""


def write(root, path, text=""):
    full = os.path.join(str(root), path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)


def venv(root, service, distribution, version):
    """An environment as the source role makes it: pyvenv.cfg and the distribution's dist-info."""
    path = "/opt/osdeploy/venvs/%s-%s" % (service, version)
    write(root, path + "/pyvenv.cfg", "home = /usr/bin\n")
    write(root, "%s/lib/python3.13/site-packages/%s-%s.dist-info/METADATA" % (
        path, distribution.replace("-", "_"), version), "Name: %s\n" % distribution)
    write(root, "%s/lib/python3.13/site-packages/oslo.config-10.0.0.dist-info/METADATA" % path)
    return path


def source_unit(root, unit, environment, command):
    write(root, "/etc/systemd/system/%s.service" % unit,
          "[Service]\nExecStart=%s/bin/%s --config-file=/etc/nova/nova.conf\n" % (environment, command))


def source_api(root, unit, service, environment):
    write(root, "/etc/%s/%s-uwsgi.ini" % (service, unit), "[uwsgi]\nplugins = python3\nvirtualenv = %s\n" % environment)
    write(root, "/etc/systemd/system/%s.service" % unit,
          "[Service]\nExecStart=/usr/bin/uwsgi --ini /etc/%s/%s-uwsgi.ini\n" % (service, unit))


def debian_unit(root, unit, folder="/usr/lib/systemd/system"):
    write(root, "%s/%s.service" % (folder, unit), "[Service]\nExecStart=/etc/init.d/%s systemd-start\n" % unit)


@pytest.fixture
def source_controller(tmp_path):
    nova = venv(tmp_path, "nova", "nova", "34.0.0")
    placement = venv(tmp_path, "placement", "openstack-placement", "16.0.0")
    source_api(tmp_path, "nova-api", "nova", nova)
    source_api(tmp_path, "placement-api", "placement", placement)
    source_unit(tmp_path, "nova-conductor", nova, "nova-conductor")
    return tmp_path


def test_exec_start_is_the_last_line_without_prefixes():
    assert exec_start("[Service]\nExecStart=\nExecStart=-/usr/bin/uwsgi --ini '/etc/a b.ini'\n") == \
        ["/usr/bin/uwsgi", "--ini", "/etc/a b.ini"]
    assert exec_start("[Service]\nType=simple\n") == []


def test_a_source_install_is_read_from_its_environments(source_controller):
    units = read_units(str(source_controller))
    assert units == {
        "nova-api": dict(service="nova", method="source", version="34.0.0",
                         environment="/opt/osdeploy/venvs/nova-34.0.0"),
        "nova-conductor": dict(service="nova", method="source", version="34.0.0",
                               environment="/opt/osdeploy/venvs/nova-34.0.0"),
        "placement-api": dict(service="placement", method="source", version="16.0.0",
                              environment="/opt/osdeploy/venvs/placement-16.0.0"),
    }


def test_an_api_run_through_the_environments_link_runs_the_release_the_link_names(tmp_path):
    venv(tmp_path, "nova", "nova", "33.0.2")
    venv(tmp_path, "nova", "nova", "34.0.0")
    link = os.path.join(str(tmp_path), "opt/osdeploy/venvs/nova")
    os.symlink("nova-33.0.2", link)
    source_api(tmp_path, "nova-api", "nova", "/opt/osdeploy/venvs/nova")
    assert read_units(str(tmp_path))["nova-api"]["version"] == "33.0.2"
    os.remove(link)
    os.symlink("nova-34.0.0", link)
    # the workers still run 2026.1's code until their reload: what runs is read from what they mapped
    write(tmp_path, "/sys/fs/cgroup/system.slice/nova-api.service/cgroup.procs", "100\n101\n102\n")
    write(tmp_path, "/proc/100/maps", "7f0 r-xp 0 08:01 1 /usr/bin/uwsgi-core\n")
    for pid, version in (("101", "33.0.2"), ("102", "34.0.0")):
        write(tmp_path, "/proc/%s/maps" % pid, "7f1 r-xp 0 08:01 2 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
              "7f2 r-xp 0 08:01 3 /opt/osdeploy/venvs/nova-%s/lib/python3.13/site-packages/greenlet/_greenlet.so\n"
              % version)
    assert read_units(str(tmp_path), processes=True)["nova-api"] == dict(
        service="nova", method="source", version="34.0.0", environment="/opt/osdeploy/venvs/nova",
        running=["/opt/osdeploy/venvs/nova-33.0.2", "/opt/osdeploy/venvs/nova-34.0.0"])
    write(tmp_path, "/proc/101/maps", open(os.path.join(str(tmp_path), "proc/102/maps")).read())
    assert read_units(str(tmp_path), processes=True)["nova-api"]["running"] == ["/opt/osdeploy/venvs/nova-34.0.0"]
    # the roles' read before any change (processes off) leaves the processes alone
    assert "running" not in read_units(str(tmp_path))["nova-api"]


def test_debians_units_are_read_from_dpkgs_status(tmp_path):
    debian_unit(tmp_path, "nova-compute", "/lib/systemd/system")
    debian_unit(tmp_path, "placement-api")
    write(tmp_path, "/var/lib/dpkg/status", DPKG_STATUS)
    assert debian_versions(str(tmp_path), {"python3-nova", "nova-compute"}) == {"python3-nova": "31.0.0"}
    assert read_units(str(tmp_path)) == {
        "nova-compute": dict(service="nova", method="distro", version="31.0.0", environment=None),
        "placement-api": dict(service="placement", method="distro", version="13.0.0", environment=None),
    }


def test_the_unit_systemd_loads_wins_and_a_masked_one_is_absent(tmp_path):
    """An /etc unit overrides Debian's (a source install on a host with Debian's packages); /dev/null masks."""
    nova = venv(tmp_path, "nova", "nova", "33.0.2")
    debian_unit(tmp_path, "nova-compute")
    source_unit(tmp_path, "nova-compute", nova, "nova-compute")
    debian_unit(tmp_path, "nova-scheduler")
    os.symlink("/dev/null", os.path.join(str(tmp_path), "etc/systemd/system/nova-scheduler.service"))
    assert unit_file(str(tmp_path), "nova-scheduler") is None
    assert unit_file(str(tmp_path), "nova-compute").endswith("/etc/systemd/system/nova-compute.service")
    assert read_units(str(tmp_path)) == {
        "nova-compute": dict(service="nova", method="source", version="33.0.2", environment=nova)}


def test_an_environment_without_the_service_or_a_missing_ini_has_no_version(tmp_path):
    empty = "/opt/osdeploy/venvs/nova-x"
    write(tmp_path, empty + "/pyvenv.cfg")
    source_unit(tmp_path, "nova-compute", empty, "nova-compute")
    write(tmp_path, "/etc/systemd/system/nova-api.service", "[Service]\nExecStart=/usr/bin/uwsgi --ini /etc/none.ini\n")
    assert environment_of(str(tmp_path), ["/usr/bin/uwsgi", "--ini", "/etc/none.ini"]) is None
    units = read_units(str(tmp_path))
    assert units["nova-compute"]["version"] is None and units["nova-compute"]["method"] == "source"
    assert units["nova-api"] == dict(service="nova", method="distro", version=None, environment=None)


def test_a_fresh_host_runs_nothing(tmp_path, run_main):
    write(tmp_path, "/var/lib/dpkg/status", DPKG_STATUS)   # Debian's nova installed, but no unit of it
    rc, result = run_main(openstack_release_fact, {"root": str(tmp_path), "releases": RELEASES})
    assert rc == 0 and result["changed"] is False
    assert result["ansible_facts"]["deployed_openstack"] == {"units": {}, "releases": []}


def test_the_module_names_each_units_release_in_check_mode_too(source_controller, run_main):
    nova = venv(source_controller, "nova", "nova", "33.0.2")
    source_unit(source_controller, "nova-scheduler", nova, "nova-scheduler")
    for check in (False, True):
        rc, result = run_main(openstack_release_fact, {"root": str(source_controller), "releases": RELEASES},
                              check=check)
        assert rc == 0 and result["changed"] is False
        deployed = result["ansible_facts"]["deployed_openstack"]
        assert {unit: data["release"] for unit, data in deployed["units"].items()} == {
            "nova-api": "2026.2", "nova-conductor": "2026.2", "placement-api": "2026.2", "nova-scheduler": "2026.1"}
        assert deployed["releases"] == ["2026.1", "2026.2"]
