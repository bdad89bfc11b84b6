# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The iptables backend of the host firewall (module host_firewall).

The rules are inserted at the top of INPUT (``iptables -I``, ``ip6tables`` for the IPv6 sources) with the multiport
match, and saved where iptables-persistent loads them at boot. The functions plan over the lines of
``iptables -S INPUT``; ``Iptables`` reads and applies through a module_utils/firewall.py FirewallModule.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import shlex

from ansible_collections.osdeploy.nova.plugins.module_utils.firewall import Backend, desired_rules, owned

# Where iptables-persistent keeps the rules; a module constant so that unit tests can point it elsewhere.
IPTABLES_SAVED = {4: "/etc/iptables/rules.v4", 6: "/etc/iptables/rules.v6"}

MULTIPORT_MAX = 15
IPT_COMMAND = {4: "iptables", 6: "ip6tables"}
IPT_DROP = re.compile(r"\s-j\s+(DROP|REJECT)\b")
IPT_COMMENT = re.compile(r'\s--comment\s+"?([^"\s]+)"?')


def iptables_rule_args(rule):
    return ["-s", ",".join(rule["sources"]), "-p", rule["protocol"], "-m", "multiport",
            "--dports", ",".join(str(p) for p in rule["ports"]), "-m", "comment", "--comment", rule["comment"],
            "-j", "ACCEPT"]


def iptables_rule_text(rule):
    args = iptables_rule_args(rule)
    args[args.index("--comment") + 1] = '"%s"' % rule["comment"]
    return " ".join(args)


def owned_comment(line, name):
    """The comment of an owned INPUT rule (an `iptables -S` or iptables-save line), else None."""
    match = IPT_COMMENT.search(line)
    if line.startswith("-A INPUT ") and match and owned(match.group(1), name):
        return match.group(1)
    return None


def iptables_drops(lines):
    """`iptables -S INPUT` lines -> whether the policy is DROP or a rule jumps to DROP or REJECT."""
    return any(line.strip() == "-P INPUT DROP" or (line.startswith("-A INPUT ") and IPT_DROP.search(line))
               for line in lines)


def iptables_plan(lines, desired, name):
    """(rules to insert, -S lines to delete) for one of iptables' INPUT chains.

    `iptables -s a,b` makes one rule per source; a wanted rule counts as there when all its lines are, none after
    a DROP or REJECT rule. Every other owned line is deleted (all lines of a rule that is not complete).
    """
    rules = [line for line in lines if line.startswith("-A INPUT ")]
    by_comment, dropped = {}, False
    for line in rules:
        comment = owned_comment(line, name)
        if comment:
            entry = by_comment.setdefault(comment, dict(lines=[], late=False))
            entry["lines"].append(line)
            entry["late"] = entry["late"] or dropped
        dropped = dropped or bool(IPT_DROP.search(line))
    wanted = dict((rule["comment"], rule) for rule in desired)
    delete, kept = [], set()
    for comment, entry in by_comment.items():
        rule = wanted.get(comment)
        if rule is None or entry["late"] or len(entry["lines"]) != len(rule["sources"]):
            delete.extend(entry["lines"])
        else:
            kept.add(comment)
    return [rule for rule in desired if rule["comment"] not in kept], delete


def saved_comments(text, name):
    """The owned comments in an iptables-save file (bytes), with how often each occurs."""
    counts = {}
    for line in text.decode("utf-8", "replace").splitlines():
        comment = owned_comment(line, name)
        if comment:
            counts[comment] = counts.get(comment, 0) + 1
    return counts


class Iptables(Backend):
    """Reads iptables' INPUT chains and applies their plans."""

    def read_family(self, family, required):
        """`iptables -S INPUT` lines, None when there is no such command (or, with auto, it fails)."""
        m = self.module
        if not m.installed(IPT_COMMAND[family]):
            return None
        rc, out, err = m.command([IPT_COMMAND[family], "-w", "-S", "INPUT"], allowed=(0,) if required else None)
        if rc != 0:
            m.warn("%s -S INPUT failed (rc %s), so %s is not taken into account: %s" % (
                IPT_COMMAND[family], rc, IPT_COMMAND[family], (err or out).strip()))
            return None
        return out.splitlines()

    def read(self, required):
        """{4: lines, 6: lines} of `iptables -S INPUT` and `ip6tables -S INPUT` (required: iptables must be
        installed)."""
        ipt = dict((family, self.read_family(family, required)) for family in (4, 6))
        if required and ipt[4] is None:
            self.module.fail("backend: iptables is not installed on this host: install it (Debian package iptables), "
                             "or use backend: nftables or auto")
        return ipt

    def apply(self, ipt, sources, tcp, udp):
        m, p = self.module, self.module.params
        present = p["state"] == "present"
        desired = desired_rules(p["name"], sources, tcp, udp, chunk=MULTIPORT_MAX) if present else []
        if present:
            m.result["rules"] = ["%s -I INPUT %s" % (IPT_COMMAND[rule["family"]], iptables_rule_text(rule))
                                 for rule in desired]
        persisted, saved = [], m.read_files(IPTABLES_SAVED.values())
        for family in (4, 6):
            command, lines = IPT_COMMAND[family], ipt.get(family)
            want = [rule for rule in desired if rule["family"] == family]
            if lines is None:
                if want:
                    m.fail("%s is not installed on this host, or %s -S INPUT failed: it is needed for the IPv%d "
                           "sources" % (command, command, family))
                continue
            label = "%s INPUT" % command
            m.result["chains"].append(label)
            insert, delete = iptables_plan(lines, want, p["name"])
            for line in lines:
                if owned_comment(line, p["name"]):
                    text = "%s: %s" % (label, line[len("-A INPUT "):])
                    m.before.append(text)
                    (m.result["removed"] if line in delete else m.after).append(text)
            for rule in insert:
                text = "%s: %s" % (label, iptables_rule_text(rule))
                m.result["added"].append(text)
                m.after.append(text)
            if insert or delete:
                m.result["changed"] = True
                if not m.check_mode:
                    for rule in reversed(insert):
                        m.command([command, "-w", "-I", "INPUT"] + iptables_rule_args(rule))
                    for line in delete:
                        m.command([command, "-w", "-D", "INPUT"] + shlex.split(line)[2:])
            path = IPTABLES_SAVED[family]
            if saved[path] is None:
                if want and p["persist"]:
                    m.warn("persist: %s does not exist, so the %s rules are not persisted: they last until the "
                           "next reboot (install iptables-persistent to persist them)" % (path, command))
                continue
            expected = dict((rule["comment"], len(rule["sources"])) for rule in want)
            if (p["persist"] or not present) and saved_comments(saved[path], p["name"]) != expected:
                m.result["changed"] = True
                if not m.check_mode:
                    out = m.command(["%s-save" % command])[1]
                    m.set_file(path, out.encode("utf-8"))
            if present and p["persist"]:
                persisted.append(path)
        if present and p["persist"]:
            m.result["persisted"] = persisted or False
