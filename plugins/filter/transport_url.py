# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: transport_url
short_description: Build Nova's RabbitMQ transport_url with the credentials percent-encoded
version_added: 0.1.0
author:
  - osdeploy.nova developers (@osdeploy)
description:
  - Returns C(rabbit://USER:PASSWORD@HOST1:PORT,USER:PASSWORD@HOST2:PORT/VHOST), the form of
    Nova's C([DEFAULT] transport_url) and of a cell's transport URL.
  - The user and the password are percent-encoded, so passwords with C(@), C(:), C(%),
    C(#), C(?), quotes, spaces or C($) survive; a C($) becomes C(%24), which also keeps oslo.config
    from reading it as a variable.
  - A user or password with C(/) is refused with an error, because oslo.messaging of Zed decodes
    the URL and hands the credentials to kombu with the C(/) unencoded, and every Nova service that
    uses RabbitMQ then exits at start.
  - The input is the user name; the password and the hosts follow as positional arguments.
positional: password, hosts
options:
  _input:
    description: The RabbitMQ user name.
    type: str
    required: true
  password:
    description: The user's password. V(null) leaves the password out.
    type: str
    required: true
  hosts:
    description: One RabbitMQ host, or a list of them (a cluster). IPv6 addresses are put in brackets.
    type: list
    elements: str
    required: true
  port:
    description: The AMQP port of every host.
    type: int
    default: 5672
  vhost:
    description: The RabbitMQ virtual host; C(/) (the default vhost) gives a URL ending in C(/).
    type: str
    default: /
  scheme:
    description: The oslo.messaging driver.
    type: str
    default: rabbit
notes:
  - The result contains the password. Write it with C(no_log) tasks and files of mode C(0640) or stricter.
"""

EXAMPLES = r"""
- name: Nova's transport URL for a single controller
  ansible.builtin.set_fact:
    nova_transport_url: "{{ 'openstack' | osdeploy.nova.transport_url(rabbit_password, 'controller') }}"
  no_log: true
  # with the password p@ss -> rabbit://openstack:p%40ss@controller:5672/

- name: For a three-node RabbitMQ cluster and a vhost of its own
  ansible.builtin.set_fact:
    nova_transport_url: "{{ 'nova' | osdeploy.nova.transport_url(rabbit_password, ['mq1', 'mq2', 'mq3'], vhost='nova') }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: The URL, with user and password percent-encoded.
  type: str
  sample: rabbit://openstack:p%40ss@controller:5672/
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.osdeploy.nova.plugins.module_utils.credentials import transport_url as _transport_url
from ansible_collections.osdeploy.nova.plugins.plugin_utils.filter_args import port_arg, text_arg


def transport_url(user, password, hosts, port=5672, vhost="/", scheme="rabbit"):
    """'openstack' | osdeploy.nova.transport_url(password, hosts[, port=, vhost=, scheme=])"""
    name = "transport_url"
    user = text_arg(user, "the user (the filter's input)", filter_name=name)
    password = text_arg(password, "password", allow_none=True, filter_name=name)
    if isinstance(hosts, (list, tuple)):
        hosts = [text_arg(h, "each host", filter_name=name) for h in hosts]
    else:
        hosts = [text_arg(hosts, "hosts", filter_name=name)]
    if not hosts:
        raise AnsibleFilterError("osdeploy.nova.transport_url: hosts must name at least one RabbitMQ host")
    port = port_arg(port, filter_name=name) or 5672
    vhost = text_arg(vhost, "vhost", filter_name=name)
    scheme = text_arg(scheme, "scheme", filter_name=name)
    try:
        return _transport_url(user, password, hosts, port=port, vhost=vhost, scheme=scheme)
    except ValueError as e:
        raise AnsibleFilterError("osdeploy.nova.transport_url: %s" % e)


class FilterModule(object):
    def filters(self):
        return {"transport_url": transport_url}
