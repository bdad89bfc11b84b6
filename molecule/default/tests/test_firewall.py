"""The controller's default-drop nftables firewall (the lab writes it) opened by site.yml to the compute hosts, and only
to the ports they need: compute2, added after the first converge, registered through it."""
import os

import pytest
import testinfra

from conftest import lab_openstack, lab_setting

INVENTORY = os.path.join(os.environ["OSDEPLOY_LAB_DIR"], "inventory.ini")
COMPUTES = os.environ.get("OSDEPLOY_EXPECT_COMPUTES", "compute1,compute2").split(",")
# what the computes connect to on the controller (nova_firewall_tcp_ports' defaults), and for a
# source install the wheelhouse they install from (osdeploy_wheelhouse_port); RabbitMQ on AMQP over TLS's port
# with osdeploy_tls
AMQP = 5671 if lab_setting("osdeploy_tls") else 5672
OPEN = [AMQP, 5000, 8774, 8775, 6080, 8778, 9292, 9696] + ([8780] if lab_openstack()["method"] == "source" else [])
# listening on the controller's management address, but not for the computes: MariaDB
CLOSED = 3306

PROBE = ("python3 -c 'import socket,sys; s=socket.socket(); s.settimeout(3); "
         "print(\"open\" if s.connect_ex((sys.argv[1], int(sys.argv[2]))) == 0 else \"closed\")' %s %d")


def host(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, INVENTORY))


def controller_ip():
    return host("controller").ansible.get_variables()["ansible_host"]


def test_the_controller_drops_what_it_does_not_know():
    ruleset = host("controller").check_output("nft list chain inet filter input")
    assert "policy drop;" in ruleset


def test_one_rule_opens_the_ports_to_every_compute():
    ruleset = host("controller").check_output("nft list chain inet filter input")
    owned = [line.strip() for line in ruleset.splitlines() if 'comment "osdeploy-nova:' in line]
    assert len(owned) == 1, ruleset
    for name in COMPUTES:
        assert host(name).ansible.get_variables()["ansible_host"] in owned[0], owned[0]
    for port in OPEN:
        assert str(port) in owned[0], owned[0]
    # inserted before the ruleset's own rules, so nothing of the operator's decides first (the baseline's
    # VXLAN rule, below, is inserted the same way)
    rules = [line.strip() for line in ruleset.splitlines()
             if line.strip().startswith(("ip ", "ct ", "iif ", "meta ", "tcp ", "udp "))]
    ours = [rule for rule in rules if 'comment "osdeploy-' in rule]
    assert rules[:len(ours)] == ours and owned[0] in ours, ruleset


def test_vxlan_comes_in_from_the_other_hosts_tunnel_endpoints_only():
    """With the kernel's datapath VXLAN crosses the host firewall (the userspace datapath reads it before):
    the baseline opens UDP 4789 to every other host's tunnel endpoint, as one rule of its own."""
    ruleset = host("controller").check_output("nft list chain inet filter input")
    overlay = [line.strip() for line in ruleset.splitlines() if 'comment "osdeploy-overlay:' in line]
    assert len(overlay) == 1 and "4789" in overlay[0], ruleset
    for name in COMPUTES:
        assert host(name).ansible.get_variables()["baseline_overlay_ip"] in overlay[0], overlay[0]


def test_the_rule_comes_back_at_boot():
    c = host("controller")
    assert c.check_output("systemctl is-enabled nftables") == "enabled"
    assert 'include "/etc/nftables.d/osdeploy-nova.nft"' in c.file("/etc/nftables.conf").content_string
    c.run_expect([0], "nft -c -f /etc/nftables.conf")


@pytest.mark.parametrize("name", COMPUTES)
def test_a_compute_reaches_what_it_needs_and_nothing_else(name):
    h, ip = host(name), controller_ip()
    for port in OPEN:
        assert h.check_output(PROBE % (ip, port)) == "open", "port %d from %s" % (port, name)
    # MariaDB listens on the same address; the firewall keeps the computes out
    assert host("controller").socket("tcp://%s:%d" % (ip, CLOSED)).is_listening
    assert h.check_output(PROBE % (ip, CLOSED)) == "closed"
