# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The proof that Nova works (the server_check module): its decisions, as plain functions.

Which stage a failed server failed at (``classify_fault``), how far its console
got (``scan_console``), whether its ports are ACTIVE where it runs
(``port_problems``), what a login into it says is wrong (``ssh_problems``,
its hostname: ``hostname_problem``), what keeps a network from serving servers
(``network_blockers``), whether a member's servers went one to each host
(``spread_problem``), which policy rule refused a call (``policy_rule``),
whether Placement holds a moved server's resources where it runs
(``misplaced_allocation``, ``held_by_migration``), the options checked
(``parse_params``, ``parse_flavor_spec``), and the lines a failure report or the
summary is made of. No SDK here: the steps that talk to the cloud are in
module_utils/server_proof.py and server_moves.py, and read what these functions
judge into plain dicts (or duck-typed SDK objects) first.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import subprocess
import time

STAGE_MESSAGES = {
    "scheduling": "no compute host was chosen",
    "spawn": "the compute host could not start it",
    "VIF plugging": "its network port was never reported plugged",
}

# Neutron agents that are not the L2 agent a server's port is wired by.
NOT_L2_AGENTS = ("DHCP agent", "Metadata agent", "L3 agent", "Metering agent", "BGP dynamic routing agent")

FLAVOR_SPEC_KEYS = ("vcpus", "ram", "disk")


# -- the options ---------------------------------------------------------------------------------------------------
def parse_params(p):
    """The module's options checked beyond their types: the parsed flavor_spec (None without one), or ValueError
    with the sentence to show for the first option that is wrong."""
    if not p["hosts"]:
        raise ValueError("hosts is empty: name at least one compute host")
    if p["migrate"] and len(set(p["hosts"])) < 2:
        raise ValueError("migrate needs two hosts to move a server between, hosts has %s: add a compute host or set "
                         "migrate: false" % (", ".join(p["hosts"]) or "none"))
    if p["timeout"] < 1:
        raise ValueError("timeout must be a positive number of seconds, got %s" % p["timeout"])
    for i, marker in enumerate(p["markers"]):
        if not marker.get("stage") or not marker.get("regex"):
            raise ValueError("markers[%d] needs a stage and a regex" % i)
        for key in ("regex", "failed_regex"):
            if marker.get(key):
                try:
                    re.compile(marker[key])
                except re.error as e:
                    raise ValueError("markers[%d].%s is not a valid regular expression: %s" % (i, key, e))
    if p.get("ssh_key_file") and not p.get("ping"):
        raise ValueError("ssh_key_file logs in from the namespace that ping uses: set ping: true, or leave "
                         "ssh_key_file unset")
    if p.get("ssh_key_file") and not p.get("keypair"):
        raise ValueError("ssh_key_file needs keypair (the servers must boot with the key it logs in with)")
    # no default user: each cloud image lets its own in (cloud-init's default user), none fits every image
    if p.get("ssh_key_file") and not p.get("ssh_user"):
        raise ValueError("ssh_key_file needs ssh_user, the user the image lets in with the keypair's key (cirros on "
                         "CirrOS, debian on Debian's cloud images, ubuntu on Ubuntu's, root on the osdeploy test image)")
    if p.get("ssh_user") and not p.get("ssh_key_file"):
        raise ValueError("ssh_user %s logs in with ssh_key_file: give it too (and keypair), or leave ssh_user unset"
                         % p["ssh_user"])
    if p.get("public_key") and not p.get("keypair"):
        raise ValueError("public_key needs keypair (the name of the keypair to create with it)")
    if p.get("second_network") and p.get("second_network") == p.get("network"):
        raise ValueError("second_network is network (%s): name another network, or leave it unset"
                         % p["network"])
    if p.get("flavor_spec") is not None:
        return parse_flavor_spec(p["flavor_spec"])
    return None


def parse_flavor_spec(spec):
    """flavor_spec as a dict of ints; fails (ValueError, with the sentence to show) on a missing, unknown or
    non-positive key. Strings of digits are taken: templated values arrive as strings."""
    problems = []
    unknown = sorted(str(key) for key in spec if key not in FLAVOR_SPEC_KEYS)
    if unknown:
        problems.append("unknown key%s %s" % ("s" if len(unknown) > 1 else "", ", ".join(unknown)))
    parsed = {}
    for key in FLAVOR_SPEC_KEYS:
        value = spec.get(key)
        if value is None:
            problems.append("%s is missing" % key)
            continue
        number = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and value.strip().isdigit():
            number = int(value.strip())
        if number is None or number < 1:
            problems.append("%s is %r, not a positive integer" % (key, value))
            continue
        parsed[key] = number
    if problems:
        raise ValueError("flavor_spec: %s. Give vcpus, ram (MiB) and disk (GiB) as positive integers, e.g. "
                         "flavor_spec: {vcpus: 1, ram: 128, disk: 1}" % "; ".join(problems))
    return parsed


def has_namespace(ip_netns_list, namespace):
    """Whether ``ip netns list``'s output names namespace."""
    return namespace in [line.split()[0] for line in ip_netns_list.splitlines() if line.split()]


# -- a server's boot -----------------------------------------------------------------------------------------------
def classify_fault(server_host, fault_text):
    """The stage a server in ERROR failed at, from its host and its fault message."""
    text = fault_text or ""
    low = text.lower()
    if "virtualinterfacecreateexception" in low or "os_vif" in low or "plug vif" in low:
        return "VIF plugging"
    if "exceeded maximum number of retries" in low:
        return "spawn"          # scheduled, then failed on every host it was tried on
    if not server_host or "no valid host" in low or "novalidhost" in low:
        return "scheduling"
    return "spawn"


def fault_message(record, raw):
    """The failure of record's server in ERROR, from its raw API document (older openstacksdk has no fault
    attribute): the stage, what it means, and the fault's last lines."""
    fault = raw.get("fault") or {}
    text = "%s\n%s" % (fault.get("message", ""), fault.get("details", "") or "")
    host = raw.get("OS-EXT-SRV-ATTR:host")
    stage = classify_fault(host, text)
    return "%s: server %s on %s is ERROR (%s): %s" % (
        stage, record["name"], record["host"] or host or "no host", STAGE_MESSAGES[stage], tail(text.strip(), 15))


def fixed_ipv4(addresses, network_name):
    """The fixed IPv4 addresses of a server on network_name (the API's ``{network: [{addr, version,
    OS-EXT-IPS:type}]}``), in order; a floating IP listed there too is left out."""
    return [addr.get("addr") for addr in (addresses or {}).get(network_name) or []
            if addr.get("version", 4) == 4 and addr.get("OS-EXT-IPS:type", "fixed") == "fixed"]


# What the proof runs in a guest it logged into (busybox's or any shell's tools): the metadata the guest reads
# (its uuid: the guest is the server it should be), its hostname (which a cloud image's init takes from that
# metadata), its IPv4 addresses (each NIC's), and a ping of each target (the router's gateway address: the way
# out; the other server's fixed address: east-west over the project network), each answered by a line the proof
# reads back (ssh_problems).
SSH_SCRIPT = """\
url=http://169.254.169.254/openstack/latest/meta_data.json
echo "osdeploy-metadata: $(wget -q -O - $url 2>/dev/null || curl -s $url)"
echo "osdeploy-hostname: $(hostname 2>/dev/null || uname -n)"
echo "osdeploy-addresses: $(ip -4 -o addr show | awk '{print $4}' | tr '\\n' ' ')"
for target in %s; do
  if ping -c 1 -W 2 "$target" >/dev/null 2>&1 || ping -c 1 -W 2 "$target" >/dev/null 2>&1; then
    echo "osdeploy-reached: $target"
  else
    echo "osdeploy-unreached: $target"
  fi
done
"""


def ssh_script(targets):
    """The script for a guest, pinging targets (addresses, checked to be IP addresses by the caller)."""
    return SSH_SCRIPT % " ".join(targets)


def guest_hostname(output):
    """The hostname the guest said in a login's output (ssh_script's), None when it said none."""
    found = re.search(r"^osdeploy-hostname: (\S+)\s*$", output, re.M)
    return found.group(1) if found else None


def hostname_problem(said, metadata_hostname):
    """What is wrong when the guest's hostname (said) is not the one its metadata gives, None when it is.

    The expectation is the metadata the guest itself read, not the API's OS-EXT-SRV-ATTR:hostname: that field
    is admin's (a member sees it from microversion 2.90 on), and the metadata's hostname adds Nova's
    [api] dhcp_domain (novalocal by default), which this module cannot read. The metadata is what the guest's
    init takes its name from. cloud-init (Debian's, Ubuntu's images) sets its first label, CirrOS and others the
    whole name: either is right."""
    if not metadata_hostname:
        return "the metadata the guest read gives no hostname"
    want = metadata_hostname.lower()
    if (said or "").lower() in (want, want.split(".")[0]):
        return None
    return "its hostname is %s, not %s, the metadata's (its image did not take its name from the metadata)" % (
        said or "not said", metadata_hostname)


def ssh_problems(output, server_id, addresses, targets):
    """What a login's output (ssh_script's) says is wrong, as sentences ([] when nothing): the guest's metadata
    is not the server's (server_id), its hostname is not the metadata's, an address Neutron gave one of its
    ports (addresses) is not on a NIC, a target did not answer ping."""
    problems = []
    metadata = re.search(r"^osdeploy-metadata: (.*)$", output, re.M)
    if not metadata or '"%s"' % server_id not in metadata.group(1):
        problems.append("the metadata the guest read does not hold its uuid %s (got %r)" % (
            server_id, metadata.group(1)[:200] if metadata else None))
    else:
        try:
            document = json.loads(metadata.group(1))
        except ValueError:
            document = None
        # (metadata that is not Nova's JSON document is the uuid's problem above, or this one)
        problem = hostname_problem(guest_hostname(output), document.get("hostname")) if isinstance(
            document, dict) else "the metadata the guest read is not a JSON document"
        if problem:
            problems.append(problem)
    found = re.search(r"^osdeploy-addresses: (.*)$", output, re.M)
    have = set(a.split("/")[0] for a in found.group(1).split()) if found else set()
    for addr in addresses:
        if addr not in have:
            problems.append("its port's address %s is on none of its NICs (they have %s)" % (
                addr, ", ".join(sorted(have)) or "none"))
    for target in targets:
        if not re.search(r"^osdeploy-reached: %s$" % re.escape(target), output, re.M):
            problems.append("%s does not answer its ping" % target)
    return problems


def port_problems(ports, host, addresses):
    """What is wrong with the ports of a server ACTIVE on host, as sentences ([] when nothing): each port
    must be ACTIVE and bound to host, and each fixed address Nova reports for it (addresses) on one of them.
    ports: plain dicts with id, status, host (its binding) and ips (its fixed addresses)."""
    if not ports:
        return ["it has no port"]
    problems = ["port %s is %s, bound to %s" % (port["id"], port["status"], port["host"] or "no host")
                for port in ports if port["status"] != "ACTIVE" or port["host"] != host]
    have = set(ip for port in ports for ip in port["ips"])
    problems += ["no port holds its address %s" % addr for addr in addresses if addr not in have]
    return problems


def scan_console(text, markers):
    """(index of the first marker not yet seen, a failure line or None) for the console text."""
    for i, marker in enumerate(markers):
        failed = marker.get("failed_regex")
        if failed:
            m = re.search(failed, text, re.M)
            if m:
                line = text[m.start():].splitlines()[0]
                return i, line
        if not re.search(marker["regex"], text, re.M):
            return i, None
    return len(markers), None


def spread_problem(hosts, placed):
    """What is wrong when the servers of an anti-affinity group did not go one to each of hosts, None when they
    did. placed: (server name, its host) pairs."""
    names = {}
    for name, host in placed:
        names.setdefault(host, []).append(name)
    problems = []
    for host, on_host in sorted(names.items(), key=lambda item: str(item[0])):
        if host not in hosts:
            problems.append("%s went to %s, which is not one of the hosts" % (", ".join(on_host), host))
        elif len(on_host) > 1:
            problems.append("%s all went to %s" % (", ".join(on_host), host))
    empty = [host for host in hosts if host not in names]
    if empty:
        problems.append("no server went to %s" % ", ".join(empty))
    return "; ".join(problems) or None


# How each service names the policy rule that refused a call (HTTP 403): Nova's and Placement's "Policy doesn't
# allow RULE to be performed", Neutron's "(rule:RULE) is disallowed by policy", Keystone's "not authorized to
# perform the requested action: RULE", Glance's "not authorized to complete RULE action".
POLICY_PATTERNS = (
    r"Policy (?:doesn't|does not) allow (\S+) to be performed",
    r"(\S+) is disallowed by policy",
    r"not authorized to perform the requested action: (\S+?)\.?(?:\s|$)",
    r"not authorized to complete (\S+) action",
)


def policy_rule(text):
    """The policy rule a 403 answer names, None when it names none (e.g. a quota)."""
    for pattern in POLICY_PATTERNS:
        m = re.search(pattern, text or "")
        if m:
            rule = m.group(1).strip("()\"'")
            return rule[len("rule:"):] if rule.startswith("rule:") else rule
    return None


def policy_failure(stage, doing, text):
    """The failure of a call the cloud refused with HTTP 403: the stage, the call and the policy rule."""
    rule = policy_rule(text)
    said = tail((text or "").strip(), 3)
    if rule is None:
        return "%s: refused (HTTP 403), naming no policy rule - %s: %s" % (stage, doing or "a request", said)
    return "%s: refused by the policy rule %s (HTTP 403) - %s: %s" % (stage, rule, doing or "a request", said)


# -- the network ---------------------------------------------------------------------------------------------------
def network_blockers(hosts, agents, dhcp_agents, dhcp_ports):
    """What keeps the network from serving a server on each of hosts, as (stage, reason) pairs; [] when ready.

    agents: every Neutron agent (agent_type, host, is_alive); dhcp_agents: those hosting the network;
    dhcp_ports: the network's DHCP ports (status, binding host).
    """
    blockers = []
    for host in hosts:
        l2 = [a for a in agents if a["host"] == host and a["agent_type"] not in NOT_L2_AGENTS]
        if not any(a["is_alive"] for a in l2):
            blockers.append(("VIF plugging", "no live L2 agent on %s (%s)" % (
                host, ", ".join("%s dead" % a["agent_type"] for a in l2) or "none registered")))
    if not any(a["is_alive"] for a in dhcp_agents):
        blockers.append(("DHCP", "no live DHCP agent hosts the network (%s)" % (
            ", ".join("%s on %s dead" % (a["agent_type"], a["host"]) for a in dhcp_agents) or "none scheduled")))
    elif not dhcp_ports:
        blockers.append(("DHCP", "the network has no DHCP port yet"))
    for port in dhcp_ports:
        if port["status"] != "ACTIVE":
            blockers.append(("DHCP", "the DHCP port %s on %s is %s (its host's L2 agent has not wired it)" % (
                port["id"], port["host"], port["status"])))
    return blockers


def network_lines(server_host, ports, agents, dhcp_agents, dhcp_ports):
    """A failure report's lines on what served (or did not serve) a server on server_host: its ports (SDK
    objects), the network's DHCP ports, and the agents on its host and on the DHCP agents' hosts."""
    lines = ["port %s: %s, bound to %s, vif_type %s, mac %s" % (
        port.id, port.status, port.binding_host_id, port.binding_vif_type, port.mac_address) for port in ports]
    lines += ["DHCP port %s: %s on %s" % (port["id"], port["status"], port["host"]) for port in dhcp_ports]
    hosts = set([server_host] + [a["host"] for a in dhcp_agents])
    lines += ["agent %s on %s: %s" % (a["agent_type"], a["host"], "alive" if a["is_alive"] else "DEAD")
              for a in agents if a["host"] in hosts]
    return lines


def dnsmasq_lines(mac, read=None):
    """What this host's dnsmasq (Neutron's DHCP server) logged about mac: did the guest's requests arrive?"""
    if not mac:
        return []
    if read is None:
        def read():
            return subprocess.run(["journalctl", "-t", "dnsmasq-dhcp", "-n", "2000", "-o", "cat", "--no-pager"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True,
                                  timeout=20, check=False).stdout
    try:
        text = read()
    except Exception:  # noqa: BLE001 - a report: no journal here is not the failure being reported
        return []
    seen = [line for line in (text or "").splitlines() if mac.lower() in line.lower()]
    if not seen:
        return ["dnsmasq on this host logged nothing for %s (its DHCP requests did not arrive here)" % mac]
    return ["dnsmasq: %s" % line for line in seen[-5:]]


# -- a move: where the resources are, what the compute host said ------------------------------------------------------
def misplaced_allocation(name, provider_names, node):
    """What is wrong when the resource providers holding server name's resources (their names, sorted) are not
    node alone, where it runs; None when they are."""
    if provider_names != [node]:
        return "Placement holds the resources of %s on %s, not on %s (where it runs) alone" % (
            name, ", ".join(provider_names) or "no resource provider", node)
    return None


def held_by_migration(name, migration):
    """What is wrong when a migration of server name (an os-migrations entry) still holds resources."""
    return "the %s migration %s of %s (%s) still holds resources in Placement" % (
        migration.get("migration_type"), migration["uuid"], name, migration.get("status"))


def action_lines(newest, detail):
    """A failed move's report: a server's newest instance action and its events (the last line of each
    event's traceback)."""
    lines = ["action %s: %s" % (newest.get("action"), newest.get("message") or "no message")]
    for event in detail.get("events") or []:
        line = "event %s on %s: %s" % (event.get("event"), event.get("host") or "?", event.get("result"))
        trace = (event.get("traceback") or "").strip().splitlines()
        if trace:
            line += " (%s)" % trace[-1]
        lines.append(line)
    lines.append("(the compute hosts' nova-compute.log and libvirtd's journal say more)")
    return "\n".join(lines)


# -- what is reported, and waiting ---------------------------------------------------------------------------------
def summary(record):
    seconds = dict(record["seconds"])
    deleted = seconds.pop("delete", None)
    ping = {True: "ping ok", False: "no ping", None: "not pinged"}[record["ping"]]
    moves = ""
    for i, move in enumerate(record.get("moves") or []):
        moves += "%s %s to %s in %s" % ("; moved" if i == 0 else ",", move["kind"], move["target"], move["seconds"])
        if move["ping"] is not None:
            moves += " (ping %s later)" % move["ping"]
    where = record["address"]
    if record.get("fixed") and record["fixed"] != record["address"]:
        where = "%s (fixed %s)" % (record["address"], ", ".join(record.get("fixed_all") or [record["fixed"]]))
    if record.get("ssh"):
        ping += ", logged in over SSH"
        if record.get("hostname"):
            ping += " (hostname %s)" % record["hostname"]
    return "%s: %s at %s, %s; seconds from %s: %s%s; %s" % (
        record["host"], record["status"], where, ping, "this check (kept since an earlier run)"
        if record.get("reused") else "create", ", ".join("%s %s" % item for item in seconds.items()), moves,
        "deleted in %s" % deleted if deleted is not None else "kept running")


def tail(text, lines=20):
    return "\n".join((text or "").rstrip().splitlines()[-lines:])


def poll_until(check, timeout, interval, on_timeout):
    """Call check() every interval seconds and return its first truthy value; once timeout seconds have passed
    without one, return on_timeout() (which here always fails)."""
    deadline = time.monotonic() + timeout
    while True:
        done = check()
        if done:
            return done
        if time.monotonic() > deadline:
            return on_timeout()
        time.sleep(interval)
