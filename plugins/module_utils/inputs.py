# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules the roles apply to their inputs before anything changes.

Pure functions, used by the check_inputs action plugin and unit-tested without
Ansible. A rule returns the reason a value is refused (never the value), or None.
Which variable gets which rule is data in the roles (vars/main.yml), so that a
release whose libraries lift a restriction drops a rule, not code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import string

from ansible_collections.osdeploy.nova.plugins.module_utils.credentials import RABBITMQ_SLASH_ERROR

_UNRESERVED = frozenset(string.ascii_letters + string.digits + "._~-")


def _printable_ascii(value):
    if any(not " " <= ch <= "~" for ch in value):
        return ("must hold printable ASCII characters only (space to '~'): PyMySQL, the database driver of "
                "every OpenStack service, sends it as latin-1 and could not log in with other characters")
    return None


def _no_slash(value):
    if "/" in value:
        return "must not contain '/': " + RABBITMQ_SLASH_ERROR.split(": ", 1)[1]
    return None


def _url_unreserved(value):
    if any(ch not in _UNRESERVED for ch in value):
        return ("must consist of letters, digits and . _ ~ - only: keystone-manage (Zed and Epoxy alike) passes its "
                "[database] connection URL to alembic without escaping, and the percent-encoding any other "
                "character needs makes every keystone-manage db_sync fail. Choose such a value (longer instead)")
    return None


RULES = {
    "printable_ascii": _printable_ascii,
    "no_slash": _no_slash,
    "url_unreserved": _url_unreserved,
}


def value_problems(name, value, rules, required=True):
    """Reasons why variable `name` with `value` is refused, as sentences naming it."""
    if value is None or (isinstance(value, str) and value == ""):
        if required:
            return ["%s is not set: the roles have no default for it. Set it in the inventory or an Ansible "
                    "Vault file (the local lab writes random ones)" % name]
        return []
    if not isinstance(value, str):
        return ["%s must be a string, got a %s" % (name, type(value).__name__)]
    problems = []
    for rule in rules:
        try:
            check = RULES[rule]
        except KeyError:
            raise ValueError("unknown input rule %r for %s (rules: %s)" % (rule, name, ", ".join(sorted(RULES))))
        reason = check(value)
        if reason:
            problems.append("%s %s" % (name, reason))
    return problems


def address_problems(name, value, host_addresses=None):
    """`value` must be an IP address, and one of this host's when its addresses are known."""
    try:
        addr = ipaddress.ip_address(str(value).strip())
    except ValueError:
        return ["%s must be an IP address of this host on the management network, got %r" % (name, value)]
    if host_addresses is not None:
        known = set()
        for a in host_addresses:
            try:
                known.add(ipaddress.ip_address(str(a).split("%", maxsplit=1)[0]))
            except ValueError:
                continue
        if addr not in known and not addr.is_loopback:
            return ["%s is %s, which is not an address of this host (it has %s): services would bind to an "
                    "address they cannot use. Set %s to this host's management address"
                    % (name, addr, ", ".join(sorted(str(a) for a in known)) or "none", name)]
    return []


def interface_problems(name, value, host_interfaces=None):
    """`value`, when set, must name a network interface of this host (when its interfaces are known)."""
    if value in (None, ""):
        return []
    if not isinstance(value, str):
        return ["%s must be an interface name, got a %s" % (name, type(value).__name__)]
    if host_interfaces is not None and value not in host_interfaces:
        return ["%s is %r, which is not a network interface of this host (it has %s): set %s to the interface "
                "that carries that network here (per host, in host_vars, when names differ)"
                % (name, value, ", ".join(sorted(host_interfaces)) or "none", name)]
    return []


def network_problems(name, value, host_networks=None):
    """`value`, when set, must be an IPv4/IPv6 network (CIDR) that overlaps none of
    this host's own networks (`host_networks`: networks of its addresses)."""
    if value in (None, ""):
        return []
    try:
        net = ipaddress.ip_network(str(value).strip(), strict=True)
    except ValueError as exc:
        return ["%s must be a network in CIDR notation such as 203.0.113.0/24, got %r (%s)" % (name, value, exc)]
    for other in host_networks or []:
        try:
            other = ipaddress.ip_network(str(other), strict=False)
        except ValueError:
            continue
        if other.version == net.version and other.overlaps(net) and not other.network_address.is_loopback:
            return ["%s (%s) overlaps %s, a network of this host's own addresses (the management network): "
                    "servers would take addresses that the hosts use. Choose a network the hosts are not on"
                    % (name, net, other)]
    return []


def addresses_in_network(addresses, net):
    """The texts of `addresses` (stripped) that are addresses in `net` (an ipaddress network); a scope
    (`%eth0`) is left out of the comparison, anything that is not an address is skipped."""
    found = []
    for text in addresses:
        text = str(text).strip()
        try:
            addr = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            continue
        if addr.version == net.version and addr in net:
            found.append(text)
    return found


def membership_problems(name, value, host_addresses=None):
    """`value`, when set, must be a network (CIDR) that this host has an address in (`host_addresses`, when
    known): the network a host is reached at for some purpose, such as migrations."""
    if value in (None, ""):
        return []
    try:
        net = ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError as exc:
        return ["%s must be a network in CIDR notation such as 10.0.5.0/24, got %r (%s)" % (name, value, exc)]
    if host_addresses is None or addresses_in_network(host_addresses, net):
        return []
    return ["%s is %s, but this host has no address in it (its addresses: %s): give the host an address there, "
            "or set %s to a network that every compute host is on (empty: the management network)"
            % (name, net, ", ".join(str(a) for a in host_addresses) or "none", name)]
