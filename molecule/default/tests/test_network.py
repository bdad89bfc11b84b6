"""Networking and the proof, checked from outside the lab hosts after the scenario's side effect
(controller, compute1 and compute2; the default scenario's upgraded cloud): Neutron's agents are alive where they should be, the server
API answers, a project's user makes a network of their own (VXLAN), the tunnel endpoints stay on their
bridge when Open vSwitch restarts, and the proof (site.yml -t verify-server; playbooks/verify.yml alone when
it fails) boots a server with two NICs on every compute host, behind the project's router, reaches it
as any cloud image is reached, without console markers (its ports ACTIVE, a floating IP, ping, SSH: its uuid
from the metadata, its hostname as the metadata gives it, both addresses, its router and the other host's
server) and deletes it, leaving nothing behind, also when it fails (with markers given: naming the marker's stage).

Only the default scenario runs these (its lab wires a provider network between the hosts).
"""
import json
import os
import re
import time

import testinfra

import tag_runs_alone
from playbook_run import INVENTORY, ROOT, SITE, Run

VERIFY = os.path.join(ROOT, "playbooks", "verify.yml")
CLOUD = "osdeploy-admin"
# the baseline's demo project, whose member the proof runs as in every lab (baseline_demo)
MEMBER_CLOUD, MEMBER_PROJECT = "osdeploy-demo", "myproject"
COMPUTES = os.environ.get("OSDEPLOY_EXPECT_COMPUTES", "compute1,compute2").split(",")


def host(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, INVENTORY))


def failure_report(out, limit=30000):
    """What a failed proof printed from its first report on (the services and agents, each host's logs,
    the failure), which the last lines of the run alone would cut; else the end of the run."""
    start = out.find("Show the services and agents as the cloud sees them")
    return out[start:][-limit:] if start >= 0 else out[-4000:]


def openstack(*args):
    cmd = host("controller").run("openstack --os-cloud %s %s -f json" % (CLOUD, " ".join(args)))
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)


def run_verify(extra=None, playbook=VERIFY, args=()):
    run = Run(*args, extra=extra, playbook=playbook, show_skipped=True)
    return run.rc, run.output


def leftovers():
    servers = [s["Name"] for s in openstack("server list --all-projects") if s["Name"].startswith("osdeploy-check-")]
    ports = [p["ID"] for p in openstack("port list --device-owner compute:nova")]
    # the member's anti-affinity group goes with its servers
    cmd = host("controller").run("openstack --os-cloud %s server group list -f json" % MEMBER_CLOUD)
    assert cmd.rc == 0, cmd.stderr
    servers += ["server group " + g["Name"] for g in json.loads(cmd.stdout) if g["Name"].startswith("osdeploy-check-")]
    # and the floating IPs the proof gave them
    servers += ["floating IP " + f["Floating IP Address"] for f in openstack("floating ip list")]
    return servers, ports


def servers_of(project):
    """How many servers project has run (Nova's usage: deleted ones count too)."""
    servers = openstack("usage show --project %s" % project)["Servers"] or 0
    # the client prints a list of the period's servers (first run of this test: a list, not a count)
    return len(servers) if isinstance(servers, list) else servers


def test_every_agent_is_alive_where_it_should_be():
    agents = openstack("network agent list")
    alive = {(a["Agent Type"], a["Host"]) for a in agents if a["Alive"] in (True, ":-)") and a["State"] in (True, "UP")}
    expected = {("Open vSwitch agent", h) for h in ["controller"] + COMPUTES}
    expected |= {("DHCP agent", "controller"), ("Metadata agent", "controller"), ("L3 agent", "controller")}
    assert expected <= alive, "not alive: %s (agents: %s)" % (sorted(expected - alive), agents)


def test_the_server_api_answers_now_that_there_is_a_network_service():
    # without Neutron this was HTTP 500 (EndpointNotFound)
    assert isinstance(openstack("server list --all-projects"), list)
    assert [n for n in openstack("network list") if n["Name"] == "provider"]


def test_neutron_listens_on_the_management_address_only():
    controller = host("controller")
    ip = controller.run("hostname -I").stdout.split()[0]
    sockets = controller.socket.get_listening_sockets()
    assert "tcp://%s:9696" % ip in sockets
    assert "tcp://0.0.0.0:9696" not in sockets


def test_the_proof_boots_reaches_and_deletes_a_server_on_every_compute():
    before = {p: servers_of(p) for p in (MEMBER_PROJECT, "admin")}
    # as its tag alone: site.yml -t verify-server (test_operations.py runs every other tag alone)
    rc, out = run_verify(playbook=SITE, args=["-t", "verify-server"])
    assert rc == 0, failure_report(out)
    # as the project member, one server per compute host, none of admin's
    assert servers_of(MEMBER_PROJECT) == before[MEMBER_PROJECT] + len(COMPUTES)
    assert servers_of("admin") == before["admin"]
    for compute in COMPUTES:
        # at a floating IP (the lab's floating range), both NICs' fixed addresses, logged into. The lab sets no
        # console markers (the default, as for any cloud image): its ports ACTIVE where it runs, the ping (its
        # lease) and the login prove what the DHCP, metadata and SSH server markers did - the guest read its own
        # uuid from the metadata (ssh fails otherwise) and named itself after the metadata's hostname (the
        # member's server's name)
        assert re.search(r'"%s: ACTIVE at 203\.0\.113\.1\d\d \(fixed 172\.16\.1\.\d+, 172\.16\.2\.\d+\), ping ok, '
                         r'logged in over SSH \(hostname osdeploy-check-member-\d+\); seconds from create: active [\d.]+, '
                         r'port [\d.]+, ping [\d.]+, ssh [\d.]+; deleted in [\d.]+"' % compute, out), out[-4000:]
        assert not re.search(r'"%s: .*seconds from create: .*(DHCP|metadata|SSH server) ' % compute, out)
    for machine in ["controller"] + COMPUTES:
        assert re.search(r"%s\s+: ok=\d+\s+changed=0 " % machine, out), out[-2000:]
    assert leftovers() == ([], [])


def test_a_failing_proof_names_its_stage_shows_the_console_and_leaves_nothing(secret_forms):
    # markers given (the lab sets none): a marker no guest prints, whose failure line is the guest's DHCP
    # marker: the DHCP stage fails as soon as the guest has its lease (the event, not a timeout: whatever the
    # machine's speed, the console then holds the line), with the console lines
    rc, out = run_verify({"osdeploy_verify_markers": [{
        "stage": "DHCP", "regex": "^no guest prints this$", "failed_regex": "^osdeploy-test-image: dhcp ok ip="}]})
    assert rc != 0
    assert re.search(r"DHCP: the guest of osdeploy-check-\S+ on compute\d says: osdeploy-test-image: dhcp ok ip=",
                     out), out[-4000:]
    assert "osdeploy-test-image: dhcp ok ip=" in out       # the console lines that explain it
    # what the cloud and each compute host say about it, without a secret
    assert "nova-compute" in out and "Open vSwitch agent" in out
    for machine in COMPUTES + ["controller"]:
        assert "(item=%s)" % machine in out
    assert "== /var/log/nova/nova-compute.log" in out and "== ovs-vsctl show" in out
    assert "== /var/log/neutron/neutron-dhcp-agent.log" in out   # the controller's, which answers DHCP
    # the module's own report of the server's port and the agents involved
    assert re.search(r"port \S+: ACTIVE, bound to compute\d, vif_type ovs", out), out[-4000:]
    assert "agent DHCP agent on controller: alive" in out
    assert re.search(r"dnsmasq: DHCPACK\(\S+\) 172\.16\.[12]\.\d+ fa:16:3e:", out), out[-4000:]
    assert "(the hosts' logs are above)" in out
    for name, form in secret_forms:
        assert form not in out, "the secret %s appears in the output" % name
    assert leftovers() == ([], [])


def test_deleted_servers_leave_no_dhcp_lease():
    """dnsmasq keeps a lease for 24 h unless Neutron releases it (dhcp_release, over the DHCP namespace's own
    loopback) when the port goes: a new port given the same address then got no DHCP answer ("not using
    configured address ... because it is leased to" the old MAC), which failed the proof now and then."""
    controller = host("controller")
    # the provider network, and the project networks the proof's servers are on
    nets = [openstack("network show %s" % name)["id"] for name in ("provider", "osdeploy-proof", "osdeploy-proof-2")]
    for net in nets:
        assert controller.check_output("ip -n qdhcp-%s -br link show lo" % net).split()[1] != "DOWN"
    deadline = time.monotonic() + 60
    while True:
        stale = []
        for net in nets:
            macs = {p["MAC Address"] for p in openstack("port list --network %s" % net)}
            leases = controller.check_output("cat /var/lib/neutron/dhcp/%s/leases" % net).splitlines()
            stale += [line for line in leases if line.split()[1] not in macs]
        if not stale or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert not stale, "leases of ports that are gone: %s" % stale


def test_a_projects_user_makes_a_network_of_their_own_carried_in_vxlan():
    """What option 1 refused (HTTP 503, no project network type): the member's own network, a VXLAN one from
    the configured range, with a subnet and a router to the provider network; then deleted."""
    controller = host("controller")
    member = "openstack --os-cloud %s" % MEMBER_CLOUD
    cmds = ["network create osdeploy-test-own -f json",
            "subnet create --network osdeploy-test-own --subnet-range 10.99.0.0/24 osdeploy-test-own -f json",
            "router create osdeploy-test-own -f json",
            "router set --external-gateway provider osdeploy-test-own",
            "router add subnet osdeploy-test-own osdeploy-test-own"]
    try:
        for cmd in cmds:
            run = controller.run("%s %s" % (member, cmd))
            assert run.rc == 0, "%s: %s" % (cmd, run.stderr)
        net = openstack("network show osdeploy-test-own")
        assert net["provider:network_type"] == "vxlan"
        assert 1 <= net["provider:segmentation_id"] <= 1000
        router = openstack("router show osdeploy-test-own")
        gateway = router["external_gateway_info"]
        assert gateway["network_id"] == openstack("network show provider")["id"], router
    finally:
        controller.run("%s router remove subnet osdeploy-test-own osdeploy-test-own; %s router delete osdeploy-test-own;"
                       " %s network delete osdeploy-test-own" % (member, member, member))
    assert not [n for n in openstack("network list") if n["Name"] == "osdeploy-test-own"]


def test_the_tunnel_endpoint_is_back_on_its_bridge_after_open_vswitch_restarts():
    """With the userspace datapath the endpoint lives on br-overlay, whose interface may come back from an
    ovs-vswitchd restart (a package upgrade does one) without it: the unit that put it there runs again. The
    tags run alone in the background (tag_runs_alone.py) end first: the neutron tag's run would meet the restart."""
    tag_runs_alone.wait()
    compute = host(COMPUTES[0])
    address = compute.check_output("ip -o -4 addr show dev br-overlay").split()[3]
    # as a recreated interface would be (ovs 3.5 keeps it across a restart): without the address
    compute.check_output("ip -4 addr flush dev br-overlay")
    compute.check_output("systemctl restart ovs-vswitchd")
    deadline = time.monotonic() + 60
    while address not in compute.run("ip -o -4 addr show dev br-overlay").stdout:
        assert time.monotonic() < deadline, compute.run("systemctl status osdeploy-overlay-address").stdout
        time.sleep(1)
    assert compute.check_output("ip -o -4 addr show dev eth2") == ""
    # the L2 agent rebuilds its flows after the restart (its canary flow in br-int's table 23 says when): until
    # then a new port on this host gets no DHCP answer, which the later runs of the proof would meet
    deadline = time.monotonic() + 120
    while "actions=drop" not in compute.run("ovs-ofctl dump-flows br-int table=23").stdout:
        assert time.monotonic() < deadline, "the Open vSwitch agent did not rebuild br-int's flows within 120 s"
        time.sleep(2)
