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
version_added: 0.3.0
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

import ipaddress
import os
import re

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils import firewall
from ansible_collections.osdeploy.nova.plugins.module_utils.firewall import address_text
from ansible_collections.osdeploy.nova.plugins.module_utils.firewall_iptables import Iptables, iptables_drops
from ansible_collections.osdeploy.nova.plugins.module_utils.firewall_nftables import (
    Nftables, nft_chain_drops, nft_input_chains)


# -- firewalld ----------------------------------------------------------------------------------
# Where firewalld keeps its permanent policies.
FIREWALLD_POLICIES = "/etc/firewalld/policies"
RICH_RULE_RE = re.compile(r'^rule family="(ipv4|ipv6)" source address="([^"]+)" port port="(\d+)" '
                          r'protocol="(tcp|udp)" accept$')
# the policy the firewalld backend keeps: traffic from any zone to the host itself, before the zones' own rules
FIREWALLD_POLICY = dict(priority="-1", target="CONTINUE", ingress=["ANY"], egress=["HOST"])


def rich_rule(family, net, port, protocol):
    """A rich rule as firewall-cmd prints it."""
    return 'rule family="ipv%d" source address="%s" port port="%d" protocol="%s" accept' % (
        family, address_text(net), port, protocol)


def rich_rule_key(text):
    """(family, network, port, protocol) of a rule this module writes, None for any other rich rule."""
    match = RICH_RULE_RE.match(text.strip())
    if not match:
        return None
    try:
        net = ipaddress.ip_network(match.group(2), strict=False)
    except ValueError:
        return None
    return (int(match.group(1)[-1]), net, int(match.group(3)), match.group(4))


def desired_rich_rules(sources, tcp_ports, udp_ports):
    """{key: rich rule text}, one rule per source, protocol and port."""
    rules = {}
    for family in (4, 6):
        for net in sources.get(family, []):
            for protocol, ports in (("tcp", tcp_ports), ("udp", udp_ports)):
                for port in sorted(set(ports)):
                    rules[(family, net, port, protocol)] = rich_rule(family, net, port, protocol)
    return rules


def parse_policy_info(text):
    """`firewall-cmd --info-policy NAME` -> dict(priority, target, ingress, egress, rich_rules=[texts])."""
    info = dict(priority=None, target=None, ingress=[], egress=[], rich_rules=[])
    rich = False
    for line in (text or "").splitlines():
        if rich and line.startswith(("\t", "        ")) and line.strip():
            info["rich_rules"].append(line.strip())
            continue
        rich = False
        key, sep, value = line.strip().partition(":")
        if not sep:
            continue
        value = value.strip()
        if key == "priority":
            info["priority"] = value
        elif key == "target":
            info["target"] = value
        elif key in ("ingress-zones", "egress-zones"):
            info[key.split("-")[0]] = value.split()
        elif key == "rich rules":
            rich = True
            if value:
                info["rich_rules"].append(value)
    return info


def firewalld_plan(info, desired):
    """(rich rules to add, rich rules to remove) so that a policy (parsed info, None: missing) holds exactly the
    desired ones (dict key -> text); a wanted rule written twice or in another form is removed and added once."""
    have = {}
    remove = []
    for text in (info or {}).get("rich_rules", []):
        key = rich_rule_key(text)
        if key in desired and key not in have:
            have[key] = text
        else:
            remove.append(text)
    add = [text for key, text in sorted(desired.items(), key=lambda item: (item[0][0], item[0][1], item[0][3],
                                                                           item[0][2]))
           if key not in have]
    return add, remove


def policy_settings_differ(info):
    """The policy's settings (not its rules) that differ from FIREWALLD_POLICY, as firewall-cmd option lists."""
    changes = []
    if info["priority"] != FIREWALLD_POLICY["priority"]:
        changes.append(["--set-priority", FIREWALLD_POLICY["priority"]])
    if info["target"] != FIREWALLD_POLICY["target"]:
        changes.append(["--set-target", FIREWALLD_POLICY["target"]])
    for side in ("ingress", "egress"):
        wanted = FIREWALLD_POLICY[side]
        extra = [zone for zone in info[side] if zone not in wanted]
        missing = [zone for zone in wanted if zone not in info[side]]
        if extra:
            changes.append([arg for zone in extra for arg in ("--remove-%s-zone" % side, zone)])
        if missing:
            changes.append([arg for zone in missing for arg in ("--add-%s-zone" % side, zone)])
    return changes


class Firewalld(object):
    """Reads firewalld and makes its policy the one wanted through ``module``, a FirewallModule."""

    def __init__(self, module):
        self.module = module

    def running(self):
        """None when firewall-cmd is not installed, else whether firewalld runs."""
        if not self.module.installed("firewall-cmd"):
            return None
        return self.module.command(["firewall-cmd", "--state"], allowed=None)[0] == 0

    def policy_info(self, permanent):
        """The policy O(name), parsed; None when firewalld has no such policy."""
        m = self.module
        argv = ["firewall-cmd"] + (["--permanent"] if permanent else []) + ["--info-policy", m.params["name"]]
        rc, out, err = m.command(argv, allowed=None)
        if rc != 0:
            if "INVALID_POLICY" in (err + out):
                return None
            m.fail("%s failed (rc %s): %s" % (" ".join(argv), rc, (err or out).strip()))
        return parse_policy_info(out)

    def apply(self, sources, tcp, udp):
        """Make the permanent policy O(name) hold exactly the wanted rich rules (state=absent: delete it), and
        reload firewalld when the permanent or the running policy differs from the one wanted."""
        m = self.module
        name, present = m.params["name"], m.params["state"] == "present"
        label = "firewalld policy %s" % name
        desired = desired_rich_rules(sources, tcp, udp) if present else {}
        m.result["chains"].append(label)
        m.result["rules"] = [desired[key] for key in sorted(desired, key=lambda k: (k[0], k[1], k[3], k[2]))]
        permanent, running = self.policy_info(True), self.policy_info(False)
        calls = []
        base = ["firewall-cmd", "--permanent"]
        if permanent is not None:
            m.before.extend("%s: %s" % (label, text) for text in permanent["rich_rules"])
        if not present:
            if permanent is not None:
                calls.append(base + ["--delete-policy", name])
                m.result["removed"].extend("%s: %s" % (label, text) for text in permanent["rich_rules"])
        else:
            if permanent is None:
                calls.append(base + ["--new-policy", name])
                settings = policy_settings_differ(dict(priority="-1", target="CONTINUE", ingress=[], egress=[]))
            else:
                settings = policy_settings_differ(permanent)
            calls.extend(base + ["--policy", name] + options for options in settings)
            add, remove = firewalld_plan(permanent, desired)
            if remove:
                calls.append(base + ["--policy", name] + [arg for text in remove for arg in ("--remove-rich-rule",
                                                                                             text)])
            if add:
                calls.append(base + ["--policy", name] + [arg for text in add for arg in ("--add-rich-rule", text)])
            m.result["added"].extend("%s: %s" % (label, text) for text in add)
            m.result["removed"].extend("%s: %s" % (label, text) for text in remove)
            m.after.extend("%s: %s" % (label, text) for text in m.result["rules"])
            m.result["persisted"] = [os.path.join(FIREWALLD_POLICIES, "%s.xml" % name)]
        # the running policy follows the permanent one after a reload; reload when they differ
        stale = (running is not None) if not present else (
            running is None or policy_settings_differ(running) or firewalld_plan(running, desired) != ([], []))
        if calls or stale:
            m.result["changed"] = True
            if m.check_mode:
                return
            for argv in calls:
                m.command(argv)
            m.command(["firewall-cmd", "--reload"])
            running = self.policy_info(False)
            if present and (running is None or firewalld_plan(running, desired) != ([], [])):
                m.fail("firewalld: after firewall-cmd --reload the running policy %s does not hold the rules "
                       "wanted: check firewall-cmd --info-policy %s and firewalld's log" % (name, name))
            if not present and running is not None:
                m.fail("firewalld: after firewall-cmd --reload the policy %s still runs: check firewalld's log"
                       % name)


class HostFirewall(firewall.FirewallModule):
    """Opens the ports in the active firewall: module_utils/firewall.py chooses it, firewall_*.py plan and apply."""

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

    def run(self):
        p = self.params
        try:
            sources, tcp, udp = firewall.validate(p)
        except ValueError as e:
            self.fail(str(e))
        present, explicit = p["state"] == "present", p["backend"] != "auto"
        self.start()
        firewalld = Firewalld(self)
        running = firewalld.running()
        refused = firewall.refusal(p["backend"], present, p["persist"], running)
        if refused:
            self.fail(refused)
        if firewall.uses_firewalld(p["backend"], running):
            self.result.update(backend="firewalld", active=True)
            firewalld.apply(sources, tcp, udp)
            if present or explicit:
                return self.finish(present)
        # state=absent with backend auto goes on: owned rules are removed wherever they are
        iptables, nftables = Iptables(self), Nftables(self)
        ipt = iptables.read(explicit) if p["backend"] in ("auto", "iptables") else {}
        ipt_active = any(iptables_drops(lines) for lines in ipt.values() if lines is not None)
        ruleset = nftables.read(explicit) if firewall.reads_nftables(p["backend"], ipt_active, present) else None
        chains = nft_input_chains(ruleset) if ruleset is not None else []
        backend, active = firewall.choose_backend(p["backend"], ipt_active, any(nft_chain_drops(c) for c in chains))
        if self.result["backend"] != "firewalld":       # state=absent after the firewalld policy: keep it named
            self.result.update(backend=backend, active=active)
        if present and backend == "none":
            self.result["msg"] = ("no active host firewall found (firewalld does not run, iptables INPUT does not "
                                  "drop, no nftables input chain drops): nothing opened; set backend to nftables or "
                                  "iptables to open the ports anyway")
            return self.result
        if backend == "nftables" or (not present and not explicit and ruleset is not None):
            nftables.apply(chains, sources, tcp, udp)
        if backend == "iptables" or (not present and not explicit and any(v is not None for v in ipt.values())):
            iptables.apply(ipt, sources, tcp, udp)
        return self.finish(present)


def main():
    base.main(HostFirewall)


if __name__ == "__main__":
    main()
