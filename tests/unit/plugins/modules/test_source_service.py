"""source_service on a temporary folder: every path is an option, and systemctl, ps and dpkg go through the
skeleton's run_command, answered here by a fake host (units' states, workers' ages, Debian's packages)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import stat
import time

import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils import source_service as planner
from ansible_collections.osdeploy.nova.plugins.module_utils.base import OsdeployModule
from ansible_collections.osdeploy.nova.plugins.modules import source_service

ME = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name
UNITS = ["nova-api", "nova-conductor"]


class Host(object):
    """What systemctl, ps and dpkg answer, and the commands that ran."""

    def __init__(self):
        self.states = {}      # unit: (ActiveState, start seconds or None, MainPID)
        self.workers = {}     # MainPID: [ages]
        self.packages = ""    # dpkg-query -W output
        self.files = ""       # dpkg-query -L output
        self.debian = {}      # Debian's unit: (ActiveState, UnitFileState)
        self.ran = []

    def run_command(self, argv, data=None, allowed=(0,), what=None, **kwargs):
        argv = [str(arg) for arg in argv]
        self.ran.append(argv)
        if argv[:2] == ["systemctl", "show"]:
            blocks = []
            for name in [arg[:-len(".service")] for arg in argv if arg.endswith(".service")]:
                if name in self.debian:
                    active, enabled = self.debian[name]
                    blocks.append("Id=%s.service\nActiveState=%s\nUnitFileState=%s\n" % (name, active, enabled))
                else:
                    active, started, pid = self.states.get(name, ("inactive", None, 0))
                    blocks.append("Id=%s.service\nActiveState=%s\nExecMainStartTimestamp=%s\nMainPID=%d\n"
                                  % (name, active, "@%d" % started if started else "", pid))
            return 0, "\n".join(blocks), ""
        if argv[0] == "ps":
            ages = self.workers.get(int(argv[-1]), [])
            return (0 if ages else 1), "".join("%6d\n" % age for age in ages), ""
        if argv[:2] == ["dpkg-query", "-W"]:
            return (0 if self.packages else 1), self.packages, ""
        if argv[:2] == ["dpkg-query", "-L"]:
            return 0, self.files, ""
        if argv[0] in ("systemctl", "dpkg") or argv[0].endswith("visudo"):
            return 0, "", ""
        if argv[0] == "false":
            return 1, "", "syntax error near line 1\n"
        raise AssertionError("unexpected command %s" % argv)

    def changing(self):
        """The commands that changed something."""
        reads = (["systemctl", "show"], ["dpkg-query", "-W"], ["dpkg-query", "-L"])
        return [argv for argv in self.ran if argv[:2] not in reads and argv[0] != "ps"]


@pytest.fixture
def host(monkeypatch):
    fake = Host()
    monkeypatch.setattr(OsdeployModule, "run_command", fake.run_command)
    return fake


@pytest.fixture
def tree(tmp_path):
    """A nova environment with its etc/nova, and the folders the module writes into."""
    venv = tmp_path / "venvs" / "nova-34.0.0"
    etc = venv / "etc" / "nova"
    (etc / "rootwrap.d").mkdir(parents=True)
    (venv / "bin").mkdir()
    (etc / "api-paste.ini").write_text("[composite:osapi_compute]\nuse = call:nova.api:root_app_factory\n")
    (etc / "rootwrap.conf").write_text("[DEFAULT]\nfilters_path=/etc/nova/rootwrap.d\n"
                                       "exec_dirs=/sbin,/usr/sbin,/bin,/usr/bin\n")
    (etc / "rootwrap.d" / "compute.filters").write_text("[Filters]\n")
    (etc / "rootwrap.d" / "README").write_text("not a filter\n")
    return tmp_path


def args(tree, **more):
    units_dir = str(tree / "systemd")
    files = [
        dict(path=str(tree / "etc" / "nova-api-uwsgi.ini"), mode="0640", unit="nova-api",
             content="[uwsgi]\nvirtualenv = %s\n" % (tree / "venvs" / "nova")),
        dict(path=units_dir + "/nova-api.service", mode="0644", unit="nova-api", content="[Service]\nType=simple\n"),
        dict(path=units_dir + "/nova-conductor.service", mode="0644", unit="nova-conductor",
             content="[Service]\nType=notify\n"),
        dict(path=str(tree / "sudoers.d" / "nova"), mode="0440", content="nova ALL = (root) ...\n",
             validate="/usr/sbin/visudo -cf %s"),
    ]
    for entry in files:
        entry.update(owner=ME, group=GROUP)
    out = dict(service="nova", units=UNITS, ports={"nova-api": 8774}, venv=str(tree / "venvs" / "nova-34.0.0"),
               environment_files=True, config_dir=str(tree / "etc"), commands=["nova-manage", "nova-status"],
               command_dir=str(tree / "bin"), unit_dir=units_dir, files=files,
               directories=[dict(path=str(tree / "lib" / "nova"), owner=ME, group=GROUP, mode="0750"),
                            dict(path=str(tree / "etc" / "rootwrap.d"), owner=ME, group=GROUP, mode="0755")])
    out.update(more)
    return out


def run(run_main, module_args, check=False, diff=False):
    if diff:
        module_args = dict(module_args, _ansible_diff=True)
    return run_main(source_service, module_args, check=check)


def snapshot(tree):
    """{path: (mtime_ns, mode, link target or None)} of everything under the tree but the environment."""
    found = {}
    for folder, dirs, names in os.walk(str(tree)):
        if "venvs" in folder.split(os.sep) and not folder.endswith("venvs"):
            continue
        for name in dirs + names:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            found[path] = (st.st_mtime_ns, stat.S_IMODE(st.st_mode), os.readlink(path) if os.path.islink(path)
                           else None)
    return found


def test_a_fresh_host_gets_every_file_link_and_folder_and_nothing_restarts(run_main, host, tree):
    rc, out = run(run_main, args(tree))
    assert rc == 0, out
    assert out["changed"] is True and out["restart"] == [] and out["reload"] == []
    assert (tree / "etc" / "api-paste.ini").read_text().startswith("[composite:osapi_compute]")
    rootwrap = (tree / "etc" / "rootwrap.conf").read_text()
    assert "exec_dirs=%s/bin,/sbin,/usr/sbin,/bin,/usr/bin\n" % (tree / "venvs" / "nova-34.0.0") in rootwrap
    assert sorted(os.listdir(str(tree / "etc" / "rootwrap.d"))) == ["compute.filters"]
    assert stat.S_IMODE(os.stat(str(tree / "sudoers.d" / "nova")).st_mode) == 0o440
    assert stat.S_IMODE(os.stat(str(tree / "lib" / "nova")).st_mode) == 0o750
    assert os.readlink(str(tree / "bin" / "nova-manage")) == str(tree / "venvs" / "nova-34.0.0" / "bin" / "nova-manage")
    assert os.readlink(str(tree / "venvs" / "nova")) == "nova-34.0.0"
    assert "systemd: daemon-reload" in out["changes"] and ["systemctl", "daemon-reload"] in host.ran
    # visudo saw the new content before it landed, in a file of its own
    visudo = [argv for argv in host.ran if argv[0] == "/usr/sbin/visudo"]
    assert len(visudo) == 1 and visudo[0][1] == "-cf" and visudo[0][2] != str(tree / "sudoers.d" / "nova")
    # one line per path, never a content
    assert not [line for line in out["changes"] if "nova ALL" in line or "[uwsgi]" in line]
    assert len(out["changed_files"]) == 7


def test_a_converged_host_is_left_untouched(run_main, host, tree):
    assert run(run_main, args(tree))[0] == 0
    # the link moved an hour ago, the API's workers started after it and the units after their files
    hour_ago = time.time() - 3600
    os.utime(str(tree / "venvs" / "nova"), (hour_ago, hour_ago), follow_symlinks=False)
    before = snapshot(tree)
    host.ran[:] = []
    later = int(time.time()) + 5
    host.states = {"nova-api": ("active", later, 100), "nova-conductor": ("active", later, 200)}
    host.workers = {100: [60, 60]}
    rc, out = run(run_main, args(tree))
    assert rc == 0, out
    assert (out["changed"], out["changes"], out["restart"], out["reload"]) == (False, [], [], [])
    assert snapshot(tree) == before
    assert host.changing() == []


def test_check_mode_predicts_the_run_and_writes_nothing(run_main, host, tree):
    before = snapshot(tree)
    rc, predicted = run(run_main, args(tree), check=True, diff=True)
    assert rc == 0, predicted
    assert snapshot(tree) == before and host.changing() == []
    rc, done = run(run_main, args(tree))
    assert predicted["changes"] == done["changes"] and predicted["changed_files"] == done["changed_files"]
    diffs = dict((d["after_header"], d) for d in predicted["diff"])
    assert diffs[str(tree / "sudoers.d" / "nova")]["before"] == ""
    assert diffs[str(tree / "sudoers.d" / "nova")]["after"] == "nova ALL = (root) ...\n"


def test_a_drifted_file_is_repaired_and_its_running_unit_restarts(run_main, host, tree):
    assert run(run_main, args(tree))[0] == 0
    started = int(time.time()) + 5  # after every write so far
    host.states = {"nova-api": ("active", started, 100), "nova-conductor": ("active", started, 200)}
    ini = tree / "etc" / "nova-api-uwsgi.ini"
    ini.write_text("[uwsgi]\nprocesses = 9\n")
    unit = tree / "systemd" / "nova-conductor.service"
    os.chmod(str(unit), 0o600)
    mtime = os.stat(str(unit)).st_mtime_ns
    rc, out = run(run_main, args(tree), diff=True)
    assert rc == 0, out
    assert out["restart"] == ["nova-api", "nova-conductor"] and out["reload"] == []
    assert ini.read_text() == "[uwsgi]\nvirtualenv = %s\n" % (tree / "venvs" / "nova")
    # the right content with another mode: the mode is set in place, the file (and its mtime) kept
    assert stat.S_IMODE(os.stat(str(unit)).st_mode) == 0o644 and os.stat(str(unit)).st_mtime_ns == mtime
    assert sorted(out["changed_files"]) == sorted([str(ini), str(unit)])
    assert "wrote %s (content)" % ini in out["changes"] and "systemd: daemon-reload" in out["changes"]
    assert [d["before"] for d in out["diff"] if d["after_header"] == str(ini)] == ["[uwsgi]\nprocesses = 9\n"]


def test_a_unit_running_since_before_its_file_changed_restarts_and_one_not_running_does_not(run_main, host, tree):
    assert run(run_main, args(tree))[0] == 0
    # an earlier run wrote the conductor's file and stopped before its restart
    host.states = {"nova-api": ("active", int(time.time()) + 5, 100), "nova-conductor": ("active", 1000, 200)}
    rc, out = run(run_main, args(tree))
    assert rc == 0, out
    assert out["restart"] == ["nova-conductor"] and out["reload"] == []
    assert out["changes"] == ["systemd: daemon-reload"]
    host.states["nova-conductor"] = ("inactive", None, 0)
    rc, out = run(run_main, args(tree))
    assert (out["restart"], out["changes"]) == ([], [])


def test_the_environment_restarts_every_running_unit(run_main, host, tree):
    assert run(run_main, args(tree))[0] == 0
    host.states = {"nova-api": ("active", int(time.time()) + 5, 100), "nova-conductor": ("inactive", None, 0)}
    rc, out = run(run_main, args(tree, environment_changed=True))
    assert (out["restart"], out["reload"], out["changed"]) == (["nova-api"], [], False)


def test_the_link_moved_to_another_release_reloads_the_running_apis(run_main, host, tree):
    assert run(run_main, args(tree))[0] == 0
    new = tree / "venvs" / "nova-35.0.0"
    os.rename(str(tree / "venvs" / "nova-34.0.0"), str(new))
    later = int(time.time()) + 5
    host.states = {"nova-api": ("active", later, 100), "nova-conductor": ("active", later, 200)}
    host.workers = {100: [0, 0]}
    files = [dict(entry, content=entry["content"].replace("ExecStart", "x")) for entry in args(tree)["files"]]
    rc, out = run(run_main, args(tree, venv=str(new), files=files))
    assert rc == 0, out
    assert os.readlink(str(tree / "venvs" / "nova")) == "nova-35.0.0"
    assert "linked %s -> nova-35.0.0 (pointed at nova-34.0.0)" % (tree / "venvs" / "nova") in out["changes"]
    # the API reloads onto the new code; the conductor runs the new environment by its new unit file only
    # when the environment changed (here: not)
    assert out["reload"] == ["nova-api"] and out["restart"] == []


def test_an_api_with_a_worker_older_than_the_link_reloads(run_main, host, tree):
    assert run(run_main, args(tree))[0] == 0
    later = int(time.time()) + 5
    host.states = {"nova-api": ("active", later, 100), "nova-conductor": ("active", later, 200)}
    host.workers = {100: [3, 100000]}  # one worker started long before the link was made
    rc, out = run(run_main, args(tree))
    assert (out["restart"], out["reload"], out["changes"]) == ([], ["nova-api"], ["systemd: daemon-reload"])


@pytest.mark.parametrize("change, said", [
    (dict(units=["nova-api", "placement-api"]), "units: nova does not have placement-api"),
    (dict(ports={}), "ports: the API nova-api has no port"),
    (dict(command_dir="usr/local/bin"), "command_dir: usr/local/bin is not an absolute path"),
    (dict(files=[dict(path="etc/x.conf", content="", mode="0644")]), "files[0].path: 'etc/x.conf' is not an absolute"),
    (dict(files=[dict(path="/x.conf", content="", mode=420)]), "files[0].mode: 420 is not an octal mode"),
    (dict(files=[dict(path="/x.conf", content="", mode="rw-r--r--")]), "files[0].mode: 'rw-r--r--' is not an octal"),
    (dict(directories=[dict(path="/x", mode="999")]), "directories[0].mode: '999' is not an octal mode"),
    (dict(files=[dict(path="/x.conf", content="", mode="0644", unit="nova-compute")]),
     "files[0].unit: nova-compute is not one of units"),
    (dict(files=[dict(path="/x", content="", mode="0440", validate="visudo -c")]), "has no %s"),
])
def test_bad_options_are_refused_before_anything_changes(run_main, host, tree, change, said):
    before = snapshot(tree)
    rc, out = run(run_main, args(tree, **change))
    assert rc == 1 and out["failed"] is True
    assert said in out["msg"] and "nothing was changed" in out["msg"], out["msg"]
    assert snapshot(tree) == before and host.ran == []


def test_a_file_its_check_refuses_does_not_land(run_main, host, tree):
    files = [dict(path=str(tree / "sudoers.d" / "nova"), content="bad\n", mode="0440", owner=ME, group=GROUP,
                  validate="false %s")]
    rc, out = run(run_main, dict(service="nova", files=files))
    assert rc == 1 and "was not written" in out["msg"] and "syntax error" in out["msg"]
    assert not (tree / "sudoers.d" / "nova").exists()


def test_debians_installed_packages_are_held_and_their_other_units_masked(run_main, host, tree):
    host.packages = "ii  nova-common\nhi  python3-nova\nun  nova-api\n"
    host.files = ("/lib/systemd/system/nova-api.service\n/lib/systemd/system/nova-spicehtml5proxy.service\n"
                  "/lib/systemd/system/nova-serialproxy.service\n/lib/systemd/system/nova@.service\n/etc/nova\n")
    host.debian = {"nova-spicehtml5proxy": ("active", "enabled"), "nova-serialproxy": ("inactive", "masked")}
    rc, out = run(run_main, dict(service="nova", hold=["nova-*", "python3-nova"]), check=True)
    assert rc == 0 and out["changes"] == ["held nova-common", "disable+mask+stop nova-spicehtml5proxy"]
    assert host.changing() == []
    rc, out = run(run_main, dict(service="nova", hold=["nova-*", "python3-nova"]))
    assert ["dpkg", "--set-selections"] in host.ran
    assert [argv[1] for argv in host.changing() if argv[0] == "systemctl"] == ["disable", "mask", "stop"]


@pytest.mark.parametrize("units, apis, running, changed, env, link, paste, stale, want", [
    # the cases of the role's restart decision (the former service.yml facts)
    (["nova-api", "nova-api-metadata", "nova-conductor"], ["nova-api", "nova-api-metadata"],
     ["nova-api", "nova-conductor"], [], False, False, False, ([], []), ([], [])),
    (["nova-api", "nova-api-metadata", "nova-conductor"], ["nova-api", "nova-api-metadata"],
     ["nova-api", "nova-conductor"], [], True, False, False, ([], []), (["nova-api", "nova-conductor"], [])),
    (["nova-api", "nova-api-metadata", "nova-conductor"], ["nova-api", "nova-api-metadata"],
     ["nova-api", "nova-conductor"], [], False, False, True, ([], []), ([], ["nova-api"])),
    (["nova-api", "nova-api-metadata", "nova-conductor"], ["nova-api", "nova-api-metadata"],
     ["nova-api", "nova-conductor"], ["nova-conductor", "nova-api-metadata"], False, False, False, ([], []),
     (["nova-conductor"], [])),
    (["nova-api", "nova-api-metadata", "nova-conductor"], ["nova-api", "nova-api-metadata"], [], [], True, True,
     True, ([], []), ([], [])),
    (["nova-api", "nova-api-metadata", "nova-conductor"], ["nova-api", "nova-api-metadata"],
     ["nova-api", "nova-conductor"], ["nova-conductor"], False, True, False, ([], []),
     (["nova-conductor"], ["nova-api"])),
    (["nova-api", "nova-api-metadata", "nova-conductor"], ["nova-api", "nova-api-metadata"],
     ["nova-api", "nova-conductor"], ["nova-api"], False, True, True, ([], []), (["nova-api"], [])),
    (["nova-api", "nova-api-metadata", "nova-conductor"], ["nova-api", "nova-api-metadata"],
     ["nova-api", "nova-conductor"], [], False, False, False, (["nova-conductor"], ["nova-api"]),
     (["nova-conductor"], ["nova-api"])),
])
def test_what_restarts_and_what_reloads(units, apis, running, changed, env, link, paste, stale, want):
    assert planner.decide(units, apis, running, changed, env, link, paste, stale[0], stale[1]) == want


def test_the_apis_are_the_units_the_role_serves_with_uwsgi():
    import yaml
    root = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")
    with open(os.path.join(root, "roles", "source", "vars", "main.yml")) as f:
        data = yaml.safe_load(f)["__source_unit_data"]
    assert sorted(unit for unit, entry in data.items() if "wsgi" in entry) == sorted(planner.API_UNITS)
    assert sorted((unit, entry["service"]) for unit, entry in data.items()) == sorted(planner.UNITS)
