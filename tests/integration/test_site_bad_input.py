"""site.yml and the roles stop early, with a message that says what to fix.

Each case runs the real playbooks through ansible-playbook against this machine
as the only host (local connection). Every case must fail before the first task
that would change anything, which the tests check by the task that failed.
"""
import ipaddress
import json
import os
import re
import subprocess

import pytest

from conftest import TARGET_PYTHON, free_port

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SECRET = "s3cr:t@pw%$'x"
PASSWORDS = {
    "nova_db_password": SECRET + "db",
    "nova_keystone_password": SECRET + "ks",
    "osdeploy_rabbitmq_password": SECRET + "mq",
    "osdeploy_metadata_secret": SECRET + "md",
}
# These cases run the controller's playbook alone: no server is booted at the end, and this
# machine's own firewall is never touched. This machine's Nova is Debian's (tools/apt-packages.txt), installed
# without starting anything: the cases that get past the input checks find it installed (distro), and reach no
# step that would change this machine (no wheelhouse or service of a source install, no certificate).
SETTINGS = {"osdeploy_verify_server": False, "nova_firewall": "none",
            "osdeploy_install_method": "distro", "osdeploy_tls": False}


def write_inventory(tmp_path, groups):
    lines = []
    for group in groups:
        lines += ["[%s]" % group,
                  "%s-host ansible_connection=local ansible_python_interpreter=%s osdeploy_management_ip=127.0.0.1"
                  % (group, TARGET_PYTHON), ""]
    path = tmp_path / "inventory.ini"
    path.write_text("\n".join(lines))
    return str(path)


def play(playbook, inventory, extra=None):
    cmd = ["ansible-playbook", "-i", inventory, os.path.join(ROOT, playbook),
           "-e", json.dumps(dict(SETTINGS, **(extra or {})))]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600,
                          env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"))
    return proc.returncode, proc.stdout + proc.stderr


# The header of the controller role's first task that changes something. (Its words alone also appear in the
# argument specs that a failed validation prints: nova_db_user's description says "Nova's databases".)
FIRST_CHANGE = "TASK [osdeploy.nova.controller : Nova's databases"


def assert_no_secret(output):
    for value in PASSWORDS.values():
        assert value not in output
    assert SECRET not in output


def test_inventory_without_compute_group_fails_in_preflight(tmp_path):
    rc, out = play("site.yml", write_inventory(tmp_path, ["controller"]))
    assert rc != 0
    assert "Check the inventory" in out
    assert "at least one in group 'compute' (it has 0)" in out
    assert "Add the missing group" in out
    assert "baseline" not in out.split("PLAY RECAP")[0].split("Check the inventory")[1]


@pytest.mark.parametrize("missing", sorted(PASSWORDS))
def test_missing_password_fails_before_any_change(tmp_path, missing):
    extra = {k: v for k, v in PASSWORDS.items() if k != missing}
    rc, out = play("playbooks/controller.yml", write_inventory(tmp_path, ["controller", "compute"]), extra)
    assert rc != 0
    assert missing in out
    assert "Validating arguments" in out
    assert FIRST_CHANGE not in out  # stopped before the first real task
    assert_no_secret(out)


def test_empty_password_fails_naming_it(tmp_path):
    extra = dict(PASSWORDS, nova_keystone_password="")
    rc, out = play("playbooks/controller.yml", write_inventory(tmp_path, ["controller", "compute"]), extra)
    assert rc != 0
    assert "nova_keystone_password is not set" in out
    assert FIRST_CHANGE not in out
    assert_no_secret(out)


def test_unreachable_controller_database_fails_with_host_and_port(tmp_path):
    port = free_port()
    extra = dict(PASSWORDS, nova_db_login_host="127.0.0.1", nova_db_login_port=port)
    rc, out = play("playbooks/controller.yml", write_inventory(tmp_path, ["controller", "compute"]), extra)
    assert rc != 0
    assert "cannot connect to MariaDB at 127.0.0.1:%d" % port in out
    assert "Register Nova in Keystone" not in out  # nothing after the database step ran
    assert_no_secret(out)


@pytest.mark.parametrize("device,expected", [
    ("/dev/osdeploy-no-such-disk", "device: /dev/osdeploy-no-such-disk does not exist on this host"),
    ("/etc/hostname", "device: /etc/hostname is not a block device"),
])
def test_a_bad_instances_device_fails_before_any_change(tmp_path, device, expected):
    extra = dict(PASSWORDS, nova_instances_device=device)
    rc, out = play("playbooks/compute.yml", write_inventory(tmp_path, ["controller", "compute"]), extra)
    assert rc != 0
    assert expected in out
    assert "Check the instances device" in out
    assert "Install nova-compute" not in out     # stopped in the input checks, before the packages
    assert_no_secret(out)


def test_a_refusal_on_one_host_stops_every_host_before_the_packages(tmp_path):
    """site.yml's preflight checks each host at its own pace (strategy free); the compute host's refused device
    stops the controller too, whose own checks passed: no host reaches the package installs."""
    extra = dict(PASSWORDS, osdeploy_baseline=False, nova_instances_device="/dev/osdeploy-no-such-disk")
    rc, out = play("site.yml", write_inventory(tmp_path, ["controller", "compute"]), extra)
    assert rc != 0, out
    flat = " ".join(out.split())
    assert "device: /dev/osdeploy-no-such-disk does not exist on this host" in flat, out
    assert ("Refused before any change: the inputs of compute-host did not pass (the failure above says why and "
            "what to set), so no host goes on.") in flat, out
    assert "Install the packages of every host" not in out, out
    recap = dict(re.findall(r"^(\S+)\s*: ok=\d+\s+changed=(\d+)", out.split("PLAY RECAP")[1], re.M))
    assert recap.keys() >= {"controller-host", "compute-host"} and set(recap.values()) == {"0"}, out
    assert_no_secret(out)


def network_this_machine_is_not_on():
    """A documentation network (RFC 5737) that none of this machine's addresses is in (CI machines have used
    192.0.2.0/24 for their own address)."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=True).stdout
    mine = [ipaddress.ip_interface(word).ip for line in out.splitlines() for word in line.split() if "/" in word
            and word[0].isdigit()]
    for candidate in ("198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24"):
        if not any(addr in ipaddress.ip_network(candidate) for addr in mine):
            return candidate
    raise AssertionError("this machine has an address in every documentation network: %s" % mine)


def test_a_migration_network_the_compute_is_not_on_fails_before_any_change(tmp_path):
    # played against this machine: the network must be one it is not on, or the run would go on and deploy here
    network = network_this_machine_is_not_on()
    extra = dict(PASSWORDS, nova_migration_network=network)
    rc, out = play("playbooks/compute.yml", write_inventory(tmp_path, ["controller", "compute"]), extra)
    assert rc != 0
    said = " ".join(out.split())
    assert "nova_migration_network is %s, but this host has no address in it" % network in said, out
    assert "Check the migration network" in out
    assert "Install nova-compute" not in out     # stopped in the input checks, before the packages
    assert_no_secret(out)


def test_moving_a_server_in_the_proof_needs_two_computes(tmp_path):
    extra = dict(PASSWORDS, osdeploy_verify_server=True, osdeploy_verify_migration=True,
                 osdeploy_verify_image="/etc/hostname")
    rc, out = play("site.yml", write_inventory(tmp_path, ["controller", "compute"]), extra)
    assert rc != 0
    said = " ".join(out.split())
    assert "which needs two compute hosts (the inventory's group 'compute' has 1)" in said, out
    assert "Install the packages of every host" not in out
    assert_no_secret(out)


@pytest.mark.parametrize("extra,expected", [
    # osdeploy_verify_ssh, replaced by the user: a login asked for without a user, or refused with one
    (dict(osdeploy_verify_ssh=True), 'It is empty, while osdeploy_verify_ssh, which it replaces, is true'),
    (dict(osdeploy_verify_ssh=False, osdeploy_verify_ssh_user="cirros"),
     'It is "cirros", while osdeploy_verify_ssh, which it replaces, is false'),
    (dict(osdeploy_verify_ssh_user="cirros@host"), 'It is "cirros@host", a user name has no space or @'),
])
def test_a_contradictory_ssh_login_of_the_proof_fails_before_any_change(tmp_path, extra, expected):
    extra = dict(PASSWORDS, osdeploy_verify_server=True, **extra)
    rc, out = play("site.yml", write_inventory(tmp_path, ["controller", "compute"]), extra)
    assert rc != 0
    said = " ".join(out.split())
    assert "Refused before any change: the proof logs into its servers over SSH as osdeploy_verify_ssh_user" in said
    assert expected in said, out
    assert "Install the packages of every host" not in out
    assert_no_secret(out)


def test_a_proof_image_that_is_no_file_nor_url_fails_before_any_change(tmp_path):
    # no image is fine (the proof then runs without a server); a path that is not there is a typo to refuse
    extra = dict(PASSWORDS, osdeploy_verify_server=True, osdeploy_verify_image=str(tmp_path / "cirros.img"))
    rc, out = play("site.yml", write_inventory(tmp_path, ["controller", "compute"]), extra)
    assert rc != 0
    said = " ".join(out.split())
    assert "osdeploy_verify_image is \"%s\", which is neither a file on the Ansible controller nor an http(s) URL" \
        % (tmp_path / "cirros.img") in said, out
    assert "or leave it empty for the proof without a server" in said
    assert "Install the packages of every host" not in out
    assert_no_secret(out)


@pytest.mark.parametrize("extra,expected", [
    ({"nova_firewall_sources": ["192.168.58.0/24", "compute-9"]},
     "sources: 'compute-9' is not an IPv4/IPv6 address or network"),
    ({"nova_firewall_sources": ["192.168.58.0/24"], "nova_firewall_tcp_ports": [5672, 70000]},
     "tcp_ports: 70000 is not a port number"),
])
def test_bad_firewall_inputs_fail_before_any_change(tmp_path, extra, expected):
    # nova_firewall auto (the default): the preflight runs the firewall step in check mode, which refuses the input
    # before it reads this machine's firewall
    rc, out = play("playbooks/controller.yml", write_inventory(tmp_path, ["controller", "compute"]),
                   dict(PASSWORDS, nova_firewall="auto", **extra))
    assert rc != 0
    assert expected in out, out
    assert "Check the firewall inputs" in out
    assert FIRST_CHANGE not in out and "Install" not in out.split("Check the firewall inputs")[1]
    said = " ".join(out.split())
    assert "(sources is nova_firewall_sources, tcp_ports nova_firewall_tcp_ports, backend nova_firewall.)" in said
    assert ("Fix nova_firewall_sources." in said) == ("sources:" in expected), out
    assert_no_secret(out)


def test_a_compute_without_a_management_address_is_named_with_the_variable_to_set(tmp_path):
    # nova_firewall_sources empty: the compute hosts' management addresses are the sources, and one is a name
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(
        "[controller]\ncontroller-host ansible_connection=local ansible_python_interpreter=%s "
        "osdeploy_management_ip=127.0.0.1\n\n[compute]\ncompute-9 ansible_connection=local "
        "osdeploy_management_ip=compute-9.example\n" % TARGET_PYTHON)
    rc, out = play("playbooks/controller.yml", str(inventory), dict(PASSWORDS, nova_firewall="auto"))
    assert rc != 0
    said = " ".join(out.split())
    assert "the management addresses of the compute hosts (compute-9.example): set osdeploy_management_ip " \
           "of each compute host" in said, out
    assert FIRST_CHANGE not in out and "Install" not in out.split("Check the firewall inputs")[1]
    assert_no_secret(out)


def test_a_platform_the_collection_does_not_support_is_refused_naming_the_supported_ones(tmp_path):
    # this machine is Debian 12; a platform list without it makes it unsupported, as Ubuntu or Debian 11 would be
    rc, out = play("site.yml", write_inventory(tmp_path, ["controller", "compute"]),
                   {"__osdeploy_platforms": {"Debian-99": "Debian 99 (test) with OpenStack Test"}})
    assert rc != 0
    assert "Refuse a platform the collection does not support" in out
    assert "runs Debian 12" in out and "(bookworm), which osdeploy.nova does not deploy on" in out
    assert "Supported: Debian 99 (test) with OpenStack Test." in out
    assert "changed=0" in out.split("PLAY RECAP")[1]
    assert_no_secret(out)


@pytest.mark.parametrize("extra,expected", [
    # a release this platform's packages are not (this machine's are Zed or 2025.1, never 2026.2)
    ({"osdeploy_openstack_release": "2026.2"},
     "osdeploy_openstack_release is 2026.2, but osdeploy_install_method distro installs"),
    ({"osdeploy_install_method": "source", "osdeploy_openstack_release": "zed"},
     "osdeploy_openstack_release is zed with osdeploy_install_method source, but zed has no source install in the "
     "collection (no upper constraints for it)"),
    # a platform whose Python 2026.2 does not support (extra vars win over the platform's data file)
    ({"osdeploy_install_method": "source", "osdeploy_openstack_release": "2026.2",
      "__osdeploy_platform_data": {"release": "zed", "python": "3.9", "libvirt": "9.0.0", "qemu": "7.2"}},
     "2026.2 from source needs Python 3.11 to 3.13 (OpenStack's tested runtimes of 2026.2)"),
    # a platform whose libvirt is older than the release's Nova accepts
    ({"osdeploy_install_method": "source", "osdeploy_openstack_release": "2026.1",
      "__osdeploy_platform_data": {"release": "2025.1", "python": "3.13", "libvirt": "7.0.0", "qemu": "10.0"}},
     "2026.1 from source needs libvirt 8.0.0 or newer (nova's MIN_LIBVIRT_VERSION)"),
    # the argument spec refuses what is neither a method nor a release, with the choices
    ({"osdeploy_install_method": "pip"}, "value of osdeploy_install_method must be one of: distro, source, got: pip"),
])
def test_an_install_method_or_release_the_platform_cannot_run_is_refused_before_any_change(tmp_path, extra, expected):
    rc, out = play("site.yml", write_inventory(tmp_path, ["controller", "compute"]), dict(PASSWORDS, **extra))
    assert rc != 0
    said = " ".join(out.split())
    assert expected in said, out
    if "osdeploy_openstack_release is" in expected:  # the release checks name what the platform can run
        assert "What Debian-1" in said and "can run: osdeploy_install_method distro with osdeploy_openstack_release" \
            in said, out
    assert set(re.findall(r"changed=(\d+)", out.split("PLAY RECAP")[1])) == {"0"}, out
    assert "Install the packages of every host" not in out
    assert_no_secret(out)


def test_upgrade_refuses_a_proof_switch_that_is_not_a_boolean(tmp_path):
    """The upgrade command's osdeploy_upgrade_proof (a playbook variable, outside the roles' argument specs) is
    refused before any change unless true or false."""
    rc, out = play("playbooks/upgrade.yml", write_inventory(tmp_path, ["controller", "compute"]),
                   {"osdeploy_upgrade_proof": "sometimes"})
    assert rc != 0, out
    assert "Refused before any change: osdeploy_upgrade_proof is sometimes; set it to true" in " ".join(out.split())
    assert set(re.findall(r"changed=(\d+)", out.split("PLAY RECAP")[1])) == {"0"}, out
    assert_no_secret(out)


def test_upgrade_without_the_proof_switch_passes_its_check(tmp_path):
    """Unset, osdeploy_upgrade_proof is true: its check passes (ansible-core 2.19 templates fail_msg even then)."""
    rc, out = play("playbooks/upgrade.yml", write_inventory(tmp_path, ["controller", "compute"]))
    assert "Refused before any change: osdeploy_upgrade_proof" not in out, out
    assert "Ask every host to answer" in out, out


def test_upgrade_says_what_it_leaves_to_the_operator_without_our_baseline(tmp_path):
    """With osdeploy_baseline false the upgrade moves Nova alone and says so at its start; with ours it says nothing
    of it. (No passwords: the preflight stops both runs before any change.)"""
    said = "osdeploy_baseline is false, so this upgrade moves Nova alone. Upgrade Placement to the same release first"
    rc, out = play("playbooks/upgrade.yml", write_inventory(tmp_path, ["controller", "compute"]),
                   {"osdeploy_baseline": False})
    assert said in " ".join(out.split()), out
    assert "set osdeploy_upgrade_backups_kept: 0" in " ".join(out.split())
    rc, out = play("playbooks/upgrade.yml", write_inventory(tmp_path, ["controller", "compute"]))
    assert said not in " ".join(out.split())
    assert "Ask every host to answer" in out, out
