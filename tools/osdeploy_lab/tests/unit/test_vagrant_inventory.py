"""The inventory of the Molecule scenario vagrant (tools/vagrant.d/inventory): Vagrant's way into each VM,
the lab's addresses and secrets, and SSH through the scenario's network namespace when there is one."""
import io
import os

import pytest

from osdeploy_lab import vagrant

SSH_CONFIG = """Host controller
  HostName 192.168.62.10
  User vagrant
  Port 22
  IdentityFile "/vagrant home/controller/private_key"
  IdentitiesOnly yes

Host compute1
  HostName 192.168.62.11
  User vagrant
  Port 2222
  IdentityFile /vagrant/compute1/private_key
"""


@pytest.fixture
def inventory(tmp_path, monkeypatch, capsys):
    """Run the command on SSH_CONFIG (host keys from a fake ssh-keyscan); return (inventory text, output lines)."""
    scanned = []

    def scan(host, port, netns):
        scanned.append((host, port, netns))
        return ["%s ssh-ed25519 AAAAkey-of-%s" % (host, host)]
    monkeypatch.setattr(vagrant, "scan_host_key", scan)
    monkeypatch.delenv("OSDEPLOY_LAB_SUBNET", raising=False)

    def run(*args):
        monkeypatch.setattr("sys.stdin", io.StringIO(SSH_CONFIG))
        vagrant.main(["--lab-dir", str(tmp_path / "lab"), "--name", "osdvag", "--subnet", "192.168.61.0/24",
                      "--accel", "tcg"] + list(args))
        assert scanned[-2:] == [("192.168.62.10", "22", args[1] if args else ""),
                                ("192.168.62.11", "2222", args[1] if args else "")]
        return (tmp_path / "lab" / "inventory.ini").read_text(), capsys.readouterr().out.splitlines()
    return run


def test_each_host_is_reached_as_vagrant_says_with_the_labs_address(inventory, tmp_path):
    text, out = inventory()
    lines = text.splitlines()
    assert lines[lines.index("[controller]") + 1] == (
        "controller ansible_host=192.168.62.10 ansible_port=22 ansible_user=vagrant "
        "ansible_ssh_private_key_file='/vagrant home/controller/private_key' osdeploy_management_ip=192.168.61.10")
    assert lines[lines.index("[compute]") + 1] == (
        "compute1 ansible_host=192.168.62.11 ansible_port=2222 ansible_user=vagrant "
        "ansible_ssh_private_key_file=/vagrant/compute1/private_key osdeploy_management_ip=192.168.61.11")
    known_hosts = str(tmp_path / "lab" / "ssh" / "known_hosts")
    assert lines[lines.index("[all:vars]") + 1:] == [
        "ansible_become=true",
        "ansible_ssh_common_args='-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'"
        % known_hosts,
        "ansible_python_interpreter=/usr/bin/python3",
        "lab_name=osdvag", "lab_network=192.168.61.0/24", "lab_accel=tcg", "baseline_service_timeout=1800",
        "nova_service_timeout=1800", "nova_cell_discovery_timeout=1800"]
    with open(known_hosts) as f:
        assert f.read().splitlines() == ["192.168.62.10 ssh-ed25519 AAAAkey-of-192.168.62.10",
                                         "192.168.62.11 ssh-ed25519 AAAAkey-of-192.168.62.11"]
    assert out[-1] == str(tmp_path / "lab" / "inventory.ini")
    assert out[0].startswith("inventory: known_hosts, inventory, secrets ")
    for path in ("inventory.ini", "ssh/known_hosts", "group_vars/all/secrets.yml"):
        assert os.stat(str(tmp_path / "lab" / path)).st_mode & 0o777 == 0o600, path


def test_through_a_network_namespace_ssh_and_http_clients_go_through_it(inventory):
    text, dummy = inventory("--netns", "osdvag")
    assert "osdeploy_management_ip=192.168.61.10 lab_http_client=compute1\n" in text
    assert "ansible_ssh_common_args='-o ProxyCommand=\"ip netns exec osdvag nc %h %p\" -o UserKnownHostsFile=" in text


def test_a_second_run_changes_nothing_and_keeps_the_secrets(inventory, tmp_path):
    inventory()
    secrets = (tmp_path / "lab" / "group_vars" / "all" / "secrets.yml").read_text()
    dummy, out = inventory()
    assert out[0] == "inventory: no change"
    assert (tmp_path / "lab" / "group_vars" / "all" / "secrets.yml").read_text() == secrets


def test_hosts_other_than_the_labs_are_refused(monkeypatch, tmp_path):
    monkeypatch.setattr("sys.stdin", io.StringIO(SSH_CONFIG.replace("compute1", "worker")))
    with pytest.raises(SystemExit, match="expected controller and computeN"):
        vagrant.main(["--lab-dir", str(tmp_path), "--name", "osdvag", "--subnet", "192.168.61.0/24", "--accel", "kvm"])
