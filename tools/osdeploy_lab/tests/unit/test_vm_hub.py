"""tools/osdeploy_lab/hub.py, the VM lab's private network: real unix datagram sockets."""
import os
import socket
import subprocess
import sys
import time

import pytest

from osdeploy_lab.common import PACKAGE

HUB = os.path.join(PACKAGE, "hub.py")


@pytest.fixture
def hub(tmp_path):
    proc = subprocess.Popen([sys.executable, HUB, "--lab=unittest", str(tmp_path)])
    deadline = time.monotonic() + 10
    while not (tmp_path / "hub.sock").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "hub did not start"
        time.sleep(0.02)
    yield tmp_path
    proc.terminate()
    assert proc.wait(10) == 0      # SIGTERM is a clean exit


def vm_nic(directory, name):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(directory / ("%s.sock" % name)))
    s.settimeout(5)
    return s


def test_a_frame_reaches_every_other_vm_and_not_the_sender(hub):
    a, b, c = (vm_nic(hub, n) for n in ("controller", "compute1", "compute2"))
    a.sendto(b"frame-from-controller", str(hub / "hub.sock"))
    assert b.recv(100) == b"frame-from-controller"
    assert c.recv(100) == b"frame-from-controller"
    a.settimeout(0.3)
    with pytest.raises(socket.timeout):
        a.recv(100)


def test_a_stopped_vm_does_not_stop_the_hub(hub):
    a, b = vm_nic(hub, "controller"), vm_nic(hub, "compute1")
    gone = vm_nic(hub, "compute2")
    gone.close()        # its socket file stays, nobody reads it: sendto is refused
    a.sendto(b"one", str(hub / "hub.sock"))
    a.sendto(b"two", str(hub / "hub.sock"))
    assert [b.recv(10), b.recv(10)] == [b"one", b"two"]


def test_usage_error():
    res = subprocess.run([sys.executable, HUB], capture_output=True, text=True, check=False)
    assert res.returncode == 2 and "--lab=NAME DIR" in res.stderr
