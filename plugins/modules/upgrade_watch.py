#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: upgrade_watch
short_description: Measure what an upgrade costs running servers and the API, phase by phase
version_added: 0.1.0
description:
  - With O(state=started), starts a watcher process on this host that pings each of O(targets) every
    O(ping_interval) seconds (one C(ping -O) per target, from the network namespace O(namespace)) and sends a GET to
    O(api_url) every O(api_interval) seconds, and writes every answer with its time to a log under O(path). The
    watcher outlives the module's run; a watch already running with the same targets is left running.
  - With O(state=phase), writes into the log that the phase O(phase) begins now. Without a running watch it does
    nothing (an upgrade with nothing to upgrade watches nothing; in check mode no watch was started).
  - With O(state=stopped), ends the watcher and returns, for each phase, the pings lost per target and the seconds
    the API did not answer (a failed poll counts until the next poll), and the whole. Without a watch that ran
    since the last stop it returns no phases.
  - A log that a stopped watch wrote is kept aside when the next watch starts; a log without its stop (the host
    went down during an upgrade) is continued, so that a re-run of an interrupted upgrade adds to its figures,
    each of its phases named after its run (for example C(run 2) before the name of a phase of the second run).
author:
  - osdeploy.nova developers (@osdeploy)
options:
  state:
    description: Start the watch, mark a phase, or stop the watch and read its figures.
    type: str
    choices: [started, phase, stopped]
    required: true
  path:
    description: The folder of the watch (its program, config, pid and log), readable by root only.
    type: path
    default: /var/lib/osdeploy/upgrade/watch
  targets:
    description:
      - What to ping (O(state=started)), each with its C(name) (for the figures) and C(address).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The name the figures give the target (a server's).
        type: str
        required: true
      address:
        description: The IPv4 address pinged.
        type: str
        required: true
  namespace:
    description:
      - The network namespace the pings are sent from (a provider network's C(qdhcp-) namespace, where the
        floating IPs are reached); empty for this host's own.
    type: str
    default: ""
  api_url:
    description: The URL polled (for example the compute API's version document); empty polls nothing.
    type: str
    default: ""
  phase:
    description: The phase that begins (O(state=started) or O(state=phase)).
    type: str
  ping_interval:
    description: Seconds between two pings of a target.
    type: float
    default: 0.2
  api_interval:
    description: Seconds between two polls of O(api_url).
    type: float
    default: 0.5
attributes:
  check_mode:
    support: full
    description: Reports what it would start, mark or stop, and does none of it.
  diff_mode:
    support: none
    description: A measurement, not a configuration.
notes:
  - Runs as root where C(ip netns exec) needs it (a O(namespace)).
"""

EXAMPLES = r"""
- name: Watch the canaries and the compute API during the upgrade
  osdeploy.nova.upgrade_watch:
    state: started
    targets:
      - {name: canary-1, address: 203.0.113.21}
    namespace: qdhcp-5c1c2b7e-0a42-4b4e-9d1c-3f2f0c7c1f11
    api_url: http://controller:8774/
    phase: the new code beside the old

- name: Mark a phase
  osdeploy.nova.upgrade_watch:
    state: phase
    phase: the compute hosts

- name: Stop the watch and read its figures
  osdeploy.nova.upgrade_watch:
    state: stopped
  register: watched

- name: Show them
  ansible.builtin.debug:
    msg: "{{ watched.report }}"
"""

RETURN = r"""
running:
  description: Whether a watch runs after the module's run.
  returned: always
  type: bool
phases:
  description: With O(state=stopped), each phase's figures, in order.
  returned: always
  type: list
  elements: dict
  sample:
    - name: the compute hosts
      seconds: 61.5
      pings: {canary-1: {sent: 306, lost: 0}}
      pings_lost: 0
      api_polls: 122
      api_failed: 0
      api_seconds_down: 0.0
total:
  description: With O(state=stopped), the whole watch's figures (C(seconds), C(pings_sent), C(pings_lost),
    C(api_polls), C(api_failed), C(api_seconds_down)); empty without phases.
  returned: always
  type: dict
report:
  description: The figures as lines to print, one per phase, then the whole.
  returned: always
  type: list
  elements: str
  sample:
    - "the compute hosts (61.5 s): pings lost 0 of 306 (canary-1 0); API unanswered 0.0 s (0 of 122 polls)"
"""

import os

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils.upgrade_watch import Watch, report, summarize


class UpgradeWatch(base.OsdeployModule):
    argument_spec = dict(
        state=dict(type="str", required=True, choices=["started", "phase", "stopped"]),
        path=dict(type="path", default="/var/lib/osdeploy/upgrade/watch"),
        targets=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True), address=dict(type="str", required=True))),
        namespace=dict(type="str", default=""),
        api_url=dict(type="str", default=""),
        phase=dict(type="str"),
        ping_interval=dict(type="float", default=0.2),
        api_interval=dict(type="float", default=0.5),
    )
    module_kwargs = dict(supports_check_mode=True, required_if=[("state", "phase", ["phase"])])

    def check_params(self):
        p = self.params
        for option in ("ping_interval", "api_interval"):
            if not 0.01 <= p[option] <= 60:
                self.fail("%s: %s seconds is out of bounds: give 0.01 to 60" % (option, p[option]))
        if p["namespace"] and ("/" in p["namespace"] or p["namespace"] in (".", "..")):
            self.fail("namespace: %r is not a network namespace's name" % p["namespace"])
        if p["api_url"] and not p["api_url"].startswith(("http://", "https://")):
            self.fail("api_url: %r is not an http(s) URL" % p["api_url"])
        if p["phase"] is not None and not p["phase"].strip():
            self.fail("phase: give the phase a name")

    def run(self):
        p = self.params
        self.check_params()
        watch = Watch(p["path"])
        self.result = dict(changed=False, running=watch.pid() is not None, phases=[], total={}, report=[])
        if p["state"] == "started":
            self.start(watch)
        if p["state"] in ("started", "phase") and p["phase"] and self.result["running"]:
            if not self.check_mode:
                if p["state"] == "started":
                    watch.write("run")  # (the figures name each run's phases where re-runs continued the log)
                watch.write("phase %s" % " ".join(p["phase"].split()))
            self.result["changed"] = True
        if p["state"] == "stopped":
            self.stop(watch)
        return self.result

    def start(self, watch):
        p = self.params
        config = dict(targets=p["targets"], namespace=p["namespace"], api_url=p["api_url"],
                      ping_interval=p["ping_interval"], api_interval=p["api_interval"])
        if self.result["running"]:
            current = dict(watch.read_config() or {})
            current.pop("log", None)
            if current == config:
                return
            if not self.check_mode:
                watch.stop(final=False)  # (other targets: the same log goes on, from a new watcher)
        if p["namespace"] and not os.path.exists(os.path.join("/run/netns", p["namespace"])):
            self.fail("namespace: %s is not a network namespace of this host (ip netns list)" % p["namespace"])
        self.result["changed"] = True
        if not self.check_mode:
            watch.start(config)
            self.result["running"] = True

    def stop(self, watch):
        running = self.result["running"]
        if not running and (watch.stopped_log() or not watch.log_text()):
            return  # nothing watched since the last stop
        self.result["changed"] = True
        if self.check_mode:
            return
        watch.stop()
        phases, total = summarize(watch.log_text())
        self.result.update(running=False, phases=phases, total=total, report=report(phases, total))


def main():
    base.main(UpgradeWatch)


if __name__ == "__main__":
    main()
