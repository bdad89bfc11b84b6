# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host firewall (module host_firewall): what its three backends share.

- The rule and tag model: the options checked and made canonical (``validate``), the rules wanted as plain dicts
  (``desired_rules``) whose comment ``NAME:HASH`` identifies them (``rule_hash``), and which comments a run owns
  (``owned``).
- Choosing the backend: which options firewalld's state refuses (``refusal``), whether firewalld serves the run
  (``uses_firewalld``), whether nftables is read (``reads_nftables``) and which firewall is the active one
  (``choose_backend``).
- ``FirewallModule``, the module skeleton (module_utils/base.py) with what every backend runs through: its commands,
  its file reads and atomic writes, and the end of the run (message and diff).

The backends are module_utils/firewall_nftables.py, firewall_iptables.py and firewall_firewalld.py: each has its
pure planning functions and a ``Backend`` class that reads the firewall and applies the plan through a
FirewallModule. Everything here but the two classes is plain functions over plain data.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import ipaddress
import json
import os
import re

from ansible_collections.osdeploy.nova.plugins.module_utils.base import OsdeployModule

# the Debian package of each command a backend runs (any other: iptables)
PACKAGES = {"nft": "nftables", "firewall-cmd": "firewalld"}
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


# -- the desired rules --------------------------------------------------------------------------
def check_name(name):
    if not NAME_RE.match(name or ""):
        raise ValueError("name: %r is not a valid tag: use 1 to 64 letters, digits, '-' or '_' (it goes into rule "
                         "comments and a file name)" % (name,))


def parse_sources(sources):
    """The sources -> {4: [networks], 6: [networks]}, sorted, without duplicates and without networks that another
    source contains (adjacent ones are kept apart: two hosts stay two addresses); ValueError names a bad one."""
    found = {4: [], 6: []}
    for value in sources:
        try:
            net = ipaddress.ip_network(str(value).strip(), strict=False)
        except ValueError:
            raise ValueError("sources: %r is not an IPv4/IPv6 address or network: give addresses such as "
                             "192.168.58.12 or networks such as 192.168.58.0/24" % (value,))
        found[net.version].append(net)
    for family, nets in found.items():
        nets = sorted(set(nets))
        found[family] = [net for net in nets if not any(other != net and net.subnet_of(other) for other in nets)]
    return found


def check_ports(ports, option):
    for port in ports:
        if not 1 <= port <= 65535:
            raise ValueError("%s: %s is not a port number: give ports from 1 to 65535" % (option, port))
    return sorted(set(ports))


def validate(params):
    """The module's options -> (sources, tcp ports, udp ports), canonical; ValueError names the option at fault."""
    check_name(params["name"])
    sources = parse_sources(params["sources"] or [])
    tcp = check_ports(params["tcp_ports"] or [], "tcp_ports")
    udp = check_ports(params["udp_ports"] or [], "udp_ports")
    if params["state"] == "present":
        if not params["sources"]:
            raise ValueError("sources: at least one address or network is needed with state=present (the compute "
                             "hosts' addresses or the management network); to remove the rules use state=absent")
        if not tcp and not udp:
            raise ValueError("tcp_ports, udp_ports: at least one port is needed with state=present; to remove the "
                             "rules use state=absent")
    return sources, tcp, udp


def address_text(net):
    """A host network as its address (192.168.58.12), any other as CIDR."""
    return str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)


def rule_hash(family, protocol, sources, ports):
    """First 12 hex digits of sha256 over the canonical rule: what its comment identifies."""
    canonical = json.dumps({"family": "ipv%d" % family, "protocol": protocol, "sources": list(sources),
                            "ports": sorted(ports)}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def desired_rules(name, sources, tcp_ports, udp_ports, chunk=None):
    """One rule dict per address family with sources and protocol with ports (per chunk of ports if given)."""
    rules = []
    for family in (4, 6):
        addrs = [address_text(net) for net in sources.get(family, [])]
        if not addrs:
            continue
        for protocol, ports in (("tcp", sorted(set(tcp_ports))), ("udp", sorted(set(udp_ports)))):
            step = chunk or len(ports) or 1
            for start in range(0, len(ports), step):
                part = ports[start:start + step]
                rules.append(dict(family=family, protocol=protocol, sources=addrs, ports=part,
                                  comment="%s:%s" % (name, rule_hash(family, protocol, addrs, part))))
    return rules


def owned(comment, name):
    return (comment or "").startswith(name + ":")


# -- choosing the backend -----------------------------------------------------------------------
def uses_firewalld(backend, firewalld):
    """Whether firewalld serves the run: asked for, or found running (firewalld: None, not installed, or whether
    it runs)."""
    return backend == "firewalld" or (backend == "auto" and bool(firewalld))


def refusal(backend, present, persist, firewalld):
    """Why the options cannot be served with firewalld in the state it is in (see uses_firewalld), or None."""
    if backend == "firewalld" and not firewalld:
        return ("backend: firewalld %s on this host: start it (systemctl enable --now firewalld), or use "
                "backend: auto, nftables or iptables" % ("is not installed" if firewalld is None else "does not run"))
    if firewalld and backend in ("nftables", "iptables") and present:
        return ("backend: %s: firewalld runs on this host and rebuilds the %s rules on every reload, so they "
                "are not edited directly; use backend: firewalld (or auto)" % (backend, backend))
    if uses_firewalld(backend, firewalld) and present and not persist:
        return ("persist: false is not possible with firewalld: a firewalld policy can only be made in "
                "its permanent configuration; leave persist at true, or stop firewalld and use "
                "nftables or iptables")
    return None


def reads_nftables(backend, iptables_active, present):
    """Whether nftables is read: asked for, or with auto when iptables does not drop (or to remove rules)."""
    return backend == "nftables" or (backend == "auto" and (not iptables_active or not present))


def choose_backend(backend, iptables_active, nftables_active):
    """(the backend that gets the rules, whether it drops): iptables before nftables, 'none' when neither drops
    (with auto)."""
    if backend == "iptables" or (backend == "auto" and iptables_active):
        return "iptables", iptables_active
    if backend == "nftables" or nftables_active:
        return "nftables", nftables_active
    return "none", False


def summary(result, present):
    """The message of a finished run."""
    if present:
        msg = "%s: %d rule(s) added, %d removed" % (result["backend"], len(result["added"]), len(result["removed"]))
    else:
        msg = "%d owned rule(s) removed" % len(result["removed"])
    if not result["changed"]:
        msg += "; nothing to change"
    return msg


# -- the backends and the module they run through -------------------------------------------------
class Backend(object):
    """A backend (module_utils/firewall_*.py): reads its firewall and applies its plan through ``module``, a
    FirewallModule."""

    def __init__(self, module):
        self.module = module


class FirewallModule(OsdeployModule):
    """The module skeleton with the commands and files of a host firewall.

    The backends add to ``result`` (``chains``, ``rules``, ``added``, ``removed``, ``changed``, ``persisted``)
    and to ``before``/``after``, the owned rules before and after (the diff), each after its chain.
    """

    def start(self):
        self.result = dict(changed=False, backend="none", active=False, chains=[], rules=[], added=[], removed=[],
                           persisted=False)
        self.before, self.after = [], []

    def installed(self, command):
        return self.module.get_bin_path(command) is not None

    def command(self, argv, data=None, allowed=(0,)):
        """base.py's run_command: a missing command names its Debian package, a failing script is shown."""
        return self.run_command(argv, data=data, allowed=allowed, binary_data=data is not None, show_input=True,
                                missing="%s is not installed on this host: install it (Debian package %s), or "
                                "choose another backend" % (argv[0], PACKAGES.get(argv[0], "iptables")))

    def read_files(self, paths):
        return dict((path, self.read_file(path)) for path in paths)

    def set_file(self, path, content, mode=None):
        """Write content (bytes) with base.py's write_file (mode None: the old file's), or remove the file when
        content is None."""
        if content is None:
            if os.path.exists(path):
                os.unlink(path)
            return
        self.write_file(path, content, mode)

    def finish(self, present):
        if self.diff_mode:
            self.result["diff"] = dict(before="".join(line + "\n" for line in self.before),
                                       after="".join(line + "\n" for line in self.after))
        self.result["msg"] = summary(self.result, present)
        return self.result
