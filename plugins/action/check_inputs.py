# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of osdeploy.nova.check_inputs: the roles' inputs, checked on the
controller before any task changes anything. It reads the variables itself, by
name, so that no secret is ever a task argument (arguments show with -vvv)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleError
from ansible.module_utils.six import string_types
from ansible.plugins.action import ActionBase

from ansible_collections.osdeploy.nova.plugins.module_utils.inputs import (
    address_problems, address_range_problems, interface_problems, membership_problems, network_problems,
    value_problems, vni_ranges_problems)

_UNSET = object()


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("secrets", "addresses", "interfaces", "networks", "host_interfaces", "host_addresses",
                             "within", "vni_ranges", "address_ranges"))

    def _value(self, task_vars, name):
        """The variable's value, _UNSET when it is not defined or cannot be rendered."""
        if name not in task_vars:
            return _UNSET
        try:
            return self._templar.template(task_vars[name])
        except AnsibleError:
            return _UNSET

    def _set_value(self, task_vars, name):
        """The variable's value, None when it is not defined or cannot be rendered."""
        value = self._value(task_vars, name)
        return None if value is _UNSET else value

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        secrets = args.get("secrets") or []
        addresses = args.get("addresses") or []
        vni_ranges = args.get("vni_ranges") or []
        address_ranges = args.get("address_ranges") or []
        if not all(isinstance(arg, list) for arg in (secrets, addresses, vni_ranges, address_ranges)):
            result.update(failed=True, msg="check_inputs: secrets, addresses, vni_ranges and address_ranges must "
                                           "be lists")
            return result
        for item in address_ranges:
            if (not isinstance(item, dict) or not isinstance(item.get("name"), string_types)
                    or not isinstance(item.get("outside") or [], list)
                    or set(item) - set(("name", "network", "outside"))):
                result.update(failed=True, msg="check_inputs: each of address_ranges must be a dict with a name, "
                                               "optionally a network and a list outside, got %r" % (item,))
                return result

        problems = []
        for item in secrets:
            if isinstance(item, string_types):
                item = {"name": item}
            name = item["name"]
            value = self._value(task_vars, name)
            problems += value_problems(name, None if value is _UNSET else value, item.get("rules") or [],
                                       required=item.get("required", True))

        facts = task_vars.get("ansible_facts") or {}
        known = None
        if args.get("host_addresses") is not None:
            known = list(args["host_addresses"])
        elif "all_ipv4_addresses" in facts:
            known = list(facts.get("all_ipv4_addresses") or []) + list(facts.get("all_ipv6_addresses") or [])
        for name in addresses:
            value = self._value(task_vars, name)
            if value is _UNSET or value in (None, ""):
                problems.append("%s is not set and has no default here (no facts gathered?): set it to this "
                                "host's management address" % name)
            else:
                problems += address_problems(name, value, known)

        interfaces = args.get("interfaces") or []
        networks = args.get("networks") or []
        host_interfaces = args.get("host_interfaces")
        if host_interfaces is None and "interfaces" in facts:
            host_interfaces = facts.get("interfaces")
        for name in interfaces:
            value = self._value(task_vars, name)
            problems += interface_problems(name, None if value is _UNSET else value, host_interfaces)
        host_networks = []
        for iface in facts.get("interfaces") or []:
            info = facts.get(iface.replace("-", "_")) or {}
            for addr in [info.get("ipv4")] + list(info.get("ipv4_secondaries") or []):
                if isinstance(addr, dict) and addr.get("address") and addr.get("netmask"):
                    host_networks.append("%s/%s" % (addr["address"], addr["netmask"]))
        for name in networks:
            value = self._value(task_vars, name)
            problems += network_problems(name, None if value is _UNSET else value, host_networks)

        within = args.get("within") or []
        for name in within:
            value = self._value(task_vars, name)
            problems += membership_problems(name, None if value is _UNSET else value, known)

        for name in vni_ranges:
            problems += vni_ranges_problems(name, self._set_value(task_vars, name))

        read = []
        for item in address_ranges:
            network_name = item.get("network")
            outside = [(other, self._set_value(task_vars, other)) for other in item.get("outside") or []]
            for found in address_range_problems(
                    item["name"], self._set_value(task_vars, item["name"]), network_name,
                    self._set_value(task_vars, network_name) if network_name else None, outside):
                # a variable named in several outside lists is refused once
                if found not in problems:
                    problems.append(found)
            read += [item["name"]] + ([network_name] if network_name else []) + [pair[0] for pair in outside]

        result["changed"] = False
        result["checked"] = sorted(set([i if isinstance(i, string_types) else i["name"] for i in secrets]
                                       + list(addresses) + list(interfaces) + list(networks) + list(within)
                                       + list(vni_ranges) + read))
        if problems:
            result["failed"] = True
            result["msg"] = "Refused before any change: " + "; ".join(problems) + "."
        return result
