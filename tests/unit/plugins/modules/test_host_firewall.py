"""host_firewall's decisions, against a fake host: which firewall is active, which rules are added and removed,
what is persisted, and that check mode runs no command that writes."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.osdeploy.nova.plugins.module_utils import firewall as fw
from ansible_collections.osdeploy.nova.plugins.module_utils import firewall_firewalld as fw_fwd
from ansible_collections.osdeploy.nova.plugins.module_utils import firewall_iptables as fw_ipt
from ansible_collections.osdeploy.nova.plugins.module_utils import firewall_nftables as fw_nft
from ansible_collections.osdeploy.nova.plugins.modules import host_firewall as hf

NAME = "osdeploy-nova"
B, C = "192.168.58.12", "192.168.58.13"


# -- a fake host: nft and iptables answer from data, every command is recorded ---------------------------
def table(family, name):
    return {"table": {"family": family, "name": name, "handle": 1}}


def chain(family, tab, name, policy="accept", hook="input"):
    found = {"family": family, "table": tab, "name": name, "handle": 1, "type": "filter", "prio": 0}
    if hook:
        found.update(hook=hook, policy=policy)
    return {"chain": found}


def rule(family, tab, chain_name, handle, expr=None, comment=None):
    found = {"family": family, "table": tab, "chain": chain_name, "handle": handle,
             "expr": expr or [{"accept": None}]}
    if comment:
        found["comment"] = comment
    return {"rule": found}


DROP = [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 23}},
        {"drop": None}]
REJECT = [{"reject": {"type": "icmpx", "expr": "port-unreachable"}}]
XT = [{"xt": {"type": "match", "name": "comment"}}, {"accept": None}]


def policy_text(name, policy):
    """What `firewall-cmd --info-policy NAME` prints (firewalld 1.3)."""
    lines = ["%s (active)" % name, "  priority: %s" % policy["priority"], "  target: %s" % policy["target"],
             "  ingress-zones: %s" % " ".join(policy["ingress"]), "  egress-zones: %s" % " ".join(policy["egress"]),
             "  services: ", "  ports: ", "  protocols: ", "  masquerade: no", "  forward-ports: ",
             "  source-ports: ", "  icmp-blocks: ", "  rich rules: "]
    return "\n".join(lines + ["\t" + text for text in policy["rich"]]) + "\n"


def ruleset(*items):
    return {"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}}] + list(items)}


def inet_drop(*rules):
    """Debian's inet filter table with policy drop in its input chain."""
    return ruleset(table("inet", "filter"), chain("inet", "filter", "input", "drop"),
                   chain("inet", "filter", "forward", "accept", hook="forward"), *rules)


WRITERS = (("nft", "-f"), ("iptables", "-w", "-I"), ("iptables", "-w", "-D"), ("ip6tables", "-w", "-I"),
           ("ip6tables", "-w", "-D"))


class FakeHost(object):
    def __init__(self, nft=None, iptables=None, ip6tables=None, chain_text="", check=(0, "")):
        self.nft = nft                      # the ruleset (dict), None: no nft command
        self.ipt = {"iptables": iptables, "ip6tables": ip6tables}   # -S INPUT lines, None: no command
        self.chain_text = chain_text        # what `nft -a list chain` prints
        self.check = check                  # rc and stderr of `nft -c -f`
        self.calls = []
        self.warnings = []
        self.firewalld = None               # None: no firewall-cmd; True/False: firewalld running or not
        self.policies = dict(permanent={}, running={})

    def installed(self, name):
        if name == "nft":
            return self.nft is not None
        if name == "firewall-cmd":
            return self.firewalld is not None
        if name in ("iptables", "ip6tables", "iptables-save", "ip6tables-save"):
            return self.ipt[name.replace("-save", "")] is not None
        return False

    def get_bin_path(self, arg, required=False, opt_dirs=None):
        return "/usr/sbin/" + arg if self.installed(arg) else None

    def run_command(self, args, **kwargs):
        argv = [os.path.basename(args[0])] + list(args[1:])
        self.calls.append((argv, kwargs.get("data")))
        if argv[:4] == ["nft", "-j", "list", "ruleset"]:
            return 0, json.dumps(self.nft), ""
        if argv[:3] == ["nft", "-a", "list"]:
            return 0, self.chain_text, ""
        if argv[:2] == ["firewall-cmd", "--state"]:
            return (0, "running\n", "") if self.firewalld else (252, "", "not running\n")
        if argv[0] == "firewall-cmd":
            return self.firewall_cmd(argv[1:])
        if argv[:2] == ["nft", "-c"]:
            return self.check[0], "", self.check[1]
        if "-S" in argv:
            return 0, "".join(line + "\n" for line in self.ipt[argv[0]]), ""
        if argv[0].endswith("-save"):
            return 0, "*filter\n:INPUT DROP [0:0]\n-A INPUT -s 192.168.58.12/32 -m comment --comment \"%s:x\"\n" % (
                NAME), ""
        return 0, "", ""

    def firewall_cmd(self, args):
        """A small firewalld: the policies of its permanent and its running configuration, as dicts."""
        store = self.policies["permanent" if "--permanent" in args else "running"]
        args = [arg for arg in args if arg != "--permanent"]
        if args[0] == "--reload":
            self.policies["running"] = copy.deepcopy(self.policies["permanent"])
            return 0, "success\n", ""
        if args[0] == "--info-policy":
            policy = store.get(args[1])
            if policy is None:
                return 140, "", "Error: INVALID_POLICY: %s\n" % args[1]
            return 0, policy_text(args[1], policy), ""
        if args[0] == "--new-policy":
            store[args[1]] = dict(priority="-1", target="CONTINUE", ingress=[], egress=[], rich=[])
            return 0, "success\n", ""
        if args[0] == "--delete-policy":
            del store[args[1]]
            return 0, "success\n", ""
        assert args[0] == "--policy", args
        policy = store[args[1]]
        for option, value in zip(args[2::2], args[3::2]):
            verb, what = option[2:].split("-", 1)
            if what == "priority" or what == "target":
                policy[what] = value
            else:
                key = "rich" if what == "rich-rule" else what.split("-")[0]
                if verb == "add":
                    policy[key].append(value)
                else:
                    policy[key].remove(value)
        return 0, "success\n", ""

    def writes(self):
        return [argv for argv, data in self.calls
                if any(tuple(argv[:len(w)]) == w for w in WRITERS) or argv[0].endswith("-save")
                or (argv[0] == "firewall-cmd" and not any(a in argv for a in ("--state", "--info-policy")))]

    def script(self):
        """The nft -f input of the run (one transaction), '' when there was none."""
        return "".join(data for argv, data in self.calls if argv[:2] == ["nft", "-f"])


@pytest.fixture
def host(monkeypatch, tmp_path):
    """A fake host; the persistence paths point into tmp_path (none of them exists until a test makes it)."""
    fake = FakeHost()
    # bound methods of the fake: AnsibleModule's instances call them without themselves
    monkeypatch.setattr(AnsibleModule, "get_bin_path", fake.get_bin_path)
    monkeypatch.setattr(AnsibleModule, "run_command", fake.run_command)
    # in a test process Ansible shows warnings on its display, not in the result: collect them here
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, msg, **kw: fake.warnings.append(msg))
    monkeypatch.setattr(fw_nft, "NFTABLES_CONF", str(tmp_path / "nftables.conf"))
    monkeypatch.setattr(fw_nft, "NFTABLES_D", str(tmp_path / "nftables.d"))
    monkeypatch.setattr(fw_ipt, "IPTABLES_SAVED", {4: str(tmp_path / "rules.v4"), 6: str(tmp_path / "rules.v6")})
    return fake


def run_main(capsys, args, check=False, diff=False):
    args = dict(args)
    if check:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            hf.main()
    out = json.loads(capsys.readouterr().out)
    return exc.value.code, out


def comment_of(sources, tcp=(), udp=(), family=4, protocol="tcp"):
    rules = fw.desired_rules(NAME, fw.parse_sources(sources), list(tcp), list(udp))
    return [r["comment"] for r in rules if r["family"] == family and r["protocol"] == protocol][0]


# -- input validation ------------------------------------------------------------------------------------
@pytest.mark.parametrize("args,expected", [
    (dict(sources=["192.168.58.300"], tcp_ports=[5000]), "sources: '192.168.58.300' is not an IPv4/IPv6 address"),
    (dict(sources=[B, "compute1"], tcp_ports=[5000]), "sources: 'compute1' is not an IPv4/IPv6 address"),
    (dict(sources=[B], tcp_ports=[70000]), "tcp_ports: 70000 is not a port number: give ports from 1 to 65535"),
    (dict(sources=[B], udp_ports=[0]), "udp_ports: 0 is not a port number"),
    (dict(name="osdeploy nova", sources=[B], tcp_ports=[5000]), "name: 'osdeploy nova' is not a valid tag"),
    (dict(name="a:b", sources=[B], tcp_ports=[5000]), "name: 'a:b' is not a valid tag"),
    (dict(sources=[B]), "tcp_ports, udp_ports: at least one port is needed with state=present"),
    (dict(tcp_ports=[5000]), "sources: at least one address or network is needed with state=present"),
])
def test_bad_input_is_refused_naming_the_parameter_before_any_command(host, capsys, args, expected):
    host.nft = inet_drop()
    rc, out = run_main(capsys, args)
    assert rc == 1 and out["failed"] is True
    assert out["msg"].startswith(expected), out["msg"]
    assert host.calls == []


def test_state_absent_needs_neither_sources_nor_ports(host, capsys):
    host.nft = inet_drop()
    rc, out = run_main(capsys, dict(state="absent"))
    assert rc == 0 and out["changed"] is False, out


def test_sources_are_canonical_host_addresses_and_networks():
    found = fw.parse_sources([C, B, " %s " % B, "10.0.0.0/8", "10.1.2.3", "10.1.2.3/8", "fd00::5", "fd00::/64",
                              "2001:db8::1"])
    assert [fw.address_text(n) for n in found[4]] == ["10.0.0.0/8", B, C]
    assert [fw.address_text(n) for n in found[6]] == ["2001:db8::1", "fd00::/64"]


# -- the hash ----------------------------------------------------------------------------------------------
def test_the_hash_is_stable_over_order_duplicates_and_spelling():
    one = comment_of([B, C], tcp=[5672, 5000])
    assert one == comment_of([C, B, B + "/32"], tcp=[5000, 5672, 5000])
    # pinned: a change of the canonical form would replace the rules on every host once
    assert one == "osdeploy-nova:f9d80fc94093"
    assert len(one.split(":")[1]) == 12


@pytest.mark.parametrize("other", [
    dict(sources=[B], tcp=[5000, 5672]),
    dict(sources=[B, C, "192.168.58.14"], tcp=[5000, 5672]),
    dict(sources=[B, C], tcp=[5000, 5673]),
    dict(sources=[B, C], udp=[5000, 5672], protocol="udp"),
])
def test_the_hash_changes_with_sources_ports_and_protocol(other):
    assert comment_of(**other) != comment_of([B, C], tcp=[5000, 5672])


def test_the_hash_depends_on_the_address_family():
    assert fw.rule_hash(4, "tcp", ["::"], [1]) != fw.rule_hash(6, "tcp", ["::"], [1])


def test_one_rule_per_family_and_protocol_and_15_ports_per_iptables_rule():
    sources = fw.parse_sources([B, "fd00::12"])
    rules = fw.desired_rules(NAME, sources, list(range(1000, 1020)), [53])
    assert [(r["family"], r["protocol"], len(r["ports"])) for r in rules] == [
        (4, "tcp", 20), (4, "udp", 1), (6, "tcp", 20), (6, "udp", 1)]
    rules = fw.desired_rules(NAME, sources, list(range(1000, 1020)), [53], chunk=fw_ipt.MULTIPORT_MAX)
    assert [(r["family"], r["protocol"], len(r["ports"])) for r in rules] == [
        (4, "tcp", 15), (4, "tcp", 5), (4, "udp", 1), (6, "tcp", 15), (6, "tcp", 5), (6, "udp", 1)]
    assert len(set(r["comment"] for r in rules)) == 6
    assert fw_nft.nft_rule_text(rules[2]) == 'ip saddr { %s } udp dport { 53 } accept comment "%s"' % (
        B, rules[2]["comment"])
    assert fw_ipt.iptables_rule_args(rules[0])[:8] == [
        "-s", B, "-p", "tcp", "-m", "multiport", "--dports", ",".join(str(p) for p in range(1000, 1015))]


# -- detection ---------------------------------------------------------------------------------------------
def test_iptables_with_a_drop_policy_wins_and_nft_is_not_even_read(host, capsys):
    host.ipt["iptables"] = ["-P INPUT DROP"]
    host.ipt["ip6tables"] = ["-P INPUT ACCEPT"]
    host.nft = inet_drop()
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000], persist=False))
    assert rc == 0, out
    assert (out["backend"], out["active"], out["changed"]) == ("iptables", True, True)
    assert out["chains"] == ["iptables INPUT", "ip6tables INPUT"]
    comment = comment_of([B], tcp=[5000])
    assert host.writes() == [["iptables", "-w", "-I", "INPUT", "-s", B, "-p", "tcp", "-m", "multiport",
                              "--dports", "5000", "-m", "comment", "--comment", comment, "-j", "ACCEPT"]]
    assert not any(argv[0] == "nft" for argv, data in host.calls)


def test_an_iptables_reject_rule_counts_as_active():
    assert fw_ipt.iptables_drops(["-P INPUT ACCEPT", "-A INPUT -s 10.0.0.1/32 -j REJECT --reject-with icmp-port-unreachable"])
    assert fw_ipt.iptables_drops(["-P INPUT DROP"])
    assert not fw_ipt.iptables_drops(["-P INPUT ACCEPT", "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT",
                                      "-A INPUT -j DROPPED_LOG"])


def test_the_tables_of_iptables_nft_are_skipped_by_the_nft_path(host, capsys):
    host.ipt["iptables"] = ["-P INPUT ACCEPT"]
    host.ipt["ip6tables"] = ["-P INPUT ACCEPT"]
    host.nft = ruleset(
        # what iptables-nft made: nothing dropping that iptables -S shows, but the nft path must not touch it
        table("ip", "filter"), chain("ip", "filter", "INPUT", "accept"),
        rule("ip", "filter", "INPUT", 2, expr=XT),
        # a table of another name with an iptables match in it: nft calls it managed by iptables-nft
        table("ip", "custom"), chain("ip", "custom", "input", "drop"), rule("ip", "custom", "input", 3, expr=XT),
        table("ip6", "filter"), chain("ip6", "filter", "INPUT", "drop"),
        table("inet", "filter"), chain("inet", "filter", "input", "accept"),
        rule("inet", "filter", "input", 4, expr=DROP))
    assert [fw_nft.nft_chain_label(c) for c in fw_nft.nft_input_chains(host.nft)] == ["inet filter input"]
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000], persist=False))
    assert rc == 0, out
    assert (out["backend"], out["active"], out["chains"]) == ("nftables", True, ["inet filter input"])
    assert host.script() == "insert rule inet filter input %s\n" % out["rules"][0]


def test_a_native_ip_filter_table_with_lower_case_chains_is_not_iptables_nft():
    rs = ruleset(table("ip", "filter"), chain("ip", "filter", "input", "drop"))
    assert [fw_nft.nft_chain_label(c) for c in fw_nft.nft_input_chains(rs)] == ["ip filter input"]


def test_an_nft_drop_policy_is_active(host, capsys):
    host.nft = inet_drop()
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000], persist=False))
    assert (out["backend"], out["active"], out["changed"]) == ("nftables", True, True), out
    # only the chain with hook input
    assert out["chains"] == ["inet filter input"]


@pytest.mark.parametrize("expr", [DROP, REJECT])
def test_an_nft_drop_or_reject_rule_is_active(host, capsys, expr):
    host.nft = ruleset(table("inet", "filter"), chain("inet", "filter", "input", "accept"),
                       rule("inet", "filter", "input", 2, expr=expr))
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000], persist=False))
    assert (out["backend"], out["active"], out["changed"]) == ("nftables", True, True), out


def test_nothing_active_touches_nothing(host, capsys):
    host.ipt["iptables"] = ["-P INPUT ACCEPT", "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"]
    host.ipt["ip6tables"] = ["-P INPUT ACCEPT"]
    host.nft = ruleset(table("inet", "filter"), chain("inet", "filter", "input", "accept"),
                       rule("inet", "filter", "input", 2))
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000]))
    assert rc == 0
    assert (out["backend"], out["active"], out["changed"], out["persisted"]) == ("none", False, False, False)
    assert out["msg"].startswith("no active host firewall found")
    assert host.writes() == [] and out["added"] == out["removed"] == []


def rich(address, port, protocol="tcp", family=4):
    return 'rule family="ipv%d" source address="%s" port port="%d" protocol="%s" accept' % (
        family, address, port, protocol)


def firewalld_host(host):
    """firewalld runs (its own nftables table, which the module must leave alone)."""
    host.firewalld = True
    host.nft = ruleset(table("inet", "firewalld"), chain("inet", "firewalld", "filter_INPUT", "accept"),
                       rule("inet", "firewalld", "filter_INPUT", 5, REJECT))
    return host


def test_a_running_firewalld_gets_a_policy_with_one_rich_rule_per_source_and_port(host, capsys):
    firewalld_host(host)
    rc, out = run_main(capsys, dict(sources=[B, "10.0.0.0/24", "fd00::/64"], tcp_ports=[5672, 5000], udp_ports=[53]))
    assert rc == 0 and (out["backend"], out["active"], out["changed"]) == ("firewalld", True, True), out
    policy = host.policies["running"][NAME]
    assert (policy["priority"], policy["target"], policy["ingress"], policy["egress"]) == (
        "-1", "CONTINUE", ["ANY"], ["HOST"])
    assert sorted(policy["rich"]) == sorted(
        [rich(a, p) for a in ("10.0.0.0/24", B) for p in (5000, 5672)] + [rich(a, 53, "udp") for a in ("10.0.0.0/24", B)]
        + [rich("fd00::/64", 5000, family=6), rich("fd00::/64", 5672, family=6), rich("fd00::/64", 53, "udp", 6)])
    assert out["chains"] == ["firewalld policy %s" % NAME] and len(out["added"]) == 9
    assert out["persisted"] == ["/etc/firewalld/policies/%s.xml" % NAME]
    # firewalld's own nftables rules are never edited, and firewalld is reloaded once, at the end
    firewall_calls = [argv for argv in host.writes() if argv[0] == "firewall-cmd"]
    assert host.writes() == firewall_calls and firewall_calls[-1] == ["firewall-cmd", "--reload"]
    assert sum(1 for argv in firewall_calls if argv == ["firewall-cmd", "--reload"]) == 1
    host.calls = []
    rc, out = run_main(capsys, dict(sources=[B, "10.0.0.0/24", "fd00::/64"], tcp_ports=[5672, 5000], udp_ports=[53]))
    assert rc == 0 and out["changed"] is False and host.writes() == [] and out["added"] == [], out


def test_check_mode_predicts_the_firewalld_policy_and_writes_nothing(host, capsys):
    firewalld_host(host)
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000]), check=True, diff=True)
    assert rc == 0 and out["changed"] is True and host.writes() == [], out
    assert out["added"] == ["firewalld policy %s: %s" % (NAME, rich(B, 5000))]
    assert out["diff"] == dict(before="", after="firewalld policy %s: %s\n" % (NAME, rich(B, 5000)))
    assert host.policies == dict(permanent={}, running={})


def test_unwanted_rich_rules_in_the_policy_go_and_its_settings_are_put_back(host, capsys):
    firewalld_host(host)
    run_main(capsys, dict(sources=[B, C], tcp_ports=[5000]))
    policy = host.policies["permanent"][NAME]
    policy["rich"].append('rule family="ipv4" source address="10.9.9.9" service name="ssh" accept')
    policy["priority"], policy["ingress"] = "10", ["public"]
    host.policies["running"] = copy.deepcopy(host.policies["permanent"])
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000]))
    assert rc == 0 and out["changed"] is True, out
    running = host.policies["running"][NAME]
    assert (running["rich"], running["priority"], running["ingress"]) == ([rich(B, 5000)], "-1", ["ANY"])
    assert sorted(out["removed"]) == sorted("firewalld policy %s: %s" % (NAME, text) for text in (
        rich(C, 5000), 'rule family="ipv4" source address="10.9.9.9" service name="ssh" accept'))


def test_a_running_policy_that_differs_from_the_permanent_one_is_reloaded(host, capsys):
    firewalld_host(host)
    run_main(capsys, dict(sources=[B], tcp_ports=[5000]))
    host.policies["running"][NAME]["rich"] = []         # e.g. firewall-cmd --remove-rich-rule without --permanent
    host.calls = []
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000]))
    assert rc == 0 and out["changed"] is True and host.writes() == [["firewall-cmd", "--reload"]], out
    assert host.policies["running"][NAME]["rich"] == [rich(B, 5000)]


def test_state_absent_deletes_the_policy(host, capsys):
    firewalld_host(host)
    run_main(capsys, dict(sources=[B], tcp_ports=[5000]))
    rc, out = run_main(capsys, dict(state="absent"))
    assert rc == 0 and out["changed"] is True and host.policies == dict(permanent={}, running={}), out
    assert out["removed"] == ["firewalld policy %s: %s" % (NAME, rich(B, 5000))]
    rc, out = run_main(capsys, dict(state="absent"))
    assert rc == 0 and out["changed"] is False, out


@pytest.mark.parametrize("backend", ["nftables", "iptables"])
def test_editing_nftables_or_iptables_under_a_running_firewalld_is_refused(host, capsys, backend):
    firewalld_host(host)
    host.ipt = {"iptables": ["-P INPUT ACCEPT"], "ip6tables": ["-P INPUT ACCEPT"]}
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000], backend=backend))
    assert rc == 1 and "firewalld runs on this host" in out["msg"] and "backend: firewalld" in out["msg"], out
    assert host.writes() == []


@pytest.mark.parametrize("running", [None, False])
def test_backend_firewalld_without_a_running_firewalld_is_refused(host, capsys, running):
    host.firewalld = running
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000], backend="firewalld"))
    assert rc == 1 and out["msg"].startswith("backend: firewalld %s" % (
        "is not installed" if running is None else "does not run")), out


def test_persist_false_is_refused_with_firewalld(host, capsys):
    firewalld_host(host)
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000], persist=False))
    assert rc == 1 and out["msg"].startswith("persist: false is not possible with firewalld"), out
    assert host.writes() == []


def test_rich_rules_firewalld_prints_in_another_form_are_read_back(host):
    info = fw_fwd.parse_policy_info(policy_text(NAME, dict(priority="-1", target="CONTINUE", ingress=["ANY"],
                                                           egress=["HOST"], rich=[rich("fd00:0::/64", 22, family=6)])))
    assert fw_fwd.firewalld_plan(info, fw_fwd.desired_rich_rules(fw.parse_sources(["fd00::/64"]), [22], [])) == ([], [])


def test_an_installed_but_stopped_firewalld_is_no_firewall(host, capsys):
    host.firewalld = False
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000]))
    assert rc == 0 and out["backend"] == "none", out


def test_neither_nft_nor_iptables_installed_is_nothing_active(host, capsys):
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000]))
    assert rc == 0 and out["backend"] == "none" and out["changed"] is False


def test_an_explicit_nftables_backend_opens_without_a_drop(host, capsys):
    host.nft = ruleset(table("inet", "filter"), chain("inet", "filter", "input", "accept"),
                       table("ip6", "only6"), chain("ip6", "only6", "input", "accept"))
    rc, out = run_main(capsys, dict(sources=[B, "fd00::12"], tcp_ports=[5000], backend="nftables", persist=False))
    assert rc == 0, out
    assert (out["backend"], out["active"], out["changed"]) == ("nftables", False, True)
    ip4, ip6 = out["rules"]
    # the IPv4 rule only where IPv4 passes: the inet chain; the IPv6 one in both
    assert host.script().splitlines() == ["insert rule inet filter input %s" % ip6,
                                          "insert rule inet filter input %s" % ip4,
                                          "insert rule ip6 only6 input %s" % ip6]


def test_an_explicit_nftables_backend_without_an_input_chain_fails(host, capsys):
    host.nft = ruleset()
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000], backend="nftables"))
    assert rc == 1
    assert "no nftables input chain" in out["msg"] and "load your ruleset first" in out["msg"]
    assert host.writes() == []


def test_an_explicit_iptables_backend_without_iptables_fails(host, capsys):
    host.nft = inet_drop()
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000], backend="iptables"))
    assert rc == 1 and out["msg"].startswith("backend: iptables is not installed on this host")


def test_a_failing_nft_names_the_command_and_its_message(host, capsys, monkeypatch):
    host.nft = inet_drop()
    real = host.run_command

    def failing(module, args, **kwargs):  # a function: bound to the module like run_command
        if args[1:3] == ["-f", "-"]:
            host.calls.append(([os.path.basename(args[0])] + list(args[1:]), kwargs.get("data")))
            return 1, "", "Error: Could not process rule: No such file or directory"
        return real(args, **kwargs)
    monkeypatch.setattr(AnsibleModule, "run_command", failing)
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000], persist=False))
    assert rc == 1
    assert out["msg"].startswith("nft -f - failed (exit code 1): Error: Could not process rule")
    assert "its input was:\ninsert rule inet filter input" in out["msg"]


# -- idempotence and stale rules ---------------------------------------------------------------------------
def test_a_rule_that_is_there_is_kept(host, capsys):
    comment = comment_of([B], tcp=[5000])
    host.nft = inet_drop(rule("inet", "filter", "input", 5, comment=comment))
    host.chain_text = '\t\tip saddr %s tcp dport 5000 accept comment "%s" # handle 5\n' % (B, comment)
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000], persist=False), diff=True)
    assert rc == 0 and out["changed"] is False, out
    assert host.writes() == []
    line = 'inet filter input: ip saddr %s tcp dport 5000 accept comment "%s"\n' % (B, comment)
    assert out["diff"] == {"before": line, "after": line}


def test_stale_misplaced_and_duplicate_rules_are_removed_by_handle(host, capsys):
    comment = comment_of([B], tcp=[5000])
    host.nft = inet_drop(
        rule("inet", "filter", "input", 5, comment="%s:000000000000" % NAME),     # stale: another hash
        rule("inet", "filter", "input", 6, comment="other-tag:000000000000"),     # not ours
        rule("inet", "filter", "input", 7, comment=comment),                      # kept
        rule("inet", "filter", "input", 8, comment=comment),                      # duplicate
        rule("inet", "filter", "input", 9, expr=DROP),
        rule("inet", "filter", "input", 10, comment=comment_of([B], udp=[53], protocol="udp")))  # after a drop
    host.chain_text = "".join('\t\trule %d comment "x" # handle %d\n' % (h, h) for h in (5, 7, 8, 10))
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000], udp_ports=[53], persist=False), diff=True)
    assert rc == 0 and out["changed"] is True, out
    udp = out["rules"][1]
    assert host.script().splitlines() == [
        "insert rule inet filter input %s" % udp,
        "delete rule inet filter input handle 5",
        "delete rule inet filter input handle 8",
        "delete rule inet filter input handle 10"]
    assert out["removed"] == ['inet filter input: rule %d comment "x"' % h for h in (5, 8, 10)]
    assert out["added"] == ["inet filter input: %s" % udp]
    assert out["diff"]["after"] == 'inet filter input: rule 7 comment "x"\ninet filter input: %s\n' % udp


def test_iptables_stale_rules_are_deleted_with_the_spec_that_s_prints(host, capsys):
    comment = comment_of([B, C], tcp=[5000])
    kept = ['-A INPUT -s %s/32 -p tcp -m multiport --dports 5000 -m comment --comment "%s" -j ACCEPT' % (a, comment)
            for a in (C, B)]
    stale = '-A INPUT -s %s/32 -p tcp -m multiport --dports 22 -m comment --comment "%s:0123456789ab" -j ACCEPT' % (
        B, NAME)
    host.ipt["iptables"] = ["-P INPUT DROP"] + kept + [stale, "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"]
    host.ipt["ip6tables"] = ["-P INPUT ACCEPT"]
    rc, out = run_main(capsys, dict(sources=[B, C], tcp_ports=[5000], persist=False))
    assert rc == 0 and out["changed"] is True, out
    assert host.writes() == [["iptables", "-w", "-D", "INPUT", "-s", B + "/32", "-p", "tcp", "-m", "multiport",
                              "--dports", "22", "-m", "comment", "--comment", NAME + ":0123456789ab", "-j", "ACCEPT"]]
    assert out["removed"] == ["iptables INPUT: " + stale[len("-A INPUT "):]]


def test_an_iptables_rule_missing_one_of_its_sources_is_replaced():
    desired = fw.desired_rules(NAME, fw.parse_sources([B, C]), [5000], [], chunk=fw_ipt.MULTIPORT_MAX)
    line = '-A INPUT -s %s/32 -p tcp -m multiport --dports 5000 -m comment --comment "%s" -j ACCEPT' % (
        B, desired[0]["comment"])
    insert, delete = fw_ipt.iptables_plan(["-P INPUT DROP", line], desired, NAME)
    assert insert == desired and delete == [line]


# -- check mode --------------------------------------------------------------------------------------------
def test_check_mode_reports_the_change_and_runs_no_writer(host, capsys, tmp_path):
    host.nft = inet_drop(rule("inet", "filter", "input", 5, comment="%s:000000000000" % NAME))
    host.chain_text = '\t\tip saddr 10.0.0.1 accept comment "%s:000000000000" # handle 5\n' % NAME
    conf = tmp_path / "nftables.conf"
    conf.write_bytes(b"flush ruleset\n")
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000]), check=True, diff=True)
    assert rc == 0 and out["changed"] is True, out
    assert len(out["added"]) == 1 and len(out["removed"]) == 1
    assert out["persisted"] == [str(tmp_path / "nftables.d" / "osdeploy-nova.nft"), str(conf)]
    assert host.writes() == [] and not any(argv[:2] == ["nft", "-c"] for argv, data in host.calls)
    assert conf.read_bytes() == b"flush ruleset\n" and not (tmp_path / "nftables.d").exists()


def test_check_mode_runs_no_iptables_writer(host, capsys, tmp_path):
    host.ipt["iptables"] = ["-P INPUT DROP"]
    host.ipt["ip6tables"] = ["-P INPUT DROP"]
    (tmp_path / "rules.v4").write_bytes(b"*filter\nCOMMIT\n")
    rc, out = run_main(capsys, dict(sources=[B, "fd00::12"], tcp_ports=[5000]), check=True)
    assert rc == 0 and out["changed"] is True and len(out["added"]) == 2, out
    assert host.writes() == []
    assert (tmp_path / "rules.v4").read_bytes() == b"*filter\nCOMMIT\n"
    assert out["persisted"] == [str(tmp_path / "rules.v4")]
    assert any("rules.v6 does not exist" in w for w in host.warnings)


# -- persistence ---------------------------------------------------------------------------------------------
def test_the_include_line_is_added_once_and_removed_alone():
    line = b'include "/etc/nftables.d/osdeploy-nova.nft"'
    conf = b"#!/usr/sbin/nft -f\nflush ruleset\ntable inet filter {\n}"
    added = fw_nft.with_include(conf, line)
    assert added == conf + b"\n" + line + b"\n"
    assert fw_nft.includes(added, "/etc/nftables.d/osdeploy-nova.nft")
    assert fw_nft.includes(b'include "/etc/nftables.d/*.nft"\n', "/etc/nftables.d/osdeploy-nova.nft")
    assert not fw_nft.includes(conf, "/etc/nftables.d/osdeploy-nova.nft")
    assert fw_nft.without_include(added, line) == conf + b"\n"
    assert fw_nft.without_include(conf + b"\n", line) == conf + b"\n"


def test_nftables_persistence_writes_the_file_and_the_include_once(host, capsys, tmp_path):
    host.nft = inet_drop()
    conf = tmp_path / "nftables.conf"
    original = b"#!/usr/sbin/nft -f\n\nflush ruleset\n\ntable inet filter {\n}"
    conf.write_bytes(original)
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000]))
    assert rc == 0 and out["changed"] is True, out
    path = tmp_path / "nftables.d" / "osdeploy-nova.nft"
    assert out["persisted"] == [str(path), str(conf)]
    assert path.read_text().splitlines()[2:] == ["insert rule inet filter input %s" % out["rules"][0]]
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert oct((tmp_path / "nftables.d").stat().st_mode & 0o777) == "0o755"
    assert conf.read_bytes() == original + b'\ninclude "%s"\n' % str(path).encode()
    assert [argv for argv, data in host.calls if argv[:2] == ["nft", "-c"]] == [["nft", "-c", "-f", str(conf)]]

    # the next run, the rule being there: nothing changes, nothing is written
    host.nft = inet_drop(rule("inet", "filter", "input", 5, comment=out["rules"][0].split('"')[1]))
    host.calls = []
    mtimes = [os.stat(str(file)).st_mtime_ns for file in (path, conf)]
    rc, again = run_main(capsys, dict(sources=[B], tcp_ports=[5000]))
    assert rc == 0 and again["changed"] is False, again
    assert host.writes() == [] and conf.read_bytes().count(b"include") == 1
    assert [os.stat(str(file)).st_mtime_ns for file in (path, conf)] == mtimes

    rc, gone = run_main(capsys, dict(state="absent"))
    assert rc == 0 and gone["changed"] is True and gone["persisted"] is False
    assert not path.exists() and conf.read_bytes() == original + b"\n"


def test_a_failing_nft_check_restores_both_files(host, capsys, tmp_path):
    host.nft = inet_drop()
    host.check = (1, "/etc/nftables.d/osdeploy-nova.nft:3:13-18: Error: No such file or directory")
    conf = tmp_path / "nftables.conf"
    conf.write_bytes(b"flush ruleset\n")
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000]))
    assert rc == 1
    assert out["msg"].startswith("persist: nft -c -f %s failed with the rules included" % conf)
    assert "set persist: false" in out["msg"] and "Error: No such file or directory" in out["msg"]
    assert conf.read_bytes() == b"flush ruleset\n"
    assert not (tmp_path / "nftables.d" / "osdeploy-nova.nft").exists()
    assert out["persisted"] is False and len(out["added"]) == 1


def test_without_nftables_conf_the_rules_are_not_persisted_with_a_warning(host, capsys, tmp_path):
    host.nft = inet_drop()
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000]))
    assert rc == 0 and out["persisted"] is False
    assert any("they last until the next reboot" in w for w in host.warnings)
    assert not (tmp_path / "nftables.d").exists()


def test_iptables_rules_are_saved_where_iptables_persistent_keeps_them(host, capsys, tmp_path):
    host.ipt["iptables"] = ["-P INPUT DROP"]
    host.ipt["ip6tables"] = ["-P INPUT ACCEPT"]
    saved = tmp_path / "rules.v4"
    saved.write_bytes(b"*filter\n:INPUT DROP [0:0]\nCOMMIT\n")
    os.chmod(str(saved), 0o640)
    rc, out = run_main(capsys, dict(sources=[B], tcp_ports=[5000]))
    assert rc == 0 and out["changed"] is True and out["persisted"] == [str(saved)], out
    assert ["iptables-save"] in [argv for argv, data in host.calls]
    assert b"--comment" in saved.read_bytes()
    assert oct(saved.stat().st_mode & 0o777) == "0o640", "the saved rules keep their mode"
