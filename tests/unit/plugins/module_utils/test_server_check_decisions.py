"""server_check's decisions: which stage a failure belongs to, the console scan, what keeps a network from
serving, the flavor spec, the summary, the polling."""
import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils import server_check as sc
from ansible_collections.osdeploy.nova.plugins.module_utils.base import Failure

MARKERS = [
    {"stage": "DHCP", "regex": "^osdeploy-test-image: dhcp ok ip=", "failed_regex": "^osdeploy-test-image: dhcp failed"},
    {"stage": "metadata", "regex": "^osdeploy-test-image: metadata ok uuid=",
     "failed_regex": "^osdeploy-test-image: metadata failed"},
]


@pytest.mark.parametrize("host,fault,stage", [
    (None, "No valid host was found. There are not enough hosts available.", "scheduling"),
    ("compute1", "Build of instance x aborted: Failed to allocate the network(s)", "spawn"),
    ("compute1", "VirtualInterfaceCreateException: Virtual Interface creation failed", "VIF plugging"),
    (None, "Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for "
           "instance x.", "spawn"),
    (None, "Exceeded maximum number of retries. ... Failure running os_vif plugin plug method: Failed to plug VIF",
     "VIF plugging"),
    ("compute1", "libvirt.libvirtError: internal error: qemu unexpectedly closed the monitor", "spawn"),
])
def test_a_fault_is_named_by_its_stage(host, fault, stage):
    assert sc.classify_fault(host, fault) == stage


def test_the_console_scan_counts_markers_in_order():
    assert sc.scan_console("", MARKERS) == (0, None)
    text = "boot\nosdeploy-test-image: dhcp ok ip=203.0.113.5 iface=eth0\n"
    assert sc.scan_console(text, MARKERS) == (1, None)
    text += "osdeploy-test-image: metadata ok uuid=u name=n\n"
    assert sc.scan_console(text, MARKERS) == (2, None)


def test_a_failure_line_ends_the_scan_at_its_stage():
    text = ("osdeploy-test-image: dhcp ok ip=203.0.113.5 iface=eth0\n"
            "osdeploy-test-image: metadata failed url=http://169.254.169.254/ no answer within 60 s\n")
    index, line = sc.scan_console(text, MARKERS)
    assert index == 1
    assert line.startswith("osdeploy-test-image: metadata failed")


def test_the_summary_says_status_address_ping_and_times():
    line = sc.summary({"host": "compute1", "status": "ACTIVE", "address": "203.0.113.5", "ping": True,
                       "seconds": {"active": 20.0, "DHCP": 25.5, "ping": 27.0, "delete": 5.1}})
    assert line == ("compute1: ACTIVE at 203.0.113.5, ping ok; seconds from create: active 20.0, DHCP 25.5, "
                    "ping 27.0; deleted in 5.1")
    # logged in: with the hostname the guest said (the metadata's)
    line = sc.summary({"host": "compute1", "status": "ACTIVE", "address": "203.0.113.5", "ping": True, "ssh": True,
                       "hostname": "osdeploy-check-compute1",
                       "seconds": {"active": 20.0, "port": 20.2, "ping": 27.0, "ssh": 30.1, "delete": 5.1}})
    assert line == ("compute1: ACTIVE at 203.0.113.5, ping ok, logged in over SSH (hostname osdeploy-check-compute1); "
                    "seconds from create: active 20.0, port 20.2, ping 27.0, ssh 30.1; deleted in 5.1")


def test_a_servers_ports_must_be_active_where_it_runs_with_its_addresses():
    port = dict(id="p1", status="ACTIVE", host="compute1", ips=["172.16.1.5"])
    second = dict(id="p2", status="ACTIVE", host="compute1", ips=["172.16.2.9"])
    assert sc.port_problems([port, second], "compute1", ["172.16.1.5", "172.16.2.9"]) == []
    assert sc.port_problems([], "compute1", ["172.16.1.5"]) == ["it has no port"]
    assert sc.port_problems([dict(port, status="DOWN"), dict(second, host=None)], "compute1",
                            ["172.16.1.5", "172.16.2.10"]) == [
        "port p1 is DOWN, bound to compute1", "port p2 is ACTIVE, bound to no host",
        "no port holds its address 172.16.2.10"]
    assert sc.port_problems([port], "compute2", ["172.16.1.5"]) == ["port p1 is ACTIVE, bound to compute1"]


class _Clock(object):
    """time.monotonic and time.sleep without waiting: sleeping moves the clock on."""

    def __init__(self):
        self.now, self.sleeps = 100.0, []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = _Clock()
    monkeypatch.setattr(sc.time, "monotonic", fake.monotonic)
    monkeypatch.setattr(sc.time, "sleep", fake.sleep)
    return fake


def test_polling_returns_the_first_truthy_value_at_once_sleeping_the_interval_between_tries(clock):
    answers = iter([None, [], {"status": "ACTIVE"}, "never read"])

    def timed_out():
        raise AssertionError("timed out")
    assert sc.poll_until(lambda: next(answers), 60, 5, timed_out) == {"status": "ACTIVE"}
    assert clock.sleeps == [5, 5]
    assert next(answers) == "never read"


def test_polling_fails_with_the_callers_message_once_the_timeout_has_passed(clock):
    tries = []

    def check():
        tries.append(clock.now)
        return False

    def timed_out():
        raise Failure("delete: server x is still ACTIVE %d s after its delete" % 10)
    with pytest.raises(Failure) as failed:
        sc.poll_until(check, 10, 4, timed_out)
    assert failed.value.msg == "delete: server x is still ACTIVE 10 s after its delete"
    assert tries == [100.0, 104.0, 108.0, 112.0]  # the try after the deadline is the last
    assert clock.sleeps == [4, 4, 4]


def _agent(agent_type, host, alive=True):
    return dict(agent_type=agent_type, host=host, is_alive=alive)


AGENTS = [_agent("Open vSwitch agent", "controller"), _agent("DHCP agent", "controller"),
          _agent("Metadata agent", "controller"), _agent("Open vSwitch agent", "compute1")]
DHCP_AGENTS = [_agent("DHCP agent", "controller")]


def test_a_served_network_has_no_blockers():
    ports = [dict(id="p1", status="ACTIVE", host="controller")]
    assert sc.network_blockers(["compute1"], AGENTS, DHCP_AGENTS, ports) == []


@pytest.mark.parametrize("hosts,agents,dhcp_agents,ports,expected", [
    # a compute host whose L2 agent is dead or missing: its port would never be wired
    (["compute1"], AGENTS[:3] + [_agent("Open vSwitch agent", "compute1", False)], DHCP_AGENTS,
     [dict(id="p1", status="ACTIVE", host="controller")],
     [("VIF plugging", "no live L2 agent on compute1 (Open vSwitch agent dead)")]),
    (["compute2"], AGENTS, DHCP_AGENTS, [dict(id="p1", status="ACTIVE", host="controller")],
     [("VIF plugging", "no live L2 agent on compute2 (none registered)")]),
    # a DHCP port that the controller's L2 agent has not wired (yet): the guest's DHCP would go unanswered
    (["compute1"], AGENTS, DHCP_AGENTS, [dict(id="p1", status="DOWN", host="controller")],
     [("DHCP", "the DHCP port p1 on controller is DOWN (its host's L2 agent has not wired it)")]),
    (["compute1"], AGENTS, [_agent("DHCP agent", "controller", False)], [],
     [("DHCP", "no live DHCP agent hosts the network (DHCP agent on controller dead)")]),
    (["compute1"], AGENTS, [], [], [("DHCP", "no live DHCP agent hosts the network (none scheduled)")]),
    (["compute1"], AGENTS, DHCP_AGENTS, [], [("DHCP", "the network has no DHCP port yet")]),
])
def test_what_keeps_a_network_from_serving_is_named(hosts, agents, dhcp_agents, ports, expected):
    assert sc.network_blockers(hosts, agents, dhcp_agents, ports) == expected


def test_the_dhcp_agent_is_not_taken_for_an_l2_agent():
    """A host that runs only a DHCP agent has no L2 agent for a server's port."""
    agents = [_agent("DHCP agent", "compute1"), _agent("Metadata agent", "compute1")]
    assert sc.network_blockers(["compute1"], agents, DHCP_AGENTS, [dict(id="p", status="ACTIVE", host="c")]) == [
        ("VIF plugging", "no live L2 agent on compute1 (none registered)")]


DNSMASQ_LOG = """DHCPDISCOVER(ns-56bc3015-d7) fa:16:3e:51:8a:79
DHCPOFFER(ns-56bc3015-d7) 203.0.113.111 fa:16:3e:51:8a:79
DHCPDISCOVER(ns-56bc3015-d7) fa:16:3e:7c:f0:14 no address available
"""


def test_dnsmasq_says_whether_the_guests_requests_arrived():
    assert sc.dnsmasq_lines("FA:16:3E:7C:F0:14", read=lambda: DNSMASQ_LOG) == [
        "dnsmasq: DHCPDISCOVER(ns-56bc3015-d7) fa:16:3e:7c:f0:14 no address available"]
    assert sc.dnsmasq_lines("fa:16:3e:00:00:09", read=lambda: DNSMASQ_LOG) == [
        "dnsmasq on this host logged nothing for fa:16:3e:00:00:09 (its DHCP requests did not arrive here)"]


def test_without_a_journal_the_report_goes_on_without_dnsmasq():
    def read():
        raise OSError("journalctl: not found")
    assert sc.dnsmasq_lines("fa:16:3e:00:00:09", read=read) == []
    assert sc.dnsmasq_lines(None) == []


def test_a_flavor_spec_of_digit_strings_is_taken_as_numbers():
    assert sc.parse_flavor_spec({"vcpus": "2", "ram": " 512", "disk": 10}) == {"vcpus": 2, "ram": 512, "disk": 10}


def test_a_server_in_error_is_reported_with_its_stage_and_the_faults_last_lines():
    record = {"name": "osdeploy-check-compute1", "host": "compute1"}
    raw = {"OS-EXT-SRV-ATTR:host": None,
           "fault": {"message": "No valid host was found. There are not enough hosts available.", "details": None}}
    assert sc.fault_message(record, raw) == (
        "scheduling: server osdeploy-check-compute1 on compute1 is ERROR (no compute host was chosen): No valid host "
        "was found. There are not enough hosts available.")
    # no fault in the document (yet): the host decides
    assert sc.fault_message(record, {"OS-EXT-SRV-ATTR:host": "compute1"}).startswith(
        "spawn: server osdeploy-check-compute1 on compute1 is ERROR (the compute host could not start it): ")


def test_the_addresses_are_the_fixed_ipv4_ones_on_the_network():
    addresses = {"provider": [{"addr": "2001:db8::5", "version": 6}, {"addr": "203.0.113.5", "version": 4},
                              {"addr": "203.0.113.6", "version": 4}],
                 "osdeploy-proof": [{"addr": "172.16.1.5", "version": 4, "OS-EXT-IPS:type": "fixed"},
                                    {"addr": "203.0.113.150", "version": 4, "OS-EXT-IPS:type": "floating"}]}
    assert sc.fixed_ipv4(addresses, "provider") == ["203.0.113.5", "203.0.113.6"]
    assert sc.fixed_ipv4(addresses, "osdeploy-proof") == ["172.16.1.5"]   # not the floating IP
    assert sc.fixed_ipv4({"provider": [{"addr": "203.0.113.7"}]}, "provider") == ["203.0.113.7"]  # no version: IPv4
    assert sc.fixed_ipv4({"provider": [{"addr": "2001:db8::5", "version": 6}]}, "provider") == []
    assert sc.fixed_ipv4(addresses, "another") == []
    assert sc.fixed_ipv4(None, "provider") == []


SERVER = "3f0c2b8e-5d1a-4c9e-9a57-0d2f4e6b8a11"
GUEST_SAYS = ('osdeploy-metadata: {"uuid": "%s", "name": "osdeploy-check-member-1", '
              '"hostname": "osdeploy-check-member-1.novalocal"}\n'
              "osdeploy-hostname: osdeploy-check-member-1\n"
              "osdeploy-addresses: 127.0.0.1/8 172.16.1.5/24 172.16.2.9/24 \n"
              "osdeploy-reached: 172.16.1.1\n" % SERVER)


def test_a_login_whose_guest_says_it_all_has_no_problem():
    assert sc.ssh_problems(GUEST_SAYS + "osdeploy-reached: 172.16.1.7\n", SERVER, ["172.16.1.5", "172.16.2.9"],
                           ["172.16.1.1", "172.16.1.7"]) == []


def test_a_login_names_each_thing_the_guest_got_wrong():
    problems = sc.ssh_problems(GUEST_SAYS.replace(SERVER, "another-uuid") + "osdeploy-unreached: 172.16.1.7\n",
                               SERVER, ["172.16.1.5", "172.16.2.10"], ["172.16.1.1", "172.16.1.7"])
    assert len(problems) == 3, problems
    assert problems[0].startswith("the metadata the guest read does not hold its uuid %s" % SERVER)
    assert problems[1] == ("its port's address 172.16.2.10 is on none of its NICs (they have 127.0.0.1, 172.16.1.5, "
                           "172.16.2.9)")
    assert problems[2] == "172.16.1.7 does not answer its ping"
    # a login that printed nothing (another image, a shell without the tools) says so for each
    assert len(sc.ssh_problems("", SERVER, ["172.16.1.5"], ["172.16.1.1"])) == 3


def test_the_guests_hostname_is_the_metadatas_first_label_or_all_of_it():
    assert sc.guest_hostname(GUEST_SAYS) == "osdeploy-check-member-1"
    assert sc.guest_hostname("osdeploy-hostname: \n") is None      # said nothing
    # cloud-init (Debian, Ubuntu) sets the first label, CirrOS the whole name; names are not case-sensitive
    for said in ("osdeploy-check-member-1", "osdeploy-check-member-1.novalocal", "OSDEPLOY-check-member-1"):
        assert sc.hostname_problem(said, "osdeploy-check-member-1.novalocal") is None, said
    assert sc.hostname_problem("vm-1", "vm-1") is None      # Nova without a dhcp_domain
    assert sc.hostname_problem("(none)", "osdeploy-check-member-1.novalocal") == (
        "its hostname is (none), not osdeploy-check-member-1.novalocal, the metadata's (its image did not take "
        "its name from the metadata)")
    assert sc.hostname_problem(None, "vm-1").startswith("its hostname is not said, not vm-1")
    assert sc.hostname_problem("vm-1", None) == "the metadata the guest read gives no hostname"
    assert sc.hostname_problem("osdeploy-check", "osdeploy-check-member-1") is not None   # a prefix is not it


def test_a_login_whose_guest_kept_another_hostname_fails():
    says = GUEST_SAYS.replace("osdeploy-hostname: osdeploy-check-member-1", "osdeploy-hostname: debian")
    assert sc.ssh_problems(says, SERVER, ["172.16.1.5"], ["172.16.1.1"]) == [
        "its hostname is debian, not osdeploy-check-member-1.novalocal, the metadata's (its image did not take its "
        "name from the metadata)"]
    # metadata that holds the uuid but is not JSON (a proxy's page): said, once
    says = 'osdeploy-metadata: <html>"%s"</html>\nosdeploy-hostname: vm\nosdeploy-addresses: 172.16.1.5/24\n' % SERVER
    assert sc.ssh_problems(says, SERVER, ["172.16.1.5"], []) == ["the metadata the guest read is not a JSON document"]


def test_the_guest_script_pings_each_target_and_reports_what_it_read():
    script = sc.ssh_script(["172.16.1.1", "172.16.1.7"])
    assert "for target in 172.16.1.1 172.16.1.7; do" in script
    assert "http://169.254.169.254/openstack/latest/meta_data.json" in script
    assert "tr '\\n' ' '" in script    # the addresses on one line
    assert 'echo "osdeploy-hostname: $(hostname 2>/dev/null || uname -n)"' in script
    assert sc.ssh_script([]).count("for target in ; do") == 1    # nothing to ping: the loop runs zero times


def test_the_dhcp_namespace_is_found_in_ip_netns_list():
    out = "qdhcp-n1 (id: 0)\nqrouter-r1 (id: 1)\n\n"
    assert sc.has_namespace(out, "qdhcp-n1") is True
    assert sc.has_namespace(out, "qdhcp-n2") is False
    assert sc.has_namespace("", "qdhcp-n1") is False


@pytest.mark.parametrize("params,says", [
    (dict(hosts=[]), "hosts is empty: name at least one compute host"),
    (dict(timeout=0), "timeout must be a positive number of seconds, got 0"),
    (dict(markers=[{"stage": "DHCP"}]), "markers[0] needs a stage and a regex"),
    (dict(markers=[{"stage": "DHCP", "regex": "ok", "failed_regex": "("}]),
     "markers[0].failed_regex is not a valid regular expression: "),
    # no user fits every image: a key without one, or a user without a key, is refused
    (dict(ping=True, keypair="k", ssh_key_file="/root/.ssh/k"),
     "ssh_key_file needs ssh_user, the user the image lets in with the keypair's key (cirros on CirrOS, debian on"),
    (dict(ssh_user="cirros"), "ssh_user cirros logs in with ssh_key_file: give it too (and keypair), or leave"),
])
def test_options_are_checked_in_order_with_the_sentence_to_show(params, says):
    p = dict(hosts=["compute1"], migrate=False, timeout=300, markers=MARKERS, flavor_spec=None)
    p.update(params)
    with pytest.raises(ValueError) as e:
        sc.parse_params(p)
    assert str(e.value).startswith(says)


def test_good_options_give_the_parsed_flavor_spec():
    p = dict(hosts=["compute1"], migrate=False, timeout=300, markers=MARKERS, flavor_spec=None)
    assert sc.parse_params(p) is None
    assert sc.parse_params(dict(p, markers=[])) is None     # the default: no console markers
    assert sc.parse_params(dict(p, ping=True, keypair="k", ssh_key_file="/k", ssh_user="cirros")) is None
    p["flavor_spec"] = {"vcpus": "1", "ram": 128, "disk": 1}
    assert sc.parse_params(p) == {"vcpus": 1, "ram": 128, "disk": 1}


# -- a member's servers, and what the cloud refuses (#30) ------------------------------------------------------------
def test_a_group_that_put_one_server_on_each_host_is_right():
    assert sc.spread_problem(["compute1", "compute2"], [("a-1", "compute2"), ("a-2", "compute1")]) is None


def test_servers_sharing_a_host_or_elsewhere_are_named_with_the_hosts_left_empty():
    assert sc.spread_problem(["compute1", "compute2", "compute3"],
                             [("a-1", "compute1"), ("a-2", "compute1"), ("a-3", "compute9")]) == (
        "a-1, a-2 all went to compute1; a-3 went to compute9, which is not one of the hosts; "
        "no server went to compute2, compute3")
    assert sc.spread_problem(["compute1"], [("a-1", None)]) == (
        "a-1 went to None, which is not one of the hosts; no server went to compute1")


@pytest.mark.parametrize("text,rule", [
    # Nova (openstacksdk's exception text), Placement
    ("ForbiddenException: 403: Client Error for url: http://c:8774/v2.1/servers, Policy doesn't allow "
     "os_compute_api:servers:create:forced_host to be performed.", "os_compute_api:servers:create:forced_host"),
    ('{"errors": [{"status": 403, "title": "Forbidden", "detail": "Access was denied to this resource.\\n\\n '
     'Policy does not allow placement:allocations:list to be performed.  "}]}', "placement:allocations:list"),
    # Neutron's answer, and its text in nova-conductor's log (the live migration of #30)
    ('{"NeutronError": {"type": "PolicyNotAuthorized", "message": "(rule:create_port_binding) is disallowed by '
     'policy", "detail": ""}}', "create_port_binding"),
    ("Migration error: rule:create_port_binding is disallowed by policy", "create_port_binding"),
    # Keystone, Glance
    ("You are not authorized to perform the requested action: identity:list_users.", "identity:list_users"),
    ("403 Forbidden: You are not authorized to complete get_image action.", "get_image"),
])
def test_the_policy_rule_is_read_from_each_services_answer(text, rule):
    assert sc.policy_rule(text) == rule


def test_a_refusal_without_a_rule_says_so():
    text = "Quota exceeded for instances: Requested 3, but already used 9 of 10 instances"
    assert sc.policy_rule(text) is None
    assert sc.policy_failure("boot", "create 3 servers", text) == (
        "boot: refused (HTTP 403), naming no policy rule - create 3 servers: " + text)
    refusal = "(rule:create_port_binding) is disallowed by policy"
    assert sc.policy_failure("live migration", "live migration of a-1", refusal) == (
        "live migration: refused by the policy rule create_port_binding (HTTP 403) - live migration of a-1: " + refusal)
