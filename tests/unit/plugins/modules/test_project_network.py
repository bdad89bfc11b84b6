"""project_network against a fake Neutron: what it reads, writes and returns, in check mode and not.

The fake stands for openstacksdk's connection (openstack.connect) and its network proxy, with the calls the
module makes; it keeps networks, subnets, routers and ports in memory, scoped to projects as a member sees them.
The module's decisions alone (plain functions): tests/unit/plugins/module_utils/test_project_network_decisions.py.
"""
import ipaddress
import json

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.osdeploy.nova.plugins.module_utils import openstack as osu
from ansible_collections.osdeploy.nova.plugins.modules import project_network

URL = "http://controller:5000/v3"
PW = "demo'pw\"@:/%"
PROJECT = "p-mine"
ARGS = dict(cloud="osdeploy-demo", name="selfservice", cidr="172.16.1.0/24", gateway="172.16.1.1",
            dns_nameservers=["8.8.4.4"], router="router", external_network="provider")
GUIDE = ["create network selfservice in project myproject",
         "create subnet selfservice-subnet 172.16.1.0/24 on network selfservice",
         "create router router with its external gateway on network provider",
         "attach subnet selfservice-subnet to router router"]


class ResourceNotFound(Exception):
    status_code = 404


class ConflictException(Exception):
    status_code = 409


class HttpException(Exception):
    status_code = 503


class Obj(object):
    def __init__(self, **kw):
        self.__dict__.update(kw)


class FakeNeutron(object):
    """The network proxy: in-memory resources, every write recorded in ``writes``."""

    def __init__(self):
        self.networks_, self.subnets_, self.routers_, self.ports_ = [], [], [], []
        self.writes = []
        self.reads = 0
        self.transient = set()  # names of write methods that fail once with a 503 after they landed
        self.counter = 0
        provider = self.add_network("provider", project_id="p-admin", is_router_external=True)
        self.add_subnet(provider.id, "provider-subnet", "203.0.113.0/24", project_id="p-admin")

    # -- helpers of the tests -----------------------------------------------------------------------------------
    def new_id(self, kind):
        self.counter += 1
        return "%s-%d" % (kind, self.counter)

    def add_network(self, name, project_id=PROJECT, is_router_external=False):
        net = Obj(id=self.new_id("net"), name=name, project_id=project_id, is_router_external=is_router_external,
                  is_shared=False)
        self.networks_.append(net)
        return net

    def add_subnet(self, network_id, name, cidr, project_id=PROJECT, gateway_ip="first", dns_nameservers=(),
                   is_dhcp_enabled=True):
        net = ipaddress.ip_network(cidr)
        subnet = Obj(id=self.new_id("subnet"), name=name, network_id=network_id, cidr=cidr,
                     gateway_ip=str(net.network_address + 1) if gateway_ip == "first" else gateway_ip,
                     dns_nameservers=list(dns_nameservers), is_dhcp_enabled=is_dhcp_enabled, project_id=project_id)
        self.subnets_.append(subnet)
        if is_dhcp_enabled:
            self.add_port(network_id, "network:dhcp", "dhcp-controller", subnet.id, str(net.network_address + 2),
                          project_id)
        return subnet

    def add_port(self, network_id, device_owner, device_id, subnet_id, ip, project_id=PROJECT):
        port = Obj(id=self.new_id("port"), network_id=network_id, device_owner=device_owner, device_id=device_id,
                   fixed_ips=[dict(subnet_id=subnet_id, ip_address=ip)], project_id=project_id)
        self.ports_.append(port)
        return port

    def add_router(self, name, gateway_network_id=None, project_id=PROJECT):
        router = Obj(id=self.new_id("router"), name=name, project_id=project_id, external_gateway_info=None)
        self.routers_.append(router)
        if gateway_network_id:
            self.set_gateway(router, gateway_network_id)
        return router

    def set_gateway(self, router, network_id):
        subnet = [s for s in self.subnets_ if s.network_id == network_id][0]
        ip = str(ipaddress.ip_network(subnet.cidr).network_address + 104)
        router.external_gateway_info = dict(network_id=network_id, enable_snat=True,
                                            external_fixed_ips=[dict(subnet_id=subnet.id, ip_address=ip)])
        self.add_port(network_id, "network:router_gateway", router.id, subnet.id, ip, project_id="")

    def attach(self, router, subnet):
        return self.add_port(subnet.network_id, "network:router_interface", router.id, subnet.id, subnet.gateway_ip,
                             router.project_id)

    def named(self, kind, name):
        return [x for x in getattr(self, kind + "_") if x.name == name]

    def _write(self, method, *args, **kw):
        self.writes.append((method, args, kw))

    def _landed(self, method, value):
        if method in self.transient:
            self.transient.discard(method)
            raise HttpException("503 Service Unavailable")
        return value

    @staticmethod
    def _match(items, query):
        return [x for x in items if all(getattr(x, k, None) == v for k, v in query.items())]

    def _visible(self, items):
        """What a member of PROJECT sees: its own, and external networks."""
        return [x for x in items if x.project_id in (PROJECT, "") or getattr(x, "is_router_external", False)]

    # -- the proxy ----------------------------------------------------------------------------------------------
    def networks(self, **query):
        self.reads += 1
        return iter(self._match(self._visible(self.networks_), query))

    def get_network(self, network_id):
        self.reads += 1
        for net in self._visible(self.networks_):
            if net.id == network_id:
                return net
        raise ResourceNotFound("Network %s could not be found." % network_id)

    def subnets(self, **query):
        self.reads += 1
        return iter(self._match(self._visible(self.subnets_), query))

    def routers(self, **query):
        self.reads += 1
        return iter(self._match(self._visible(self.routers_), query))

    def ports(self, **query):
        self.reads += 1
        return iter(self._match(self._visible(self.ports_), query))

    def create_network(self, **attrs):
        self._write("create_network", **attrs)
        return self._landed("create_network", self.add_network(attrs["name"]))

    def create_subnet(self, **attrs):
        self._write("create_subnet", **attrs)
        assert attrs["ip_version"] == 4 and attrs["is_dhcp_enabled"] is True
        subnet = self.add_subnet(attrs["network_id"], attrs["name"], attrs["cidr"],
                                 gateway_ip=attrs.get("gateway_ip", "first"),
                                 dns_nameservers=attrs["dns_nameservers"])
        return self._landed("create_subnet", subnet)

    def create_router(self, **attrs):
        self._write("create_router", **attrs)
        router = self.add_router(attrs["name"], attrs["external_gateway_info"]["network_id"])
        return self._landed("create_router", router)

    def update_router(self, router_id, **attrs):
        self._write("update_router", router_id, **attrs)
        router = [r for r in self.routers_ if r.id == router_id][0]
        self.set_gateway(router, attrs["external_gateway_info"]["network_id"])
        return router

    def add_interface_to_router(self, router_id, subnet_id=None, port_id=None):
        self._write("add_interface_to_router", router_id, subnet_id, port_id)
        router = [r for r in self.routers_ if r.id == router_id][0]
        subnet = [s for s in self.subnets_ if s.id == subnet_id][0]
        return self._landed("add_interface_to_router", self.attach(router, subnet))

    def remove_interface_from_router(self, router_id, subnet_id=None, port_id=None):
        self._write("remove_interface_from_router", router_id, subnet_id, port_id)
        port = [p for p in self.ports_ if p.id == port_id]
        if not port:
            raise ResourceNotFound("Port %s could not be found." % port_id)
        self.ports_.remove(port[0])

    def delete_router(self, router_id, ignore_missing=True):
        self._write("delete_router", router_id)
        if [p for p in self.ports_ if p.device_id == router_id and p.device_owner == "network:router_interface"]:
            raise ConflictException("Router %s still has ports" % router_id)
        self.routers_ = [r for r in self.routers_ if r.id != router_id]
        self.ports_ = [p for p in self.ports_ if p.device_id != router_id]

    def delete_subnet(self, subnet_id, ignore_missing=True):
        self._write("delete_subnet", subnet_id)
        users = [p for p in self.ports_ if p.device_owner != "network:dhcp"
                 and subnet_id in [f["subnet_id"] for f in p.fixed_ips]]
        if users:
            raise ConflictException("Unable to complete operation on subnet %s: One or more ports have an IP "
                                    "allocation from this subnet." % subnet_id)
        self.subnets_ = [s for s in self.subnets_ if s.id != subnet_id]
        self.ports_ = [p for p in self.ports_ if subnet_id not in [f["subnet_id"] for f in p.fixed_ips]]

    def delete_network(self, network_id, ignore_missing=True):
        self._write("delete_network", network_id)
        if [p for p in self.ports_ if p.network_id == network_id and p.device_owner != "network:dhcp"]:
            raise ConflictException("Unable to complete operation on network %s. There are one or more ports still "
                                    "in use on the network." % network_id)
        self.networks_ = [n for n in self.networks_ if n.id != network_id]
        self.subnets_ = [s for s in self.subnets_ if s.network_id != network_id]
        self.ports_ = [p for p in self.ports_ if p.network_id != network_id]


class FakeConnection(object):
    def __init__(self, neutron, project_id=PROJECT):
        self.network = neutron
        self.config = Obj(get_auth_args=lambda: dict(auth_url=URL, username="myuser", password=PW,
                                                     project_name="myproject"))
        self.session = Obj(get_token=lambda: "token")
        self.current_project_id = project_id
        self.current_project = Obj(id=project_id, name="myproject")


@pytest.fixture
def cloud(monkeypatch):
    """The fake cloud every module run of a test connects to (``cloud.neutron``); ``cloud.connects`` counts."""
    state = Obj(neutron=FakeNeutron(), connects=[], project_id=PROJECT, warnings=[])

    def connect(**kwargs):
        state.connects.append(kwargs)
        return FakeConnection(state.neutron, state.project_id)

    monkeypatch.setattr(osu, "openstack", Obj(connect=connect))
    monkeypatch.setattr(osu, "HAS_OPENSTACKSDK", True)
    monkeypatch.setattr(osu.time, "sleep", lambda seconds: None)
    # in a test process Ansible shows warnings on its display, not in the result: collect them here
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, msg, **kw: state.warnings.append(msg))
    return state


@pytest.fixture
def run(run_main, cloud):
    def go(args=None, check=False, diff=False, **kw):
        a = dict(ARGS if args is None else args)
        a.update(kw)
        if diff:
            a["_ansible_diff"] = True
        return run_main(project_network, a, check=check)
    return go


def writes(cloud):
    return [w[0] for w in cloud.neutron.writes]


def test_the_options_and_their_defaults():
    spec = project_network.ProjectNetwork.argument_spec
    assert spec["cloud"] == dict(type="str", required=True)
    assert spec["state"]["default"] == "present" and spec["dns_nameservers"]["default"] == []
    assert project_network.ProjectNetwork.module_kwargs["supports_check_mode"] is True


def test_the_guides_network_check_mode_run_and_rerun(cloud, run):
    rc, check = run(check=True, diff=True)
    assert rc == 0, check
    assert check["changed"] is True and check["operations"] == GUIDE
    assert check["network"] == dict(id=None, name="selfservice")
    assert check["subnet"] == dict(id=None, name="selfservice-subnet", cidr="172.16.1.0/24", gateway_ip="172.16.1.1")
    assert check["router"] == dict(id=None, name="router", external_ip=None)
    assert check["diff"] == dict(
        before=dict(network=None, subnet=None, router=None, external_network=None, interface=False),
        after=dict(network="selfservice", subnet="172.16.1.0/24", router="router", external_network="provider",
                   interface=True))
    assert writes(cloud) == [], "check mode wrote"

    rc, first = run(diff=True)
    assert rc == 0, first
    assert first["changed"] is True and first["operations"] == check["operations"]
    assert first["diff"] == check["diff"]
    assert writes(cloud) == ["create_network", "create_subnet", "create_router", "add_interface_to_router"]
    neutron = cloud.neutron
    net, = neutron.named("networks", "selfservice")
    subnet, = neutron.named("subnets", "selfservice-subnet")
    router, = neutron.named("routers", "router")
    assert (net.project_id, subnet.network_id, subnet.dns_nameservers) == (PROJECT, net.id, ["8.8.4.4"])
    assert router.external_gateway_info["network_id"] == neutron.named("networks", "provider")[0].id
    assert neutron.writes[0][2] == dict(name="selfservice")  # plain: neither shared nor external
    assert neutron.writes[3][1] == (router.id, subnet.id, None)
    assert first["network"] == dict(id=net.id, name="selfservice")
    assert first["subnet"] == dict(id=subnet.id, name="selfservice-subnet", cidr="172.16.1.0/24",
                                   gateway_ip="172.16.1.1")
    assert first["router"] == dict(id=router.id, name="router", external_ip="203.0.113.104")
    assert PW not in json.dumps(first)

    rc, again = run(diff=True)
    assert rc == 0, again
    assert again["changed"] is False and again["operations"] == []
    for key in ("network", "subnet", "router"):
        assert again[key] == first[key]
    assert again["diff"]["before"] == again["diff"]["after"] == check["diff"]["after"]
    assert len(neutron.writes) == 4
    rc, check_again = run(check=True)
    assert check_again["changed"] is False and check_again["router"] == first["router"]


def test_without_a_router(cloud, run):
    rc, out = run(router="", external_network=None, gateway=None, dns_nameservers=[])
    assert rc == 0, out
    assert out["operations"] == GUIDE[:2] and out["router"] is None
    assert writes(cloud) == ["create_network", "create_subnet"]
    assert "gateway_ip" not in cloud.neutron.writes[1][2]
    assert out["subnet"]["gateway_ip"] == "172.16.1.1"  # Neutron's default, as Neutron returned it


def test_another_projects_network_of_the_same_name_is_not_taken(cloud, run):
    theirs = cloud.neutron.add_network("selfservice", project_id="p-other")
    cloud.neutron.add_subnet(theirs.id, "selfservice-subnet", "10.0.0.0/24", project_id="p-other")
    cloud.neutron.add_router("router", project_id="p-other")
    cloud.neutron._visible = lambda items: items  # as an admin would see them: the module still filters by project
    rc, out = run()
    assert rc == 0, out
    assert out["operations"] == GUIDE
    assert out["network"]["id"] != theirs.id


def test_a_partial_setup_is_completed(cloud, run):
    neutron = cloud.neutron
    net = neutron.add_network("selfservice")
    subnet = neutron.add_subnet(net.id, "selfservice-subnet", "172.16.1.0/24", dns_nameservers=["8.8.4.4"])
    router = neutron.add_router("router")  # no gateway yet
    rc, out = run(diff=True)
    assert rc == 0, out
    assert out["operations"] == ["set the external gateway of router router to network provider",
                                 "attach subnet selfservice-subnet to router router"]
    assert writes(cloud) == ["update_router", "add_interface_to_router"]
    assert out["router"] == dict(id=router.id, name="router", external_ip="203.0.113.104")
    assert out["subnet"]["id"] == subnet.id and out["network"]["id"] == net.id
    assert out["diff"]["before"] == dict(network="selfservice", subnet="172.16.1.0/24", router="router",
                                         external_network=None, interface=False)
    assert cloud.warnings == []


def test_an_existing_subnet_with_another_range_fails_and_nothing_is_written(cloud, run):
    net = cloud.neutron.add_network("selfservice")
    cloud.neutron.add_subnet(net.id, "selfservice-subnet", "10.0.0.0/24")
    rc, out = run()
    assert rc == 1 and out["failed"] is True
    assert out["msg"].startswith("cidr: subnet selfservice-subnet of network selfservice already has the range "
                                 "10.0.0.0/24, not 172.16.1.0/24")
    assert writes(cloud) == []


def test_an_existing_router_on_another_external_network_fails(cloud, run):
    other = cloud.neutron.add_network("provider2", project_id="p-admin", is_router_external=True)
    cloud.neutron.add_subnet(other.id, "provider2-subnet", "198.51.100.0/24", project_id="p-admin")
    cloud.neutron.add_router("router", gateway_network_id=other.id)
    rc, out = run(check=True)
    assert rc == 1
    assert out["msg"].startswith("external_network: router router already has its external gateway on network "
                                 "provider2, not on provider")
    assert writes(cloud) == []


def test_an_external_network_that_is_not_external_fails_with_the_fix(cloud, run):
    cloud.neutron.named("networks", "provider")[0].is_router_external = False
    cloud.neutron.named("networks", "provider")[0].project_id = PROJECT
    rc, out = run()
    assert rc == 1
    assert out["msg"].startswith("external_network: network provider (")
    assert out["msg"].endswith("openstack network set --external provider")
    assert writes(cloud) == []


def test_the_external_network_by_id(cloud, run):
    provider = cloud.neutron.named("networks", "provider")[0]
    rc, out = run(external_network=provider.id)
    assert rc == 0, out
    assert out["operations"][2] == "create router router with its external gateway on network provider"
    assert cloud.neutron.named("routers", "router")[0].external_gateway_info["network_id"] == provider.id


def test_an_unknown_external_network_fails(cloud, run):
    rc, out = run(external_network="public")
    assert rc == 1
    assert out["msg"].startswith("external_network: no network 'public' is visible to project myproject")


@pytest.mark.parametrize("args,expected", [
    (dict(cidr="172.16.1.1/24"), "cidr: '172.16.1.1/24' has host bits set"),
    (dict(gateway="10.0.0.1"), "gateway: 10.0.0.1 is outside cidr 172.16.1.0/24"),
    (dict(external_network=None), "external_network: required when router is set"),
    (dict(dns_nameservers=["dns.google"]), "dns_nameservers: 'dns.google' is not an IP address"),
    (dict(cidr=None), "cidr: required with state=present"),
    (dict(cidr=""), "cidr: required with state=present"),
])
def test_bad_input_is_refused_before_any_call(cloud, run, args, expected):
    rc, out = run(**args)
    assert rc == 1 and out["msg"].startswith(expected), out
    assert cloud.connects == [] and cloud.neutron.reads == 0


def test_present_without_cidr_is_refused_by_the_argument_spec(cloud, run):
    rc, out = run(dict((k, v) for k, v in ARGS.items() if k != "cidr"))
    assert rc == 1 and out["msg"] == "state is present but all of the following are missing: cidr", out
    assert cloud.connects == []


def test_a_cloud_not_scoped_to_a_project_fails(cloud, run):
    cloud.project_id = None
    rc, out = run()
    assert rc == 1
    assert out["msg"].startswith("cloud: the credentials of cloud osdeploy-demo are not scoped to a project")


def test_an_existing_subnet_is_kept_with_warnings(cloud, run):
    net = cloud.neutron.add_network("selfservice")
    cloud.neutron.add_subnet(net.id, "selfservice-subnet", "172.16.1.0/24", gateway_ip="172.16.1.254")
    rc, out = run(router=None)
    assert rc == 0, out
    assert out["changed"] is False and writes(cloud) == []
    assert out["subnet"]["gateway_ip"] == "172.16.1.254"
    assert [w.split(":")[0] for w in cloud.warnings] == ["gateway", "dns_nameservers"]


def test_a_create_that_failed_transiently_after_it_landed_is_not_repeated(cloud, run):
    cloud.neutron.transient = {"create_network", "create_router", "add_interface_to_router"}
    rc, out = run(api_retries=2)
    assert rc == 0, out
    assert out["operations"] == GUIDE and out["api_retries_used"] == 3
    assert writes(cloud) == ["create_network", "create_subnet", "create_router", "add_interface_to_router"]
    assert len(cloud.neutron.named("networks", "selfservice")) == 1
    assert out["network"]["id"] == cloud.neutron.named("networks", "selfservice")[0].id
    assert out["router"]["id"] == cloud.neutron.named("routers", "router")[0].id


# -- state=absent -----------------------------------------------------------------------------------------------------
def test_absent_removes_everything_in_order_check_mode_first(cloud, run):
    assert run()[0] == 0
    cloud.neutron.writes = []
    absent = dict(cloud="osdeploy-demo", name="selfservice", router="router", state="absent")
    rc, check = run(absent, check=True, diff=True)
    assert rc == 0, check
    expected = ["detach subnet selfservice-subnet from router router", "delete router router",
                "delete subnet selfservice-subnet", "delete network selfservice"]
    assert check["changed"] is True and check["operations"] == expected
    assert check["diff"]["before"]["interface"] is True
    assert check["diff"]["after"] == dict(network=None, subnet=None, router=None, external_network=None,
                                          interface=False)
    assert writes(cloud) == []

    rc, out = run(absent)
    assert rc == 0, out
    assert out["operations"] == expected
    assert writes(cloud) == ["remove_interface_from_router", "delete_router", "delete_subnet", "delete_network"]
    neutron = cloud.neutron
    assert not neutron.named("networks", "selfservice") and not neutron.named("routers", "router")
    assert not neutron.named("subnets", "selfservice-subnet")

    rc, again = run(absent)
    assert rc == 0 and again["changed"] is False and again["operations"] == []
    assert again["network"] == dict(id=None, name="selfservice") and again["router"]["id"] is None


def test_absent_refuses_a_network_a_server_uses_and_removes_nothing(cloud, run):
    assert run()[0] == 0
    neutron = cloud.neutron
    subnet = neutron.named("subnets", "selfservice-subnet")[0]
    server_port = neutron.add_port(subnet.network_id, "compute:nova", "server-1", subnet.id, "172.16.1.50")
    neutron.writes = []
    rc, out = run(dict(cloud="osdeploy-demo", name="selfservice", router="router", state="absent"))
    assert rc == 1
    assert out["msg"].startswith("network selfservice is still in use, so nothing was removed: port %s (compute:nova, "
                                 "device server-1)" % server_port.id)
    assert writes(cloud) == []


def test_absent_keeps_a_router_with_other_interfaces(cloud, run):
    assert run()[0] == 0
    assert run(dict(ARGS, name="other", cidr="172.16.2.0/24", gateway=None))[0] == 0
    cloud.neutron.writes = []
    rc, out = run(dict(cloud="osdeploy-demo", name="selfservice", router="router", state="absent"))
    assert rc == 0, out
    assert out["operations"] == ["detach subnet selfservice-subnet from router router",
                                 "delete subnet selfservice-subnet", "delete network selfservice"]
    assert cloud.neutron.named("routers", "router")
    assert len(cloud.warnings) == 1 and cloud.warnings[0].startswith("router router is kept")
