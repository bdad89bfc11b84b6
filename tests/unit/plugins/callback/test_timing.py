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
        "TIMING: slowest tasks (longest host):",
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
        "hosts": {"controller": {"start": 1000.0, "end": 1051.0, "seconds": 51.0, "status": "ok", "changed": True},
                  "compute1": {"start": 1001.0, "end": 1021.0, "seconds": 20.0, "status": "ok", "changed": True}},
    }
    assert (sync["action"], sync["args"], sync["role"]) == ("osdeploy.nova.cell_v2", {"action": "api_db_sync"}, None)
    assert (sync["play"], sync["strategy"]) == ("Nova on the controller", "linear")
    assert sync["hosts"] == {"controller": {"start": 1051.5, "end": 1063.5, "seconds": 12.0, "status": "ok",
                                            "changed": True}}
    assert secret["args"] == {}
    assert start["args"] == {"state": "started"}
    assert skipped["hosts"]["controller"]["status"] == "skipped"
    assert (restart["handler"], restart["args"]) == (True, {"state": "restarted"})
    assert restart["hosts"]["controller"] == {"start": 1067.5, "end": 1070.5, "seconds": 3.0, "status": "failed",
                                              "changed": False}


def test_an_empty_environment_variable_writes_no_json(clock, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OSDEPLOY_TIMING_JSON", "")
    callback = make_callback()
    run(callback, clock)
    assert list(tmp_path.iterdir()) == []
    assert not any("per-host timing" in line for line in callback._display.lines)


def test_the_option_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("OSDEPLOY_TIMING_JSON", str(tmp_path / "env.json"))
    assert make_callback().get_option("json") == str(tmp_path / "env.json")


def free_play(callback, clock, facts_on_compute1):
    """Strategy free, as in packages.yml: compute1 installs its packages for 76 s while the controller (done
    with its install at once) goes on to a set_fact at t=0 and skips it in 0.1 s; compute1 reaches the
    set_fact at t=76 and spends facts_on_compute1 seconds in it."""
    t0 = clock.now
    callback.v2_playbook_on_play_start(Play("Install the packages", "free"))
    install = Task("Install the packages", "ansible.builtin.apt", {"state": "present"})
    facts = Task("Set the package facts", "ansible.builtin.set_fact")
    callback.v2_playbook_on_task_start(install, False)
    callback.v2_runner_on_start(Named("compute1"), install)
    callback.v2_runner_on_start(Named("controller"), install)
    callback.v2_runner_on_ok(Result(install, "controller"))
    callback.v2_playbook_on_task_start(facts, False)
    callback.v2_runner_on_start(Named("controller"), facts)
    clock.now = t0 + 0.1
    callback.v2_runner_on_skipped(Result(facts, "controller"))
    clock.now = t0 + 76
    callback.v2_runner_on_ok(Result(install, "compute1", changed=True))
    callback.v2_playbook_on_task_start(facts, False)  # announced again, for compute1
    callback.v2_runner_on_start(Named("compute1"), facts)
    clock.now += facts_on_compute1
    callback.v2_runner_on_skipped(Result(facts, "compute1"))
    callback.v2_playbook_on_stats(None)


def test_a_task_hosts_reach_at_different_times_costs_its_longest_host_not_the_span(clock):
    """The defect of issue 29: from the controller's start (t=0) to compute1's result (t=76.1) the set_fact
    spans 76.1 s, and the list was topped by it; each host spent 0.1 s in it."""
    callback = make_callback()
    free_play(callback, clock, 0.1)
    assert callback._display.lines == [
        "TIMING: 76.1 s in total, 2 tasks, 1 changed results",
        "TIMING: slowest tasks (longest host):",
        "TIMING:     76.0 s  Install the packages",
        "TIMING:      0.1 s  Set the package facts",
    ]


def test_a_host_that_takes_long_on_a_task_charges_the_task_with_its_time(clock, tmp_path):
    path = tmp_path / "timing.json"
    callback = make_callback(json=str(path))
    free_play(callback, clock, 80)
    assert callback._display.lines[1:4] == [
        "TIMING: slowest tasks (longest host):",
        "TIMING:     80.0 s  Set the package facts",
        "TIMING:     76.0 s  Install the packages",
    ]
    facts = json.loads(path.read_text())["tasks"][1]
    assert (facts["start"], facts["end"]) == (1000.0, 1156.0)
    assert facts["hosts"]["compute1"] == {"start": 1076.0, "end": 1156.0, "seconds": 80.0, "status": "skipped",
                                          "changed": False}
    assert facts["hosts"]["controller"]["seconds"] == pytest.approx(0.1)


def test_a_loop_counts_to_its_final_result_after_its_items(clock):
    callback = make_callback()
    callback.v2_playbook_on_play_start(Play("Nova on the controller"))
    loop = Task("Create the flavors", "ansible.builtin.command", {"argv": ["openstack", "flavor", "create"]})
    callback.v2_playbook_on_task_start(loop, False)
    callback.v2_runner_on_start(Named("controller"), loop)
    for item in range(3):
        clock.now += 2
        callback.v2_runner_item_on_ok(Result(loop, "controller", changed=True))
    clock.now += 0.5
    callback.v2_runner_on_ok(Result(loop, "controller", changed=True))
    callback.v2_playbook_on_stats(None)
    assert callback._display.lines[-1] == "TIMING:      6.5 s  Create the flavors"


def test_a_handler_run_twice_on_a_host_costs_its_two_runs_not_the_time_between(clock, tmp_path):
    """A handler notified again after a flush runs again (the same task), on the same host."""
    path = tmp_path / "timing.json"
    callback = make_callback(json=str(path))
    callback.v2_playbook_on_play_start(Play("Keystone"))
    restart = Task("Restart apache2", "ansible.builtin.systemd_service", {"state": "restarted"})
    between = Task("Register the endpoints", "openstack.cloud.endpoint")
    for task, seconds in ((restart, 2), (between, 30), (restart, 1)):
        if task is restart:
            callback.v2_playbook_on_handler_task_start(task)
        else:
            callback.v2_playbook_on_task_start(task, False)
        callback.v2_runner_on_start(Named("controller"), task)
        clock.now += seconds
        callback.v2_runner_on_ok(Result(task, "controller", changed=True))
    callback.v2_playbook_on_stats(None)
    assert callback._display.lines[2:] == [
        "TIMING:     30.0 s  Register the endpoints",
        "TIMING:      3.0 s  Restart apache2",
        "TIMING: every task's per-host timing is in %s" % path,
    ]
    assert json.loads(path.read_text())["tasks"][0]["hosts"]["controller"] == {
        "start": 1000.0, "end": 1033.0, "seconds": 3.0, "status": "ok", "changed": True}
