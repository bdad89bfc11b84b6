# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The project_network module: ``ProjectNetworkModule``, and what it decides as plain functions.

The install guide's self-service network (networking option 2), as a project's
member makes it: a network, its IPv4 subnet and, optionally, a router whose
external gateway is on the provider network, with the subnet attached to it
(``openstack network create``, ``subnet create``, ``router create``,
``router set --external-gateway``, ``router add subnet``). Everything is
looked up in the project of the cloud's token only.

``validate()`` refuses bad options before any request; the module reads
Neutron into a snapshot (plain dicts), ``plan()`` turns it into the operations
to run (or raises ``Failure`` when the cloud holds something the module must
not change: a subnet with another range, a router on another external network,
a network that servers still use), and the module runs them (in check mode:
only reports them). ``notes()`` are the warnings, ``summary()`` and
``summary_after()`` the diff. The module file is this class with its options.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.osdeploy.nova.plugins.module_utils.base import Failure
from ansible_collections.osdeploy.nova.plugins.module_utils.openstack import OpenStackModule

# the ports of a router that connect it to a subnet (removed with remove_interface_from_router)
ROUTER_INTERFACE_OWNERS = ("network:router_interface", "network:router_interface_distributed",
                           "network:ha_router_replicated_interface")
# ports Neutron makes and removes with the subnets and the network (DHCP, OVN metadata), and those that go with a
# router interface (a DVR router's SNAT port)
INFRASTRUCTURE_OWNERS = ("network:dhcp", "network:distributed", "network:router_centralized_snat")


# -- the options -----------------------------------------------------------------------------------------------------
def want_of(params):
    """The options as plan() reads them: subnet_name defaulted, an empty router meaning none."""
    return dict(state=params["state"], name=params["name"],
                subnet_name=params.get("subnet_name") or "%s-subnet" % params["name"],
                cidr=(params.get("cidr") or "").strip() or None, gateway=(params.get("gateway") or "").strip() or None,
                dns_nameservers=[str(entry).strip() for entry in params.get("dns_nameservers") or []],
                router=params.get("router") or None, external_network=params.get("external_network") or None,
                project=None)


def parse_cidr(cidr):
    """(network, problem): cidr as an ipaddress.IPv4Network, or None and why it is not one."""
    text = str(cidr).strip()
    try:
        if "/" not in text:
            raise ValueError(text)
        net = ipaddress.IPv4Network(text, strict=False)
    except ValueError:
        return None, ("cidr: %r is not an IPv4 network in CIDR notation (address/prefix length, e.g. 172.16.1.0/24)"
                      % cidr)
    address, prefix = text.split("/", 1)
    if net.with_prefixlen != text:
        if prefix == str(net.prefixlen) and address != str(net.network_address):
            return None, "cidr: %r has host bits set; the network is %s" % (cidr, net.with_prefixlen)
        return None, "cidr: %r is not in CIDR notation; write it as %s" % (cidr, net.with_prefixlen)
    if net.prefixlen > 30:
        return None, ("cidr: %s is too small: a subnet needs room for its gateway, its DHCP port and instances "
                      "(a prefix of /30 or shorter; the guide's is /24)" % cidr)
    return net, None


def first_address(net):
    """Neutron's default gateway of an IPv4 network: its first host address."""
    return str(net.network_address + 1)


def validate(want):
    """The problems of the options, one sentence each (empty when they are fine); needs no cloud."""
    problems = []
    if not want["name"]:
        problems.append("name: give the network's name")
    net = None
    if want["cidr"] is not None:
        net, problem = parse_cidr(want["cidr"])
        if problem:
            problems.append(problem)
    elif want["state"] == "present":
        problems.append("cidr: required with state=present (the subnet's range, e.g. 172.16.1.0/24)")
    if want["gateway"]:
        try:
            gateway = ipaddress.IPv4Address(want["gateway"])
        except ValueError:
            problems.append("gateway: %r is not an IPv4 address" % want["gateway"])
        else:
            if net is not None and gateway not in net:
                problems.append("gateway: %s is outside cidr %s; give an address of it (Neutron's default is %s)"
                                % (gateway, net.with_prefixlen, first_address(net)))
            elif net is not None and gateway in (net.network_address, net.broadcast_address):
                problems.append("gateway: %s is the %s address of cidr %s, not a host address; give one like %s"
                                % (gateway, "network" if gateway == net.network_address else "broadcast",
                                   net.with_prefixlen, first_address(net)))
    seen = set()
    for entry in want["dns_nameservers"]:
        try:
            address = ipaddress.ip_address(entry)
        except ValueError:
            problems.append("dns_nameservers: %r is not an IP address" % entry)
            continue
        if address in seen:
            problems.append("dns_nameservers: %s is given twice (Neutron refuses duplicates)" % address)
        seen.add(address)
    if want["state"] == "present" and want["router"] and not want["external_network"]:
        problems.append("external_network: required when router is set (the name or id of the provider network "
                        "the router's external gateway is on, e.g. provider)")
    return problems


# -- what the module decides -------------------------------------------------------------------------------------------
def _same_network(a, b):
    try:
        return ipaddress.ip_network(a, strict=False) == ipaddress.ip_network(b, strict=False)
    except ValueError:
        return False


def _overlaps(a, b):
    try:
        x, y = ipaddress.ip_network(a, strict=False), ipaddress.ip_network(b, strict=False)
    except ValueError:
        return False
    return x.version == y.version and x.overlaps(y)


def _subnet_label(snapshot, subnet_ids):
    names = snapshot.get("subnet_names", {})
    return ", ".join(names.get(sid) or sid for sid in subnet_ids) or "(no subnet)"


def _router_label(snapshot, router_id):
    router = snapshot["router"]
    if router is not None and router["id"] == router_id:
        return router["name"]
    return snapshot.get("router_names", {}).get(router_id) or router_id


def interface_ports(snapshot, router_id, subnet_id):
    """The ids of the ports of router router_id on subnet subnet_id (among the network's ports)."""
    return [port["id"] for port in snapshot["ports"]
            if port["device_id"] == router_id and port["device_owner"] in ROUTER_INTERFACE_OWNERS
            and subnet_id in port["subnet_ids"]]


def plan(snapshot, want):
    """The operations that make Neutron hold what want says, in order, each a dict with ``op`` and ``msg``.

    Raises Failure, before any operation, when the cloud holds something the module must not change.

    snapshot: network ({id, name} or None: the project's network named want["name"]), subnet ({id, name, cidr,
    gateway_ip, dns_nameservers, dhcp} or None: its subnet named want["subnet_name"]), other_subnets ([{id, name,
    cidr}]: the network's other subnets), subnet_names ({id: name} of the network's subnets), ports ([{id,
    device_owner, device_id, subnet_ids}]: every port on the network), router ({id, name, gateway_network_id,
    gateway_network, external_ip, interfaces} or None: the project's router named want["router"]; interfaces: the
    ids of its interface ports on any network), router_names ({id: name} of the project's routers), external ({id,
    name, is_external} or None when not found; looked up only for state=present with a router). want: want_of()
    and project (the project's name or id, for messages).
    """
    if want["state"] == "absent":
        return _plan_absent(snapshot, want)
    return _plan_present(snapshot, want)


def _plan_present(snapshot, want):
    ops = []
    network, subnet, router = snapshot["network"], snapshot["subnet"], snapshot["router"]
    name, subnet_name = want["name"], want["subnet_name"]
    # refusals first: nothing runs when one of them holds
    if subnet is not None and not _same_network(subnet["cidr"], want["cidr"]):
        raise Failure("cidr: subnet %s of network %s already has the range %s, not %s; the module does not replace "
                      "an existing subnet: give cidr: %s, or another subnet_name, or delete the subnet first "
                      "(openstack subnet delete %s)" % (subnet_name, name, subnet["cidr"], want["cidr"],
                                                        subnet["cidr"], subnet["id"]))
    if subnet is None:
        for other in snapshot["other_subnets"]:
            if _overlaps(other["cidr"], want["cidr"]):
                raise Failure("cidr: %s overlaps subnet %s (%s) that network %s already has, so Neutron would refuse "
                              "subnet %s; give subnet_name: %s to keep that subnet, or another cidr"
                              % (want["cidr"], other["name"] or other["id"], other["cidr"], name, subnet_name,
                                 other["name"] or other["id"]))
    external = None
    if want["router"]:
        external = snapshot["external"]
        if external is None:
            raise Failure("external_network: no network %r is visible to project %s (by name or id); give the name "
                          "or id of the provider network the router's gateway goes on (the guide's: provider)"
                          % (want["external_network"], want["project"]))
        if not external["is_external"]:
            raise Failure("external_network: network %s (%s) is not an external network (router:external is false), "
                          "so no router can have its gateway on it; an admin makes it one with: openstack network "
                          "set --external %s" % (external["name"], external["id"], external["name"] or external["id"]))
        if router is not None and router["gateway_network_id"] not in (None, external["id"]):
            raise Failure("external_network: router %s already has its external gateway on network %s, not on %s; "
                          "the module does not rewire an existing router: give external_network: %s, or another "
                          "router name, or move the gateway yourself (openstack router set --external-gateway %s %s)"
                          % (want["router"], router["gateway_network"], external["name"], router["gateway_network"],
                             external["name"], want["router"]))
        attached = router is not None and subnet is not None and interface_ports(snapshot, router["id"], subnet["id"])
        if subnet is not None and not attached:
            if not subnet["gateway_ip"]:
                raise Failure("router: subnet %s has no gateway address, so router %s cannot be attached to it; give "
                              "the subnet a gateway (openstack subnet set --gateway ADDRESS %s)"
                              % (subnet_name, want["router"], subnet["id"]))
            holders = sorted(set(port["device_id"] for port in snapshot["ports"]
                                 if port["device_owner"] in ROUTER_INTERFACE_OWNERS
                                 and subnet["id"] in port["subnet_ids"]))
            if holders:
                raise Failure("router: subnet %s is already attached to router %s, which holds its gateway %s; a "
                              "subnet's gateway can be on one router only: give router: %s, or detach it first "
                              "(openstack router remove subnet %s %s)"
                              % (subnet_name, ", ".join(_router_label(snapshot, rid) for rid in holders),
                                 subnet["gateway_ip"], _router_label(snapshot, holders[0]), holders[0], subnet["id"]))
    if network is None:
        ops.append(dict(op="create_network", msg="create network %s in project %s" % (name, want["project"])))
    if subnet is None:
        ops.append(dict(op="create_subnet", msg="create subnet %s %s on network %s" % (subnet_name, want["cidr"],
                                                                                       name)))
    if want["router"]:
        if router is None:
            ops.append(dict(op="create_router", msg="create router %s with its external gateway on network %s"
                            % (want["router"], external["name"] or external["id"])))
        elif router["gateway_network_id"] is None:
            ops.append(dict(op="set_gateway", msg="set the external gateway of router %s to network %s"
                            % (want["router"], external["name"] or external["id"])))
        if router is None or subnet is None or not interface_ports(snapshot, router["id"], subnet["id"]):
            ops.append(dict(op="add_interface", msg="attach subnet %s to router %s" % (subnet_name, want["router"])))
    return ops


def _plan_absent(snapshot, want):
    ops = []
    network, subnet, router = snapshot["network"], snapshot["subnet"], snapshot["router"]
    ports = snapshot["ports"]
    holders = [port for port in ports
               if port["device_owner"] not in ROUTER_INTERFACE_OWNERS + INFRASTRUCTURE_OWNERS]
    if network is not None and holders:
        raise Failure("network %s is still in use, so nothing was removed: %s. The module does not delete them: "
                      "delete those servers or ports first (openstack server delete, openstack port delete), then run "
                      "it again" % (want["name"], "; ".join(
                          "port %s (%s%s)" % (port["id"], port["device_owner"] or "no owner",
                                              ", device %s" % port["device_id"] if port["device_id"] else "")
                          for port in holders)))
    detached = set()
    # the named router's interface to the subnet first, then any other router's interface on the network (a
    # router holds the network as long as it has a port on it)
    interfaces = [port for port in ports if port["device_owner"] in ROUTER_INTERFACE_OWNERS]
    interfaces.sort(key=lambda port: (router is None or port["device_id"] != router["id"],
                                      subnet is None or subnet["id"] not in port["subnet_ids"]))
    for port in interfaces:
        ops.append(dict(op="remove_interface", router_id=port["device_id"], port_id=port["id"],
                        msg="detach subnet %s from router %s" % (_subnet_label(snapshot, port["subnet_ids"]),
                                                                 _router_label(snapshot, port["device_id"]))))
        detached.add(port["id"])
    if router is not None and not [pid for pid in router["interfaces"] if pid not in detached]:
        ops.append(dict(op="delete_router", msg="delete router %s" % router["name"]))
    if subnet is not None:
        ops.append(dict(op="delete_subnet", msg="delete subnet %s" % subnet["name"]))
    if network is not None:
        others = [other["name"] or other["id"] for other in snapshot["other_subnets"]]
        ops.append(dict(op="delete_network", msg="delete network %s%s" % (
            network["name"], " and with it its other subnets %s" % ", ".join(others) if others else "")))
    return ops


def notes(snapshot, want, ops):
    """Warnings: what the module keeps although it differs from the options (it never changes an existing subnet),
    and a router the plan ops keeps because it has other interfaces."""
    found = []
    subnet, router = snapshot["subnet"], snapshot["router"]
    if want["state"] == "present" and subnet is not None:
        if want["gateway"] and subnet["gateway_ip"] != want["gateway"]:
            found.append("gateway: subnet %s keeps its gateway %s (the module does not change an existing subnet)"
                         % (subnet["name"], subnet["gateway_ip"]))
        if list(subnet["dns_nameservers"]) != list(want["dns_nameservers"]):
            found.append("dns_nameservers: subnet %s keeps its DNS servers %s, not %s (the module does not change an "
                         "existing subnet; openstack subnet set --dns-nameserver ADDRESS %s)"
                         % (subnet["name"], subnet["dns_nameservers"], want["dns_nameservers"], subnet["name"]))
        if not subnet["dhcp"]:
            found.append("subnet %s has DHCP disabled, so instances get no address from Neutron; the module keeps it "
                         "(openstack subnet set --dhcp %s)" % (subnet["name"], subnet["name"]))
    if want["state"] == "absent" and router is not None:
        detached = set(op["port_id"] for op in ops if op["op"] == "remove_interface")
        kept = [pid for pid in router["interfaces"] if pid not in detached]
        if kept:
            found.append("router %s is kept: it still has %d interface(s) on other networks (ports %s)"
                         % (router["name"], len(kept), ", ".join(kept)))
    return found


def summary(snapshot, want):
    """The diff's ``before``: the network's name, the subnet's range, the router's name and external network, and
    whether the subnet is attached to the router."""
    router, subnet = snapshot["router"], snapshot["subnet"]
    return dict(network=snapshot["network"]["name"] if snapshot["network"] else None,
                subnet=subnet["cidr"] if subnet else None,
                router=router["name"] if router else None,
                external_network=router["gateway_network"] if router else None,
                interface=bool(router and subnet and interface_ports(snapshot, router["id"], subnet["id"])))


def summary_after(before, ops, snapshot, want):
    """The diff's ``after``: before with ops applied."""
    after = dict(before)
    external = snapshot.get("external") or {}
    external_label = external.get("name") or external.get("id")
    router_id = snapshot["router"]["id"] if snapshot["router"] else None
    subnet_id = snapshot["subnet"]["id"] if snapshot["subnet"] else None
    for op in ops:
        kind = op["op"]
        if kind == "create_network":
            after["network"] = want["name"]
        elif kind == "create_subnet":
            after["subnet"] = want["cidr"]
        elif kind == "create_router":
            after.update(router=want["router"], external_network=external_label)
        elif kind == "set_gateway":
            after["external_network"] = external_label
        elif kind == "add_interface":
            after["interface"] = True
        elif kind == "remove_interface":
            if op["router_id"] == router_id and op["port_id"] in interface_ports(snapshot, router_id, subnet_id):
                after["interface"] = False
        elif kind == "delete_router":
            after.update(router=None, external_network=None, interface=False)
        elif kind == "delete_subnet":
            after.update(subnet=None, interface=False)
        elif kind == "delete_network":
            after.update(network=None, subnet=None, interface=False)
    return after


# -- reading the SDK's resources into plain dicts ----------------------------------------------------------------------
def external_ip(gateway_info):
    """The router's external address (the first IPv4 one) from its external_gateway_info, or None."""
    ips = [fixed.get("ip_address") for fixed in (gateway_info or {}).get("external_fixed_ips") or []
           if fixed.get("ip_address")]
    for ip in ips:
        if ":" not in ip:
            return ip
    return ips[0] if ips else None


def port_dict(port):
    return dict(id=port.id, device_owner=port.device_owner or "", device_id=port.device_id or "",
                subnet_ids=[fixed.get("subnet_id") for fixed in port.fixed_ips or [] if fixed.get("subnet_id")])


def subnet_dict(subnet):
    return dict(id=subnet.id, name=subnet.name, cidr=subnet.cidr, gateway_ip=subnet.gateway_ip,
                dns_nameservers=list(subnet.dns_nameservers or []), dhcp=bool(subnet.is_dhcp_enabled))


class ProjectNetworkModule(OpenStackModule):
    """A project's network, its subnet and its router to the provider network (the options: the project_network
    module's)."""

    module_kwargs = dict(supports_check_mode=True, required_if=[("state", "present", ["cidr"])])

    # -- reading --------------------------------------------------------------
    def project(self):
        """(id, name or id) of the project the cloud's token is scoped to; fails when it is scoped to none."""
        project_id = self.call(lambda: self.conn.current_project_id, doing="read the project of the token")
        if not project_id:
            self.fail("cloud: the credentials of cloud %s are not scoped to a project; the network is made in the "
                      "cloud's project: give its project_name (and project_domain_name) in clouds.yaml"
                      % self.params["cloud"])
        try:
            name = self.conn.current_project.name
        except Exception:  # only for messages
            name = None
        return project_id, name or project_id

    def one(self, list_func, what, name, option, project_label, **filters):
        """The one resource of the project named name (a listing), None if none; fails when there are several."""
        found = [item for item in self.listing(list_func, name=name, doing="look up %s %s" % (what, name), **filters)
                 if item.name == name]
        if len(found) > 1:
            self.fail("%s: project %s has %d %ss named %s (%s); the module cannot tell which is meant: delete or "
                      "rename the extra ones" % (option, project_label, len(found), what, name,
                                                 ", ".join(item.id for item in found)))
        return found[0] if found else None

    def find_external(self, name_or_id):
        """The network name_or_id as {id, name, is_external}, an external one first; None if not found."""
        net_api = self.conn.network
        doing = "look up external_network %s" % name_or_id
        found = self.listing(net_api.networks, name=name_or_id, doing=doing)
        externals = [n for n in found if n.is_router_external]
        if len(externals) > 1 or (not externals and len(found) > 1):
            self.fail("external_network: %d networks named %s are visible (%s); give its id"
                      % (len(externals or found), name_or_id, ", ".join(n.id for n in externals or found)))
        network = (externals or found or [None])[0]
        if network is None:
            network = self.get_or_none(net_api.get_network, name_or_id, doing=doing)
        if network is None:
            return None
        return dict(id=network.id, name=network.name, is_external=bool(network.is_router_external))

    def network_label(self, network_id, external):
        """A network's name for messages (the external network's, or looked up), else its id."""
        if external is not None and external["id"] == network_id:
            return external["name"] or network_id

        def get():
            try:
                return self.conn.network.get_network(network_id).name or network_id
            except Exception:  # only for messages: another project's network may be hidden
                return network_id

        return self.call(get, doing="look up network %s" % network_id)

    def read(self, want, project_id):
        """The snapshot plan() reads."""
        net_api = self.conn.network
        label = want["project"]
        present = want["state"] == "present"
        network = self.one(net_api.networks, "network", want["name"], "name", label, project_id=project_id)
        subnet, others, names, ports = None, [], {}, []
        if network is not None:
            subnets = self.listing(net_api.subnets, network_id=network.id,
                                   doing="list the subnets of network %s" % want["name"])
            mine = [s for s in subnets if s.name == want["subnet_name"]]
            if len(mine) > 1:
                self.fail("subnet_name: network %s has %d subnets named %s (%s); delete or rename the extra ones"
                          % (want["name"], len(mine), want["subnet_name"], ", ".join(s.id for s in mine)))
            subnet = subnet_dict(mine[0]) if mine else None
            others = [dict(id=s.id, name=s.name, cidr=s.cidr) for s in subnets if s.name != want["subnet_name"]]
            names = dict((s.id, s.name) for s in subnets)
            ports = [port_dict(p) for p in self.listing(net_api.ports, network_id=network.id,
                                                        doing="list the ports of network %s" % want["name"])]
        external = None
        if present and want["router"]:
            external = self.find_external(want["external_network"])
        router = None
        if want["router"]:
            found = self.one(net_api.routers, "router", want["router"], "router", label, project_id=project_id)
            if found is not None:
                gateway = found.external_gateway_info or {}
                gateway_id = gateway.get("network_id")
                interfaces = []
                if not present:
                    interfaces = [p.id for p in self.listing(net_api.ports, device_id=found.id,
                                                             doing="list the ports of router %s" % want["router"])
                                  if p.device_owner in ROUTER_INTERFACE_OWNERS]
                router = dict(id=found.id, name=found.name, gateway_network_id=gateway_id,
                              gateway_network=self.network_label(gateway_id, external) if gateway_id else None,
                              external_ip=external_ip(gateway), interfaces=interfaces)
        router_names = {}
        if any(p["device_owner"] in ROUTER_INTERFACE_OWNERS and (router is None or p["device_id"] != router["id"])
               for p in ports):
            router_names = dict((r.id, r.name) for r in self.listing(
                net_api.routers, project_id=project_id, doing="list the routers of project %s" % label))
        return dict(network=dict(id=network.id, name=network.name) if network is not None else None,
                    subnet=subnet, other_subnets=others, subnet_names=names, ports=ports, router=router,
                    router_names=router_names, external=external)

    # -- the run: validate -> read -> plan -> apply -------------------------------------------------------------------
    def run(self):
        want = want_of(self.params)
        problems = validate(want)
        if problems:
            self.fail("; ".join(problems))
        self.connect()
        project_id, want["project"] = self.project()
        snapshot = self.read(want, project_id)
        ops = plan(snapshot, want)
        for warning in notes(snapshot, want, ops):
            self.warn(warning)
        result = dict(changed=bool(ops), operations=[op["msg"] for op in ops])
        result.update(self.described(snapshot, want))
        if self.diff_mode:
            before = summary(snapshot, want)
            result["diff"] = dict(before=before, after=summary_after(before, ops, snapshot, want))
        if not self.check_mode:
            self.execute(ops, snapshot, want, project_id, result)
        result["api_retries_used"] = self.retry_count
        return result

    def described(self, snapshot, want):
        """network, subnet and router of the result, as they are or (present) will be; ids null until created."""
        network, subnet, router = snapshot["network"], snapshot["subnet"], snapshot["router"]
        if subnet is not None:
            subnet_out = dict(id=subnet["id"], name=subnet["name"], cidr=subnet["cidr"],
                              gateway_ip=subnet["gateway_ip"])
        elif want["state"] == "present":
            net = ipaddress.IPv4Network(want["cidr"])
            subnet_out = dict(id=None, name=want["subnet_name"], cidr=net.with_prefixlen,
                              gateway_ip=want["gateway"] or first_address(net))
        else:
            subnet_out = dict(id=None, name=want["subnet_name"], cidr=None, gateway_ip=None)
        router_out = None
        if want["router"]:
            router_out = dict(id=router["id"] if router else None, name=want["router"],
                              external_ip=router["external_ip"] if router else None)
        return dict(network=dict(id=network["id"] if network else None, name=want["name"]), subnet=subnet_out,
                    router=router_out)

    # -- writing ----------------------------------------------------------------
    def execute(self, ops, snapshot, want, project_id, result):
        """Run the plan's operations; result's network, subnet and router gain what was created."""
        net_api = self.conn.network
        network_id = snapshot["network"]["id"] if snapshot["network"] else None
        subnet_id = snapshot["subnet"]["id"] if snapshot["subnet"] else None
        router_id = snapshot["router"]["id"] if snapshot["router"] else None
        external_id = (snapshot["external"] or {}).get("id")

        def named(list_func, name, **filters):
            found = [item for item in list_func(name=name, **filters) if item.name == name]
            return found[0] if len(found) == 1 else None

        for op in ops:
            kind, doing = op["op"], op["msg"]
            if kind == "create_network":
                created = self.call(net_api.create_network, name=want["name"], doing=doing,
                                    recheck=lambda: named(net_api.networks, want["name"], project_id=project_id))
                network_id = created.id
                result["network"]["id"] = network_id
            elif kind == "create_subnet":
                attrs = dict(name=want["subnet_name"], network_id=network_id, ip_version=4, cidr=want["cidr"],
                             is_dhcp_enabled=True, dns_nameservers=want["dns_nameservers"])
                if want["gateway"]:
                    attrs["gateway_ip"] = want["gateway"]
                created = self.call(net_api.create_subnet, doing=doing, recheck=lambda: named(
                    net_api.subnets, want["subnet_name"], network_id=network_id), **attrs)
                subnet_id = created.id
                result["subnet"].update(id=created.id, cidr=created.cidr, gateway_ip=created.gateway_ip)
            elif kind == "create_router":
                created = self.call(net_api.create_router, name=want["router"],
                                    external_gateway_info=dict(network_id=external_id), doing=doing,
                                    recheck=lambda: named(net_api.routers, want["router"], project_id=project_id))
                router_id = created.id
                result["router"].update(id=created.id, external_ip=external_ip(created.external_gateway_info))
            elif kind == "set_gateway":
                updated = self.call(net_api.update_router, router_id,
                                    external_gateway_info=dict(network_id=external_id), doing=doing)
                result["router"]["external_ip"] = external_ip(updated.external_gateway_info)
            elif kind == "add_interface":
                def attached(router_id=router_id, subnet_id=subnet_id):
                    ports = net_api.ports(device_id=router_id, network_id=network_id)
                    return next((p for p in ports if subnet_id in [f.get("subnet_id") for f in p.fixed_ips or []]),
                                None)

                # positional: the keyword is subnet_id in openstacksdk 0.x, subnet in 4.x
                self.call(net_api.add_interface_to_router, router_id, subnet_id, doing=doing, recheck=attached)
            elif kind == "remove_interface":
                self.call(net_api.remove_interface_from_router, op["router_id"], None, op["port_id"], doing=doing,
                          delete=True)
            elif kind == "delete_router":
                self.call(net_api.delete_router, router_id, ignore_missing=True, doing=doing)
            elif kind == "delete_subnet":
                self.call(net_api.delete_subnet, subnet_id, ignore_missing=True, doing=doing)
            elif kind == "delete_network":
                self.call(net_api.delete_network, network_id, ignore_missing=True, doing=doing)
