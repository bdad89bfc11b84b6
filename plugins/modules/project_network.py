#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: project_network
short_description: A project's self-service network, its IPv4 subnet and its router to the provider network
version_added: 0.1.0
description:
  - Ensures, in one openstacksdk session as a member of a project, what the install guide's self-service network
    (networking option 2) creates one CLI command at a time (C(openstack network create), C(subnet create),
    C(router create), C(router set --external-gateway), C(router add subnet)).
  - The network O(name) in the project of the cloud's token (a plain network, neither shared nor external).
  - Its IPv4 subnet O(subnet_name) with the range O(cidr), DHCP enabled.
  - Optionally the router O(router), whose external gateway is on the network O(external_network), with the subnet
    attached to it as an interface.
  - An existing network, subnet or router is kept as it is. Nothing is ever replaced or rewired; where the cloud
    holds something else than the options say (a subnet with another range, a router on another external network)
    the module fails, changes nothing and says what to do.
  - Everything is looked up in the cloud's project only, so another project's network or router of the same name
    is never taken.
author:
  - osdeploy.nova developers (@osdeploy)
extends_documentation_fragment:
  - osdeploy.nova.openstack
options:
  cloud:
    description:
      - The clouds.yaml cloud the module connects as (the guide's C(demo-openrc)). The network, subnet and router
        are made in the project its token is scoped to, so the cloud must name a project; a member of the project
        is enough, no admin role is needed.
    type: str
    required: true
  name:
    description: Name of the network.
    type: str
    required: true
  subnet_name:
    description: Name of the network's subnet. Defaults to O(name) followed by C(-subnet).
    type: str
  cidr:
    description:
      - The subnet's IPv4 range in CIDR notation, the network address with its prefix length (C(172.16.1.0/24)).
      - An existing subnet O(subnet_name) with another range is not replaced; the module fails, naming the range
        it has.
      - Required with O(state=present).
    type: str
  gateway:
    description:
      - The subnet's gateway address, a host address of O(cidr). Neutron's default is the first address of
        O(cidr).
      - Only used when the subnet is created; an existing subnet keeps its gateway (with a warning when it differs).
    type: str
  dns_nameservers:
    description:
      - The DNS servers (IP addresses) the subnet's DHCP hands to instances.
      - Only used when the subnet is created; an existing subnet keeps its DNS servers (with a warning when they
        differ).
    type: list
    elements: str
    default: []
  router:
    description:
      - Name of the router whose external gateway is on O(external_network) and to which the subnet is attached.
        Empty or omitted, no router is made.
      - An existing router without an external gateway gets it; one whose gateway is on another network is not
        rewired, the module fails.
      - With O(state=absent), the router is deleted when it has no interfaces left once the subnet is detached;
        otherwise only detached.
    type: str
  external_network:
    description:
      - Name or id of the provider network the router's external gateway is on (the guide's C(provider)). It must
        be an external network (C(router:external)); an admin makes one with
        C(openstack network set --external NAME).
      - Required when O(router) is set and O(state=present); not used with O(state=absent).
    type: str
  state:
    description:
      - V(present) makes what is missing.
      - V(absent) removes, in that order, the interfaces routers have on the network (the subnet's interface on
        O(router) first), the router O(router) when it has no other interfaces, the subnet, and the network. A
        network that still has other ports (servers', or ports made by hand) is not touched; the module fails and
        lists them. It never deletes a server or a server's port.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    description:
      - Reads everything and reports exactly the operations it would run (RV(operations)), without writing
        anything. Ids of what would be created are null.
  diff_mode:
    support: full
    description:
      - Before and after, as a dict of C(network) (name), C(subnet) (range), C(router) (name), C(external_network)
        (the router's) and C(interface) (whether the subnet is attached to the router).
notes:
  - Neutron's default policies let a project member do all of it; only making the provider network external needs an
    admin (the guide's C(openstack network create --external ... provider)).
  - The subnet is attached to the router by its gateway address; a subnet without a gateway, or whose gateway is
    already on another router, cannot be attached and the module says so.
  - The options O(gateway) and O(dns_nameservers) are not applied to an existing subnet; the module warns when the
    subnet has others, and when it has DHCP disabled.
  - Transient failures of the cloud (connection resets, HTTP 502/503/504) are retried (O(api_retries)); a create
    that failed so is looked for before it is sent again.
requirements:
  - openstacksdk (Debian C(python3-openstacksdk)) on the host that runs the module.
seealso:
  - module: osdeploy.nova.keystone_project_user
  - name: Install guide, self-service network
    description: The guide's commands this module runs as one step.
    link: https://docs.openstack.org/install-guide/launch-instance-networks-selfservice.html
"""

EXAMPLES = r"""
- name: The guide's self-service network, its subnet and its router to the provider network
  osdeploy.nova.project_network:
    cloud: osdeploy-demo
    name: selfservice
    cidr: 172.16.1.0/24
    gateway: 172.16.1.1
    dns_nameservers: [8.8.4.4]
    router: router
    external_network: provider

- name: A network and its subnet only, without a router
  osdeploy.nova.project_network:
    cloud: osdeploy-demo
    name: internal
    subnet_name: internal-v4
    cidr: 10.20.0.0/24

- name: Remove them again (fails, listing the ports, while servers use the network)
  osdeploy.nova.project_network:
    cloud: osdeploy-demo
    name: selfservice
    router: router
    state: absent
"""

RETURN = r"""
network:
  description:
    - The network. With O(state=absent), the one that was found (and removed).
    - The id is null in check mode when the network would be created, and with O(state=absent) when there is none.
  returned: always
  type: dict
  contains:
    id:
      description: The network's id.
      type: str
      returned: always
      sample: 5b5c7a1e-3c52-4f0e-9a3c-2f3d9a5a0f11
    name:
      description: The network's name.
      type: str
      returned: always
      sample: selfservice
  sample:
    id: 5b5c7a1e-3c52-4f0e-9a3c-2f3d9a5a0f11
    name: selfservice
subnet:
  description:
    - The subnet. With O(state=absent), the one that was found (and removed).
    - The id is null in check mode when the subnet would be created (its gateway address is then the one it will
      get), and with O(state=absent) when there is none.
  returned: always
  type: dict
  contains:
    id:
      description: The subnet's id.
      type: str
      returned: always
      sample: 8f0d3b0e-6a7b-4c2e-9f51-1b0f3c2d4e5a
    name:
      description: The subnet's name.
      type: str
      returned: always
      sample: selfservice-subnet
    cidr:
      description: The subnet's range (null with O(state=absent) when there is no subnet).
      type: str
      returned: always
      sample: 172.16.1.0/24
    gateway_ip:
      description: The subnet's gateway address (null when it has none).
      type: str
      returned: always
      sample: 172.16.1.1
  sample:
    id: 8f0d3b0e-6a7b-4c2e-9f51-1b0f3c2d4e5a
    name: selfservice-subnet
    cidr: 172.16.1.0/24
    gateway_ip: 172.16.1.1
router:
  description:
    - The router, null when O(router) is not set. With O(state=absent), the one that was found (and removed, unless
      it has other interfaces).
    - The id is null in check mode when the router would be created, and with O(state=absent) when there is none.
  returned: always
  type: dict
  contains:
    id:
      description: The router's id.
      type: str
      returned: always
      sample: 2a9c4d6e-0b1f-4a3c-8d5e-7f6a5b4c3d2e
    name:
      description: The router's name.
      type: str
      returned: always
      sample: router
    external_ip:
      description: The router's address on the external network (null in check mode when its gateway would be
        set, and when Neutron shows none).
      type: str
      returned: always
      sample: 203.0.113.104
  sample:
    id: 2a9c4d6e-0b1f-4a3c-8d5e-7f6a5b4c3d2e
    name: router
    external_ip: 203.0.113.104
operations:
  description: What was done (or, in check mode, would be done), one sentence per operation, in order. Empty when
    nothing changed.
  returned: always
  type: list
  elements: str
  sample:
    - create network selfservice in project myproject
    - create subnet selfservice-subnet 172.16.1.0/24 on network selfservice
    - create router router with its external gateway on network provider
    - attach subnet selfservice-subnet to router router
api_retries_used:
  description: How many transient failures were retried during this run.
  returned: always
  type: int
  sample: 0
"""

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils.project_network_module import ProjectNetworkModule


class ProjectNetwork(ProjectNetworkModule):
    """The module's options; the steps are ProjectNetworkModule's (module_utils/project_network_module.py)."""

    argument_spec = dict(
        cloud=dict(type="str", required=True),
        name=dict(type="str", required=True),
        subnet_name=dict(type="str"),
        cidr=dict(type="str"),
        gateway=dict(type="str"),
        dns_nameservers=dict(type="list", elements="str", default=[]),
        router=dict(type="str"),
        external_network=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def main():
    base.main(ProjectNetwork)


if __name__ == "__main__":
    main()
