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
import re
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
                    "address they cannot use. Set %s to %s"
                    % (name, addr, ", ".join(sorted(str(a) for a in known)) or "none", name,
                       "this host's management address" if name == "osdeploy_management_ip"
                       else "one of this host's addresses")]
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


VNI_MAX = 2 ** 24 - 1
_VNI_RANGE = re.compile(r"^([+-]?[0-9]+)\s*:\s*([+-]?[0-9]+)$")
_VNI_RANGE_FORM = ("must be MIN:MAX with 1 <= MIN <= MAX <= %d (VXLAN's 24-bit VNI), or several such ranges "
                   "that do not overlap, joined by commas ('1:1000,2000:2999') or as a list" % VNI_MAX)


def _sexagesimal(number):
    """The unquoted MIN:MAX (or longer) that YAML 1.1 reads as the base-60 `number`."""
    digits = []
    while number:
        number, digit = divmod(number, 60)
        digits.insert(0, str(digit))
    return ":".join(digits)


def _vni_parts(value):
    """The comma-separated parts of a vni_ranges value (a string or a list of strings), or a reason."""
    items = value if isinstance(value, list) else [value]
    parts = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            return None, "got a %s" % type(item).__name__
        if isinstance(item, int):
            if item >= 60:
                return None, ("got the number %d: YAML reads an unquoted %s as a base-60 number, quote it"
                              % (item, _sexagesimal(item)))
            return None, "got the number %d" % item
        parts += [part.strip() for part in item.split(",")]
    return parts, None


def vni_ranges_problems(name, value):
    """`value` must hold Neutron's VXLAN VNI ranges ([ml2_type_vxlan] vni_ranges): MIN:MAX, several joined by
    commas, or a list of such strings, with 1 <= MIN <= MAX <= 2**24-1 and no overlaps. At most one problem."""
    if value is None or value in ("", []):
        return ["%s is not set: a project (VXLAN) network needs at least one VNI. Set it to MIN:MAX with "
                "1 <= MIN <= MAX <= %d, such as 1:1000" % (name, VNI_MAX)]
    parts, reason = _vni_parts(value)
    if reason:
        return ["%s %s, %s" % (name, _VNI_RANGE_FORM, reason)]
    reasons, ranges = [], []
    for part in parts:
        match = _VNI_RANGE.match(part)
        if not match:
            reasons.append("%r (not two integers MIN:MAX)" % part)
            continue
        low, high = int(match.group(1)), int(match.group(2))
        if low > high:
            reasons.append("%r (MIN > MAX: an empty range)" % part)
        elif low < 1:
            reasons.append("%r (MIN below 1, the lowest VNI)" % part)
        elif high > VNI_MAX:
            reasons.append("%r (MAX above %d)" % (part, VNI_MAX))
        else:
            ranges.append((low, high, part))
    for i, (low, high, part) in enumerate(ranges):
        for other_low, other_high, other in ranges[i + 1:]:
            if low <= other_high and other_low <= high:
                reasons.append("%r and %r (they overlap in %d:%d)"
                               % (part, other, max(low, other_low), min(high, other_high)))
    if reasons:
        return ["%s %s, got %s" % (name, _VNI_RANGE_FORM, ", ".join(reasons))]
    return []


def _empty(value):
    return value is None or (isinstance(value, (str, list, dict)) and not value)


def _address(value):
    if not isinstance(value, str):
        raise ValueError("not a string")
    return ipaddress.ip_address(value.strip())


def _address_range(value):
    """(first, last) of an address or a range {start, end}; ValueError with the reason otherwise."""
    if not isinstance(value, dict):
        try:
            addr = _address(value)
        except ValueError:
            raise ValueError("%r is neither an IP address nor a range {start: ADDRESS, end: ADDRESS}"
                             % (value,)) from None
        return addr, addr
    ends = []
    for key in ("start", "end"):
        if value.get(key) in (None, ""):
            raise ValueError("its %s is missing" % key)
        try:
            ends.append(_address(value.get(key)))
        except ValueError:
            raise ValueError("its %s must be an IP address, got %r" % (key, value.get(key))) from None
    start, end = ends
    if start.version != end.version:
        raise ValueError("it mixes IPv%d and IPv%d (start %s, end %s): give both ends in one version"
                         % (start.version, end.version, start, end))
    if start > end:
        raise ValueError("its start %s is after its end %s: swap them" % (start, end))
    return start, end


def _span(first, last):
    return str(first) if first == last else "%s-%s" % (first, last)


def _outside_ranges(name, value):
    """The (first, last) ranges a variable named in `outside` holds, and the problems of its form."""
    if _empty(value):
        return [], []
    ranges, reasons = [], []
    for index, item in enumerate(value if isinstance(value, list) else [value]):
        try:
            ranges.append(_address_range(item))
        except ValueError as exc:
            reasons.append("item %d: %s" % (index + 1, exc) if isinstance(value, list) else str(exc))
    problems = []
    if reasons:
        problems.append("%s must hold IP addresses and ranges {start: ADDRESS, end: ADDRESS} (one, or a list): "
                        "%s" % (name, ", ".join(reasons)))
    return ranges, problems


def address_range_problems(name, value, network_name=None, network=None, outside=()):
    """`value`, when set, must be a range {start: ADDRESS, end: ADDRESS} of IP addresses (such as a subnet's
    allocation pool) inside `network` (the CIDR that variable `network_name` holds; empty: not checked)
    without the network's own address or (IPv4) its broadcast address, which Neutron refuses in a pool, and
    overlapping no address or range that the variables of `outside` hold ((name, value) pairs: an address, a
    range or a list of them; empty: nothing)."""
    if _empty(value):
        return []
    form = "%s must be a range {start: ADDRESS, end: ADDRESS} of IP addresses" % name
    if not isinstance(value, dict):
        return ["%s, got a %s" % (form, type(value).__name__)]
    try:
        start, end = _address_range(value)
    except ValueError as exc:
        return ["%s: %s" % (form, exc)]
    span = _span(start, end)
    problems = []
    if not _empty(network):
        try:
            net = ipaddress.ip_network(str(network).strip(), strict=False)
        except ValueError:
            problems.append("%s (%s) cannot be checked against %s, which is not a network in CIDR notation "
                            "(got %r): set %s to the network the range is on"
                            % (name, span, network_name, network, network_name))
            net = None
        if net is not None and (start.version != net.version or start not in net or end not in net):
            problems.append("%s (%s) is not inside %s (%s): both its start and its end must be addresses of that "
                            "network" % (name, span, network_name, net))
        elif net is not None:
            own = "network address" + (" (the Subnet-Router anycast address)" if net.version == 6 else "")
            ends = [(own, net.network_address, "start the range after it")]
            if net.version == 4:
                ends.append(("broadcast address", net.broadcast_address, "end the range before it"))
            for what, addr, fix in ends:
                if start <= addr <= end:
                    problems.append("%s (%s) includes %s, the %s of %s (%s), which Neutron refuses in an "
                                    "allocation pool: %s" % (name, span, addr, what, network_name, net, fix))
    for other_name, other_value in outside:
        ranges, other_problems = _outside_ranges(other_name, other_value)
        problems += other_problems
        for first, last in ranges:
            if first.version == start.version and first <= end and start <= last:
                problems.append("%s (%s) overlaps %s (%s) in %s: addresses that %s holds would be given out "
                                "from the range. Move or shrink %s to leave them out"
                                % (name, span, other_name, _span(first, last),
                                   _span(max(start, first), min(end, last)), other_name, name))
    return problems
