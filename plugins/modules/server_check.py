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
version_added: 0.1.0
description:
  - Boots one server on each of O(hosts) (pinned with the C(AZ:HOST) form of the availability zone, or as a
    project member through an anti-affinity server group, see O(admin_cloud)), waits
    for it to be C(ACTIVE) with its ports C(ACTIVE) on its host and its fixed addresses, reads its console log
    until the guest prints each of O(markers) (none by default, as what any cloud image offers is proven without
    them), pings its address from the network's DHCP namespace on this host (the guest answers there once it has
    its DHCP lease), logs into it over SSH where O(ssh_key_file) and O(ssh_user) are given and checks what the
    guest says (its uuid from the metadata service, its hostname as the metadata gives it, its addresses),
    checks that C(server show) and C(server list) answer, deletes it and waits until its port is gone.
  - Boots only once the network can serve the servers (waits, bounded by O(timeout), until an L2 agent is alive
    on each of O(hosts), a live DHCP agent hosts O(network) and its DHCP ports are C(ACTIVE)), because a guest gives up
    DHCP after a while, and agents that were just restarted may not have wired their ports yet.
  - The servers of all hosts boot at the same time; every wait is bounded by O(timeout).
  - A failure names the stage (C(scheduling), C(spawn), C(VIF plugging), each marker's, e.g. C(DHCP) or C(metadata),
    C(floating IP), C(ping), C(SSH), C(API), C(delete)) with the fault or the console lines that explain it (for
    ports, markers, ping and SSH also the server's port, the network's DHCP ports and the agents involved), and deletes what this run
    created. Servers left by an earlier failed run (same names) are deleted first.
  - With O(flavor_spec) the flavor O(flavor) is created when absent, and with O(open_icmp) each of
    O(security_groups) is created when absent and given a rule letting ping in when it has none; both are
    kept. The result is C(changed) only when one of them was created (RV(created)); the servers are deleted,
    so the boot itself leaves no trace.
  - Runs where the DHCP agent of O(network) runs (its C(qdhcp-) network namespace), as root, when O(ping)
    is on.
  - A call the cloud refuses with HTTP 403 (a policy, or a quota) fails the run naming the stage and the policy
    rule the answer names.
author:
  - osdeploy.nova developers (@osdeploy)
extends_documentation_fragment:
  - osdeploy.nova.openstack
options:
  admin_cloud:
    description:
      - An admin's cloud (a C(clouds.yaml) cloud name or a dict, as O(cloud)). With it, O(cloud) is a project
        member's, and the servers are the member's, as a project's user works. The member creates an
        anti-affinity server group (C(NAME_PREFIXmember)) and, in one request, as many servers as O(hosts) in it
        (the scheduler places the servers of one request on distinct hosts; Nova names them after the group
        with C(-1), C(-2)...), waits for them, reads their consoles, shows and lists them, and deletes them and the
        group. Admin reads which host each server runs on (every one of O(hosts) must get exactly one), the
        network's agents and the ports' bindings, creates the flavor (O(flavor_spec)), and makes the moves
        (O(migrate)) on the member's server, once the member's other servers are gone (anti-affinity keeps a
        server off a host where another server of its group runs). O(security_groups) are the member's project's.
      - Unset, O(cloud) is admin's and every server is pinned to its host (C(ZONE:HOST)), which Nova's default
        policy allows admin only.
      - O(auth) and O(auth_type) apply to O(cloud) only; the other connection options to both clouds.
    type: raw
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
    description: The availability zone of the hosts (pinning uses C(ZONE:HOST); a member's servers are asked for in it).
    type: str
    default: nova
  name_prefix:
    description:
      - The servers are named this prefix followed by the host name (pinned), or the member's group this prefix
        followed by C(member), and its servers after it (O(admin_cloud)).
    type: str
    default: osdeploy-check-
  timeout:
    description: Seconds each stage may take per server (boot, its ports, each console marker, ping, SSH, delete).
    type: int
    default: 300
  markers:
    description:
      - Console lines the guest must print, in order, each a dict with C(stage) (named in the error when it
        does not appear, and in RV(servers[].seconds)) and C(regex). A line matching C(failed_regex) ends the wait
        at once with that stage's error.
      - Empty (the default), the console is not waited for, as a cloud image prints nothing this module knows. The
        server is then proven by what any cloud image offers, C(ACTIVE) with its ports, the ping (its DHCP lease),
        and with O(ssh_key_file) the login, whose checks prove the metadata service. The console's last lines
        are still shown when a ping or a login fails.
      - Markers make a failure say sooner and more exactly where a guest stopped. The osdeploy test image (a
        14 MB Debian guest; its source repository builds it) prints lines for its DHCP lease, its metadata and its
        SSH server (C(dhcp ok), C(metadata ok), C(ssh ok), or C(failed)), which the examples match.
      - With O(floating_network), the floating IP is attached once the server is C(ACTIVE) and its markers seen.
    type: list
    elements: dict
    default: []
  ping:
    description:
      - Ping each server from the network's DHCP namespace (C(qdhcp-NETWORK_ID)) on this host; with
        O(floating_network), its floating IP from that network's DHCP namespace.
    type: bool
    default: true
  second_network:
    description:
      - Name or id of a second network every server gets a port on (a server with two NICs). With O(ssh_key_file)
        the login checks that the guest has the addresses of both ports.
    type: str
  floating_network:
    description:
      - Name or id of an external network. Each server, once C(ACTIVE) (and its O(markers) seen), gets a floating IP
        on it for its port on O(network) (made by the user of O(cloud), as a project's user makes one), and is
        pinged (O(ping)) and logged into (O(ssh_key_file)) at that address from the external network's DHCP
        namespace on this host, through the router between O(network) and the external network, as a user
        outside the cloud reaches a server.
      - The floating IPs are deleted with the servers; floating IPs an earlier failed run left (by their
        description) are deleted first.
    type: str
  keypair:
    description:
      - The keypair the servers boot with (the user of O(cloud)'s). With O(public_key) it is created when
        missing and its key replaced when it differs, and kept; without, it must exist.
    type: str
  public_key:
    description: The OpenSSH public key of O(keypair) (its text, e.g. the content of an C(id_ed25519.pub)).
    type: str
  ssh_key_file:
    description:
      - The private key (a path on this host) of O(keypair). Set, each server is logged into over SSH as
        O(ssh_user) from the namespace the pings come from, until it lets the login in (bounded by O(timeout)),
        and runs a short script whose answers are checked. The guest must read its own uuid from the metadata
        service, have the hostname that metadata gives (its first label, as cloud-init sets it, or all of it, as
        CirrOS does), have the address of each of its ports on a NIC, and ping both the gateways of
        O(network)'s subnets (the router, the way out) and the server on the next host in O(hosts) (east-west).
        The seconds from create to that login are reported (C(ssh)).
      - With O(open_icmp), each of O(security_groups) also gets an ingress rule for TCP port 22 when it has none.
      - Needs O(keypair), O(ssh_user) and O(ping).
    type: path
  ssh_user:
    description:
      - The user O(ssh_key_file) logs in as, the image's own (cloud-init's default user), C(cirros) on CirrOS,
        C(debian) on Debian's cloud images, C(ubuntu) on Ubuntu's, C(root) on the osdeploy test image.
      - No default, since no user fits every image; needs O(ssh_key_file), which needs it.
    type: str
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
  keep:
    description:
      - Leave the servers running at the end, with their floating IPs (and the member's server group), instead of
        deleting them; RV(kept) names them, and the run is C(changed) when it booted them. For servers that
        outlive the run, for example the upgrade command's canaries, pinged while the cloud is upgraded.
      - A run that fails deletes what it booted, as without O(keep).
    type: bool
    default: false
  reuse:
    description:
      - Check the servers an earlier run kept (O(keep), the same O(name_prefix)) instead of booting new ones. As
        the member (O(admin_cloud)) they are its server group's, else the servers named after the hosts, in any
        project. Each must still be C(ACTIVE), one on each of O(hosts), with its floating IP (one is made again
        if it is missing); then they are pinged, logged into, moved (O(migrate)) and deleted (unless O(keep)),
        as new ones would be, and their console is not read (they booted long ago). Without kept servers, new
        ones are booted.
      - A kept server that is not C(ACTIVE), or kept servers no longer one on each host, fail the run, and the
        servers are left as they are, to be looked at.
    type: bool
    default: false
  poll_interval:
    description:
      - Seconds between two reads of a server's state, console or ping. Each read is one API call or one ping;
        each stage of a server (active, ports, console markers, ping, deleted) is seen at most this long after it is
        reached.
    type: float
    default: 0.5
notes:
  - Check mode boots and creates nothing. With O(flavor_spec) or O(open_icmp) it connects and reads the flavor
    and the security groups, and reports what it would create (RV(created), C(changed) when something is
    missing). A cloud that cannot be reached then (a service that this run would start, e.g. after a drift)
    is a warning that says the preview cannot tell, not a failure; any other error fails as in a real run.
  - In check mode with O(keep) or O(reuse) it reads the servers an earlier run kept, and reports C(changed) where
    the run would boot servers and keep them, or delete kept ones.
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

- name: As a project member (admin only reads where the servers run and moves them)
  osdeploy.nova.server_check:
    cloud: osdeploy-demo
    admin_cloud: osdeploy-admin
    hosts: [compute1, compute2]
    image: osdeploy-test-image
    flavor: osdeploy-check
    network: provider
    security_groups: [osdeploy-check]
    open_icmp: true

- name: A CirrOS image, logged into as its user cirros (ACTIVE, ports, ping, login; no console markers)
  osdeploy.nova.server_check:
    cloud: osdeploy-admin
    hosts: [compute1]
    image: cirros
    flavor: m1.tiny
    network: provider
    security_groups: [osdeploy-check]
    open_icmp: true
    keypair: osdeploy-proof
    ssh_key_file: /root/.ssh/osdeploy-proof_ed25519
    ssh_user: cirros

- name: The osdeploy test image, whose console lines say sooner where a guest stopped
  osdeploy.nova.server_check:
    cloud: osdeploy-admin
    hosts: [compute1]
    image: osdeploy-test-image
    flavor: osdeploy-check
    network: provider
    markers:
      - {stage: DHCP, regex: '^osdeploy-test-image: dhcp ok ip=', failed_regex: '^osdeploy-test-image: dhcp failed'}
      - {stage: metadata, regex: '^osdeploy-test-image: metadata ok uuid=', failed_regex: '^osdeploy-test-image: metadata failed'}
      - {stage: SSH server, regex: '^osdeploy-test-image: ssh ok', failed_regex: '^osdeploy-test-image: ssh failed'}
"""

RETURN = r"""
servers:
  description: What was measured per host, in the order of O(hosts).
  returned: success, and on failure for the servers that got that far
  type: list
  elements: dict
  contains:
    host: {description: The compute host., type: str, sample: compute1}
    project_id:
      description: The project the server belonged to (the member's with O(admin_cloud)).
      returned: for the servers that became ACTIVE
      type: str
    name: {description: The server's name., type: str, sample: osdeploy-check-compute1}
    id: {description: The server's id (deleted since)., type: str}
    status: {description: The last status seen before the delete., type: str, sample: ACTIVE}
    address:
      description: The server's address on O(network), or its floating IP with O(floating_network).
      type: str
      sample: 203.0.113.23
    fixed:
      description: The server's fixed address on O(network).
      type: str
      sample: 172.16.1.23
    fixed_all:
      description: The fixed addresses of all its ports (O(network), then O(second_network)).
      type: list
      elements: str
      sample: [172.16.1.23, 172.16.2.9]
    ping: {description: Whether the address answered ping (null when O(ping) is off)., type: bool}
    ssh:
      description: Whether the login over SSH and its checks passed (null without O(ssh_key_file)).
      type: bool
    hostname:
      description: The hostname the guest said when logged into (it must be the one its metadata gives).
      returned: when the login got that far
      type: str
      sample: osdeploy-check-compute1
    task_state:
      description: The server's task state when a server was still building at the timeout (e.g. spawning).
      returned: when a server did not become ACTIVE in time
      type: str
      sample: spawning
    seconds:
      description: Seconds from the create request to ACTIVE, to its ports ACTIVE, to each console marker (by
        stage), to the first ping reply, to the first SSH login, and for the delete.
      type: dict
      sample: {active: 21.3, port: 21.5, ping: 38.5, ssh: 39.2, delete: 6.2}
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
    - "compute1: ACTIVE at 203.0.113.23, ping ok; seconds from create: active 21.3, port 21.5, ping 34.5;
      moved cold to compute2 in 41.2 (ping 12.3 later), live to compute1 in 18.9 (ping 0.4 later); deleted in 6.2"
kept:
  description: With O(keep), the servers left running, in the order of O(hosts).
  returned: when O(keep) is on and the run passed
  type: list
  elements: str
  sample: [osdeploy-canary-member-1, osdeploy-canary-member-2]
namespace:
  description: The network namespace on this host the servers are pinged and logged into from.
  returned: when the run got that far
  type: str
  sample: qdhcp-5c1c2b7e-0a42-4b4e-9d1c-3f2f0c7c1f11
network_wait:
  description: Seconds spent waiting for the network to be ready (agents alive, DHCP ports C(ACTIVE)) before the boot.
  returned: when the network was ready
  type: float
  sample: 0.4
leftovers_deleted:
  description:
    - Servers of an earlier run with the same names (any project's), and with O(admin_cloud) the member's server
      group of an earlier run (C(server group NAME)) with its servers, deleted before this run booted its own.
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

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils.server_proof import ServerProof


class ServerCheck(ServerProof):
    """The proof with its options: the steps are ServerProof's (module_utils/server_proof.py)."""

    argument_spec = dict(
        admin_cloud=dict(type="raw", no_log=True),
        hosts=dict(type="list", elements="str", required=True),
        image=dict(type="str", required=True),
        flavor=dict(type="str", required=True),
        network=dict(type="str", required=True),
        security_groups=dict(type="list", elements="str", default=[]),
        availability_zone=dict(type="str", default="nova"),
        name_prefix=dict(type="str", default="osdeploy-check-"),
        timeout=dict(type="int", default=300),
        markers=dict(type="list", elements="dict", default=[]),
        ping=dict(type="bool", default=True),
        migrate=dict(type="bool", default=False),
        poll_interval=dict(type="float", default=0.5),
        flavor_spec=dict(type="dict"),
        open_icmp=dict(type="bool", default=False),
        second_network=dict(type="str"),
        floating_network=dict(type="str"),
        keypair=dict(type="str", no_log=False),
        public_key=dict(type="str", no_log=False),
        ssh_key_file=dict(type="path", no_log=False),
        ssh_user=dict(type="str"),
        keep=dict(type="bool", default=False),
        reuse=dict(type="bool", default=False),
    )
    module_kwargs = dict(supports_check_mode=True)


def main():
    base.main(ServerCheck)


if __name__ == "__main__":
    main()
