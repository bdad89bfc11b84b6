# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The proof that Nova works, as a module: ``ServerProof``, the steps of the server_check module.

One run: check the options, connect, look up the image and the network, make
sure of the flavor and the security groups (module_utils: ``ensure_flavor``,
``ensure_security_groups``), delete the servers an earlier run left, wait until
the network can serve servers, boot one server per compute host, wait for each
to be ACTIVE with its ports ACTIVE, for its console markers (where given: a
cloud image prints none the module knows), for its ping and, with a key, for an
SSH login whose checks pass, check the API, move the
first server and back (``ServerMoves``, module_utils/server_moves.py), delete
them all and wait until they and their ports are gone. Every wait is bounded by
the ``timeout`` option; a failure names its stage (the decisions are the plain
functions of module_utils/server_check.py) and ``cleanup()`` deletes what the
run created. The module file is this class with its options.

Two ways to place the servers. With ``admin_cloud``, ``cloud`` is a project
member's: the member makes an anti-affinity server group and boots a server per
host into it in one request (a member may not pin a server to a host), and
creates, reads, reaches and deletes its servers; admin (``self.admin``) reads
where each runs, the network's agents and ports, and moves the servers. Without,
``cloud`` is admin's and each server is pinned to its host (``ZONE:HOST``).
A call refused with HTTP 403 fails naming the stage and the policy rule.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import subprocess
import time

from ansible_collections.osdeploy.nova.plugins.module_utils import server_check as checks
from ansible_collections.osdeploy.nova.plugins.module_utils.base import Failure
from ansible_collections.osdeploy.nova.plugins.module_utils.openstack import (
    OpenStackModule, is_forbidden, is_not_found, is_unreachable)
from ansible_collections.osdeploy.nova.plugins.module_utils.server_check import poll_until, tail
from ansible_collections.osdeploy.nova.plugins.module_utils.server_moves import ServerMoves


class ServerProof(ServerMoves, OpenStackModule):
    """Boots, reaches and deletes a server per compute host (the options: the server_check module's)."""

    partly_secret_options = ("auth", "cloud", "admin_cloud")
    # admin's connection when cloud is a member's (admin_cloud); the member's server group; what the run is doing
    # (a refused call names it)
    admin_conn = None
    group = None
    stage = "setup"
    # the networks each server gets a port on (network, and second_network); floating_network's, when set
    networks = ()
    external = None
    floating = None  # floating IP id: address, of those this run made and has not deleted (set by __init__)

    def __init__(self):
        super(ServerProof, self).__init__()
        self.created = {}  # server id: name, of the servers this run made and has not seen gone
        self.floating = {}
        # reuse: the servers are an earlier run's, kept (keep), with these floating IPs (id: address)
        self.adopted = False
        self.kept_floating = {}
        self.flavor_spec = None

    @property
    def as_member(self):
        """Whether cloud is a project member's (admin_cloud given) rather than admin's."""
        return bool(self.params.get("admin_cloud"))

    @property
    def admin(self):
        """The connection for what only admin may do: which host a server runs on, the network's agents and port
        bindings, flavors, moving servers. cloud's own when it is admin's."""
        return self.admin_conn or self.conn

    def by_admin(self, doing):
        """doing, saying that admin does it where the run is a member's."""
        return doing + " (as admin)" if self.as_member else doing

    # -- connections, and what the cloud refuses ----------------------------------
    def connect(self):
        p = self.params
        self.conn = self.open_connection(p["cloud"], who="the project member" if self.as_member else "the admin user")
        if self.as_member:
            self.admin_conn = self.open_connection(p["admin_cloud"], option="admin_cloud")
        return self.conn

    def policy_refusal(self, doing, text):
        """Fail with what the cloud refused (HTTP 403) and the policy rule that said so (masked on the way out)."""
        self.fail(checks.policy_failure(self.stage, doing, text))

    def fail_from(self, exc, doing=None):
        """A 403 names the stage and the policy rule; any other error as every module says it."""
        if is_forbidden(exc):
            self.policy_refusal(doing, str(exc))
        super(ServerProof, self).fail_from(exc, doing)

    def checked(self, resp, doing):
        """An answer of a raw API call (the SDK's get and post return error answers without raising): an error
        status fails the run, a 403 naming the policy rule."""
        status = getattr(resp, "status_code", 200)
        if status == 403:
            self.policy_refusal(doing, getattr(resp, "text", ""))
        if status >= 400:
            self.fail("%s: %s failed (HTTP %s): %s" % (self.stage, doing, status, getattr(resp, "text", "")[:500]))
        return resp

    def raw(self, method, url, doing, **kwargs):
        """A raw API call (method: an SDK proxy's get, post or delete), retried as every call, its answer checked;
        returns the answer's document."""
        return self.checked(self.call(method, url, doing=doing, **kwargs), doing).json() or {}

    # -- input -----------------------------------------------------------------
    def check_params(self):
        try:
            self.flavor_spec = checks.parse_params(self.params)
        except ValueError as e:
            self.fail(str(e))

    def find(self, find_func, name_or_id, what):
        item = self.call(find_func, name_or_id, ignore_missing=True, doing="look up %s %s" % (what, name_or_id))
        if item is None:
            self.fail("setup: %s %r does not exist at %s (option %s)" % (what, name_or_id, self.auth_url, what))
        return item

    def check_namespace(self, namespace, option="network"):
        """With ping: the network's DHCP namespace is on this host (the pings are sent from it)."""
        out = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True, check=False).stdout
        if not checks.has_namespace(out, namespace):
            self.fail("setup: network %s (option %s) has no DHCP namespace %s on this host: run the check where "
                      "its DHCP agent runs, or set ping: false" % (self.params[option], option, namespace))

    # -- what the servers need: flavor and security groups ------------------------------------------------------
    def note_created(self, what):
        """Record one thing this run created (in check mode: would create)."""
        self.result["created"].append(what)
        self.result["changed"] = True

    def ensure_flavor(self, dry_run=False):
        """The flavor of the servers. With flavor_spec, one that does not exist is created (public) and kept
        (dry_run: only reported); without, it must exist."""
        p = self.params
        compute = self.admin.compute
        if self.flavor_spec is None:
            return self.find(compute.find_flavor, p["flavor"], "flavor")

        def find():
            return compute.find_flavor(p["flavor"], ignore_missing=True)

        flavor = self.call(find, doing="look up flavor %s" % p["flavor"])
        if flavor is None:
            if not dry_run:
                flavor = self.call(compute.create_flavor, name=p["flavor"], is_public=True, recheck=find,
                                   doing="create flavor %s" % p["flavor"], **self.flavor_spec)
            self.note_created("flavor %s" % p["flavor"])
        return flavor

    def ensure_security_groups(self, dry_run=False):
        """With open_icmp: each security group exists in the connection's project (where Nova looks the servers'
        groups up by name) and has an ingress ICMP rule for IPv4, and with ssh_key_file one for TCP port 22; what
        is missing is created and kept (dry_run: only reported)."""
        p = self.params
        if not p["open_icmp"]:
            return
        network = self.conn.network
        project_id = self.call(lambda: self.conn.current_project_id, doing="read the project of the connection")
        scope = dict(project_id=project_id) if project_id else {}

        def icmp_rules(group):
            """The group's ingress ICMP rules for IPv4 (what lets the ping in), None when it has none."""
            return list(network.security_group_rules(security_group_id=group.id, direction="ingress",
                                                     protocol="icmp", ether_type="IPv4")) or None

        def ssh_rules(group):
            """The group's ingress rules for IPv4 that let TCP port 22 in (or all TCP), None when it has none."""
            rules = network.security_group_rules(security_group_id=group.id, direction="ingress",
                                                 protocol="tcp", ether_type="IPv4")
            return [r for r in rules if (r.port_range_min or 1) <= 22 <= (r.port_range_max or 65535)] or None

        def ensure_rule(group, name, new, label, letting, rules, **rule):
            """The ingress rule (IPv4, any source) that rules() finds in group, created when it has none (a new
            group has egress rules only)."""
            if not new and self.call(rules, group, doing="list the %s rules of security group %s" % (label, name)):
                return
            if not dry_run:
                self.call(network.create_security_group_rule, security_group_id=group.id, direction="ingress",
                          ether_type="IPv4", remote_ip_prefix="0.0.0.0/0", recheck=lambda: rules(group),
                          doing="let %s into security group %s" % (letting, name), **rule)
            self.note_created("%s rule of %s" % (label, name))

        for name in dict.fromkeys(p["security_groups"]):  # each once, in order
            def find(name=name):
                return network.find_security_group(name, ignore_missing=True, **scope)

            group = self.call(find, doing="look up security group %s" % name)
            new = group is None
            if new:
                if not dry_run:
                    group = self.call(network.create_security_group, name=name,
                                      description="Lets ping in (osdeploy.nova.server_check)", recheck=find,
                                      doing="create security group %s" % name)
                self.note_created("security group %s" % name)
            ensure_rule(group, name, new, "ICMP", "ping", icmp_rules, protocol="icmp")
            if p.get("ssh_key_file"):
                ensure_rule(group, name, new, "SSH", "SSH", ssh_rules, protocol="tcp", port_range_min=22,
                            port_range_max=22)

    def ensure_keypair(self, dry_run=False):
        """With public_key: the keypair exists for the connection's user with that key; one that is missing is
        created, one with another key replaced (it is the proof's), and kept (dry_run: only reported). Without
        public_key it must exist."""
        p = self.params
        if not p.get("keypair"):
            return
        compute = self.conn.compute

        def find():
            return compute.find_keypair(p["keypair"], ignore_missing=True)

        found = self.call(find, doing="look up keypair %s" % p["keypair"])
        want = (p.get("public_key") or "").strip()
        if not want:
            if found is None and dry_run:
                # a preview before the key exists (the run makes both)
                self.note_created("keypair %s" % p["keypair"])
            elif found is None:
                self.fail("setup: keypair %r does not exist for the user of cloud (option keypair): create it, or "
                          "give public_key" % p["keypair"])
            return
        if found is not None and (found.public_key or "").split()[:2] == want.split()[:2]:
            return
        if not dry_run:
            if found is not None:
                self.call(compute.delete_keypair, found, doing="delete keypair %s (another key)" % p["keypair"])
            self.call(compute.create_keypair, name=p["keypair"], public_key=want, recheck=find,
                      doing="create keypair %s" % p["keypair"])
        self.note_created("keypair %s%s" % (p["keypair"], " (its key replaced)" if found is not None else ""))

    def preview(self):
        """Check mode: read what the run would create; boot and create nothing."""
        p = self.params
        msg = "check mode: no server booted on %s" % ", ".join(p["hosts"])
        kept = None
        if (self.flavor_spec is not None or (p["open_icmp"] and p["security_groups"]) or p.get("keypair") or p["keep"]
                or p["reuse"]):
            try:
                self.connect()
                if self.flavor_spec is not None:
                    self.ensure_flavor(dry_run=True)
                self.ensure_security_groups(dry_run=True)
                self.ensure_keypair(dry_run=True)
                if p["reuse"]:
                    kept = self.kept()[0]
            except Failure as e:
                # the member's cloud entry and user may be made by an earlier step of the same run (the baseline's)
                member_missing = self.as_member and self.conn is None
                if not (member_missing or is_unreachable(e.__context__)):
                    raise  # (a failure's msg is its own: self.result holds none yet)
                self.result.update(changed=False, created=[])
                self.warn("check mode: cannot tell whether the flavor, security groups or keypair would be created, as "
                          "the cloud cannot be read: %s (a real run fails on this too, unless an earlier step, e.g. "
                          "starting a stopped service or making the project member, makes it readable)" % e.msg)
        if self.result["created"]:
            msg += "; would create %s" % ", ".join(self.result["created"])
        if p["keep"] and not kept:
            # (kept: None where the cloud could not be read, as for the flavor above)
            self.result["changed"] = True
            msg += "; would boot a server on each and keep them running"
        elif p["reuse"] and kept and not p["keep"]:
            self.result["changed"] = True
            msg += "; would check, then delete the %d servers an earlier run kept" % len(kept)
        self.result["msg"] = msg
        return self.result

    # -- the run ---------------------------------------------------------------
    def run(self):
        p = self.params
        self.check_params()
        self.result = dict(changed=False, servers=[], leftovers_deleted=[], created=[])
        if self.check_mode:
            return self.preview()
        self.connect()
        image = self.find(self.conn.image.find_image, p["image"], "image")
        net = self.find(self.conn.network.find_network, p["network"], "network")
        self.networks = [net]
        if p.get("second_network"):
            self.networks.append(self.find(self.conn.network.find_network, p["second_network"], "second_network"))
        # the servers are reached from the DHCP namespace of the network they are on, or with floating IPs
        # from that of the network the floating IPs are on (a router between)
        self.external = None
        if p.get("floating_network"):
            self.external = self.find(self.conn.network.find_network, p["floating_network"], "floating_network")
        namespace = "qdhcp-%s" % (self.external or net).id
        self.result["namespace"] = namespace
        if p["ping"]:
            self.check_namespace(namespace, "floating_network" if self.external else "network")
        # what the servers need, created (and kept) only once nothing above failed
        flavor = self.ensure_flavor()
        self.ensure_security_groups()
        self.ensure_keypair()

        started = self.adopt() if p["reuse"] else None
        if started is None:
            self.delete_leftovers()
            self.wait_network(net)
            self.stage = "boot"
            if self.as_member:
                started = self.boot_group(image, flavor, net)
            else:
                started = dict(self.boot(host, p["name_prefix"] + host, image, flavor, net) for host in p["hosts"])

            for record in self.result["servers"]:
                self.wait_active(record, started[record["id"]], net)
            if self.as_member:
                self.check_spread()
            by_host = dict((s["host"], s) for s in self.result["servers"])
            for host in p["hosts"]:
                self.wait_console(by_host[host], started[by_host[host]["id"]], net)
            if self.external is not None:
                for host in p["hosts"]:
                    self.add_floating_ip(by_host[host], net)
        else:
            by_host = self.check_adopted(started, net)
        if p["ping"]:
            for host in p["hosts"]:
                self.wait_ping(by_host[host], started[by_host[host]["id"]], namespace, net)
        if p.get("ssh_key_file"):
            gateways = self.gateways(net)
            for i, host in enumerate(p["hosts"]):
                # east-west: each server pings the next host's over the project network (the tunnels between
                # the hosts), besides the way out
                peer = by_host[p["hosts"][(i + 1) % len(p["hosts"])]]
                targets = gateways + ([peer["fixed"]] if peer is not by_host[host] else [])
                self.wait_ssh(by_host[host], started[by_host[host]["id"]], namespace, net, targets)
        self.check_api(by_host)
        if p["migrate"]:
            first = by_host[p["hosts"][0]]
            if self.as_member:
                # anti-affinity keeps the server off a host where another server of its group runs: those go first
                self.delete_servers([by_host[host] for host in p["hosts"][1:]])
            first["moves"] = []
            self.move(first, "cold", p["hosts"][1], namespace, net)
            self.move(first, "live", p["hosts"][0], namespace, net)
        if p["keep"]:
            # left running for a later run's reuse: nothing of them is this run's to clean up any more
            self.result["kept"] = [by_host[host]["name"] for host in p["hosts"]]
            self.result["changed"] = self.result["changed"] or not self.adopted
            self.created.clear()
            self.floating.clear()
            self.group = None
        else:
            self.floating.update(self.kept_floating)
            self.delete_floating_ips()
            self.delete_servers([by_host[host] for host in p["hosts"] if "delete" not in by_host[host]["seconds"]])
            if self.group is not None:
                self.delete_group()
            self.result["changed"] = self.result["changed"] or self.adopted
        self.result["summary"] = [checks.summary(by_host[host]) for host in p["hosts"]]
        return self.result

    # -- servers an earlier run kept (reuse) ------------------------------------------------------------------
    def adopt(self):
        """The servers an earlier run kept (keep): as the member, its server group's; else NAME_PREFIX + host, in
        any project. Each must be ACTIVE. Records them and returns {server id: now (monotonic)}, or None when
        there are none (an empty group is left to delete_leftovers)."""
        self.stage = "reuse"
        ids, group = self.kept()
        if not ids:
            return None
        self.group = group
        self.adopted = True
        now = time.monotonic()
        for server_id in ids:
            server = self.call(self.conn.compute.get_server, server_id, doing="read the kept server %s" % server_id)
            self.result["servers"].append(dict(host=None, name=server.name, id=server.id, status=server.status,
                                               address=None, ping=None, ssh=None, seconds={}, reused=True))
            if server.status != "ACTIVE":
                self.fail("reuse: server %s, kept by an earlier run, is %s (task state %s), not ACTIVE; delete it "
                          "to have a new one booted" % (server.name, server.status, getattr(server, "task_state", None)))
        return dict((server_id, now) for server_id in ids)

    def kept(self):
        """The ids of the servers an earlier run kept, and (as the member) their server group."""
        p = self.params
        if self.as_member:
            groups = self.raw(self.conn.compute.get, "/os-server-groups", "list the server groups").get(
                "server_groups") or []
            group = next((g for g in groups if g.get("name") == self.group_name()), None)
            return (list(group.get("members") or []) if group else []), group
        return [server.id for host in p["hosts"]
                for server in self.listing(self.admin.compute.servers, all_projects=True,
                                           name="^%s$" % re.escape(p["name_prefix"] + host),
                                           doing=self.by_admin("look for the kept %s" % (p["name_prefix"] + host)))
                ], None

    def check_adopted(self, started, net):
        """The kept servers are still one on each host, with their addresses and floating IPs (a missing floating
        IP is made again). Returns them by host."""
        p = self.params
        records = self.result["servers"]
        for record in records:
            self.wait_active(record, started[record["id"]], net)
        problem = checks.spread_problem(p["hosts"], [(r["name"], r["host"]) for r in records])
        if problem:
            self.fail("reuse: the servers an earlier run kept are no longer one on each host: %s" % problem)
        records.sort(key=lambda record: p["hosts"].index(record["host"]))
        by_host = dict((r["host"], r) for r in records)
        if self.external is None:
            return by_host
        network = self.conn.network
        for record in records:
            self.stage = "floating IP"
            ports = self.listing(network.ports, device_id=record["id"], network_id=net.id,
                                 doing="list the port of %s on %s" % (record["name"], net.name))
            fips = self.listing(network.ips, port_id=ports[0].id,
                                doing="read the floating IP of %s" % record["name"]) if ports else []
            if not fips:
                self.add_floating_ip(record, net)
                continue
            self.kept_floating[fips[0].id] = fips[0].floating_ip_address
            record["floating_ip_id"] = fips[0].id
            record["address"] = fips[0].floating_ip_address
        return by_host

    def new_record(self, server_id, name, host=None):
        """Record a server this run asked for (host: None until admin has read where it runs)."""
        self.created[server_id] = name
        self.result["servers"].append(dict(host=host, name=name, id=server_id, status=None,
                                           address=None, ping=None, ssh=None, seconds={}))

    def server_options(self):
        """What every server is asked for with besides its name, image, flavor and zone, in the API's terms
        (which the SDK's create_server takes as they are): its networks, keypair and security groups."""
        p = self.params
        options = dict(networks=[{"uuid": n.id} for n in self.networks])
        if p.get("keypair"):
            options["key_name"] = p["keypair"]
        if p["security_groups"]:
            options["security_groups"] = [{"name": sg} for sg in p["security_groups"]]
        return options

    def boot(self, host, name, image, flavor, net):
        """Ask Nova for the server name pinned to host and record it; return its id and when it was asked
        (monotonic)."""
        p = self.params
        kwargs = dict(name=name, image_id=image.id, flavor_id=flavor.id,
                      availability_zone="%s:%s" % (p["availability_zone"], host), **self.server_options())
        server = self.call(self.conn.compute.create_server, doing="create server %s" % name, **kwargs)
        started = time.monotonic()
        self.new_record(server.id, name, host)
        return server.id, started

    # -- the member's servers: an anti-affinity group ------------------------------------------------------------
    def group_name(self):
        return self.params["name_prefix"] + "member"

    def boot_group(self, image, flavor, net):
        """As the member: an anti-affinity server group, then one request for a server per host in it (the scheduler
        places the servers of one request on distinct hosts; Nova names them after the group, NAME-1, NAME-2...).
        Records them; returns {server id: when they were asked (monotonic)}."""
        p = self.params
        name = self.group_name()
        doing = "create server group %s (anti-affinity)" % name
        body = {"server_group": {"name": name, "policies": ["anti-affinity"]}}
        self.group = self.raw(self.conn.compute.post, "/os-server-groups", doing, json=body)["server_group"]
        count = len(p["hosts"])
        server = dict(name=name, imageRef=image.id, flavorRef=flavor.id, availability_zone=p["availability_zone"],
                      min_count=count, max_count=count, **self.server_options())
        doing = "create %d servers %s in server group %s" % (count, name, name)

        def post():
            return self.checked(self.conn.compute.post("/servers", json={
                "server": server, "os:scheduler_hints": {"group": self.group["id"]}}), doing)

        # a retried request must not boot the servers twice: the group lists them once they are asked for
        self.call(post, doing=doing, recheck=lambda: self.group_members(self.group["id"]) or None)
        started = time.monotonic()
        members = self.group_members(self.group["id"])
        for server_id in members:
            self.created[server_id] = server_id  # deleted on failure even before it is read
        for server_id in members:
            found = self.call(self.conn.compute.get_server, server_id, doing="read server %s" % server_id)
            self.new_record(server_id, found.name)
        if len(members) != count:
            self.fail("boot: server group %s holds %d servers after a request for %d" % (name, len(members), count))
        return dict((server_id, started) for server_id in members)

    def group_members(self, group_id):
        found = self.raw(self.conn.compute.get, "/os-server-groups/%s" % group_id, "read server group %s" % group_id)
        return list(found["server_group"].get("members") or [])

    def read_host(self, record):
        """The host record's server runs on: admin's to read (OS-EXT-SRV-ATTR:host)."""
        server = self.call(self.admin.compute.get_server, record["id"],
                           doing=self.by_admin("read the host of server %s" % record["name"]))
        return getattr(server, "compute_host", None)

    def check_spread(self):
        """Every host got exactly one server of the group; the servers are then reported in the order of hosts."""
        p = self.params
        records = self.result["servers"]
        problem = checks.spread_problem(p["hosts"], [(r["name"], r["host"]) for r in records])
        if problem:
            self.fail("scheduling: the anti-affinity server group %s did not place one server on each host: %s" % (
                self.group["name"], problem))
        records.sort(key=lambda record: p["hosts"].index(record["host"]))

    def delete_group(self):
        self.stage = "delete"
        doing = "delete server group %s" % self.group["name"]
        self.checked(self.call(self.conn.compute.delete, "/os-server-groups/%s" % self.group["id"], doing=doing),
                     doing)  # (an empty answer)
        self.group = None

    def elapsed(self, start):
        return round(time.monotonic() - start, 1)

    # -- the network -------------------------------------------------------------
    def read_network(self, net, report=False):
        """The agents and DHCP ports that serve net, as plain dicts (network_blockers, failure reports).

        report: for a failure report, where an error must not replace the failure being reported.
        """
        network = self.admin.network

        def read(func, doing):
            return func() if report else self.call(func, doing=self.by_admin(doing))

        def agent(a):
            return dict(agent_type=a.agent_type, host=a.host, is_alive=bool(a.is_alive))
        agents = [agent(a) for a in read(lambda: list(network.agents()), "list the network agents")]
        dhcp_agents = [agent(a) for a in read(lambda: list(network.network_hosting_dhcp_agents(net)),
                                              "list the DHCP agents of network %s" % net.name)]
        dhcp_ports = [dict(id=port.id, status=port.status, host=port.binding_host_id)
                      for port in read(lambda: list(network.ports(network_id=net.id, device_owner="network:dhcp")),
                                       "list the DHCP ports of network %s" % net.name)]
        return agents, dhcp_agents, dhcp_ports

    def wait_network(self, net):
        """Boot only on a network that can serve the servers: a guest gives up DHCP after about a minute,
        and an agent that has just been (re)started may not have wired its ports yet."""
        p = self.params
        self.stage = "network"
        start = time.monotonic()
        blockers = []

        def ready():
            nonlocal blockers
            blockers = checks.network_blockers(p["hosts"], *self.read_network(net))
            return not blockers

        poll_until(ready, p["timeout"], p["poll_interval"], lambda: self.fail(
            "%s: network %s is not ready to serve servers after %d s: %s" % (
                blockers[0][0], net.name, p["timeout"], "; ".join(reason for _stage, reason in blockers))))
        self.result["network_wait"] = self.elapsed(start)

    def network_report(self, record, net):
        """A few lines on what served (or did not serve) a server's port, for a DHCP, metadata or ping failure."""
        try:
            agents, dhcp_agents, dhcp_ports = self.read_network(net, report=True)
            ports = list(self.admin.network.ports(device_id=record["id"]))
        except Exception as e:  # a report, not a step: never hide the failure being reported
            return "network state unreadable (%s)" % type(e).__name__
        lines = checks.network_lines(record["host"], ports, agents, dhcp_agents, dhcp_ports)
        if self.params["ping"]:  # then this is where the network's DHCP server runs
            for port in ports:
                lines += checks.dnsmasq_lines(port.mac_address)
        return "\n".join(lines)

    # -- each server's stages ------------------------------------------------------
    def wait_active(self, record, start, net):
        p = self.params
        compute = self.conn.compute
        server = None

        def active():
            nonlocal server
            server = self.call(compute.get_server, record["id"], doing="read server %s" % record["name"])
            record["status"] = server.status
            if server.status == "ERROR":
                # the raw document, admin's (with the fault's details and the host): older openstacksdk has no
                # fault attribute
                raw = self.raw(self.admin.compute.get, "/servers/%s" % record["id"],
                               self.by_admin("read the fault of %s" % record["name"])).get("server", {})
                self.fail(checks.fault_message(record, raw))
            return server.status == "ACTIVE"

        def timed_out():
            self.read_states()
            host = self.read_host(record) if self.as_member else getattr(server, "compute_host", None)
            stage = "scheduling" if not host else "spawn"
            self.fail("%s: server %s on %s is still %s (task state %s) after %d s" % (
                stage, record["name"], record["host"] or host or "no host", server.status,
                getattr(server, "task_state", None), p["timeout"]))

        poll_until(active, p["timeout"], p["poll_interval"], timed_out)
        record["seconds"]["active"] = self.elapsed(start)
        record["project_id"] = getattr(server, "project_id", None)
        if record["host"] is None:
            record["host"] = self.read_host(record)
        fixed = [checks.fixed_ipv4(server.addresses, n.name) for n in self.networks]
        for n, found in zip(self.networks, fixed):
            if not found:
                self.fail("VIF plugging: server %s on %s is ACTIVE without an address on %s (it has %s)" % (
                    record["name"], record["host"], n.name, server.addresses))
        record["fixed"] = fixed[0][0]
        record["fixed_all"] = [addr for found in fixed for addr in found]
        record["address"] = record["fixed"]
        self.wait_ports(record, start, net)

    def wait_ports(self, record, start, net):
        """The server's ports are ACTIVE, bound to its host, with its fixed addresses: what any image's server
        needs before its guest can get a DHCP lease (admin's to read: the binding)."""
        p = self.params
        self.stage = "VIF plugging"
        problems = []

        def plugged():
            nonlocal problems
            ports = [dict(id=port.id, status=port.status, host=port.binding_host_id,
                          ips=[ip.get("ip_address") for ip in port.fixed_ips or []])
                     for port in self.listing(self.admin.network.ports, device_id=record["id"],
                                              doing=self.by_admin("list the ports of %s" % record["name"]))]
            problems = checks.port_problems(ports, record["host"], record["fixed_all"])
            return not problems

        poll_until(plugged, p["timeout"], p["poll_interval"], lambda: self.fail(
            "VIF plugging: server %s is ACTIVE on %s, but %s after %d s\n%s" % (
                record["name"], record["host"], "; ".join(problems), p["timeout"], self.network_report(record, net))))
        record["seconds"]["port"] = self.elapsed(start)

    def read_states(self):
        """Every server's status and task state, for a failure report."""
        for record in self.result["servers"]:
            try:
                server = self.conn.compute.get_server(record["id"])
            except Exception as e:  # a report, not a step: never hide the failure being reported
                record["status"] = "unknown (%s)" % type(e).__name__
                continue
            record["status"] = server.status
            record["task_state"] = getattr(server, "task_state", None)

    def console_tail(self, record, lines=20):
        """The last lines of the server's console, for a failure report (never raises: the failure being
        reported is the run's). A cloud image prints its boot there: cloud-init's or CirrOS' network and
        metadata lines explain a ping or a login that did not come."""
        try:
            out = self.conn.compute.get_server_console_output(record["id"])
        except Exception as e:  # noqa: BLE001 - a report, not a step
            return "console unreadable (%s)" % type(e).__name__
        text = (out or {}).get("output", "") if isinstance(out, dict) else str(out or "")
        return "last console lines:\n%s" % (tail(text, lines) or "(none)")

    def wait_console(self, record, start, net):
        p = self.params
        markers = p["markers"]
        if not markers:
            return
        seen = 0
        text = ""

        def all_seen():
            nonlocal seen, text
            self.stage = markers[seen]["stage"]
            out = self.call(self.conn.compute.get_server_console_output, record["id"],
                            doing="read the console of %s" % record["name"])
            text = (out or {}).get("output", "") if isinstance(out, dict) else str(out or "")
            index, failed = checks.scan_console(text, markers)
            for marker in markers[seen:index]:
                record["seconds"][marker["stage"]] = self.elapsed(start)
            seen = index
            if failed is not None:
                stage = markers[index]["stage"]
                self.fail("%s: the guest of %s on %s says: %s\n%s\nlast console lines:\n%s" % (
                    stage, record["name"], record["host"], failed, self.network_report(record, net), tail(text)))
            return seen == len(markers)

        def timed_out():
            stage = markers[seen]["stage"]
            self.fail("%s: server %s on %s printed no line matching %r within %d s\n%s\nlast console lines:\n%s" % (
                stage, record["name"], record["host"], markers[seen]["regex"], p["timeout"],
                self.network_report(record, net), tail(text)))

        poll_until(all_seen, p["timeout"], p["poll_interval"], timed_out)

    def wait_ping(self, record, start, namespace, net, stage="ping"):
        p = self.params
        cmd = ["ip", "netns", "exec", namespace, "ping", "-c", "1", "-W", "1", record["address"]]
        key = "ping" if stage == "ping" else "ping_after_move"
        host = record.get("current_host", record["host"])
        proc = None

        self.stage = stage

        def answers():
            nonlocal proc
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  universal_newlines=True, check=False)
            return proc.returncode == 0

        def timed_out():
            record["ping"] = False
            self.fail("%s: %s (%s on %s) does not answer ping from %s within %d s (is ICMP allowed by its "
                      "security groups? did its guest get a DHCP lease?):\n%s\n%s\n%s" % (
                          stage, record["address"], record["name"], host, namespace, p["timeout"],
                          self.network_report(record, net), tail(proc.stdout, 5), self.console_tail(record)))

        poll_until(answers, p["timeout"], p["poll_interval"], timed_out)
        record["ping"] = True
        record["seconds"][key] = self.elapsed(start)

    # -- floating IPs and SSH ------------------------------------------------------
    def add_floating_ip(self, record, net):
        """A floating IP on floating_network for the server's port on network (created by cloud's user, as a
        project's user would), once the server is ACTIVE (and its console markers seen, where given); from now
        on the server is reached at it."""
        self.stage = "floating IP"
        network = self.conn.network
        ports = self.listing(network.ports, device_id=record["id"], network_id=net.id,
                             doing="list the port of %s on %s" % (record["name"], net.name))
        if not ports:
            self.fail("floating IP: server %s has no port on %s" % (record["name"], net.name))
        fip = self.call(network.create_ip, floating_network_id=self.external.id, port_id=ports[0].id,
                        description=self.floating_description(),
                        doing="create a floating IP on %s for %s" % (self.external.name, record["name"]))
        if self.floating is None:
            self.floating = {}
        self.floating[fip.id] = fip.floating_ip_address
        record["floating_ip_id"] = fip.id
        record["address"] = fip.floating_ip_address

    def floating_description(self):
        return "osdeploy.nova.server_check %s" % self.params["name_prefix"]

    def delete_floating_ips(self):
        self.stage = "delete"
        for fip_id, address in list((self.floating or {}).items()):
            self.call(self.conn.network.delete_ip, fip_id, ignore_missing=True,
                      doing="delete floating IP %s" % address)
            self.floating.pop(fip_id, None)

    def gateways(self, net):
        """The gateway addresses of net's IPv4 subnets (a router's, on a project network)."""
        subnets = self.listing(self.conn.network.subnets, network_id=net.id, ip_version=4,
                               doing="list the subnets of %s" % net.name)
        return [s.gateway_ip for s in subnets if s.gateway_ip]

    def wait_ssh(self, record, start, namespace, net, targets):
        """Log into the server with ssh_key_file from namespace until it answers, then check what it says
        (ssh_script: its metadata, its hostname, its NICs' addresses, a ping of each of targets). Without
        console markers this is where the metadata service is proven: the guest reads its own uuid there."""
        p = self.params
        self.stage = "SSH"
        cmd = ["ip", "netns", "exec", namespace, "ssh", "-i", p["ssh_key_file"], "-o", "BatchMode=yes",
               "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
               "-o", "ConnectTimeout=5", "%s@%s" % (p["ssh_user"], record["address"]), checks.ssh_script(targets)]
        proc = None
        logged_in = False

        def answers():
            nonlocal proc, logged_in
            try:
                proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      universal_newlines=True, check=False, timeout=60)
            except subprocess.TimeoutExpired as e:
                proc = subprocess.CompletedProcess(cmd, 124, stdout="%s\n(ssh timed out)" % (e.output or ""))
            # 255: ssh itself failed (not listening yet, refused); else the script ran
            logged_in = proc.returncode != 255
            return logged_in

        def timed_out():
            record["ssh"] = False
            self.fail("SSH: %s@%s (%s on %s) lets no login in with %s from %s within %d s (is %s the image's "
                      "user, does its image take the keypair's key from the metadata, and its security group let "
                      "TCP 22 in?):\n%s\n%s\n%s" % (
                          p["ssh_user"], record["address"], record["name"], record.get("current_host", record["host"]),
                          p["ssh_key_file"], namespace, p["timeout"], p["ssh_user"], self.network_report(record, net),
                          tail(proc.stdout, 5), self.console_tail(record)))

        poll_until(answers, p["timeout"], p["poll_interval"], timed_out)
        record["seconds"]["ssh"] = self.elapsed(start)
        record["hostname"] = checks.guest_hostname(proc.stdout)
        problems = checks.ssh_problems(proc.stdout, record["id"], record["fixed_all"], targets)
        if problems:
            record["ssh"] = False
            self.fail("SSH: logged into %s (%s on %s), but %s\n%s\n%s" % (
                record["name"], record["address"], record["host"], "; ".join(problems), tail(proc.stdout, 10),
                self.console_tail(record)))
        record["ssh"] = True

    def check_api(self, by_host):
        self.stage = "API"
        compute = self.conn.compute
        for record in by_host.values():
            self.call(compute.get_server, record["id"], doing="show server %s (API)" % record["name"])
        # a member lists its project's servers; admin every project's
        scope = {} if self.as_member else dict(all_projects=True)
        listed = set(s.id for s in self.listing(compute.servers, doing="list servers (API)", **scope))
        missing = [r["name"] for r in by_host.values() if r["id"] not in listed]
        if missing:
            self.fail("API: server list does not show %s" % ", ".join(missing))

    # -- deleting ------------------------------------------------------------------
    def delete_servers(self, records):
        """Every delete asked for first, then each waited for: the computes tear their servers down at once."""
        self.stage = "delete"
        deleting = [(record, self.request_delete(record["id"], record["name"])) for record in records]
        for record, start in deleting:
            self.wait_deleted(record, start)

    def wait_deleted(self, record, start):
        """Wait for the server of record, whose delete was asked for at start (monotonic), and its port to go."""
        self.wait_gone(record["id"], record["name"])
        self.wait_ports_gone(record["id"], record["name"])
        self.created.pop(record["id"], None)
        record["seconds"]["delete"] = self.elapsed(start)

    def wait_ports_gone(self, server_id, name):
        """Wait for the ports of a deleted server to go (Nova removes them after the server)."""
        p = self.params
        ports = []

        def gone():
            nonlocal ports
            ports = self.listing(self.admin.network.ports, device_id=server_id,
                                 doing=self.by_admin("list the ports of %s" % name))
            return not ports

        poll_until(gone, p["timeout"], p["poll_interval"], lambda: self.fail(
            "delete: the port of %s (%s) is still there %d s after the server was deleted" % (
                name, ", ".join(port.id for port in ports), p["timeout"])))

    def request_delete(self, server_id, name, conn=None):
        """Ask Nova to delete a server (as conn, by default cloud's); return when it was asked (time.monotonic())."""
        start = time.monotonic()
        self.call((conn or self.conn).compute.delete_server, server_id, doing="delete server %s" % name, delete=True)
        return start

    def wait_gone(self, server_id, name, conn=None):
        server = None

        def gone():
            nonlocal server
            found = self.server_or_none(server_id, conn)
            if found is not None:
                server = found  # (its status, for the timeout's message)
            return found is None

        poll_until(gone, self.params["timeout"], self.params["poll_interval"], lambda: self.fail(
            "delete: server %s is still %s %d s after its delete" % (name, server.status, self.params["timeout"])))

    def server_or_none(self, server_id, conn=None):
        """The server server_id as conn (by default cloud's) sees it, None when there is none."""
        try:
            return (conn or self.conn).compute.get_server(server_id)
        except Exception as e:
            if is_not_found(e):
                return None
            raise

    def delete_leftover(self, server_id, name, conn=None):
        self.request_delete(server_id, name, conn)
        self.wait_gone(server_id, name, conn)
        self.result["leftovers_deleted"].append(name)

    def delete_leftovers(self):
        """What an earlier run left: its servers pinned to the hosts (by name, in any project: admin's), and as a
        member the server groups of that name and their servers."""
        p = self.params
        self.stage = "setup"
        admin = self.admin
        for name in [p["name_prefix"] + host for host in p["hosts"]]:
            for server in self.listing(admin.compute.servers, all_projects=True, name="^%s$" % re.escape(name),
                                       doing=self.by_admin("look for an earlier %s" % name)):
                self.delete_leftover(server.id, name, admin)
        if p.get("floating_network"):
            project_id = self.call(lambda: self.conn.current_project_id, doing="read the project of the connection")
            for fip in self.listing(self.conn.network.ips, project_id=project_id,
                                    description=self.floating_description(),
                                    doing="look for an earlier run's floating IPs"):
                self.call(self.conn.network.delete_ip, fip.id, ignore_missing=True,
                          doing="delete the earlier floating IP %s" % fip.floating_ip_address)
                self.result["leftovers_deleted"].append("floating IP %s" % fip.floating_ip_address)
        if not self.as_member:
            return
        groups = self.raw(self.conn.compute.get, "/os-server-groups", "list the server groups").get("server_groups")
        for group in groups or []:
            if group.get("name") != self.group_name():
                continue
            for server_id in group.get("members") or []:
                server = self.call(self.server_or_none, server_id, doing="read server %s" % server_id)
                if server is not None:  # (else a member gone already)
                    self.delete_leftover(server_id, server.name)
            self.group = group
            self.delete_group()
            self.result["leftovers_deleted"].append("server group %s" % group["name"])
        self.stage = "setup"

    def cleanup(self):
        """A failed run leaves nothing behind: every server it made is asked to go, then waited for (server
        and port, bounded by the timeout), as a passed run does. Best effort: the failure being reported
        is the run's; a delete that fails or does not end in time is left to the next run's leftovers."""
        if self.conn is None:
            return
        for fip_id in list(self.floating or {}):
            try:
                self.conn.network.delete_ip(fip_id, ignore_missing=True)
            except Exception:  # noqa: BLE001 - already failing; the next run deletes leftovers
                pass
        asked = []
        for server_id in list(self.created):
            try:
                self.conn.compute.delete_server(server_id)
                asked.append(server_id)
            except Exception:  # noqa: BLE001 - already failing; the next run deletes leftovers
                pass
        for server_id in asked:
            try:
                self.wait_gone(server_id, server_id)
                self.wait_ports_gone(server_id, server_id)
            except Exception:  # noqa: BLE001 - as above
                pass
        if self.group is not None and not self.adopted:
            try:
                self.conn.compute.delete("/os-server-groups/%s" % self.group["id"])
            except Exception:  # noqa: BLE001 - as above
                pass
        super(ServerProof, self).cleanup()
