"""wheelhouse and python_venv against a fake pip: which commands each case runs (none that writes in check
mode, no index for a converged wheelhouse), what a failure says, and that an index token never shows."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import zipfile

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.osdeploy.nova.plugins.module_utils import pip_tools as pt
from ansible_collections.osdeploy.nova.plugins.modules import python_venv, wheelhouse

TOKEN = "pypi-AgEIcHlwaS5vcmc"
INDEX = "https://deploy:%s@pypi.example.org/simple/" % TOKEN


def write_wheel(folder, name, version):
    path = os.path.join(folder, "%s-%s-py3-none-any.whl" % (name.replace("-", "_"), version))
    with zipfile.ZipFile(path, "w") as whl:
        whl.writestr("%s.py" % name.replace("-", "_"), "VERSION = %r\n" % version)
    return path


class FakePip(object):
    """Answers the commands the modules run; `commands` records them."""

    def __init__(self, tmp_path, resolved=(("nova", "34.0.0"), ("ovs", "3.5.0"))):
        self.commands = []
        self.resolved = list(resolved)
        self.python = str(tmp_path / "python3")
        open(self.python, "w").close()
        self.wheel_result = (0, "")         # rc and output of pip wheel
        self.wheel_writes = None            # the (name, version) pip wheel writes; None: what it is asked for
        self.installed = {}                 # the environment's distributions
        self.system = {"version": "3.11.2", "packages": {}}
        self.unreachable = False

    def report(self, argv, items):
        with open(argv[argv.index("--report") + 1], "w") as f:
            json.dump({"version": "1", "install": [
                {"metadata": {"name": name, "version": version}, "download_info": {"url": url}}
                for name, version, url in items]}, f)

    def __call__(self, module, argv, **kwargs):
        argv = [str(arg) for arg in argv]
        self.commands.append(argv)
        if argv[1:3] == ["-I", "-c"]:                         # the system packages script
            return 0, json.dumps(self.system), ""
        if argv[1:3] == ["-m", "venv"]:
            self.make_venv(argv[-1])
            return 0, "", ""
        command = argv[4]
        if command == "install" and "--dry-run" in argv:
            return self.dry_run(argv)
        if command == "install":
            self.installed.update(dict(self.pending))
            return 0, "", ""
        if command == "wheel":
            folder = argv[argv.index("--wheel-dir") + 1]
            asked = [arg.split("==") for arg in argv if "==" in arg]
            for name, version in (self.wheel_writes if self.wheel_writes is not None else asked):
                write_wheel(folder, name, version)
            return self.wheel_result[0], self.wheel_result[1], ""
        raise AssertionError("unexpected command %s" % argv)

    def dry_run(self, argv):
        if "--find-links" in argv and argv[argv.index("--find-links") + 1].startswith("http") and self.unreachable:
            return 1, "", "ERROR: Could not find a version that satisfies the requirement nova==34.0.0"
        if "--ignore-installed" not in argv:                  # python_venv: what the environment lacks
            self.pending = [(n, v) for n, v in self.resolved if self.installed.get(n) != v]
            self.report(argv, [(n, v, "http://wheels/%s-%s.whl" % (n, v)) for n, v in self.pending])
            return 0, "", ""
        folder = argv[argv.index("--find-links") + 1] if "--find-links" in argv else None
        have = set(os.listdir(folder)) if folder and os.path.isdir(folder) else set()
        items = []
        for name, version in self.resolved:
            file_name = "%s-%s-py3-none-any.whl" % (name.replace("-", "_"), version)
            if file_name in have:
                items.append((name, version, "file://%s/%s" % (folder, file_name)))
            elif "--no-index" in argv:
                return 1, "", "ERROR: No matching distribution found for %s==%s" % (name, version)
            else:
                items.append((name, version, "https://pypi.example.org/packages/%s" % file_name))
        self.report(argv, items)
        return 0, "", ""

    def make_venv(self, path):
        site = pt.site_packages(path, self.system["version"])
        os.makedirs(os.path.join(site, "pip"))
        os.makedirs(os.path.join(path, "bin"))
        os.symlink(self.python, os.path.join(path, "bin", "python"))
        with open(os.path.join(path, "pyvenv.cfg"), "w") as f:
            f.write("home = /usr/bin\ninclude-system-site-packages = false\nversion = %s\n" % self.system["version"])

    def ran(self, word):
        return [argv for argv in self.commands if word in argv]


@pytest.fixture
def fake(tmp_path, monkeypatch):
    pip = FakePip(tmp_path)

    def run_command(module, argv, **kwargs):
        return pip(module, argv, **kwargs)

    monkeypatch.setattr(AnsibleModule, "run_command", run_command)
    return pip


@pytest.fixture
def constraints(tmp_path):
    path = tmp_path / "upper-constraints.txt"
    path.write_text("ovs===3.5.0\noslo.config===10.0.0\n")
    return str(path)


def house_args(tmp_path, fake, constraints, **more):
    found = dict(path=str(tmp_path / "wheelhouse"), requirements=["nova==34.0.0"], constraints=constraints,
                 python=fake.python, index_url=INDEX)
    found.update(more)
    return found


def test_a_converged_wheelhouse_runs_pip_once_offline(run_main, tmp_path, fake, constraints):
    house = tmp_path / "wheelhouse"
    house.mkdir()
    for name, version in fake.resolved:
        write_wheel(str(house), name, version)
    code, out = run_main(wheelhouse, house_args(tmp_path, fake, constraints))
    assert code == 0 and out["changed"] is False and out["fetched"] == [] and out["wheels"] == 2
    assert len(fake.commands) == 1 and "--no-index" in fake.commands[0] and INDEX not in fake.commands[0]


def test_check_mode_lists_what_it_would_fetch_and_writes_nothing(run_main, tmp_path, fake, constraints):
    code, out = run_main(wheelhouse, house_args(tmp_path, fake, constraints), check=True)
    assert code == 0 and out["changed"] is True and out["fetched"] == ["nova==34.0.0", "ovs==3.5.0"]
    assert not fake.ran("wheel") and not (tmp_path / "wheelhouse").exists()


def test_a_fetch_adds_exactly_what_is_missing(run_main, tmp_path, fake, constraints):
    house = tmp_path / "wheelhouse"
    house.mkdir()
    write_wheel(str(house), "nova", "34.0.0")
    code, out = run_main(wheelhouse, house_args(tmp_path, fake, constraints))
    assert code == 0 and out["changed"] is True and out["fetched"] == ["ovs==3.5.0"], out
    wheel = fake.ran("wheel")[0]
    assert "ovs==3.5.0" in wheel and "nova==34.0.0" not in wheel and "--no-deps" in wheel
    assert out["fetched_bytes"] == os.path.getsize(str(house / "ovs-3.5.0-py3-none-any.whl"))
    assert sorted(os.listdir(str(house))) == [pt.LOCK_NAME, "nova-34.0.0-py3-none-any.whl",
                                              "ovs-3.5.0-py3-none-any.whl"]


def test_a_failed_build_names_the_build_tools_and_keeps_what_was_fetched(run_main, tmp_path, fake, constraints):
    fake.wheel_writes = [("nova", "34.0.0")]
    fake.wheel_result = (1, "Building wheel for ovs (pyproject.toml): finished with status 'error'\n"
                            "ERROR: Failed building wheel for ovs\nFailed to build ovs")
    code, out = run_main(wheelhouse, house_args(tmp_path, fake, constraints))
    assert code == 1 and pt.BUILD_TOOLS_HINT in out["msg"] and "Failed to build ovs" in out["msg"]
    assert out["fetched"] == ["nova==34.0.0"]
    assert os.path.exists(str(tmp_path / "wheelhouse" / "nova-34.0.0-py3-none-any.whl"))
    assert not [name for name in os.listdir(str(tmp_path / "wheelhouse")) if name.startswith(pt.PARTIAL_PREFIX)]


def test_an_interrupted_runs_complete_wheels_are_moved_in(run_main, tmp_path, fake, constraints):
    partial = tmp_path / "wheelhouse" / (pt.PARTIAL_PREFIX + "killed")
    partial.mkdir(parents=True)
    write_wheel(str(partial), "nova", "34.0.0")
    (partial / "ovs-3.5.0-py3-none-any.whl").write_bytes(b"PK\x03\x04 half a copy")
    code, out = run_main(wheelhouse, house_args(tmp_path, fake, constraints))
    assert code == 0 and out["fetched"] == ["nova==34.0.0", "ovs==3.5.0"], out
    assert "nova==34.0.0" not in fake.ran("wheel")[0]       # the salvaged wheel was not fetched again
    assert not partial.exists()


def test_the_unpinned_is_refused_before_any_fetch(run_main, tmp_path, fake, constraints):
    fake.resolved.append(("setuptools", "80.0.0"))
    code, out = run_main(wheelhouse, house_args(tmp_path, fake, constraints))
    assert code == 1 and out["unpinned"] == ["setuptools"] and not fake.ran("wheel")
    assert out["msg"].startswith("constraints: setuptools would be installed at a version nothing pins")


def test_the_index_token_never_shows(run_main, tmp_path, fake, constraints):
    fake.resolved.append(("setuptools", "80.0.0"))
    code, out = run_main(wheelhouse, house_args(tmp_path, fake, constraints, requirements=["nova==34.0.0", "x==%s" % TOKEN]))
    assert code == 1 and TOKEN not in json.dumps(out) and "deploy" not in json.dumps(out)


def venv_args(tmp_path, fake, constraints, **more):
    found = dict(path=str(tmp_path / "venv"), requirements=["nova==34.0.0"], constraints=constraints,
                 python=fake.python, find_links=str(tmp_path))
    found.update(more)
    return found


def test_check_mode_on_a_missing_environment_runs_nothing_that_writes(run_main, tmp_path, fake, constraints):
    code, out = run_main(python_venv, venv_args(tmp_path, fake, constraints), check=True)
    assert code == 0 and out["changed"] is True and out["created"] is True and out["installed"] == ["nova==34.0.0"]
    assert not fake.ran("venv") and not fake.ran("pip")


def test_made_then_unchanged(run_main, tmp_path, fake, constraints):
    code, out = run_main(python_venv, venv_args(tmp_path, fake, constraints))
    assert code == 0 and out["created"] is True and out["installed"] == ["nova==34.0.0", "ovs==3.5.0"], out
    del fake.commands[:]
    code, out = run_main(python_venv, venv_args(tmp_path, fake, constraints))
    assert code == 0 and out["changed"] is False and out["installed"] == [], out
    assert not fake.ran("venv") and [argv[4] for argv in fake.ran("pip")] == ["install"]      # the dry run only


def test_a_linked_distribution_is_never_replaced_by_pip(run_main, tmp_path, fake, constraints):
    site = "/usr/lib/python3/dist-packages"
    fake.system["packages"]["libvirt"] = {
        "where": site + "/libvirt.py", "in_site": True, "distributions": [["libvirt-python", "9.0.0"]],
        "entries": {"libvirt.py": site + "/libvirt.py", "libvirt_python-9.0.0.egg-info": site + "/libvirt_python-9.0.0.egg-info"}}
    fake.resolved.append(("libvirt-python", "11.0.0"))
    code, out = run_main(python_venv, venv_args(tmp_path, fake, constraints, system_packages=["libvirt"]))
    assert code == 1, out
    assert out["msg"].startswith("system_packages: pip would replace the platform's libvirt-python (linked: 9.0.0, "
                                 "wanted: 11.0.0)")
    assert len(fake.ran("install")) == 1        # the dry run; nothing installed
