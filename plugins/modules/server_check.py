#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: server_check
short_description: Prove that Nova works by booting a server on each compute host, reaching it and deleting it
version_added: 0.3.0
description:
  - Boots one server on each of O(hosts) (pinned with the C(AZ:HOST) form of the availability zone), waits
    for it to be C(ACTIVE), reads its console log until the guest says it got its DHCP address and reached the
    metadata service (O(markers)), pings its address from the network's DHCP namespace on this host,
    checks that C(server show) and C(server list) answer, deletes it and waits until its port is gone.
  - Boots only once the network can serve the servers (waits, bounded by O(timeout), until an L2 agent is alive
    on each of O(hosts), a live DHCP agent hosts O(network) and its DHCP ports are C(ACTIVE)), because a guest gives up
    DHCP after a while, and agents that were just restarted may not have wired their ports yet.
  - The servers of all hosts boot at the same time; every wait is bounded by O(timeout).
  - A failure names the stage (C(scheduling), C(spawn), C(VIF plugging), C(DHCP), C(metadata), C(ping),
    C(API), C(delete)) with the fault or the console lines that explain it (for DHCP, metadata and ping also
    the server's port, the network's DHCP ports and the agents involved), and deletes what this run
    created. Servers left by an earlier failed run (same names) are deleted first.
  - With O(flavor_spec) the flavor O(flavor) is created when absent, and with O(open_icmp) each of
    O(security_groups) is created when absent and given a rule letting ping in when it has none; both are
    kept. The result is C(changed) only when one of them was created (RV(created)); the servers are deleted,
    so the boot itself leaves no trace.
  - Runs where the DHCP agent of O(network) runs (its C(qdhcp-) network namespace), as root, when O(ping)
    is on.
author:
  - osdeploy.nova developers (@osdeploy)
extends_documentation_fragment:
  - osdeploy.nova.openstack
options:
  hosts:
    description:
      - The compute hosts to boot on, as Nova knows them (C(openstack compute service list), the
        C([DEFAULT] host) of their nova.conf).
    type: list
    elements: str
    required: true
  image:
    description: Name or id of the image to boot.
    type: str
    required: true
  flavor:
    description:
      - Name or id of the flavor. When it does not exist, the module fails, unless O(flavor_spec) is given.
    type: str
    required: true
  flavor_spec:
    description:
      - The flavor to create when O(flavor) does not exist, as a dict with C(vcpus), C(ram) (MiB) and C(disk)
        (GiB), each a positive integer. The module then creates a public flavor named O(flavor) (what
        C(openstack flavor create --vcpus --ram --disk NAME) creates) and keeps it.
      - An existing flavor is used as it is, even when its size differs.
      - Unset, the flavor must exist.
    type: dict
  network:
    description: Name or id of the network the servers get a port on.
    type: str
    required: true
  security_groups:
    description: Security groups of the servers, by name or id (they must let the ping in, see O(open_icmp)).
    type: list
    elements: str
    default: []
  open_icmp:
    description:
      - Make each of O(security_groups) let ping in. A group that does not exist in the project of the
        connection (where Nova looks for the servers' groups) is created, and a group without an ingress ICMP
        rule for IPv4 gets one (any source, as C(openstack security group rule create --ingress --protocol icmp)
        makes). Both are kept.
      - Off, the groups are used as they are.
    type: bool
    default: false
  availability_zone:
    description: The availability zone of the hosts (pinning uses C(ZONE:HOST)).
    type: str
    default: nova
  name_prefix:
    description: The servers are named this prefix followed by the host name.
    type: str
    default: osdeploy-check-
  timeout:
    description: Seconds each stage may take per server (boot, each console marker, ping, delete).
    type: int
    default: 300
  markers:
    description:
      - Console lines the guest must print, in order, each a dict with C(stage) (named in the error when it
        does not appear) and C(regex). The defaults are those of the osdeploy test image (a 13 MB
        Debian guest that prints its DHCP lease and its metadata on the console; its source repository
        builds it). An empty list skips the console check (an image that prints nothing known).
      - A line matching C(failed_regex) ends the wait at once with that stage's error.
    type: list
    elements: dict
    default:
      - {stage: DHCP, regex: '^osdeploy-test-image: dhcp ok ip=', failed_regex: '^osdeploy-test-image: dhcp failed'}
      - {stage: metadata, regex: '^osdeploy-test-image: metadata ok uuid=', failed_regex: '^osdeploy-test-image: metadata failed'}
  ping:
    description: Ping each server from the network's DHCP namespace (C(qdhcp-NETWORK_ID)) on this host.
    type: bool
    default: true
  migrate:
    description:
      - Before the delete, move the server of the first of O(hosts) to the second and back. First a cold migration
        to the second host (the C(migrate) action with a host, compute API microversion 2.56), confirmed. Then a
        live migration back (C(os-migrateLive), block migration C(auto)).
      - After each move the server must be C(ACTIVE) on the target host, its port C(ACTIVE) and bound there, and
        Placement's allocations must be on the target's resource provider only. The migration's own allocations
        must be gone. With O(ping), the server must answer ping again.
      - A failed move names its stage (C(cold migration), C(confirm), C(live migration)) with the server's last
        instance action events (and the last line of their traceback).
      - Needs at least two O(hosts) that can reach each other over SSH as nova (the compute role's C(nova_migration)).
    type: bool
    default: false
  poll_interval:
    description:
      - Seconds between two reads of a server's state, console or ping. Each read is one API call or one ping;
        each stage of a server (active, console markers, ping, deleted) is seen at most this long after it is
        reached.
    type: float
    default: 0.5
notes:
  - Check mode boots and creates nothing. With O(flavor_spec) or O(open_icmp) it connects and reads the flavor
    and the security groups, and reports what it would create (RV(created), C(changed) when something is
    missing). A cloud that cannot be reached then (a service that this run would start, e.g. after a drift)
    is a warning that says the preview cannot tell, not a failure; any other error fails as in a real run.
attributes:
  check_mode:
    support: full
    description:
      - Nothing is booted or created; with O(flavor_spec) or O(open_icmp) the flavor and the security groups are
        read and RV(created) says what would be created.
  diff_mode:
    support: none
    description: No diff; RV(created) names what was created.
requirements:
  - openstacksdk (Debian's python3-openstacksdk 0.101 or newer)
  - ip and ping on the host, when O(ping) is on
"""

EXAMPLES = r"""
- name: Boot, reach and delete a server on every compute host
  osdeploy.nova.server_check:
    cloud: osdeploy-admin
    hosts: [compute1, compute2]
    image: osdeploy-test-image
    flavor: osdeploy-check
    network: provider
    security_groups: [osdeploy-check]
    timeout: 600
  register: check

- name: The same, creating the flavor and the security group (with a rule letting ping in) when absent
  osdeploy.nova.server_check:
    cloud: osdeploy-admin
    hosts: [compute1, compute2]
    image: osdeploy-test-image
    flavor: osdeploy-check
    flavor_spec: {vcpus: 1, ram: 128, disk: 1}
    network: provider
    security_groups: [osdeploy-check]
    open_icmp: true

- name: Also move the first server to the second host and back (resize, cold and live migration)
  osdeploy.nova.server_check:
    cloud: osdeploy-admin
    hosts: [compute1, compute2]
    image: osdeploy-test-image
    flavor: osdeploy-check
    network: provider
    security_groups: [osdeploy-check]
    migrate: true

- name: A CirrOS image prints other lines, so check the boot and the ping only
  osdeploy.nova.server_check:
    cloud: osdeploy-admin
    hosts: [compute1]
    image: cirros
    flavor: m1.tiny
    network: provider
    markers: []
"""

RETURN = r"""
servers:
  description: What was measured per host, in the order of O(hosts).
  returned: success, and on failure for the servers that got that far
  type: list
  elements: dict
  contains:
    host: {description: The compute host., type: str, sample: compute1}
    name: {description: The server's name., type: str, sample: osdeploy-check-compute1}
    id: {description: The server's id (deleted since)., type: str}
    status: {description: The last status seen before the delete., type: str, sample: ACTIVE}
    address: {description: The server's address on O(network)., type: str, sample: 203.0.113.23}
    ping: {description: Whether the address answered ping (null when O(ping) is off)., type: bool}
    task_state:
      description: The server's task state when a server was still building at the timeout (e.g. spawning).
      returned: when a server did not become ACTIVE in time
      type: str
      sample: spawning
    seconds:
      description: Seconds from the create request to ACTIVE, to each console marker (by stage), to the first
        ping reply, and for the delete.
      type: dict
      sample: {active: 21.3, DHCP: 30.1, metadata: 33.9, ping: 34.5, delete: 6.2}
    moves:
      description: With O(migrate), for the server that moved, each move in order.
      returned: when O(migrate) is on, for the first of O(hosts)
      type: list
      elements: dict
      sample:
        - {kind: cold, source: compute1, target: compute2, seconds: 41.2, ping: 12.3}
        - {kind: live, source: compute2, target: compute1, seconds: 18.9, ping: 0.4}
summary:
  description: One line per host, for people (status, address, ping, seconds to each stage).
  returned: success
  type: list
  elements: str
  sample:
    - "compute1: ACTIVE at 203.0.113.23, ping ok; seconds from create: active 21.3, DHCP 30.1, metadata 33.9, ping 34.5;
      moved cold to compute2 in 41.2 (ping 12.3 later), live to compute1 in 18.9 (ping 0.4 later); deleted in 6.2"
network_wait:
  description: Seconds spent waiting for the network to be ready (agents alive, DHCP ports C(ACTIVE)) before the boot.
  returned: when the network was ready
  type: float
  sample: 0.4
leftovers_deleted:
  description: Servers of an earlier run with the same names, deleted before this run booted its own.
  returned: always
  type: list
  elements: str
created:
  description:
    - What this run created and keeps (O(flavor_spec), O(open_icmp)); in check mode, what it would create.
      Empty when everything existed, and then the result is not C(changed).
  returned: always
  type: list
  elements: str
  sample: ["flavor osdeploy-check", "security group osdeploy-check", "ICMP rule of osdeploy-check"]
msg:
  description: In check mode, that no server was booted and what would be created.
  returned: in check mode
  type: str
  sample: "check mode: no server booted on compute1, compute2; would create flavor osdeploy-check"
"""

import re
import subprocess
import time

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils.openstack import OpenStackModule, is_not_found, is_unreachable

STAGE_MESSAGES = {
    "scheduling": "no compute host was chosen",
    "spawn": "the compute host could not start it",
    "VIF plugging": "its network port was never reported plugged",
}


def classify_fault(server_host, fault_text):
    """The stage a server in ERROR failed at, from its host and its fault message."""
    text = fault_text or ""
    low = text.lower()
    if "virtualinterfacecreateexception" in low or "os_vif" in low or "plug vif" in low:
        return "VIF plugging"
    if "exceeded maximum number of retries" in low:
        return "spawn"          # scheduled, then failed on every host it was tried on
    if not server_host or "no valid host" in low or "novalidhost" in low:
        return "scheduling"
    return "spawn"


def scan_console(text, markers):
    """(index of the first marker not yet seen, a failure line or None) for the console text."""
    for i, marker in enumerate(markers):
        failed = marker.get("failed_regex")
        if failed:
            m = re.search(failed, text, re.M)
            if m:
                line = text[m.start():].splitlines()[0]
                return i, line
        if not re.search(marker["regex"], text, re.M):
            return i, None
    return len(markers), None


# Neutron agents that are not the L2 agent a server's port is wired by.
NOT_L2_AGENTS = ("DHCP agent", "Metadata agent", "L3 agent", "Metering agent", "BGP dynamic routing agent")


def network_blockers(hosts, agents, dhcp_agents, dhcp_ports):
    """What keeps the network from serving a server on each of hosts, as (stage, reason) pairs; [] when ready.

    agents: every Neutron agent (agent_type, host, is_alive); dhcp_agents: those hosting the network;
    dhcp_ports: the network's DHCP ports (status, binding host).
    """
    blockers = []
    for host in hosts:
        l2 = [a for a in agents if a["host"] == host and a["agent_type"] not in NOT_L2_AGENTS]
        if not any(a["is_alive"] for a in l2):
            blockers.append(("VIF plugging", "no live L2 agent on %s (%s)" % (
                host, ", ".join("%s dead" % a["agent_type"] for a in l2) or "none registered")))
    if not any(a["is_alive"] for a in dhcp_agents):
        blockers.append(("DHCP", "no live DHCP agent hosts the network (%s)" % (
            ", ".join("%s on %s dead" % (a["agent_type"], a["host"]) for a in dhcp_agents) or "none scheduled")))
    elif not dhcp_ports:
        blockers.append(("DHCP", "the network has no DHCP port yet"))
    for port in dhcp_ports:
        if port["status"] != "ACTIVE":
            blockers.append(("DHCP", "the DHCP port %s on %s is %s (its host's L2 agent has not wired it)" % (
                port["id"], port["host"], port["status"])))
    return blockers


def dnsmasq_lines(mac, read=None):
    """What this host's dnsmasq (Neutron's DHCP server) logged about mac: did the guest's requests arrive?"""
    if not mac:
        return []
    if read is None:
        def read():
            return subprocess.run(["journalctl", "-t", "dnsmasq-dhcp", "-n", "2000", "-o", "cat", "--no-pager"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True,
                                  timeout=20, check=False).stdout
    try:
        text = read()
    except Exception:  # noqa: BLE001 - a report: no journal here is not the failure being reported
        return []
    seen = [line for line in (text or "").splitlines() if mac.lower() in line.lower()]
    if not seen:
        return ["dnsmasq on this host logged nothing for %s (its DHCP requests did not arrive here)" % mac]
    return ["dnsmasq: %s" % line for line in seen[-5:]]


FLAVOR_SPEC_KEYS = ("vcpus", "ram", "disk")


def parse_flavor_spec(spec):
    """flavor_spec as a dict of ints; fails (ValueError, with the sentence to show) on a missing, unknown or
    non-positive key. Strings of digits are taken: templated values arrive as strings."""
    problems = []
    unknown = sorted(str(key) for key in spec if key not in FLAVOR_SPEC_KEYS)
    if unknown:
        problems.append("unknown key%s %s" % ("s" if len(unknown) > 1 else "", ", ".join(unknown)))
    parsed = {}
    for key in FLAVOR_SPEC_KEYS:
        value = spec.get(key)
        if value is None:
            problems.append("%s is missing" % key)
            continue
        number = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and value.strip().isdigit():
            number = int(value.strip())
        if number is None or number < 1:
            problems.append("%s is %r, not a positive integer" % (key, value))
            continue
        parsed[key] = number
    if problems:
        raise ValueError("flavor_spec: %s. Give vcpus, ram (MiB) and disk (GiB) as positive integers, e.g. "
                         "flavor_spec: {vcpus: 1, ram: 128, disk: 1}" % "; ".join(problems))
    return parsed


def summary(record):
    seconds = dict(record["seconds"])
    deleted = seconds.pop("delete", None)
    ping = {True: "ping ok", False: "no ping", None: "not pinged"}[record["ping"]]
    moves = ""
    for i, move in enumerate(record.get("moves") or []):
        moves += "%s %s to %s in %s" % ("; moved" if i == 0 else ",", move["kind"], move["target"], move["seconds"])
        if move["ping"] is not None:
            moves += " (ping %s later)" % move["ping"]
    return "%s: %s at %s, %s; seconds from create: %s%s; deleted in %s" % (
        record["host"], record["status"], record["address"], ping,
        ", ".join("%s %s" % item for item in seconds.items()), moves, deleted)


def tail(text, lines=20):
    return "\n".join((text or "").rstrip().splitlines()[-lines:])


def poll_until(check, timeout, interval, on_timeout):
    """Call check() every interval seconds and return its first truthy value; once timeout seconds have passed
    without one, return on_timeout() (which here always fails)."""
    deadline = time.monotonic() + timeout
    while True:
        done = check()
        if done:
            return done
        if time.monotonic() > deadline:
            return on_timeout()
        time.sleep(interval)


class ServerCheck(OpenStackModule):
    argument_spec = dict(
        hosts=dict(type="list", elements="str", required=True),
        image=dict(type="str", required=True),
        flavor=dict(type="str", required=True),
        network=dict(type="str", required=True),
        security_groups=dict(type="list", elements="str", default=[]),
        availability_zone=dict(type="str", default="nova"),
        name_prefix=dict(type="str", default="osdeploy-check-"),
        timeout=dict(type="int", default=300),
        markers=dict(type="list", elements="dict", default=[
            {"stage": "DHCP", "regex": "^osdeploy-test-image: dhcp ok ip=",
             "failed_regex": "^osdeploy-test-image: dhcp failed"},
            {"stage": "metadata", "regex": "^osdeploy-test-image: metadata ok uuid=",
             "failed_regex": "^osdeploy-test-image: metadata failed"},
        ]),
        ping=dict(type="bool", default=True),
        migrate=dict(type="bool", default=False),
        poll_interval=dict(type="float", default=0.5),
        flavor_spec=dict(type="dict"),
        open_icmp=dict(type="bool", default=False),
    )
    module_kwargs = dict(supports_check_mode=True)

    def __init__(self):
        super(ServerCheck, self).__init__()
        self.created = {}
        self.flavor_spec = None

    # -- input -----------------------------------------------------------------
    def check_params(self):
        p = self.params
        if not p["hosts"]:
            self.fail("hosts is empty: name at least one compute host")
        if p["migrate"] and len(set(p["hosts"])) < 2:
            self.fail("migrate needs two hosts to move a server between, hosts has %s: add a compute host or set "
                      "migrate: false" % (", ".join(p["hosts"]) or "none"))
        if p["timeout"] < 1:
            self.fail("timeout must be a positive number of seconds, got %s" % p["timeout"])
        for i, marker in enumerate(p["markers"]):
            if not marker.get("stage") or not marker.get("regex"):
                self.fail("markers[%d] needs a stage and a regex" % i)
            for key in ("regex", "failed_regex"):
                if marker.get(key):
                    try:
                        re.compile(marker[key])
                    except re.error as e:
                        self.fail("markers[%d].%s is not a valid regular expression: %s" % (i, key, e))
        if p.get("flavor_spec") is not None:
            try:
                self.flavor_spec = parse_flavor_spec(p["flavor_spec"])
            except ValueError as e:
                self.fail(str(e))

    def find(self, find_func, name_or_id, what):
        item = self.call(find_func, name_or_id, ignore_missing=True, doing="look up %s %s" % (what, name_or_id))
        if item is None:
            self.fail("setup: %s %r does not exist at %s (option %s)" % (what, name_or_id, self.auth_url, what))
        return item

    # -- what the servers need: flavor and security groups ------------------------------------------------------
    def note_created(self, what):
        """Record one thing this run created (in check mode: would create)."""
        self.result["created"].append(what)
        self.result["changed"] = True

    def ensure_flavor(self, dry_run=False):
        """The flavor of the servers. With flavor_spec, one that does not exist is created (public) and kept
        (dry_run: only reported); without, it must exist."""
        p = self.params
        compute = self.conn.compute
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
        groups up by name) and has an ingress ICMP rule for IPv4; what is missing is created and kept (dry_run:
        only reported)."""
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

        for name in dict.fromkeys(p["security_groups"]):  # each once, in order
            def find(name=name):
                return network.find_security_group(name, ignore_missing=True, **scope)

            group = self.call(find, doing="look up security group %s" % name)
            if group is None:
                if not dry_run:
                    group = self.call(network.create_security_group, name=name,
                                      description="Lets ping in (osdeploy.nova.server_check)", recheck=find,
                                      doing="create security group %s" % name)
                self.note_created("security group %s" % name)
                has_rule = False  # a new group has egress rules only
            else:
                has_rule = self.call(icmp_rules, group, doing="list the ICMP rules of security group %s" % name)
            if not has_rule:
                if not dry_run:
                    self.call(network.create_security_group_rule, security_group_id=group.id, direction="ingress",
                              protocol="icmp", ether_type="IPv4", remote_ip_prefix="0.0.0.0/0",
                              recheck=lambda group=group: icmp_rules(group),
                              doing="let ping into security group %s" % name)
                self.note_created("ICMP rule of %s" % name)

    def preview(self):
        """Check mode: read what the run would create; boot and create nothing."""
        p = self.params
        msg = "check mode: no server booted on %s" % ", ".join(p["hosts"])
        if self.flavor_spec is not None or (p["open_icmp"] and p["security_groups"]):
            try:
                self.connect()
                if self.flavor_spec is not None:
                    self.ensure_flavor(dry_run=True)
                self.ensure_security_groups(dry_run=True)
            except base.Failure as e:
                if not is_unreachable(e.__context__):
                    raise  # (a failure's msg is its own: self.result holds none yet)
                self.result.update(changed=False, created=[])
                self.warn("check mode: cannot tell whether the flavor or the security groups would be created, as "
                          "the cloud cannot be read: %s (a real run fails on this too, unless an earlier step, e.g. "
                          "starting a stopped service, makes it readable)" % e.msg)
        if self.result["created"]:
            msg += "; would create %s" % ", ".join(self.result["created"])
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
        compute, network = self.conn.compute, self.conn.network
        image = self.find(self.conn.image.find_image, p["image"], "image")
        net = self.find(network.find_network, p["network"], "network")
        namespace = "qdhcp-%s" % net.id
        if p["ping"]:
            out = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 universal_newlines=True, check=False).stdout
            if namespace not in [line.split()[0] for line in out.splitlines() if line.split()]:
                self.fail("setup: network %s has no DHCP namespace %s on this host: run the check where its "
                          "DHCP agent runs, or set ping: false" % (p["network"], namespace))
        # what the servers need, created (and kept) only once nothing above failed
        flavor = self.ensure_flavor()
        self.ensure_security_groups()

        names = dict((host, p["name_prefix"] + host) for host in p["hosts"])
        self.delete_leftovers(names)
        self.wait_network(net)
        started = {}
        for host in p["hosts"]:
            kwargs = dict(name=names[host], image_id=image.id, flavor_id=flavor.id,
                          networks=[{"uuid": net.id}], availability_zone="%s:%s" % (p["availability_zone"], host))
            if p["security_groups"]:
                kwargs["security_groups"] = [{"name": sg} for sg in p["security_groups"]]
            server = self.call(compute.create_server, doing="create server %s" % names[host], **kwargs)
            self.created[host] = server.id
            started[host] = time.monotonic()
            self.result["servers"].append(dict(host=host, name=names[host], id=server.id, status=None,
                                               address=None, ping=None, seconds={}))
        by_host = dict((s["host"], s) for s in self.result["servers"])

        for host in p["hosts"]:
            self.wait_active(by_host[host], started[host], net)
        for host in p["hosts"]:
            self.wait_console(by_host[host], started[host], net)
        if p["ping"]:
            for host in p["hosts"]:
                self.wait_ping(by_host[host], started[host], namespace, net)
        self.check_api(by_host)
        if p["migrate"]:
            first = by_host[p["hosts"][0]]
            first["moves"] = []
            self.move(first, "cold", p["hosts"][1], namespace, net)
            self.move(first, "live", p["hosts"][0], namespace, net)
        # every delete asked for first, then each waited for: the computes tear their servers down at once
        deleting = dict((host, self.request_delete(by_host[host]["id"], by_host[host]["name"])) for host in p["hosts"])
        for host in p["hosts"]:
            self.wait_deleted(by_host[host], deleting[host])
        self.result["summary"] = [summary(by_host[host]) for host in p["hosts"]]
        return self.result

    def read_network(self, net, report=False):
        """The agents and DHCP ports that serve net, as plain dicts (network_blockers, failure reports).

        report: for a failure report, where an error must not replace the failure being reported.
        """
        network = self.conn.network

        def read(func, doing):
            return func() if report else self.call(func, doing=doing)

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
        start = time.monotonic()
        blockers = []

        def ready():
            nonlocal blockers
            blockers = network_blockers(p["hosts"], *self.read_network(net))
            return not blockers

        poll_until(ready, p["timeout"], p["poll_interval"], lambda: self.fail(
            "%s: network %s is not ready to serve servers after %d s: %s" % (
                blockers[0][0], net.name, p["timeout"], "; ".join(reason for _stage, reason in blockers))))
        self.result["network_wait"] = self.elapsed(start)

    def network_report(self, record, net):
        """A few lines on what served (or did not serve) a server's port, for a DHCP, metadata or ping failure."""
        try:
            agents, dhcp_agents, dhcp_ports = self.read_network(net, report=True)
            ports = list(self.conn.network.ports(device_id=record["id"]))
        except Exception as e:  # a report, not a step: never hide the failure being reported
            return "network state unreadable (%s)" % type(e).__name__
        lines = ["port %s: %s, bound to %s, vif_type %s, mac %s" % (
            port.id, port.status, port.binding_host_id, port.binding_vif_type, port.mac_address) for port in ports]
        lines += ["DHCP port %s: %s on %s" % (port["id"], port["status"], port["host"]) for port in dhcp_ports]
        hosts = set([record["host"]] + [a["host"] for a in dhcp_agents])
        lines += ["agent %s on %s: %s" % (a["agent_type"], a["host"], "alive" if a["is_alive"] else "DEAD")
                  for a in agents if a["host"] in hosts]
        if self.params["ping"]:  # then this is where the network's DHCP server runs
            for port in ports:
                lines += dnsmasq_lines(port.mac_address)
        return "\n".join(lines)

    def elapsed(self, start):
        return round(time.monotonic() - start, 1)

    def wait_active(self, record, start, net):
        p = self.params
        compute = self.conn.compute
        server = None

        def active():
            nonlocal server
            server = self.call(compute.get_server, record["id"], doing="read server %s" % record["name"])
            record["status"] = server.status
            if server.status == "ERROR":
                # the raw document: older openstacksdk has no fault attribute
                raw = self.call(lambda: compute.get("/servers/%s" % record["id"]).json().get("server", {}),
                                doing="read the fault of %s" % record["name"])
                fault = raw.get("fault") or {}
                text = "%s\n%s" % (fault.get("message", ""), fault.get("details", "") or "")
                host = raw.get("OS-EXT-SRV-ATTR:host")
                stage = classify_fault(host, text)
                self.fail("%s: server %s on %s is ERROR (%s): %s" % (
                    stage, record["name"], record["host"], STAGE_MESSAGES[stage], tail(text.strip(), 15)))
            return server.status == "ACTIVE"

        def timed_out():
            self.read_states()
            stage = "scheduling" if not getattr(server, "compute_host", None) else "spawn"
            self.fail("%s: server %s on %s is still %s (task state %s) after %d s" % (
                stage, record["name"], record["host"], server.status,
                getattr(server, "task_state", None), p["timeout"]))

        poll_until(active, p["timeout"], p["poll_interval"], timed_out)
        record["seconds"]["active"] = self.elapsed(start)
        for addrs in (server.addresses or {}).values():
            for addr in addrs:
                if addr.get("version", 4) == 4 and not record["address"]:
                    record["address"] = addr.get("addr")
        if not record["address"]:
            self.fail("VIF plugging: server %s on %s is ACTIVE without an address on %s" % (
                record["name"], record["host"], net.name))

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

    def wait_console(self, record, start, net):
        p = self.params
        markers = p["markers"]
        if not markers:
            return
        seen = 0
        text = ""

        def all_seen():
            nonlocal seen, text
            out = self.call(self.conn.compute.get_server_console_output, record["id"],
                            doing="read the console of %s" % record["name"])
            text = (out or {}).get("output", "") if isinstance(out, dict) else str(out or "")
            index, failed = scan_console(text, markers)
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

        def answers():
            nonlocal proc
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  universal_newlines=True, check=False)
            return proc.returncode == 0

        def timed_out():
            record["ping"] = False
            self.fail("%s: %s (%s on %s) does not answer ping from %s within %d s (is ICMP allowed by its "
                      "security groups?):\n%s\n%s" % (stage, record["address"], record["name"], host, namespace,
                                                      p["timeout"], self.network_report(record, net),
                                                      tail(proc.stdout, 5)))

        poll_until(answers, p["timeout"], p["poll_interval"], timed_out)
        record["ping"] = True
        record["seconds"][key] = self.elapsed(start)

    # -- moving a server --------------------------------------------------------
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
        url = "/servers/%s/action" % record["id"]

        def post():
            return self.conn.compute.post(url, json=body, microversion=microversion)

        def landed():  # a retried POST must not move the server twice
            server = self.conn.compute.get_server(record["id"])
            return server if server.status != "ACTIVE" or getattr(server, "task_state", None) else None
        resp = self.call(post, doing="%s of %s" % (stage, record["name"]), recheck=landed)
        status = getattr(resp, "status_code", 202)
        if status >= 400:
            self.fail("%s: the API refused to move server %s (HTTP %s): %s" % (
                stage, record["name"], status, getattr(resp, "text", "")[:500]))

    def wait_moved(self, record, status, target, stage):
        """Wait until the server is in status on target; a server back in ACTIVE elsewhere, idle, failed."""
        p = self.params
        server = host = task = None

        def moved():
            nonlocal server, host, task
            server = self.call(self.conn.compute.get_server, record["id"], doing="read server %s" % record["name"])
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
        server = self.call(self.conn.compute.get_server, record["id"], doing="read server %s" % record["name"])
        node = getattr(server, "hypervisor_hostname", None)
        wrong = []

        def bound():
            nonlocal wrong
            ports = self.call(lambda: list(self.conn.network.ports(device_id=record["id"])),
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
        if names != [node]:
            return "Placement holds the resources of %s on %s, not on %s (where it runs) alone" % (
                record["name"], ", ".join(names) or "no resource provider", node)
        for migration in self.migrations(record["id"]):
            if self.allocation_providers(migration["uuid"]):
                return "the %s migration %s of %s (%s) still holds resources in Placement" % (
                    migration.get("migration_type"), migration["uuid"], record["name"], migration.get("status"))
        return None

    def allocation_providers(self, consumer):
        resp = self.call(lambda: self.conn.placement.get("/allocations/%s" % consumer),
                         doing="read the allocations of %s" % consumer)
        return sorted(((resp.json() or {}).get("allocations") or {}).keys())

    def provider_name(self, uuid):
        resp = self.call(lambda: self.conn.placement.get("/resource_providers/%s" % uuid),
                         doing="read resource provider %s" % uuid)
        return (resp.json() or {}).get("name") or uuid

    def migrations(self, server_id):
        resp = self.call(lambda: self.conn.compute.get("/os-migrations?instance_uuid=%s" % server_id,
                                                       microversion="2.59"),
                         doing="list the migrations of %s" % server_id)
        return [m for m in (resp.json() or {}).get("migrations") or [] if m.get("uuid")]

    def action_report(self, record):
        """The server's newest instance action and its events, for a failed move (never raises)."""
        compute = self.conn.compute
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
        lines = ["action %s: %s" % (newest.get("action"), newest.get("message") or "no message")]
        for event in detail.get("events") or []:
            line = "event %s on %s: %s" % (event.get("event"), event.get("host") or "?", event.get("result"))
            trace = (event.get("traceback") or "").strip().splitlines()
            if trace:
                line += " (%s)" % trace[-1]
            lines.append(line)
        lines.append("(the compute hosts' nova-compute.log and libvirtd's journal say more)")
        return "\n".join(lines)

    def check_api(self, by_host):
        compute = self.conn.compute
        for record in by_host.values():
            self.call(compute.get_server, record["id"], doing="show server %s (API)" % record["name"])
        listed = set(s.id for s in self.call(lambda: list(compute.servers(all_projects=True)),
                                             doing="list servers (API)"))
        missing = [r["name"] for r in by_host.values() if r["id"] not in listed]
        if missing:
            self.fail("API: server list does not show %s" % ", ".join(missing))

    def wait_deleted(self, record, start):
        """Wait for the server of record, whose delete was asked for at start (monotonic), and its port to go."""
        p = self.params
        self.wait_gone(record["id"], record["name"])
        ports = []

        def gone():
            nonlocal ports
            ports = self.call(lambda: list(self.conn.network.ports(device_id=record["id"])),
                              doing="list the ports of %s" % record["name"])
            return not ports

        poll_until(gone, p["timeout"], p["poll_interval"], lambda: self.fail(
            "delete: the port of %s (%s) is still there %d s after the server was deleted" % (
                record["name"], ", ".join(port.id for port in ports), p["timeout"])))
        self.created.pop(record["host"], None)
        record["seconds"]["delete"] = self.elapsed(start)

    def request_delete(self, server_id, name):
        """Ask Nova to delete a server; return when it was asked (time.monotonic())."""
        start = time.monotonic()
        self.call(self.conn.compute.delete_server, server_id, doing="delete server %s" % name, delete=True)
        return start

    def wait_gone(self, server_id, name):
        compute = self.conn.compute
        server = None

        def gone():
            nonlocal server
            try:
                server = compute.get_server(server_id)
            except Exception as e:
                if is_not_found(e):
                    return True
                raise
            return False

        poll_until(gone, self.params["timeout"], self.params["poll_interval"], lambda: self.fail(
            "delete: server %s is still %s %d s after its delete" % (name, server.status, self.params["timeout"])))

    def delete_leftovers(self, names):
        compute = self.conn.compute
        for name in names.values():
            for server in self.call(lambda name=name: list(compute.servers(all_projects=True, name="^%s$" % re.escape(name))),
                                    doing="look for an earlier %s" % name):
                self.request_delete(server.id, name)
                self.wait_gone(server.id, name)
                self.result["leftovers_deleted"].append(name)

    def cleanup(self):
        # a failed run leaves nothing behind (best effort: the failure is what is reported)
        if self.conn is None:
            return
        for host, server_id in list(self.created.items()):
            try:
                self.conn.compute.delete_server(server_id)
            except Exception:  # noqa: BLE001 - already failing; the next run deletes leftovers
                pass
        super(ServerCheck, self).cleanup()


def main():
    base.main(ServerCheck)


if __name__ == "__main__":
    main()
