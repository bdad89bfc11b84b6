"""The roles' input checks (osdeploy and nova roles, check_inputs): a refused input is named with
its fix, several at once, before any change, and its value never shows."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
PLAY = """
- hosts: controller
  connection: local
  gather_facts: false
  tasks:
    - name: The Nova inputs
      ansible.builtin.import_role:
        name: osdeploy.nova.nova
        tasks_from: validate
"""
GOOD = {"osdeploy_rabbitmq_password": "p@ss:w%rd$#?", "nova_keystone_password": "k-pw-7y",
        "osdeploy_metadata_secret": "m-s3cr-8q", "osdeploy_verify_server": False,
        "nova_db_password": "d-pw-5z"}


def run_role(tmp_path, host_vars="osdeploy_management_ip=127.0.0.1", **extra):
    play = tmp_path / "play.yml"
    play.write_text(PLAY)
    inventory = tmp_path / "inventory.ini"
    # no facts are gathered: the inventory gives the address the defaults would take from them (the osdeploy
    # role reads the distribution facts itself, with the target's Python, as on a Debian host)
    # and the install method of the Nova the integration tier leaves on this machine (Debian's packages): the
    # osdeploy role reads what runs here, and would refuse the default source install over it
    inventory.write_text("[controller]\nlocalhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3 "
                         "osdeploy_install_method=distro %s\n[compute]\ncompute9\n" % host_vars)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_DEPRECATION_WARNINGS="1")
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(inventory),
           str(play), "-e", json.dumps(extra)]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    return r.returncode, r.stdout + r.stderr


@pytest.mark.parametrize("variable", ["osdeploy_rabbitmq_password", "osdeploy_rabbitmq_user"])
def test_a_slash_in_the_rabbitmq_credentials_is_refused_by_name(tmp_path, variable):
    rc, out = run_role(tmp_path, **dict(GOOD, **{variable: "Sec/ret-9f"}))
    assert rc != 0
    assert "%s must not contain '/'" % variable in out
    assert "Refused before any change" in out
    assert "Sec/ret-9f" not in out


def test_good_inputs_pass(tmp_path):
    rc, out = run_role(tmp_path, **GOOD)
    assert rc == 0, out[-2000:]
    assert "deprecated" not in out


def test_every_problem_is_named_at_once_without_values(tmp_path):
    values = dict(GOOD)
    values.update(nova_db_password="pässwörd-1", nova_keystone_password="")
    rc, out = run_role(tmp_path, **values)
    assert rc != 0
    assert "nova_keystone_password is not set" in out
    assert "nova_db_password must hold printable ASCII characters only" in out
    assert "pässwörd" not in out


def test_a_management_address_that_is_no_address_is_refused(tmp_path):
    rc, out = run_role(tmp_path, host_vars="osdeploy_management_ip=10.0.0.300", **GOOD)
    assert rc != 0
    assert "osdeploy_management_ip must be an IP address of this host" in out


def test_the_host_option_is_refused_in_nova_conf_extra(tmp_path):
    rc, out = run_role(tmp_path, nova_conf_extra={"DEFAULT": {"host": "x"}}, **GOOD)
    assert rc != 0
    assert "set nova_host_name instead" in out
