"""pip_tools' decisions, without pip: pins, requirements, pip's report, the wheelhouse's files, environments, links."""
import json
import os
import subprocess
import sys
import zipfile

import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils import pip_tools as pt

UPPER_CONSTRAINTS = """\
# openstack/requirements, stable/2026.2
oslo.config===10.0.0
PyYAML===6.0.2
Paste===3.10.1
pywin32===306;sys_platform=='win32'
python-dateutil===2.9.0.post0
setuptools>=70  # a range is no pin
zope.interface==7.*
-c other.txt
"""


def test_pins_are_exact_versions_by_canonical_name():
    assert pt.pins(UPPER_CONSTRAINTS) == {
        "oslo-config": "10.0.0", "pyyaml": "6.0.2", "paste": "3.10.1", "pywin32": "306",
        "python-dateutil": "2.9.0.post0"}
    assert pt.pins("nova==34.0.0\nOSLO_Messaging [amqp1] == 16.0.0\nplacement") == {
        "nova": "34.0.0", "oslo-messaging": "16.0.0"}


@pytest.mark.parametrize("requirement", ["nova", "nova==34.0.0", "oslo.messaging[amqp1]>=16,<17",
                                         "pywin32==306; sys_platform == 'win32'", "os_brick ~= 6.0"])
def test_requirements_accepted(requirement):
    assert pt.requirement_problem(requirement) is None


@pytest.mark.parametrize("requirement,expected", [
    ("--index-url=https://pypi.example.org/simple", "is a pip option"),
    ("-r other.txt", "is a pip option"),
    ("nova @ https://example.org/nova.whl", "is not a requirement"),
    ("./nova", "is not a requirement"),
    ("git+https://opendev.org/openstack/nova", "is not a requirement"),
    ("", "is not a requirement"),
])
def test_what_is_not_a_requirement_is_named(requirement, expected):
    assert expected in pt.requirement_problem(requirement)


REPORT = {"version": "1", "install": [
    {"metadata": {"name": "osdt-beta", "version": "2.0"},
     "download_info": {"url": "http://127.0.0.1:8008/simple/osdt-beta/osdt_beta-2.0.tar.gz"}},
    {"metadata": {"name": "osdt_Alpha", "version": "1.0"},
     "download_info": {"url": "file:///var/cache/wheels/osdt_alpha-1.0-py3-none-any.whl"}},
]}


def test_the_report_lists_name_version_and_where_from():
    items = pt.report_items(REPORT)
    assert items == [("osdt_Alpha", "1.0", "file:///var/cache/wheels/osdt_alpha-1.0-py3-none-any.whl"),
                     ("osdt-beta", "2.0", "http://127.0.0.1:8008/simple/osdt-beta/osdt_beta-2.0.tar.gz")]
    assert pt.pinned_as(items) == ["osdt_Alpha==1.0", "osdt-beta==2.0"]
    assert pt.report_items({"version": "1", "install": []}) == []


def test_what_nothing_pins_is_named():
    items = pt.report_items(REPORT)
    assert pt.unpinned(items, {"osdt-alpha": "1.0"}) == ["osdt-beta"]
    assert pt.unpinned(items, {"osdt-alpha": "1.0", "osdt-beta": "2.0"}) == []


def test_missing_is_what_the_folder_does_not_hold(tmp_path):
    folder = tmp_path / "wheels"
    folder.mkdir()
    items = [("a", "1", "file://%s/a-1-py3-none-any.whl" % folder),
             ("b", "2", "file://%s/elsewhere/b-2-py3-none-any.whl" % folder),
             ("c", "3", "https://pypi.example.org/c-3-py3-none-any.whl")]
    assert [name for name, version, url in pt.missing(items, str(folder))] == ["b", "c"]
    # a path with a symlink in it names the same folder
    os.symlink(str(folder), str(tmp_path / "link"))
    assert [name for name, version, url in pt.missing(items, str(tmp_path / "link"))] == ["b", "c"]


@pytest.mark.parametrize("url,expected", [
    ("https://deploy:t%40ken@pypi.example.org/simple/", ["deploy", "t@ken"]),
    ("https://TOKEN123@pypi.example.org/simple/", ["TOKEN123"]),
    ("https://pypi.example.org/simple/", []),
    (None, []),
    ("/var/cache/wheels", []),
])
def test_url_secrets_are_user_and_password(url, expected):
    assert pt.url_secrets(url) == expected


def test_wheel_file_names_read_as_pins():
    assert pt.wheel_pin("oslo.config-10.0.0-py3-none-any.whl") == "oslo-config==10.0.0"
    assert pt.wheel_pin("ovs-3.5.0-1-cp311-cp311-linux_x86_64.whl") == "ovs==3.5.0"


def wheel(path, members=None):
    with zipfile.ZipFile(str(path), "w") as whl:
        for name, text in (members or {"a.py": "A = 1\n" * 2000}).items():
            whl.writestr(name, text)
    return path


def test_only_complete_wheels_are_moved_in(tmp_path):
    partial, house = tmp_path / ".partial-x", tmp_path / "house"
    partial.mkdir()
    house.mkdir()
    whole = wheel(partial / "a-1.0-py3-none-any.whl")
    cut = wheel(partial / "b-2.0-py3-none-any.whl")
    data = cut.read_bytes()
    cut.write_bytes(data[:len(data) // 2])       # a copy killed half-way
    (partial / "notes.txt").write_text("not a wheel")
    size = whole.stat().st_size
    assert pt.move_wheels(str(partial), str(house)) == [("a-1.0-py3-none-any.whl", size)]
    assert sorted(os.listdir(str(house))) == ["a-1.0-py3-none-any.whl"]
    assert pt.wheel_count(str(house)) == 1 and pt.wheel_count(str(tmp_path / "none")) == 0


CFG = {"home": "/usr/bin", "include-system-site-packages": "false", "version": "3.11.2"}


@pytest.mark.parametrize("cfg,env_python,has_pip,expected", [
    (CFG, "/usr/bin/python3.11", True, None),
    (dict(CFG, version="3.11.9"), "/usr/bin/python3.11", True, None),       # a patch release: the same ABI
    (dict(CFG, version="3.11.2"), "/usr/bin/python3.11", False, "it has no pip"),
    (dict(CFG, version="3.9.2"), "/usr/bin/python3.11", True,
     "it was made with Python 3.9.2 and the requested interpreter is Python 3.11.4"),
    ({"home": "/usr/bin", "version_info": "3.11.2"}, "/usr/bin/python3.11", True, None),
    (CFG, "/usr/local/bin/python3.11", True, "its interpreter is /usr/local/bin/python3.11, not /usr/bin/python3.11"),
    (CFG, None, True, "its interpreter is missing"),
    (dict(CFG, **{"include-system-site-packages": "True"}), "/usr/bin/python3.11", True, "it sees every package"),
])
def test_an_environment_is_made_again_only_when_it_cannot_serve(cfg, env_python, has_pip, expected):
    problem = pt.venv_problem(cfg, env_python, "/usr/bin/python3.11", "3.11.4", has_pip)
    assert problem == expected if expected is None else problem.startswith(expected)


def test_pyvenv_cfg_is_read_as_python_writes_it():
    text = "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n" \
           "executable = /usr/bin/python3.11\ncommand = /usr/bin/python3 -m venv /opt/v\n"
    assert pt.parse_pyvenv_cfg(text)["command"] == "/usr/bin/python3 -m venv /opt/v"
    assert pt.site_packages("/opt/v", "3.13.5") == "/opt/v/lib/python3.13/site-packages"


def test_links_are_added_replaced_and_removed_never_over_installed_files():
    wanted = {"libvirt.py": "/usr/lib/python3/dist-packages/libvirt.py",
              "libvirtmod.so": "/usr/lib/python3/dist-packages/libvirtmod.so",
              "yaml": "/usr/lib/python3/dist-packages/yaml"}
    present = {"libvirt.py": "/usr/lib/python3/dist-packages/libvirt.py",            # in place
               "libvirtmod.so": "/usr/lib/python3/dist-packages/libvirtmod-old.so",  # moved by an upgrade
               "libvirt_python-9.0.0.egg-info": "/usr/lib/python3/dist-packages/libvirt_python-9.0.0.egg-info",
               "yaml": None,                                                        # pip installed PyYAML
               "pip": None}
    assert pt.plan_links(wanted, present) == (["libvirtmod.so"], ["libvirt_python-9.0.0.egg-info"], ["yaml"])
    assert pt.plan_links(wanted, {}) == (sorted(wanted), [], [])
    assert pt.plan_links({}, {"pip": None}) == ([], [], [])


def test_links_read_are_those_that_leave_the_environment(tmp_path):
    env = tmp_path / "venv"
    site = env / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (site / "pip").mkdir()
    os.symlink("/usr/lib/python3/dist-packages/yaml", str(site / "yaml"))
    os.symlink(str(site / "pip"), str(site / "pip-alias"))       # inside the environment: not one of ours
    os.symlink("relative", str(site / "relative"))
    assert pt.read_links(str(site), str(env)) == {
        "pip": None, "yaml": "/usr/lib/python3/dist-packages/yaml", "pip-alias": None, "relative": None}
    assert pt.read_links(str(tmp_path / "none"), str(env)) == {}


def test_the_system_packages_script_finds_a_distribution_and_refuses_the_standard_library():
    """The script as the platform's Python runs it (here: the test's own Python and its pytest)."""
    out = subprocess.run([sys.executable, "-I", "-c", pt.SYSTEM_PACKAGES_SCRIPT,
                          json.dumps(["pytest", "json", "osdt_no_such_module"])],
                         capture_output=True, text=True, check=True).stdout
    answer = json.loads(out)
    assert answer["version"] == "%d.%d.%d" % sys.version_info[:3]
    found = answer["packages"]["pytest"]
    assert found["in_site"] is True
    assert found["distributions"][0][0] == "pytest"
    assert {"pytest", "_pytest", "py.py"} <= set(found["entries"])
    assert [name for name in found["entries"] if name.endswith(".dist-info")]
    folder = os.path.dirname(found["where"])
    assert all(target == os.path.join(folder, name) for name, target in found["entries"].items())
    assert pt.system_package_problem("pytest", found, sys.executable) is None
    assert "is part of Python itself" in pt.system_package_problem("json", answer["packages"]["json"], "py")
    assert pt.system_package_problem("osdt_no_such_module", answer["packages"]["osdt_no_such_module"],
                                     "/usr/bin/python3").startswith(
        "system_packages: osdt_no_such_module is not importable by /usr/bin/python3")


@pytest.mark.parametrize("location,expected", [
    ("http://10.0.0.11:8780/2026.2/", ["--trusted-host", "10.0.0.11:8780"]),
    ("http://user:token@wheels.example/2026.2/", ["--trusted-host", "wheels.example"]),
    ("http://[fd00::11]:8780/", ["--trusted-host", "[fd00::11]:8780"]),
    ("https://10.0.0.11:8780/2026.2/", []),
    ("/var/cache/osdeploy/wheelhouse/2026.2", []),
])
def test_a_wheelhouse_served_over_http_is_trusted_by_host_and_port_only(location, expected):
    assert pt.trusted_host_args(location) == expected
