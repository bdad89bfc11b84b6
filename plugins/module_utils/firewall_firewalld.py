# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The firewalld backend of the host firewall (module host_firewall).

The rules are rich rules, one per source, protocol and port, in a policy of the module's own (ingress zone ANY,
egress zone HOST, priority -1) in firewalld's permanent configuration; firewalld is reloaded when the permanent or
the running policy differs from the one wanted. The functions plan over the parsed ``firewall-cmd --info-policy``;
``Firewalld`` reads and applies through a module_utils/firewall.py FirewallModule.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re

from ansible_collections.osdeploy.nova.plugins.module_utils.firewall import Backend, address_text

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


class Firewalld(Backend):
    """Reads firewalld and makes its policy the one wanted."""

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
