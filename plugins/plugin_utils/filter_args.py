# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument checks shared by the collection's URL filters (db_url, transport_url)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text


def text_arg(value, name, allow_none=False, filter_name="db_url"):
    if value is None and allow_none:
        return None
    if value is None or isinstance(value, (dict, list, tuple, set, bool)):
        raise AnsibleFilterError("osdeploy.nova.%s: %s must be a string" % (filter_name, name))
    value = to_text(value)
    if not value and name != "password":
        raise AnsibleFilterError("osdeploy.nova.%s: %s must not be empty" % (filter_name, name))
    return value


def port_arg(port, filter_name="db_url"):
    """None for no port, else the port as an int in range."""
    if port in (None, ""):
        return None
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise AnsibleFilterError("osdeploy.nova.%s: port must be a number, got %r" % (filter_name, port))
    if not 0 < port < 65536:
        raise AnsibleFilterError("osdeploy.nova.%s: port %d is out of range" % (filter_name, port))
    return port
