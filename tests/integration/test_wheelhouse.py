"""wheelhouse with the real pip, against a package index on 127.0.0.1 (local_packages.py): no other network.

The index offers osdt-alpha 1.0 and 1.1 (wheels, each requiring osdt-beta) and osdt-beta 2.0 and 2.1 (source
only, so pip must build it); the constraints pin the older of each.
"""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from local_packages import Index, make_index

CONSTRAINTS = "osdt-alpha===1.0\nosdt-beta===2.0\n"
WANTED = ["osdt-alpha==1.0", "osdt-beta==2.0"]
WHEELS = ["osdt_alpha-1.0-py3-none-any.whl", "osdt_beta-2.0-py3-none-any.whl"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("index"))
    make_index(folder)
    with Index(folder) as index:
        index.simple = index.url + "simple/"
        yield index


@pytest.fixture
def index(served):
    """The index, its record of requests emptied."""
    del served.requests[:]
    return served


@pytest.fixture
def constraints(tmp_path):
    path = tmp_path / "constraints.txt"
    path.write_text("# the release's pins\n" + CONSTRAINTS)
    return str(path)


def args(house, pins, index, **more):
    """The module's arguments: the wheelhouse, the constraints file, the index; `more` overrides them."""
    found = {"path": str(house), "requirements": ["osdt-alpha"], "constraints": pins,
             "index_url": index.simple}
    found.update(more)
    return found


@pytest.fixture(scope="module")
def built(ansible_module, served, tmp_path_factory):
    """A wheelhouse as the first run builds it (the first test checks that run)."""
    folder = tmp_path_factory.mktemp("built")
    (folder / "constraints.txt").write_text(CONSTRAINTS)
    first = ansible_module("wheelhouse", args(folder / "wheelhouse", str(folder / "constraints.txt"), served))
    return folder / "wheelhouse", first


@pytest.fixture
def house(built, tmp_path):
    """A copy of the built wheelhouse."""
    shutil.copytree(str(built[0]), str(tmp_path / "wheelhouse"))
    return tmp_path / "wheelhouse"


def wheels(path):
    return sorted(name for name in os.listdir(str(path)) if name.endswith(".whl"))


def test_first_build_then_a_rerun_fetches_nothing(ansible_module, tmp_path, index, constraints, built):
    fresh = tmp_path / "wheelhouse"
    preview = ansible_module("wheelhouse", args(fresh, constraints, index), check=True)
    assert not preview.failed, preview.output
    assert preview["changed"] is True and preview["fetched"] == WANTED and preview["wheels"] == 0
    assert not fresh.exists(), "check mode made the wheelhouse"

    house, first = built
    assert not first.failed, first.output
    assert first["changed"] is True and first["fetched"] == WANTED and first["wheels"] == 2
    assert first["distributions"] == WANTED
    # the constraints' versions, although newer ones are offered; beta built from its source
    assert wheels(house) == WHEELS
    assert first["fetched_bytes"] == sum(os.path.getsize(str(house / name)) for name in WHEELS)
    assert [name for name in os.listdir(str(house)) if name.startswith(".partial-")] == []

    del index.requests[:]
    for check in (True, False):
        again = ansible_module("wheelhouse", args(house, constraints, index), check=check)
        assert not again.failed, again.output
        assert again["changed"] is False and again["fetched"] == [] and again["fetched_bytes"] == 0
        assert again["wheels"] == 2
    assert index.requests == [], "a converged run contacted the index"


def test_a_removed_wheel_is_fetched_again_and_only_it(ansible_module, house, index, constraints):
    os.unlink(str(house / WHEELS[0]))
    preview = ansible_module("wheelhouse", args(house, constraints, index), check=True)
    assert preview["changed"] is True and preview["fetched"] == ["osdt-alpha==1.0"], preview.output
    del index.requests[:]
    again = ansible_module("wheelhouse", args(house, constraints, index))
    assert again["changed"] is True and again["fetched"] == ["osdt-alpha==1.0"], again.output
    assert wheels(house) == WHEELS
    assert not [path for path in index.requests if path.endswith(".tar.gz")], "beta was fetched again"


def wait_for_pip_wheel(house, run, timeout=60):
    """The process id of the `pip wheel` that writes into a folder of the wheelhouse."""
    deadline = time.time() + timeout
    while time.time() < deadline and run.poll() is None:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    argv = f.read().split(b"\0")
            except (IOError, ValueError):
                continue
            if b"wheel" in argv and any(arg.startswith((house + "/.partial-").encode()) for arg in argv):
                return int(pid)
        time.sleep(0.02)
    raise AssertionError("the run never started pip wheel")


def test_an_interrupted_run_is_completed_by_the_next(ansible_module, tmp_path, index, constraints):
    """The run is killed (Ansible, the module and pip) while pip writes into its folder."""
    house = tmp_path / "wheelhouse"
    cmd = ["ansible", "localhost", "-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=/usr/bin/python3",
           "-m", "osdeploy.nova.wheelhouse", "-a", json.dumps(args(house, constraints, index))]
    run = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        pip = wait_for_pip_wheel(str(house), run)
        # Ansible runs the module in a session of its own: that session's group is the module and pip
        os.killpg(os.getpgid(pip), signal.SIGKILL)
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    assert [name for name in os.listdir(str(house)) if name.startswith(".partial-")], "not killed mid-fetch"
    # whatever the kill left, the wheelhouse holds no incomplete wheel
    for name in wheels(house):
        assert subprocess.run(["python3", "-m", "zipfile", "-t", str(house / name)], capture_output=True,
                              check=False).returncode == 0

    done = ansible_module("wheelhouse", args(house, constraints, index))
    assert not done.failed, done.output
    assert done["changed"] is True and wheels(house) == WHEELS
    assert [name for name in os.listdir(str(house)) if name.startswith(".partial-")] == []
    assert ansible_module("wheelhouse", args(house, constraints, index))["changed"] is False


def test_newer_pins_add_their_wheels(ansible_module, house, index, constraints):
    with open(constraints, "w") as f:
        f.write("osdt-alpha===1.1\nosdt-beta===2.0\n")
    newer = ansible_module("wheelhouse", args(house, constraints, index))
    assert newer["changed"] is True and newer["fetched"] == ["osdt-alpha==1.1"], newer.output
    assert newer["distributions"] == ["osdt-alpha==1.1", "osdt-beta==2.0"] and newer["wheels"] == 3


@pytest.mark.parametrize("change,expected", [
    (dict(constraints="/nonexistent/constraints.txt"),
     "constraints: /nonexistent/constraints.txt does not exist on this host"),
    (dict(constraints="constraints.txt"), "constraints: constraints.txt is a relative path"),
    (dict(path="wheels"), "path: wheels is a relative path"),
    (dict(requirements=["--index-url=http://example.org/"]), "requirements: '--index-url=http://example.org/' is a "
                                                             "pip option"),
    (dict(requirements=["osdt-alpha @ https://example.org/a.whl"]), "requirements: 'osdt-alpha @ "
                                                                    "https://example.org/a.whl' is not a requirement"),
    (dict(python="/usr/bin/python3.99"), "python: /usr/bin/python3.99 does not exist on this host"),
])
def test_bad_input_is_refused_naming_the_option(ansible_module, tmp_path, index, constraints, change, expected):
    res = ansible_module("wheelhouse", args(tmp_path / "wheelhouse", constraints, index, **change))
    assert res.failed and res["msg"].startswith(expected), res.output
    assert index.requests == [] and not (tmp_path / "wheelhouse").exists()


def test_what_the_constraints_do_not_pin_is_refused(ansible_module, tmp_path, index, constraints):
    with open(constraints, "w") as f:
        f.write("osdt-alpha===1.0\n")
    res = ansible_module("wheelhouse", args(tmp_path / "wheelhouse", constraints, index))
    assert res.failed and res["unpinned"] == ["osdt-beta"], res.output
    assert "osdt-beta would be installed at a version nothing pins" in res["msg"]
    assert wheels(tmp_path / "wheelhouse") == []


def test_credentials_of_the_index_never_show(ansible_module, tmp_path, house, index, constraints):
    url = index.simple.replace("http://", "http://deployer:s3cr%40t-token@")
    os.unlink(str(house / WHEELS[0]))
    res = ansible_module("wheelhouse", args(house, constraints, index, index_url=url), verbosity=3)
    assert not res.failed and res["changed"] is True, res.output
    assert "s3cr" not in res.output and "deployer" not in res.output
    # a failure's message, which names the index, masks them too
    res = ansible_module("wheelhouse", args(tmp_path / "other", constraints, index,
                                            index_url=url.replace("/simple/", "/nothing/")), verbosity=3)
    assert res.failed and "s3cr" not in res.output and "deployer" not in res.output, res.output
