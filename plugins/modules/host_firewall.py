#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_firewall
short_description: Open exactly the given ports to the given sources in the host's active firewall
version_added: 0.1.0
description:
  - On a controller whose host firewall drops what it does not allow, opens O(tcp_ports) and O(udp_ports) to
    O(sources) (the compute hosts' addresses, or a management network), idempotently, and persists the rules
    where the host keeps its firewall.
  - With O(backend=auto) the firewall in use is detected, firewalld first, then iptables. firewalld counts as active
    when C(firewall-cmd --state) says it runs (its zones reject what they do not allow). iptables counts as active when
    C(iptables -S INPUT) or C(ip6tables -S INPUT) shows the policy C(DROP) or a rule that jumps to C(DROP) or
    C(REJECT). Else nftables counts as active when a base chain with hook C(input) (family C(inet), C(ip) or
    C(ip6)) has the policy C(drop) or a rule whose verdict is C(drop) or C(reject). Else nothing is touched
    and RV(backend) is C(none).
  - The tables that iptables-nft manages (Debian 12's C(iptables)) also appear in C(nft list ruleset); the
    nftables backend never touches them (family C(ip) or C(ip6), an iptables table name and an upper-case
    built-in chain such as C(INPUT), or any rule with an iptables match, which C(nft) marks as
    C(managed by iptables-nft)).
  - The rules carry the comment C(NAME:HASH), where HASH is the first 12 hex digits of the SHA-256 of the
    rule's sources, ports, protocol and address family. A rule with the right comment that no drop or reject
    rule precedes is kept; the other rules whose comment starts with C(NAME:) are stale and removed.
  - nftables, one rule per address family and protocol in each input base chain, inserted at the chain's start
    (C(nft insert rule)), so before the ruleset's drop rules. An C(inet) chain gets the IPv4 and the IPv6 rules,
    an C(ip) chain only the IPv4 one, an C(ip6) chain only the IPv6 one. All changes are one C(nft -f)
    transaction.
  - iptables, rules inserted at the top of C(INPUT) (C(iptables -I)) with the C(multiport) match, 15 ports per
    rule at most; C(ip6tables) for the IPv6 sources.
  - firewalld, a policy named O(name) (ingress zone C(ANY), egress zone C(HOST), priority C(-1), so before the
    zones' rules) holding one rich rule per source, protocol and port, in firewalld's permanent configuration; then
    C(firewall-cmd --reload) when the permanent or the running policy differs from the one wanted. The policy is
    the module's own, so rich rules in it that are not wanted are removed. firewalld rebuilds its nftables rules on every
    reload, so with firewalld running the module never edits nftables or iptables directly.
  - O(state=absent) removes every rule whose comment starts with C(NAME:), the firewalld policy O(name) and the
    module's persistence (with O(backend=auto) in firewalld, nftables and iptables, wherever they are).
author:
  - osdeploy.nova developers (@osdeploy)
options:
  name:
    description:
      - The tag of the rules this module owns, the first part of their comments and the name of the nftables
        persistence file. Letters, digits, C(-) and C(_) only, 64 characters at most.
      - Use one name per set of rules that is managed on its own; every run replaces the rules of its name.
    type: str
    default: osdeploy-nova
  sources:
    description:
      - The IPv4 or IPv6 addresses or networks (CIDR, host bits are ignored) that may connect.
      - Required, and not empty, with O(state=present). Duplicates, and addresses or networks inside another
        source network, are left out.
    type: list
    elements: str
    default: []
  tcp_ports:
    description: The TCP ports to open (1 to 65535).
    type: list
    elements: int
    default: []
  udp_ports:
    description:
      - The UDP ports to open (1 to 65535). With O(state=present), O(tcp_ports) and O(udp_ports) together name at
        least one port.
    type: list
    elements: int
    default: []
  backend:
    description:
      - C(auto) opens the ports only where a firewall is active (see the description) and does nothing on a host
        without one.
      - C(nftables) or C(iptables) opens them in that firewall even when it drops nothing yet. C(nftables) needs
        at least one base chain with hook C(input) (load your ruleset first). Both are refused while firewalld runs.
      - C(firewalld) opens them in firewalld, which must be running.
    type: str
    choices: [auto, firewalld, nftables, iptables]
    default: auto
  state:
    description:
      - V(present) makes the owned rules exactly those that open the given ports to the given sources.
      - V(absent) removes every rule this module owns (by O(name)) and its persistence.
    type: str
    choices: [present, absent]
    default: present
  persist:
    description:
      - Keep the rules over a reboot, where the host keeps its firewall.
      - nftables, when C(/etc/nftables.conf) exists, the rules are written as C(insert rule) commands to
        C(/etc/nftables.d/NAME.nft) and C(/etc/nftables.conf) gets the line C(include "/etc/nftables.d/NAME.nft")
        at its end (once; an existing C(include) whose pattern names the file counts). C(nft -c -f
        /etc/nftables.conf) must then pass, else both files are restored and the module fails.
      - iptables, when C(/etc/iptables/rules.v4) or C(rules.v6) exists (iptables-persistent), the current rules are
        saved there with C(iptables-save) or C(ip6tables-save), as C(netfilter-persistent save) does.
      - firewalld, the policy is in firewalld's permanent configuration (C(/etc/firewalld/policies/NAME.xml)), as a
        policy can only be made there, so V(false) is refused with firewalld.
      - Without these files the rules are not persisted (RV(persisted) is V(false), with a warning) and last until
        the next reboot.
      - With V(false), the persistence files are left as they are.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Reports the rules that would be added and removed and whether a persistence file would change; runs
      no command that writes.
  diff_mode:
    support: full
    description: The owned rules before and after, one per line, each with its chain.
notes:
  - firewalld needs policies (firewalld 0.9 or later; Debian 12 ships 1.3). A C(firewall-cmd --reload) rebuilds
    firewalld's rules and drops what was added to its running configuration only; established connections stay.
  - Needs C(nft) (Debian package nftables), C(iptables) (Debian package iptables) or C(firewall-cmd) (Debian package
    firewalld) on the host.
  - Only one backend is managed per run (with O(backend=auto), iptables when it drops, else nftables). A packet
    must be accepted by every base chain it passes; a host where both iptables and native nftables chains drop
    needs the ports opened in both (two tasks with an explicit O(backend)).
  - Rules are only inserted into base chains with hook C(input); a chain that jumps to a user chain which drops
    is not seen as dropping.
  - O(state=absent) also removes the nftables persistence of O(name) and re-saves C(/etc/iptables/rules.v4) or
    C(rules.v6) when they hold an owned rule, whatever O(persist) says.
  - Saving with C(iptables-save) writes the whole current iptables ruleset, including rules other tools added.
seealso:
  - name: nftables in Debian
    description: The C(nftables.service) loads C(/etc/nftables.conf) at boot.
    link: https://wiki.debian.org/nftables
"""

EXAMPLES = r"""
- name: Open the controller's API and message queue ports to the compute hosts
  osdeploy.nova.host_firewall:
    sources: "{{ groups['compute'] | map('extract', hostvars, 'ansible_host') | list }}"
    tcp_ports: [5000, 5672, 8774, 8775, 8778, 9292, 9696]

- name: The same for a whole management network, in nftables even before it drops anything
  osdeploy.nova.host_firewall:
    sources: [192.168.58.0/24, "fd00:58::/64"]
    tcp_ports: [5000, 5672]
    backend: nftables

- name: The same in firewalld (a policy osdeploy-nova with rich rules, made permanent and reloaded)
  osdeploy.nova.host_firewall:
    sources: [192.168.58.0/24]
    tcp_ports: [5000, 5672]
    backend: firewalld

- name: Remove the rules and their persistence
  osdeploy.nova.host_firewall:
    state: absent
"""

RETURN = r"""
backend:
  description: The firewall the rules are (or would be) in, C(none) when no active firewall was found.
  returned: always
  type: str
  sample: nftables
active:
  description: Whether that firewall drops or rejects input, the policy or a rule.
  returned: always
  type: bool
  sample: true
chains:
  description: The chains the module manages, nftables ones as C(FAMILY TABLE CHAIN), firewalld's as
    C(firewalld policy NAME).
  returned: always
  type: list
  elements: str
  sample: [inet filter input]
rules:
  description:
    - The rules wanted, nftables rule statements or C(iptables)/C(ip6tables) commands. Empty with
      O(state=absent) and with RV(backend=none).
  returned: always
  type: list
  elements: str
  sample: ['ip saddr { 192.168.58.12, 192.168.58.13 } tcp dport { 5000, 5672 } accept comment "osdeploy-nova:4c1d0e5f9a2b"']
added:
  description: The rules added (or that would be, in check mode), each after its chain.
  returned: always
  type: list
  elements: str
  sample: ['inet filter input: ip saddr { 192.168.58.12 } tcp dport { 5000 } accept comment "osdeploy-nova:4c1d0e5f9a2b"']
removed:
  description: The owned rules removed (stale, misplaced or duplicate), each after its chain.
  returned: always
  type: list
  elements: str
  sample: ['inet filter input: ip saddr 192.168.58.12 tcp dport 5000 accept comment "osdeploy-nova:0a1b2c3d4e5f"']
persisted:
  description:
    - The files that keep the rules over a reboot, V(false) when the rules are not persisted (no persistence files,
      O(persist=false), O(state=absent) or RV(backend=none)).
  returned: always
  type: raw
  sample: [/etc/nftables.d/osdeploy-nova.nft, /etc/nftables.conf]
"""

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils.host_firewall_module import HostFirewallModule


class HostFirewall(HostFirewallModule):
    """The module's options; the run is module_utils/host_firewall_module.py's."""

    argument_spec = dict(
        name=dict(type="str", default="osdeploy-nova"),
        sources=dict(type="list", elements="str", default=[]),
        tcp_ports=dict(type="list", elements="int", default=[]),
        udp_ports=dict(type="list", elements="int", default=[]),
        backend=dict(type="str", choices=["auto", "firewalld", "nftables", "iptables"], default="auto"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        persist=dict(type="bool", default=True),
    )
    module_kwargs = dict(supports_check_mode=True)


def main():
    base.main(HostFirewall)


if __name__ == "__main__":
    main()
