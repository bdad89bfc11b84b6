"""python_venv with the real venv and pip, from a wheelhouse served on 127.0.0.1 (local_packages.py).

The wheelhouse holds osdt-alpha 1.0 and 1.1 (each requiring osdt-beta) and osdt-beta 2.0. The system
packages linked are two this Debian host has in /usr/lib/python3/dist-packages: PyYAML (a dist-info with
its file list) and python-apt (an egg-info with only top_level.txt).
"""
import os
import shutil
import subprocess

import pytest

from conftest import free_port
from local_packages import Index, make_wheel

ALPHA_1_0 = "osdt-alpha===1.0\nosdt-beta===2.0\n"
ALPHA_1_1 = "osdt-alpha===1.1\nosdt-beta===2.0\n"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The wheelhouse (a folder), served over HTTP."""
    folder = str(tmp_path_factory.mktemp("wheelhouse"))
    for version in ("1.0", "1.1"):
        make_wheel(folder, "osdt-alpha", version, requires=["osdt-beta"])
    make_wheel(folder, "osdt-beta", "2.0")
    with Index(folder) as index:
        yield index


@pytest.fixture
def wheelhouse(served):
    del served.requests[:]
    return served


@pytest.fixture
def constraints(tmp_path):
    path = tmp_path / "constraints.txt"
    path.write_text(ALPHA_1_0)
    return path


def args(env, pins, wheelhouse, **more):
    """The module's arguments: the environment, the constraints file, the wheelhouse; `more` overrides them."""
    found = {"path": str(env), "requirements": ["osdt-alpha"], "constraints": str(pins),
             "find_links": wheelhouse.url}
    found.update(more)
    return found


@pytest.fixture(scope="module")
def made(ansible_module, served, tmp_path_factory):
    """An environment as the first run makes it (the first test checks that run)."""
    folder = tmp_path_factory.mktemp("made")
    (folder / "constraints.txt").write_text(ALPHA_1_0)
    first = ansible_module("python_venv", args(folder / "venv", folder / "constraints.txt", served))
    return folder / "venv", first, list(served.requests)


@pytest.fixture
def env(made, tmp_path):
    """A copy of the environment the first run made (it runs from anywhere: pip runs as python -m pip)."""
    shutil.copytree(str(made[0]), str(tmp_path / "venv"), symlinks=True)
    return tmp_path / "venv"


def system_python(code):
    return subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def in_env(env, code):
    """Run Python code in the environment: (rc, output)."""
    proc = subprocess.run([str(env / "bin" / "python"), "-c", code], capture_output=True, text=True, check=False)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def test_made_from_the_served_wheelhouse_then_left_alone(ansible_module, tmp_path, wheelhouse, constraints, made):
    fresh = tmp_path / "venv"
    preview = ansible_module("python_venv", args(fresh, constraints, wheelhouse), check=True)
    assert not preview.failed, preview.output
    assert preview["changed"] is True and preview["created"] is True and preview["installed"] == ["osdt-alpha"]
    assert "would make the environment" in preview["msg"] and "install its 1 requirements" in preview["msg"]
    assert not fresh.exists(), "check mode made the environment"

    env, first, requests = made
    assert not first.failed, first.output
    assert first["changed"] is True and first["created"] is True
    assert first["installed"] == ["osdt-alpha==1.0", "osdt-beta==2.0"]
    assert in_env(env, "import osdt_alpha, osdt_beta; print(osdt_alpha.VERSION, osdt_beta.VERSION)") == (0, "1.0 2.0")
    assert first["python_version"] == in_env(env, "import platform; print(platform.python_version())")[1]
    # never the system's packages: a module Debian has in dist-packages is not seen
    assert in_env(env, "import yaml")[0] != 0
    assert "/osdt_beta-2.0-py3-none-any.whl" in requests, "the wheels did not come from the served wheelhouse"

    del wheelhouse.requests[:]
    for check in (True, False):
        again = ansible_module("python_venv", args(env, constraints, wheelhouse), check=check)
        assert not again.failed, again.output
        assert again["changed"] is False and again["created"] is False and again["installed"] == []
    assert wheelhouse.requests == [], "a converged run read the wheelhouse"


def test_a_new_pin_installs_that_version_only(ansible_module, env, wheelhouse, constraints):
    constraints.write_text(ALPHA_1_1)
    preview = ansible_module("python_venv", args(env, constraints, wheelhouse), check=True)
    assert preview["changed"] is True and preview["installed"] == ["osdt-alpha==1.1"], preview.output
    assert in_env(env, "import osdt_alpha; print(osdt_alpha.VERSION)") == (0, "1.0")
    upgraded = ansible_module("python_venv", args(env, constraints, wheelhouse))
    assert upgraded["changed"] is True and upgraded["installed"] == ["osdt-alpha==1.1"], upgraded.output
    assert upgraded["created"] is False
    assert in_env(env, "import osdt_alpha; print(osdt_alpha.VERSION)") == (0, "1.1")
    assert ansible_module("python_venv", args(env, constraints, wheelhouse))["changed"] is False


def test_system_packages_are_linked_exactly(ansible_module, env, wheelhouse, constraints):
    both = args(env, constraints, wheelhouse, system_packages=["yaml", "apt_pkg"],
                find_links=wheelhouse.folder)     # the wheelhouse as a folder of this host
    linked = ansible_module("python_venv", both)
    assert not linked.failed and linked["changed"] is True and linked["installed"] == [], linked.output
    apt_pkg = system_python("import apt_pkg; print(apt_pkg.__file__)")
    for name in ("yaml", "_yaml", "apt", "aptsources", os.path.basename(apt_pkg)):
        assert name in linked["linked"] and name in linked["links_changed"], linked["linked"]
    assert [name for name in linked["linked"] if name.startswith("PyYAML-") and name.endswith(".dist-info")]
    assert [name for name in linked["linked"] if name.startswith("python_apt-") and name.endswith(".egg-info")]
    site = env / "lib" / ("python" + system_python("import sys; print('%d.%d' % sys.version_info[:2])")) / "site-packages"
    assert os.readlink(str(site / "yaml")) == "/usr/lib/python3/dist-packages/yaml"
    assert os.readlink(str(site / os.path.basename(apt_pkg))) == apt_pkg
    version = "import yaml, apt_pkg, importlib.metadata as m; print(m.version('PyYAML'))"
    assert in_env(env, version) == (0, system_python(version))
    assert in_env(env, "import pymysql")[0] != 0, "a system package that was not named is seen"
    assert ansible_module("python_venv", both)["changed"] is False

    fewer = dict(both, system_packages=["yaml"])
    preview = ansible_module("python_venv", fewer, check=True)
    assert preview["changed"] is True and "apt" in preview["links_changed"], preview.output
    assert in_env(env, "import apt_pkg")[0] == 0
    res = ansible_module("python_venv", fewer)
    assert res["changed"] is True and "aptsources" in res["links_changed"] and "apt" not in res["linked"]
    assert in_env(env, "import apt_pkg")[0] != 0 and in_env(env, "import yaml")[0] == 0
    assert ansible_module("python_venv", fewer)["changed"] is False


def test_an_environment_of_another_python_is_made_again(ansible_module, env, wheelhouse, constraints):
    cfg = (env / "pyvenv.cfg").read_text()
    (env / "pyvenv.cfg").write_text(cfg.replace("version = 3.", "version = 2."))   # as after a platform upgrade
    res = ansible_module("python_venv", args(env, constraints, wheelhouse))
    assert not res.failed and res["changed"] is True and res["created"] is True, res.output
    assert res["installed"] == ["osdt-alpha==1.0", "osdt-beta==2.0"]
    assert "is made again: it was made with Python 2." in res.output
    assert "version = 3." in (env / "pyvenv.cfg").read_text()
    assert ansible_module("python_venv", args(env, constraints, wheelhouse))["changed"] is False


def test_an_unreachable_wheelhouse_is_named(ansible_module, tmp_path, wheelhouse, constraints):
    url = "http://deployer:t0ken@127.0.0.1:%d/" % free_port()
    res = ansible_module("python_venv", args(tmp_path / "venv", constraints, wheelhouse, find_links=url))
    assert res.failed, res.output
    assert res["msg"].startswith("find_links: the wheelhouse cannot be read at http://********:********@127.0.0.1:")
    assert "it must be served there" in res["msg"]
    assert "t0ken" not in res.output and "deployer" not in res.output
    assert not (tmp_path / "venv").exists(), "refused after a change"


@pytest.mark.parametrize("change,expected", [
    (dict(constraints="/nonexistent/constraints.txt"),
     "constraints: /nonexistent/constraints.txt does not exist on this host"),
    (dict(path="venv"), "path: venv is a relative path"),
    (dict(find_links="wheels"), "find_links: wheels is neither an http(s) URL nor an absolute path"),
    (dict(find_links="/nonexistent/wheels"), "find_links: the folder /nonexistent/wheels does not exist"),
    (dict(system_packages=["osdt_no_such_module"]),
     "system_packages: osdt_no_such_module is not importable by /usr/bin/python3"),
    (dict(system_packages=["json"]), "system_packages: json is part of Python itself"),
    (dict(path="/etc"), "path: /etc exists and is not a virtual environment"),
    (dict(python="/usr/bin/python3.99"), "python: /usr/bin/python3.99 does not exist on this host"),
])
def test_bad_input_is_refused_naming_the_option(ansible_module, tmp_path, wheelhouse, constraints, change, expected):
    res = ansible_module("python_venv", args(tmp_path / "venv", constraints, wheelhouse, **change))
    assert res.failed and res["msg"].startswith(expected), res.output
    assert not (tmp_path / "venv").exists()
