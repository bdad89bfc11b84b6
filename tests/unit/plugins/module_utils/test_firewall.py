"""firewall: how host_firewall chooses its backend, plain functions (its runs: modules/test_host_firewall.py)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils import firewall as fw


def params(**kwargs):
    found = dict(name="osdeploy-nova", sources=["192.168.58.12"], tcp_ports=[5000], udp_ports=[], state="present")
    found.update(kwargs)
    return found


def test_validate_makes_the_options_canonical():
    sources, tcp, udp = fw.validate(params(sources=["192.168.58.13", "192.168.58.12/32"], tcp_ports=[5672, 5000, 5000],
                                           udp_ports=None))
    assert [fw.address_text(net) for net in sources[4]] == ["192.168.58.12", "192.168.58.13"] and sources[6] == []
    assert (tcp, udp) == ([5000, 5672], [])


def test_validate_asks_for_sources_and_ports_only_with_state_present():
    assert fw.validate(params(sources=[], tcp_ports=[], state="absent")) == ({4: [], 6: []}, [], [])
    with pytest.raises(ValueError, match="^sources: at least one address"):
        fw.validate(params(sources=[]))
    with pytest.raises(ValueError, match="^tcp_ports, udp_ports: at least one port"):
        fw.validate(params(tcp_ports=[]))


@pytest.mark.parametrize("backend,firewalld,expected", [
    ("auto", None, False), ("auto", False, False), ("auto", True, True),
    ("firewalld", None, True), ("nftables", True, False), ("iptables", True, False),
])
def test_firewalld_serves_the_run_when_asked_for_or_found_running(backend, firewalld, expected):
    assert fw.uses_firewalld(backend, firewalld) is expected


@pytest.mark.parametrize("backend,present,persist,firewalld,start", [
    ("firewalld", True, True, None, "backend: firewalld is not installed on this host"),
    ("firewalld", False, True, False, "backend: firewalld does not run on this host"),
    ("nftables", True, True, True, "backend: nftables: firewalld runs on this host"),
    ("iptables", True, True, True, "backend: iptables: firewalld runs on this host"),
    ("auto", True, False, True, "persist: false is not possible with firewalld"),
    ("firewalld", True, False, True, "persist: false is not possible with firewalld"),
])
def test_what_firewalld_refuses(backend, present, persist, firewalld, start):
    assert fw.refusal(backend, present, persist, firewalld).startswith(start)


@pytest.mark.parametrize("backend,present,persist,firewalld", [
    ("auto", True, True, True), ("auto", True, False, None), ("auto", False, False, True),
    ("nftables", False, True, True), ("iptables", True, False, False), ("firewalld", False, False, True),
])
def test_what_firewalld_allows(backend, present, persist, firewalld):
    assert fw.refusal(backend, present, persist, firewalld) is None


@pytest.mark.parametrize("backend,iptables_active,present,expected", [
    ("nftables", True, True, True), ("iptables", False, True, False), ("firewalld", False, True, False),
    ("auto", False, True, True), ("auto", True, True, False), ("auto", True, False, True),
])
def test_nftables_is_read_unless_iptables_is_the_one_that_drops(backend, iptables_active, present, expected):
    assert fw.reads_nftables(backend, iptables_active, present) is expected


@pytest.mark.parametrize("backend,iptables_active,nftables_active,expected", [
    ("auto", True, True, ("iptables", True)),
    ("auto", False, True, ("nftables", True)),
    ("auto", False, False, ("none", False)),
    ("iptables", False, True, ("iptables", False)),
    ("nftables", True, False, ("nftables", False)),
])
def test_iptables_before_nftables_and_an_explicit_backend_even_when_it_drops_nothing(
        backend, iptables_active, nftables_active, expected):
    assert fw.choose_backend(backend, iptables_active, nftables_active) == expected


def test_the_summary_counts_the_rules():
    result = dict(backend="nftables", added=["a", "b"], removed=["c"], changed=True)
    assert fw.summary(result, True) == "nftables: 2 rule(s) added, 1 removed"
    assert fw.summary(dict(result, changed=False, removed=[]), False) == "0 owned rule(s) removed; nothing to change"
