"""The osdeploy.nova.timing callback: its summary, and with the json option every task's per-host timing
(what tools/bench/deploy reads)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
import yaml
from ansible import constants as C

from ansible_collections.osdeploy.nova.plugins.callback import timing


class Named:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


class Play(Named):
    def __init__(self, name, strategy="linear"):
        super(Play, self).__init__(name)
        self.strategy = strategy


class Task(Named):
    count = 0

    def __init__(self, name, action, args=None, role=None, no_log=False):
        super(Task, self).__init__(("%s : %s" % (role, name)) if role else name)
        Task.count += 1
        self._uuid = "uuid-%d" % Task.count
        self.action = action.rsplit(".", 1)[-1]
        self.resolved_action = action
        self.args = args or {}
        self._role = Named(role) if role else None
        self.no_log = no_log


class Result:
    def __init__(self, task, host, changed=False):
        self._task, self._host, self._result = task, Named(host), {"changed": changed}


class Display:
    def __init__(self):
        self.lines = []

    def display(self, msg, *args, **kwargs):
        self.lines.append(msg)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def time(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(timing.time, "time", clock.time)
    return clock


def make_callback(**options):
    """The callback with its options as Ansible's plugin loader would declare them (from DOCUMENTATION)."""
    C.config.initialize_plugin_configuration_definitions(
        "callback", "osdeploy.nova.timing", yaml.safe_load(timing.DOCUMENTATION)["options"])
    callback = timing.CallbackModule()
    callback._load_name = "osdeploy.nova.timing"
    callback.set_options(direct=options)
    callback._display = Display()
    return callback


def run(callback, clock):
    """Two plays: packages (strategy free) on two hosts, then a linear play with a handler."""
    callback.v2_playbook_on_play_start(Play("Install the packages", "free"))
    install = Task("Install the packages", "ansible.builtin.apt", {"name": "{{ packages }}", "state": "present"}, role="osdeploy.nova.baseline")
    callback.v2_playbook_on_task_start(install, False)
    callback.v2_runner_on_start(Named("controller"), install)
    clock.now += 1
    callback.v2_playbook_on_task_start(install, False)  # strategy free: announced per host
    callback.v2_runner_on_start(Named("compute1"), install)
    clock.now += 20
    callback.v2_runner_on_ok(Result(install, "compute1", changed=True))
    clock.now += 30
    callback.v2_runner_on_ok(Result(install, "controller", changed=True))

    callback.v2_playbook_on_play_start(Play("Nova on the controller"))
    sync = Task("Migrate the API database schema", "osdeploy.nova.cell_v2", {"action": "api_db_sync", "config_files": ["/etc/nova/nova.conf"]})
    secret = Task("Set the password", "ansible.builtin.command", {"cmd": "set-password {{ pw }}"}, no_log=True)
    start = Task("Start nova-api", "ansible.builtin.systemd_service", {"name": "nova-api", "state": "started"})
    for task, seconds, changed in ((sync, 12, True), (secret, 1, False), (start, 2, False)):
        clock.now += 0.5
        callback.v2_playbook_on_task_start(task, False)
        callback.v2_runner_on_start(Named("controller"), task)
        clock.now += seconds
        callback.v2_runner_on_ok(Result(task, "controller", changed=changed))
    skipped = Task("Only on computes", "ansible.builtin.debug")
    callback.v2_playbook_on_task_start(skipped, False)
    callback.v2_runner_on_start(Named("controller"), skipped)
    callback.v2_runner_on_skipped(Result(skipped, "controller"))
    restart = Task("Restart nova-api", "ansible.builtin.systemd_service", {"name": "nova-api", "state": "restarted"})
    callback.v2_playbook_on_handler_task_start(restart)
    callback.v2_runner_on_start(Named("controller"), restart)
    clock.now += 3
    callback.v2_runner_on_failed(Result(restart, "controller"))
    clock.now += 0.5
    callback.v2_playbook_on_stats(None)


def test_the_summary_lists_the_slowest_tasks_first(clock):
    callback = make_callback(top=2)
    run(callback, clock)
    assert callback._display.lines == [
        "TIMING: 71.0 s in total, 6 tasks, 3 changed results",
        "TIMING:     51.0 s  osdeploy.nova.baseline : Install the packages",
        "TIMING:     12.0 s  Migrate the API database schema",
    ]


def test_no_json_without_the_option(clock, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    callback = make_callback()
    run(callback, clock)
    assert list(tmp_path.iterdir()) == []
    assert not any("per-host timing" in line for line in callback._display.lines)


def test_the_json_has_every_task_with_its_per_host_timing(clock, tmp_path):
    path = tmp_path / "timing.json"
    callback = make_callback(json=str(path))
    run(callback, clock)
    assert callback._display.lines[-1] == "TIMING: every task's per-host timing is in %s" % path
    data = json.loads(path.read_text())
    assert (data["start"], data["end"], data["changed"]) == (1000.0, 1071.0, 3)
    install, sync, secret, start, skipped, restart = data["tasks"]
    assert install == {
        "name": "osdeploy.nova.baseline : Install the packages", "role": "osdeploy.nova.baseline",
        "action": "ansible.builtin.apt", "args": {"state": "present"},
        "play": "Install the packages", "strategy": "free", "handler": False, "start": 1000.0, "end": 1051.0,
        "hosts": {"controller": {"start": 1000.0, "end": 1051.0, "status": "ok", "changed": True},
                  "compute1": {"start": 1001.0, "end": 1021.0, "status": "ok", "changed": True}},
    }
    assert (sync["action"], sync["args"], sync["role"]) == ("osdeploy.nova.cell_v2", {"action": "api_db_sync"}, None)
    assert (sync["play"], sync["strategy"]) == ("Nova on the controller", "linear")
    assert sync["hosts"] == {"controller": {"start": 1051.5, "end": 1063.5, "status": "ok", "changed": True}}
    assert secret["args"] == {}
    assert start["args"] == {"state": "started"}
    assert skipped["hosts"]["controller"]["status"] == "skipped"
    assert (restart["handler"], restart["args"]) == (True, {"state": "restarted"})
    assert restart["hosts"]["controller"] == {"start": 1067.5, "end": 1070.5, "status": "failed", "changed": False}


def test_the_option_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("OSDEPLOY_TIMING_JSON", str(tmp_path / "env.json"))
    assert make_callback().get_option("json") == str(tmp_path / "env.json")
