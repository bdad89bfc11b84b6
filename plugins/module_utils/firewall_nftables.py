# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nftables backend of the host firewall (module host_firewall).

The rules go to the start of every base chain with hook input (families inet, ip, ip6) that iptables-nft does not
manage, all changes in one ``nft -f`` transaction, and are persisted as ``insert rule`` commands in a file that
/etc/nftables.conf includes. The functions plan over the parsed ``nft -j list ruleset``; ``Nftables`` reads and
applies through a module_utils/firewall.py FirewallModule.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import json
import os
import re

from ansible_collections.osdeploy.nova.plugins.module_utils.firewall import Backend, desired_rules, owned

# Where the host keeps its nftables ruleset; module constants so that unit tests can point them elsewhere.
NFTABLES_CONF = "/etc/nftables.conf"
NFTABLES_D = "/etc/nftables.d"

# what iptables-nft creates in nftables: its tables and their built-in chains
IPTABLES_NFT_TABLES = ("filter", "nat", "mangle", "raw", "security")
IPTABLES_NFT_CHAINS = ("INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING")
NFT_FAMILIES = {"inet": (4, 6), "ip": (4,), "ip6": (6,)}
NFT_HANDLE = re.compile(r"^(.*?)\s*# handle (\d+)$")
INCLUDE_RE = re.compile(r'^\s*include\s+"([^"]+)"\s*$')


def nft_rule_text(rule):
    return '%s saddr { %s } %s dport { %s } accept comment "%s"' % (
        "ip" if rule["family"] == 4 else "ip6", ", ".join(rule["sources"]), rule["protocol"],
        ", ".join(str(p) for p in rule["ports"]), rule["comment"])


def nft_verdict_drops(rule):
    return any("drop" in expr or "reject" in expr for expr in rule.get("expr", []) if isinstance(expr, dict))


def nft_input_chains(ruleset):
    """`nft -j list ruleset` (parsed) -> the base chains with hook input of families inet/ip/ip6, in order,
    without the tables iptables-nft manages: [dict(family, table, name, policy, rules=[rule objects])]."""
    items = [(kind, obj) for entry in ruleset.get("nftables", []) for kind, obj in entry.items()]
    iptables_nft = set()
    for kind, obj in items:
        key = (obj.get("family"), obj.get("table"))
        if kind == "chain" and key[0] in ("ip", "ip6") and key[1] in IPTABLES_NFT_TABLES \
                and obj.get("name") in IPTABLES_NFT_CHAINS:
            iptables_nft.add(key)
        if kind == "rule" and any("xt" in expr for expr in obj.get("expr", []) if isinstance(expr, dict)):
            iptables_nft.add(key)
    chains = {}
    for kind, obj in items:
        key = (obj.get("family"), obj.get("table"))
        if key in iptables_nft or key[0] not in NFT_FAMILIES:
            continue
        if kind == "chain" and obj.get("hook") == "input":
            chains[key + (obj["name"],)] = dict(family=key[0], table=key[1], name=obj["name"],
                                                policy=obj.get("policy", "accept"), rules=[])
        elif kind == "rule" and key + (obj.get("chain"),) in chains:
            chains[key + (obj["chain"],)]["rules"].append(obj)
    return list(chains.values())


def nft_chain_label(chain):
    return "%s %s %s" % (chain["family"], chain["table"], chain["name"])


def nft_chain_drops(chain):
    return chain["policy"] == "drop" or any(nft_verdict_drops(rule) for rule in chain["rules"])


def nft_chain_rules(chain, desired):
    """The desired rules of a chain's address family (an inet chain takes both)."""
    return [rule for rule in desired if rule["family"] in NFT_FAMILIES[chain["family"]]]


def nft_plan_chain(chain, desired, name):
    """(rules to insert, owned rules to delete) for one chain.

    An owned rule is kept when its comment is wanted for the chain's family, no drop or reject rule precedes it
    and no earlier rule has the same comment; every other owned rule is deleted.
    """
    want = nft_chain_rules(chain, desired)
    wanted = set(rule["comment"] for rule in want)
    kept, delete, dropped = set(), [], False
    for rule in chain["rules"]:
        comment = rule.get("comment")
        if owned(comment, name):
            if comment in wanted and comment not in kept and not dropped:
                kept.add(comment)
            else:
                delete.append(rule)
        dropped = dropped or nft_verdict_drops(rule)
    return [rule for rule in want if rule["comment"] not in kept], delete


def parse_nft_chain_text(text):
    """`nft -a list chain ...` -> {handle: rule text}."""
    found = {}
    for line in (text or "").splitlines():
        match = NFT_HANDLE.match(line.strip())
        if match and not line.strip().startswith(("table ", "chain ")):
            found[int(match.group(2))] = match.group(1)
    return found


def nft_persist_text(name, plans):
    """The persistence file: the inserts for every chain, after a comment that says where it comes from."""
    lines = ["# Written by osdeploy.nova.host_firewall (name %s), included at the end of %s: do not edit." % (
        name, NFTABLES_CONF),
        "# The rules go to the start of the input chains, before the ruleset's own drop rules."]
    for chain, want in plans:
        # each insert goes to the chain's start: in reverse, the chain starts with the rules in their order
        lines.extend("insert rule %s %s" % (nft_chain_label(chain), nft_rule_text(rule)) for rule in reversed(want))
    return ("\n".join(lines) + "\n").encode("utf-8")


def includes(conf, path):
    """Whether the nftables.conf text (bytes) has an include line whose pattern names path."""
    for line in conf.decode("utf-8", "replace").splitlines():
        match = INCLUDE_RE.match(line)
        if match and fnmatch.fnmatch(path, match.group(1)):
            return True
    return False


def with_include(conf, line):
    if conf and not conf.endswith(b"\n"):
        conf += b"\n"
    return conf + line + b"\n"


def without_include(conf, line):
    return b"".join(kept for kept in conf.splitlines(True) if kept.strip() != line)


class Nftables(Backend):
    """Reads nftables and applies the plan of each input chain."""

    def read(self, required):
        """The parsed `nft -j list ruleset`, None when nft is not installed (required: fail then)."""
        m = self.module
        ruleset = None
        if m.installed("nft"):
            out = m.command(["nft", "-j", "list", "ruleset"])[1]
            try:
                ruleset = json.loads(out)
            except ValueError as e:
                m.fail("nft -j list ruleset printed no JSON (%s): %s" % (e, out[:200]))
        if required and ruleset is None:
            m.fail("backend: nft is not installed on this host: install it (Debian package nftables), or use "
                   "backend: iptables or auto")
        return ruleset

    def apply(self, chains, sources, tcp, udp):
        m, p = self.module, self.module.params
        present = p["state"] == "present"
        if present and not chains:
            m.fail("backend: nftables has no base chain with hook input on this host (no nftables input chain): "
                   "load your ruleset first (e.g. systemctl enable --now nftables), or use backend: auto")
        desired = desired_rules(p["name"], sources, tcp, udp) if present else []
        if present:
            m.result["rules"] = [nft_rule_text(rule) for rule in desired]
            for family in (4, 6):
                if sources[family] and not any(family in NFT_FAMILIES[c["family"]] for c in chains):
                    m.warn("sources: the IPv%d sources are not opened: nftables has no input chain of family "
                           "inet or %s" % (family, "ip" if family == 4 else "ip6"))
        script, plans = [], []
        for chain in chains:
            label = nft_chain_label(chain)
            m.result["chains"].append(label)
            insert, delete = nft_plan_chain(chain, desired, p["name"])
            plans.append((chain, nft_chain_rules(chain, desired)))
            owned_rules = [rule for rule in chain["rules"] if owned(rule.get("comment"), p["name"])]
            texts = {}
            if owned_rules:
                texts = parse_nft_chain_text(m.command(["nft", "-a", "list", "chain", chain["family"],
                                                        chain["table"], chain["name"]])[1])
            gone = set(rule["handle"] for rule in delete)
            for rule in owned_rules:
                text = "%s: %s" % (label, texts.get(rule["handle"], 'comment "%s"' % rule["comment"]))
                m.before.append(text)
                if rule["handle"] in gone:
                    m.result["removed"].append(text)
                else:
                    m.after.append(text)
            for rule in insert:
                text = "%s: %s" % (label, nft_rule_text(rule))
                m.result["added"].append(text)
                m.after.append(text)
            # inserts first, in reverse, so that the chain starts with the rules in the order wanted
            script.extend("insert rule %s %s" % (label, nft_rule_text(rule)) for rule in reversed(insert))
            script.extend("delete rule %s handle %d" % (label, rule["handle"]) for rule in delete)
        if script:
            m.result["changed"] = True
            if not m.check_mode:
                m.command(["nft", "-f", "-"], data="\n".join(script) + "\n")
        if present and p["persist"]:
            self.persist(plans)
        elif not present:
            self.unpersist()

    def persist(self, plans):
        m = self.module
        name = m.params["name"]
        path = os.path.join(NFTABLES_D, "%s.nft" % name)
        if not os.path.exists(NFTABLES_CONF):
            m.warn("persist: %s does not exist, so the rules are not persisted: they last until the next reboot "
                   "(install nftables and keep the ruleset in %s to persist them)" % (NFTABLES_CONF, NFTABLES_CONF))
            return
        old = m.read_files([path, NFTABLES_CONF])
        new = {path: nft_persist_text(name, plans), NFTABLES_CONF: old[NFTABLES_CONF]}
        line = ('include "%s"' % path).encode("utf-8")
        if not includes(old[NFTABLES_CONF], path):
            new[NFTABLES_CONF] = with_include(old[NFTABLES_CONF], line)
        m.result["persisted"] = [path, NFTABLES_CONF]
        changed = [file for file in (path, NFTABLES_CONF) if new[file] != old[file]]
        if not changed:
            return
        m.result["changed"] = True
        if m.check_mode:
            return
        for file in changed:  # (NFTABLES_D, when missing, made 0755)
            m.set_file(file, new[file], mode=0o644 if file == path else None)
        rc, out, err = m.command(["nft", "-c", "-f", NFTABLES_CONF], allowed=None)
        if rc != 0:
            for file in changed:
                m.set_file(file, old[file])
            m.result["persisted"] = False
            m.fail("persist: nft -c -f %s failed with the rules included (%s), so %s was restored as it was; "
                   "the rules are in place until the next reboot. Make %s define the input chains the rules go "
                   "to, or set persist: false. nft said: %s" % (
                       NFTABLES_CONF, path, " and ".join(changed), NFTABLES_CONF, (err or out).strip()))

    def unpersist(self):
        m = self.module
        path = os.path.join(NFTABLES_D, "%s.nft" % m.params["name"])
        old = m.read_files([path, NFTABLES_CONF])
        new = {path: None, NFTABLES_CONF: old[NFTABLES_CONF]}
        if old[NFTABLES_CONF] is not None:
            new[NFTABLES_CONF] = without_include(old[NFTABLES_CONF], ('include "%s"' % path).encode("utf-8"))
        changed = [file for file in (path, NFTABLES_CONF) if new[file] != old[file]]
        if changed:
            m.result["changed"] = True
            if not m.check_mode:
                for file in changed:
                    m.set_file(file, new[file])
