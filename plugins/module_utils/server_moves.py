# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The server_check module's moves (``migrate: true``): ``ServerMoves``, a part of ``ServerProof``.

A cold migration to another host (confirmed) or a live migration, then where
the server landed: ACTIVE on the target, its port ACTIVE and bound there, and
Placement holding its resources on the target's resource provider alone, none
for the migration. A failed move is reported with the server's newest instance
action and its events.

``ServerMoves`` is mixed into ``ServerProof`` (module_utils/server_proof.py) and
uses what that class has: the OpenStack module's ``call()``, ``listing()``,
``fail()`` and ``params``, and the proof's ``admin`` (moves, hosts, bindings and
allocations are admin's to see and do, also for a member's server), ``stage``,
``by_admin()``, ``policy_refusal()``, ``raw()``, ``elapsed()`` and ``wait_ping()``. The
judgements are module_utils/server_check.py's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.osdeploy.nova.plugins.module_utils import server_check as checks
from ansible_collections.osdeploy.nova.plugins.module_utils.server_check import poll_until


class ServerMoves(object):
    """Moving a server of the proof to another host and back (see the module's docstring)."""

    def move(self, record, kind, target, namespace, net):
        """Move record's server to target (kind cold: migrate and confirm; live: os-migrateLive), then check
        where it landed and, with ping, that it answers."""
        p = self.params
        source = record["current_host"] = record.get("current_host", record["host"])
        start = time.monotonic()
        if kind == "cold":
            self.server_action(record, {"migrate": {"host": target}}, "2.56", "cold migration")
            self.wait_moved(record, "VERIFY_RESIZE", target, "cold migration")
            self.server_action(record, {"confirmResize": None}, None, "confirm")
            self.wait_moved(record, "ACTIVE", target, "confirm")
        else:
            self.server_action(record, {"os-migrateLive": {"host": target, "block_migration": "auto"}}, "2.25",
                               "live migration")
            self.wait_moved(record, "ACTIVE", target, "live migration")
        stage = "%s migration" % kind
        self.check_landing(record, target, stage)
        move = dict(kind=kind, source=source, target=target, seconds=self.elapsed(start), ping=None)
        record["moves"].append(move)
        record["current_host"] = target
        if p["ping"]:
            landed = time.monotonic()
            self.wait_ping(record, landed, namespace, net, stage="%s: ping" % stage)
            move["ping"] = record["seconds"].pop("ping_after_move")

    def server_action(self, record, body, microversion, stage):
        self.stage = stage
        url = "/servers/%s/action" % record["id"]

        def post():
            return self.admin.compute.post(url, json=body, microversion=microversion)

        def landed():  # a retried POST must not move the server twice
            server = self.admin.compute.get_server(record["id"])
            return server if server.status != "ACTIVE" or getattr(server, "task_state", None) else None
        doing = "%s of %s" % (stage, record["name"])
        resp = self.call(post, doing=doing, recheck=landed)
        status = getattr(resp, "status_code", 202)
        if status == 403:
            self.policy_refusal(doing, getattr(resp, "text", ""))
        if status >= 400:
            self.fail("%s: the API refused to move server %s (HTTP %s): %s" % (
                stage, record["name"], status, getattr(resp, "text", "")[:500]))

    def wait_moved(self, record, status, target, stage):
        """Wait until the server is in status on target; a server back in ACTIVE elsewhere, idle, failed."""
        p = self.params
        self.stage = stage
        server = host = task = None

        def moved():
            nonlocal server, host, task
            server = self.call(self.admin.compute.get_server, record["id"], doing="read server %s" % record["name"])
            host, task = getattr(server, "compute_host", None), getattr(server, "task_state", None)
            record["status"] = server.status
            if server.status == status and host == target and not task:
                return True
            # the API sets a task state before it answers, so an idle server elsewhere is a move that failed
            if server.status == "ERROR" or (server.status == "ACTIVE" and not task and host != target):
                self.fail("%s: server %s is %s on %s, not %s on %s:\n%s" % (
                    stage, record["name"], server.status, host, status, target, self.action_report(record)))
            return False

        poll_until(moved, p["timeout"], p["poll_interval"], lambda: self.fail(
            "%s: server %s is still %s on %s (task state %s) after %d s, not %s on %s:\n%s" % (
                stage, record["name"], server.status, host, task, p["timeout"], status, target,
                self.action_report(record))))
        return server

    def check_landing(self, record, target, stage):
        """The server's port is ACTIVE and bound to target, and Placement holds its resources there only, none
        for the migration (waits for the port, bounded by timeout)."""
        p = self.params
        self.stage = stage
        server = self.call(self.admin.compute.get_server, record["id"], doing="read server %s" % record["name"])
        node = getattr(server, "hypervisor_hostname", None)
        wrong = []

        def bound():
            nonlocal wrong
            ports = self.listing(self.admin.network.ports, device_id=record["id"],
                                 doing="list the ports of %s" % record["name"])
            wrong = ["port %s is %s, bound to %s" % (port.id, port.status, port.binding_host_id) for port in ports
                     if port.status != "ACTIVE" or port.binding_host_id != target]
            return ports and not wrong

        poll_until(bound, p["timeout"], p["poll_interval"], lambda: self.fail(
            "%s: server %s runs on %s, but %s after %d s" % (
                stage, record["name"], target, "; ".join(wrong) or "it has no port", p["timeout"])))
        # Nova shows the server idle on its new host before the source host has released what the migration
        # held there (the confirm, or the end of a live migration, deletes it next): wait for that too.
        problem = None

        def released():
            nonlocal problem
            problem = self.placement_problem(record, node)
            return problem is None

        poll_until(released, p["timeout"], p["poll_interval"], lambda: self.fail(
            "%s: %s, %d s after the server was %s on %s" % (stage, problem, p["timeout"], record["status"], target)))

    def placement_problem(self, record, node):
        """What is wrong with the resources Placement holds for record's server on node, None when nothing: the
        server's own on node alone, none held by a migration of it."""
        names = sorted(self.provider_name(uuid) for uuid in self.allocation_providers(record["id"]))
        problem = checks.misplaced_allocation(record["name"], names, node)
        if problem is not None:
            return problem
        for migration in self.migrations(record["id"]):
            if self.allocation_providers(migration["uuid"]):
                return checks.held_by_migration(record["name"], migration)
        return None

    def allocation_providers(self, consumer):
        found = self.raw(self.admin.placement.get, "/allocations/%s" % consumer,
                         self.by_admin("read the allocations of %s" % consumer))
        return sorted((found.get("allocations") or {}).keys())

    def provider_name(self, uuid):
        found = self.raw(self.admin.placement.get, "/resource_providers/%s" % uuid,
                         self.by_admin("read resource provider %s" % uuid))
        return found.get("name") or uuid

    def migrations(self, server_id):
        found = self.raw(self.admin.compute.get, "/os-migrations?instance_uuid=%s" % server_id,
                         self.by_admin("list the migrations of %s" % server_id), microversion="2.59")
        return [m for m in found.get("migrations") or [] if m.get("uuid")]

    def action_report(self, record):
        """The server's newest instance action and its events, for a failed move (never raises)."""
        compute = self.admin.compute
        try:
            actions = compute.get("/servers/%s/os-instance-actions" % record["id"],
                                  microversion="2.58").json().get("instanceActions") or []
            if not actions:
                return "no instance action recorded"
            newest = actions[0]
            detail = compute.get("/servers/%s/os-instance-actions/%s" % (record["id"], newest["request_id"]),
                                 microversion="2.58").json().get("instanceAction") or {}
        except Exception as e:  # a report, not a step: never hide the failure being reported
            return "instance actions unreadable (%s)" % type(e).__name__
        return checks.action_lines(newest, detail)
