# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: timing
type: aggregate
short_description: Print where a playbook run spent its time
version_added: 0.1.0
author:
  - osdeploy.nova developers (@osdeploy)
description:
  - At the end of a run, prints the total duration, the number of changed results, and the slowest
    tasks, each with its longest host's time (from that host's start of the task to that host's result;
    for a loop, its final result, after those of the items). Under strategy C(free) the hosts reach a task
    at different times, so the span from the first host's start to the last host's result is no task's
    cost (a task that one host runs at once and another after a long install would seem to take as long
    as the install).
  - Used by the Molecule scenarios to report the duration of the first converge and of the
    idempotent re-run. Enable it with C(callbacks_enabled = osdeploy.nova.timing).
  - With O(json) set, it also writes every task of the run to that file as JSON (what the
    deploy benchmark of the source repository reads), in the order they started. The file has C(start), C(end) (epoch seconds) and
    C(changed) (the number of changed results) of the whole run, and C(tasks), a list of objects with
    C(name) (as displayed), C(role) (or null), C(action) (the resolved module or action, for example
    C(ansible.builtin.systemd_service)), C(args) (the task's own, untemplated C(state), C(action), C(cmd),
    C(argv) and C(_raw_params) arguments, those that say what it runs; none for a C(no_log) task), C(play),
    C(strategy) (of its play), C(handler), C(start) and C(end) (when Ansible first announced the task, before
    any host started it, and its last result on any host; a span, not the task's cost under strategy
    C(free)), and C(hosts), per host C(start) (its first start of the task), C(end) (its last result),
    C(seconds) (its time in the task, from its start to its result, summed over its runs when it ran the
    task more than once, as a handler notified again after a flush does), C(status) (C(ok), C(failed),
    C(skipped), C(unreachable)) and C(changed).
options:
  top:
    description: How many of the slowest tasks to list.
    type: int
    default: 15
    env:
      - name: OSDEPLOY_TIMING_TOP
    ini:
      - section: osdeploy_timing
        key: top
  json:
    description:
      - Path of a file to write every task's per-host timing to, as JSON, at the end of the run (replaced
        when it exists; C(~) expanded). Not written when unset or empty (so an empty environment variable
        switches off a path set in the configuration).
    type: str
    version_added: 0.1.0
    env:
      - name: OSDEPLOY_TIMING_JSON
    ini:
      - section: osdeploy_timing
        key: json
requirements:
  - enable in configuration
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

# The arguments that say what a task runs (a command, a service's state, a cell_v2 step); the
# others (files' content, passwords) are never written.
_ARGS_KEPT = ("state", "action", "cmd", "argv", "_raw_params")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "osdeploy.nova.timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._start = time.time()
        self._tasks = {}
        self._order = []
        self._changed = 0
        self._play = None
        self._strategy = None
        # (task, host) -> when that host started its current run of the task, until its result
        self._running = {}

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name().strip()
        self._strategy = play.strategy

    def _task_start(self, task, handler=False):
        key = task._uuid
        if key not in self._tasks:
            now = time.time()
            args = {} if task.no_log else dict((k, v) for k, v in task.args.items() if k in _ARGS_KEPT)
            self._tasks[key] = {
                "name": task.get_name().strip() or task.action,  # carries the role's name
                "role": task._role.get_name() if task._role else None,
                "action": getattr(task, "resolved_action", None) or task.action,
                "args": args,
                "play": self._play,
                "strategy": self._strategy,
                "handler": handler,
                "start": now,
                "end": now,
                "hosts": {},
            }
            self._order.append(key)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start(task, handler=True)

    @staticmethod
    def _host_entry(start):
        """A host's record of a task, from when it started it (a result without a start: from the result)."""
        return {"start": start, "end": None, "seconds": 0.0, "status": None, "changed": False}

    def v2_runner_on_start(self, host, task):
        entry = self._tasks.get(task._uuid)
        if entry is None:
            return
        now = time.time()
        entry["hosts"].setdefault(host.get_name(), self._host_entry(now))
        # a handler notified again after a flush runs again: a new run, not the time in between
        self._running.setdefault((task._uuid, host.get_name()), now)

    def _task_end(self, result, status):
        """A host's result of the task: its final one (a loop's items report apart, before it)."""
        entry = self._tasks.get(result._task._uuid)
        if entry is None:
            return
        now = time.time()
        entry["end"] = now
        name = result._host.get_name()
        host = entry["hosts"].setdefault(name, self._host_entry(now))
        started = self._running.pop((result._task._uuid, name), now)
        host.update(end=now, seconds=host["seconds"] + now - started, status=status,
                    changed=bool(host["changed"] or result._result.get("changed")))

    def v2_runner_on_ok(self, result):
        if result._result.get("changed"):
            self._changed += 1
        self._task_end(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._task_end(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._task_end(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._task_end(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        end = time.time()
        total = end - self._start
        top = self.get_option("top")
        tasks = [self._tasks[key] for key in self._order]
        # a task costs what its longest host spent in it, not the span from the first host to the last
        rows = sorted(((max([h["seconds"] for h in t["hosts"].values()] or [0.0]), t["name"]) for t in tasks),
                      reverse=True)[:top]
        self._display.display("TIMING: %.1f s in total, %d tasks, %d changed results" % (
            total, len(tasks), self._changed))
        if rows:
            self._display.display("TIMING: slowest tasks (longest host):")
        for seconds, name in rows:
            self._display.display("TIMING: %8.1f s  %s" % (seconds, name))
        path = self.get_option("json")
        if path:
            path = os.path.abspath(os.path.expanduser(path))
            with open(path, "w") as out:
                json.dump({"start": self._start, "end": end, "changed": self._changed, "tasks": tasks},
                          out, indent=1, default=str)
            self._display.display("TIMING: every task's per-host timing is in %s" % path)
