"""server_check's pure parts: which stage a failure belongs to, the console scan, the summary."""
import pytest

from ansible_collections.osdeploy.nova.plugins.modules import server_check as sc

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


class _Server(object):
    def __init__(self, status, task_state):
        self.status, self.task_state = status, task_state


class _Compute(object):
    def __init__(self, servers):
        self.servers = servers

    def get_server(self, server_id):
        found = self.servers[server_id]
        if isinstance(found, Exception):
            raise found
        return found


def test_a_timeout_reports_every_server_state():
    """When one server times out, the report says where each of the others is too."""
    check = sc.ServerCheck.__new__(sc.ServerCheck)
    check.conn = type("Conn", (), {})()
    check.conn.compute = _Compute({"a": _Server("BUILD", "spawning"), "b": _Server("ACTIVE", None),
                                   "c": RuntimeError("gone")})
    check.result = {"servers": [dict(id=i, status=None) for i in "abc"]}
    check.read_states()
    assert [(r["status"], r.get("task_state")) for r in check.result["servers"]] == [
        ("BUILD", "spawning"), ("ACTIVE", None), ("unknown (RuntimeError)", None)]
