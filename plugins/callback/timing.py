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
    tasks with their wall-clock time (from the first host starting the task to the last one finishing).
  - Used by the Molecule scenarios to report the duration of the first converge and of the
    idempotent re-run. Enable it with C(callbacks_enabled = osdeploy.nova.timing).
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
requirements:
  - enable in configuration
"""

import time

from ansible.plugins.callback import CallbackBase


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

    def _task_start(self, task):
        key = task._uuid
        if key not in self._tasks:
            name = task.get_name().strip() or task.action  # carries the role's name
            self._tasks[key] = [name, time.time(), time.time()]
            self._order.append(key)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start(task)

    def _task_end(self, result):
        entry = self._tasks.get(result._task._uuid)
        if entry is not None:
            entry[2] = time.time()

    def v2_runner_on_ok(self, result):
        if result._result.get("changed"):
            self._changed += 1
        self._task_end(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._task_end(result)

    def v2_runner_on_skipped(self, result):
        self._task_end(result)

    def v2_runner_on_unreachable(self, result):
        self._task_end(result)

    def v2_playbook_on_stats(self, stats):
        total = time.time() - self._start
        top = self.get_option("top")
        rows = sorted(((e[2] - e[1], e[0]) for e in self._tasks.values()), reverse=True)[:top]
        self._display.display("TIMING: %.1f s in total, %d tasks, %d changed results" % (
            total, len(self._tasks), self._changed))
        for seconds, name in rows:
            self._display.display("TIMING: %8.1f s  %s" % (seconds, name))
