"""What project_network decides (plugins/module_utils/project_network_module.py: validate, plan, notes, the diff),
without a cloud.

The module against a fake Neutron (what it reads, writes, returns, in check mode and not):
tests/unit/plugins/modules/test_project_network.py.
"""
import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils.base import Failure
from ansible_collections.osdeploy.nova.plugins.module_utils.project_network_module import (
    notes, plan, summary, summary_after, validate, want_of)

PARAMS = dict(state="present", name="selfservice", subnet_name=None, cidr="172.16.1.0/24", gateway=None,
              dns_nameservers=[], router="router", external_network="provider")
EXTERNAL = dict(id="ext1", name="provider", is_external=True)
NET = dict(id="n1", name="selfservice")
SUBNET = dict(id="s1", name="selfservice-subnet", cidr="172.16.1.0/24", gateway_ip="172.16.1.1",
              dns_nameservers=[], dhcp=True)
DHCP = dict(id="dhcp1", device_owner="network:dhcp", device_id="dhcp-host1", subnet_ids=["s1"])
IFACE = dict(id="if1", device_owner="network:router_interface", device_id="r1", subnet_ids=["s1"])
SERVER = dict(id="vm-port", device_owner="compute:nova", device_id="server1", subnet_ids=["s1"])


def want(**kw):
    params = dict(PARAMS)
    params.update(kw)
    w = want_of(params)
    w["project"] = "myproject"
    return w


def router(**kw):
    r = dict(id="r1", name="router", gateway_network_id="ext1", gateway_network="provider",
             external_ip="203.0.113.104", interfaces=["if1"])
    r.update(kw)
    return r


def snapshot(**kw):
    """Everything there: the network, its subnet with a DHCP port, the router on provider, attached."""
    s = dict(network=NET, subnet=SUBNET, other_subnets=[], subnet_names={"s1": "selfservice-subnet"},
             ports=[DHCP, IFACE], router=router(), router_names={}, external=EXTERNAL)
    s.update(kw)
    return s


def fresh(**kw):
    s = dict(network=None, subnet=None, other_subnets=[], subnet_names={}, ports=[], router=None, router_names={},
             external=EXTERNAL)
    s.update(kw)
    return s


def msgs(ops):
    return [op["msg"] for op in ops]


def refusal(snap, w):
    with pytest.raises(Failure) as failed:
        plan(snap, w)
    return failed.value.msg


GUIDE = ["create network selfservice in project myproject",
         "create subnet selfservice-subnet 172.16.1.0/24 on network selfservice",
         "create router router with its external gateway on network provider",
         "attach subnet selfservice-subnet to router router"]


# -- validate: bad input is refused before any call -------------------------------------------------------------------
def test_the_guides_options_are_fine():
    assert validate(want(gateway="172.16.1.1", dns_nameservers=["8.8.4.4", "2001:4860:4860::8888"])) == []
    assert validate(want(router=None, external_network=None)) == []
    assert validate(want(router="", external_network=None)) == []


@pytest.mark.parametrize("kw,expected", [
    (dict(cidr="172.16.1.0"), "cidr: '172.16.1.0' is not an IPv4 network in CIDR notation"),
    (dict(cidr="172.16.1.0/33"), "cidr: '172.16.1.0/33' is not an IPv4 network in CIDR notation"),
    (dict(cidr="fd00:1::/64"), "cidr: 'fd00:1::/64' is not an IPv4 network in CIDR notation"),
    (dict(cidr="selfservice"), "cidr: 'selfservice' is not an IPv4 network"),
    (dict(cidr="172.16.1.1/24"), "cidr: '172.16.1.1/24' has host bits set; the network is 172.16.1.0/24"),
    (dict(cidr="172.16.1.0/255.255.255.0"),
     "cidr: '172.16.1.0/255.255.255.0' is not in CIDR notation; write it as 172.16.1.0/24"),
    (dict(cidr="172.16.1.0/31"), "cidr: 172.16.1.0/31 is too small"),
    (dict(cidr=None), "cidr: required with state=present"),
    (dict(gateway="172.16.2.1"), "gateway: 172.16.2.1 is outside cidr 172.16.1.0/24; give an address of it "
                                 "(Neutron's default is 172.16.1.1)"),
    (dict(gateway="router"), "gateway: 'router' is not an IPv4 address"),
    (dict(gateway="172.16.1.0"), "gateway: 172.16.1.0 is the network address of cidr 172.16.1.0/24"),
    (dict(gateway="172.16.1.255"), "gateway: 172.16.1.255 is the broadcast address of cidr 172.16.1.0/24"),
    (dict(external_network=None), "external_network: required when router is set"),
    (dict(dns_nameservers=["8.8.8.8", "dns.google"]), "dns_nameservers: 'dns.google' is not an IP address"),
    (dict(dns_nameservers=["8.8.8.8", " 8.8.8.8"]), "dns_nameservers: 8.8.8.8 is given twice"),
    (dict(name=""), "name: give the network's name"),
])
def test_bad_options_are_refused(kw, expected):
    problems = validate(want(**kw))
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_every_problem_is_reported_at_once():
    problems = validate(want(cidr="10.0.0.0/8", gateway="172.16.1.1", dns_nameservers=["x"], external_network=None))
    assert [p.split(":")[0] for p in problems] == ["gateway", "dns_nameservers", "external_network"]


def test_absent_needs_neither_cidr_nor_external_network():
    assert validate(want(state="absent", cidr=None, external_network=None)) == []


def test_absent_still_refuses_a_bad_cidr():
    assert validate(want(state="absent", cidr="172.16.1.1/24")) == [
        "cidr: '172.16.1.1/24' has host bits set; the network is 172.16.1.0/24"]


def test_the_defaults():
    w = want_of(dict(PARAMS, router="", external_network="", gateway=" ", cidr=" 172.16.1.0/24 "))
    assert w["subnet_name"] == "selfservice-subnet"
    assert (w["router"], w["external_network"], w["gateway"], w["cidr"]) == (None, None, None, "172.16.1.0/24")
    assert want_of(dict(PARAMS, subnet_name="mine"))["subnet_name"] == "mine"


# -- plan, state=present ---------------------------------------------------------------------------------------------
def test_a_fresh_project_gets_the_guides_network_subnet_and_router():
    ops = plan(fresh(), want())
    assert msgs(ops) == GUIDE
    assert [op["op"] for op in ops] == ["create_network", "create_subnet", "create_router", "add_interface"]


def test_without_a_router_only_the_network_and_subnet():
    assert msgs(plan(fresh(external=None), want(router=None, external_network=None))) == GUIDE[:2]
    assert msgs(plan(fresh(external=None), want(router="", external_network=None))) == GUIDE[:2]


def test_everything_there_needs_nothing():
    assert plan(snapshot(), want()) == []
    assert plan(snapshot(router=None, external=None, ports=[DHCP]), want(router=None)) == []


def test_a_network_without_its_subnet_gets_the_subnet_and_the_rest():
    assert msgs(plan(snapshot(subnet=None, ports=[], router=None), want())) == GUIDE[1:]


def test_a_missing_router_is_created_and_attached():
    assert msgs(plan(snapshot(router=None, ports=[DHCP]), want())) == GUIDE[2:]


def test_a_router_not_attached_is_attached():
    assert msgs(plan(snapshot(ports=[DHCP]), want())) == ["attach subnet selfservice-subnet to router router"]


def test_a_router_attached_to_another_subnet_of_the_network_is_attached_to_this_one():
    other = dict(IFACE, id="if2", subnet_ids=["s9"])
    assert msgs(plan(snapshot(ports=[DHCP, other]), want())) == ["attach subnet selfservice-subnet to router router"]


def test_a_router_without_a_gateway_gets_it():
    ops = plan(snapshot(router=router(gateway_network_id=None, gateway_network=None, external_ip=None)), want())
    assert msgs(ops) == ["set the external gateway of router router to network provider"]


def test_a_router_without_gateway_nor_interface_gets_both():
    ops = plan(snapshot(router=router(gateway_network_id=None, gateway_network=None), ports=[DHCP]), want())
    assert [op["op"] for op in ops] == ["set_gateway", "add_interface"]


def test_an_existing_router_with_a_new_network():
    ops = plan(fresh(router=router(interfaces=[])), want())
    assert msgs(ops) == GUIDE[:2] + GUIDE[3:]


def test_a_subnet_with_another_range_is_not_replaced():
    msg = refusal(snapshot(subnet=dict(SUBNET, cidr="10.0.0.0/24")), want())
    assert msg.startswith("cidr: subnet selfservice-subnet of network selfservice already has the range 10.0.0.0/24, "
                          "not 172.16.1.0/24; the module does not replace an existing subnet")
    assert "give cidr: 10.0.0.0/24, or another subnet_name" in msg


def test_a_range_that_overlaps_another_subnet_of_the_network_is_refused():
    other = dict(id="s9", name="users-subnet", cidr="172.16.0.0/16")
    msg = refusal(snapshot(subnet=None, other_subnets=[other], ports=[]), want())
    assert msg.startswith("cidr: 172.16.1.0/24 overlaps subnet users-subnet (172.16.0.0/16) that network selfservice "
                          "already has")
    assert "subnet_name: users-subnet" in msg


def test_another_subnet_that_does_not_overlap_is_left_alone():
    other = dict(id="s9", name="users-subnet", cidr="10.9.0.0/24")
    assert msgs(plan(snapshot(subnet=None, other_subnets=[other], ports=[], router=None), want())) == GUIDE[1:]


def test_a_router_on_another_external_network_is_not_rewired():
    msg = refusal(snapshot(router=router(gateway_network_id="ext2", gateway_network="provider2")), want())
    assert msg.startswith("external_network: router router already has its external gateway on network provider2, "
                          "not on provider; the module does not rewire an existing router")
    assert "openstack router set --external-gateway provider router" in msg


def test_an_external_network_that_is_not_external_is_refused_with_the_fix():
    msg = refusal(fresh(external=dict(id="n7", name="provider", is_external=False)), want())
    assert msg.startswith("external_network: network provider (n7) is not an external network (router:external is "
                          "false)")
    assert msg.endswith("openstack network set --external provider")


def test_a_missing_external_network_is_refused():
    msg = refusal(fresh(external=None), want())
    assert msg.startswith("external_network: no network 'provider' is visible to project myproject")


def test_the_external_network_matters_only_with_a_router():
    assert msgs(plan(fresh(external=None), want(router=None))) == GUIDE[:2]


def test_a_subnet_without_a_gateway_cannot_be_attached():
    msg = refusal(snapshot(subnet=dict(SUBNET, gateway_ip=None), ports=[DHCP]), want())
    assert msg.startswith("router: subnet selfservice-subnet has no gateway address, so router router cannot be "
                          "attached to it")


def test_a_subnet_whose_gateway_is_on_another_router_is_refused():
    theirs = dict(IFACE, id="if7", device_id="r7")
    msg = refusal(snapshot(ports=[DHCP, theirs], router_names={"r7": "old-router"}), want())
    assert msg.startswith("router: subnet selfservice-subnet is already attached to router old-router, which holds "
                          "its gateway 172.16.1.1")
    assert "give router: old-router" in msg
    # also when the named router does not exist yet
    assert refusal(snapshot(ports=[DHCP, theirs], router=None, router_names={"r7": "old-router"}), want())


def test_refusals_come_before_any_operation():
    """A fresh network would be created before the router: the refusal still stops the whole plan."""
    with pytest.raises(Failure):
        plan(fresh(external=dict(EXTERNAL, is_external=False)), want())


# -- plan, state=absent ----------------------------------------------------------------------------------------------
def test_absent_removes_the_interface_the_router_the_subnet_and_the_network_in_that_order():
    ops = plan(snapshot(), want(state="absent"))
    assert msgs(ops) == ["detach subnet selfservice-subnet from router router", "delete router router",
                         "delete subnet selfservice-subnet", "delete network selfservice"]
    assert (ops[0]["router_id"], ops[0]["port_id"]) == ("r1", "if1")


def test_absent_with_nothing_there_needs_nothing():
    assert plan(fresh(external=None), want(state="absent")) == []
    assert plan(fresh(external=None), want(state="absent", router=None)) == []


def test_absent_without_a_router_option_deletes_no_router():
    ops = plan(snapshot(router=None, ports=[DHCP]), want(state="absent", router=None))
    assert msgs(ops) == ["delete subnet selfservice-subnet", "delete network selfservice"]


def test_absent_detaches_but_keeps_a_router_with_other_interfaces():
    snap = snapshot(router=router(interfaces=["if1", "if-elsewhere"]))
    ops = plan(snap, want(state="absent"))
    assert msgs(ops) == ["detach subnet selfservice-subnet from router router", "delete subnet selfservice-subnet",
                         "delete network selfservice"]
    assert notes(snap, want(state="absent"), ops) == [
        "router router is kept: it still has 1 interface(s) on other networks (ports if-elsewhere)"]


def test_absent_detaches_another_router_from_the_network_without_deleting_it():
    theirs = dict(IFACE, id="if7", device_id="r7", subnet_ids=["s9"])
    snap = snapshot(ports=[theirs, DHCP, IFACE], router_names={"r7": "old-router"},
                    subnet_names={"s1": "selfservice-subnet", "s9": "users-subnet"},
                    other_subnets=[dict(id="s9", name="users-subnet", cidr="10.9.0.0/24")])
    assert msgs(plan(snap, want(state="absent"))) == [
        "detach subnet selfservice-subnet from router router", "detach subnet users-subnet from router old-router",
        "delete router router", "delete subnet selfservice-subnet",
        "delete network selfservice and with it its other subnets users-subnet"]


def test_absent_deletes_the_named_router_when_the_network_is_gone():
    assert msgs(plan(fresh(router=router(interfaces=[])), want(state="absent"))) == ["delete router router"]
    # one that still has interfaces elsewhere is kept
    assert plan(fresh(router=router(interfaces=["if-elsewhere"])), want(state="absent")) == []


def test_absent_refuses_a_network_servers_use_and_lists_them():
    msg = refusal(snapshot(ports=[DHCP, IFACE, SERVER, dict(SERVER, id="loose", device_owner="", device_id="")]),
                  want(state="absent"))
    assert msg.startswith("network selfservice is still in use, so nothing was removed: port vm-port (compute:nova, "
                          "device server1); port loose (no owner). The module does not delete them")


def test_absent_ignores_dhcp_and_metadata_ports():
    meta = dict(id="meta", device_owner="network:distributed", device_id="ovnmeta-n1", subnet_ids=["s1"])
    assert msgs(plan(snapshot(ports=[DHCP, meta], router=None), want(state="absent", router=None))) == [
        "delete subnet selfservice-subnet", "delete network selfservice"]


def test_absent_with_the_network_but_not_its_subnet():
    assert msgs(plan(snapshot(subnet=None, ports=[], router=None), want(state="absent", router=None))) == [
        "delete network selfservice"]


# -- notes ----------------------------------------------------------------------------------------------------------
def test_an_existing_subnet_is_kept_with_warnings_where_it_differs():
    snap = snapshot(subnet=dict(SUBNET, gateway_ip="172.16.1.254", dns_nameservers=["1.1.1.1"], dhcp=False))
    w = want(gateway="172.16.1.1", dns_nameservers=["8.8.4.4"])
    assert plan(snap, w) == []
    found = notes(snap, w, [])
    assert [n.split(" ")[0] for n in found] == ["gateway:", "dns_nameservers:", "subnet"]
    assert "keeps its gateway 172.16.1.254" in found[0]
    assert "openstack subnet set --dhcp selfservice-subnet" in found[2]


def test_no_warning_when_the_subnet_is_as_wanted():
    assert notes(snapshot(), want(gateway="172.16.1.1"), []) == []
    assert notes(fresh(), want(), plan(fresh(), want())) == []


# -- the diff -------------------------------------------------------------------------------------------------------
def test_the_diff_of_a_fresh_project():
    before = summary(fresh(), want())
    assert before == dict(network=None, subnet=None, router=None, external_network=None, interface=False)
    assert summary_after(before, plan(fresh(), want()), fresh(), want()) == dict(
        network="selfservice", subnet="172.16.1.0/24", router="router", external_network="provider", interface=True)


def test_the_diff_when_nothing_changes():
    before = summary(snapshot(), want())
    assert before == dict(network="selfservice", subnet="172.16.1.0/24", router="router",
                          external_network="provider", interface=True)
    assert summary_after(before, [], snapshot(), want()) == before


def test_the_diff_of_absent():
    snap = snapshot()
    after = summary_after(summary(snap, want(state="absent")), plan(snap, want(state="absent")), snap,
                          want(state="absent"))
    assert after == dict(network=None, subnet=None, router=None, external_network=None, interface=False)
    kept = snapshot(router=router(interfaces=["if1", "if-elsewhere"]))
    after = summary_after(summary(kept, want(state="absent")), plan(kept, want(state="absent")), kept,
                          want(state="absent"))
    assert after == dict(network=None, subnet=None, router="router", external_network="provider", interface=False)


def test_the_diff_of_a_gateway_set():
    snap = snapshot(router=router(gateway_network_id=None, gateway_network=None))
    before = summary(snap, want())
    assert before["external_network"] is None
    assert summary_after(before, plan(snap, want()), snap, want())["external_network"] == "provider"
