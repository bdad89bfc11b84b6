"""upgrade_watch on this machine, through Ansible: real pings from a real network namespace (made here, with a
wire whose far end gets the target's address half-way), and a real HTTP server on 127.0.0.1 that stops half-way;
the figures must show the target lost, then answering, and the API answering, then not."""
import http.server
import os
import subprocess
import threading
import time

import pytest

from conftest import free_port

NAMESPACE = "osdeploy-watch-%d" % os.getpid()
TARGET = "10.250.77.2"


def ip(*argv):
    subprocess.run(["ip"] + list(argv), check=True)


@pytest.fixture
def namespace():
    ip("netns", "add", NAMESPACE)
    try:
        ip("-n", NAMESPACE, "link", "set", "lo", "up")
        # a wire whose far end has no address yet: the target's ARP goes unanswered
        ip("-n", NAMESPACE, "link", "add", "near", "type", "veth", "peer", "name", "far")
        ip("-n", NAMESPACE, "addr", "add", "10.250.77.1/24", "dev", "near")
        ip("-n", NAMESPACE, "link", "set", "near", "up")
        ip("-n", NAMESPACE, "link", "set", "far", "up")
        yield NAMESPACE
    finally:
        subprocess.run(["ip", "netns", "delete", NAMESPACE], check=False)


@pytest.fixture
def api():
    server = http.server.HTTPServer(("127.0.0.1", free_port()), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server_close()


def pings_in(namespace):
    found = subprocess.run(["pgrep", "-f", "ip netns exec %s ping" % namespace], capture_output=True, text=True,
                           check=False)
    return found.stdout.split()


def test_a_watch_measures_each_phase_and_leaves_nothing_running(ansible_module, namespace, api, tmp_path):
    path = str(tmp_path / "watch")
    started = dict(state="started", path=path, targets=[dict(name="canary", address=TARGET)], namespace=namespace,
                   api_url="http://127.0.0.1:%d/" % api.server_port, phase="one", api_interval=0.2)

    res = ansible_module("upgrade_watch", started, check=True)
    assert not res.failed, res.output
    assert res["changed"] is True and res["running"] is False and not os.path.exists(path)

    res = ansible_module("upgrade_watch", started)
    assert not res.failed, res.output
    assert res["changed"] is True and res["running"] is True
    assert oct(os.stat(path).st_mode & 0o777) == "0o700"
    # the same watch again: left running, nothing marked
    again = dict(started, phase=None)
    res = ansible_module("upgrade_watch", again)
    assert not res.failed and res["changed"] is False and res["running"] is True, res.output

    time.sleep(2)
    # the target answers from now on, before phase two begins (each ping counts in the phase it was sent in)
    ip("-n", namespace, "addr", "add", TARGET + "/32", "dev", "far")
    res = ansible_module("upgrade_watch", dict(state="phase", path=path, phase="two"))
    assert not res.failed and res["changed"] is True, res.output
    api.shutdown()  # and in phase two the API does not answer (its connections refused)
    api.server_close()
    time.sleep(2)

    res = ansible_module("upgrade_watch", dict(state="stopped", path=path))
    assert not res.failed, res.output
    assert res["changed"] is True and res["running"] is False
    one, two = res["phases"]
    assert (one["name"], two["name"]) == ("one", "two")
    # (the pings of phase one's last seconds wait in the neighbour queue while ARP retries, and are answered
    # late once the address is there: under load, many of them)
    assert one["pings"]["canary"]["sent"] >= 5 and one["pings_lost"] >= 3
    assert one["api_failed"] == 0 and one["api_polls"] >= 5
    assert two["pings"]["canary"]["sent"] >= 5 and two["pings_lost"] == 0
    assert two["api_failed"] >= 5 and two["api_seconds_down"] >= 1.0
    assert res["total"]["pings_lost"] == one["pings_lost"] + two["pings_lost"]
    assert res["report"][0].startswith("one (") and res["report"][-1].startswith("in all (")
    assert not pings_in(namespace)

    # stopped already: nothing to stop or report; a phase without a watch marks nothing
    res = ansible_module("upgrade_watch", dict(state="stopped", path=path))
    assert not res.failed and res["changed"] is False and res["phases"] == [], res.output
    res = ansible_module("upgrade_watch", dict(state="phase", path=path, phase="three"))
    assert not res.failed and res["changed"] is False, res.output

    # the next watch keeps the finished log aside
    res = ansible_module("upgrade_watch", dict(started, api_url=""))
    assert not res.failed and res["changed"] is True, res.output
    assert any(name.startswith("log-") for name in os.listdir(path))
    res = ansible_module("upgrade_watch", dict(state="stopped", path=path))
    assert [phase["name"] for phase in res["phases"]] == ["one"] and res["total"]["api_polls"] == 0, res.output


@pytest.mark.parametrize("args, named", [
    (dict(state="started", ping_interval=0), "ping_interval"),
    (dict(state="started", api_url="controller:8774"), "api_url"),
    (dict(state="started", namespace="qdhcp-does-not-exist"), "namespace"),
    (dict(state="phase"), "phase"),
])
def test_bad_input_is_refused_naming_the_option(ansible_module, tmp_path, args, named):
    path = str(tmp_path / "watch")
    res = ansible_module("upgrade_watch", dict(args, path=path))
    assert res.failed and named in res["msg"], res.output
    assert not os.path.exists(os.path.join(path, "pid"))
