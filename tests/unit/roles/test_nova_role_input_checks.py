"""The nova role's early checks: it refuses RabbitMQ credentials that oslo.messaging breaks,
names the variable, and never shows the secret."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  roles:
    - role: osdeploy.nova.nova
"""


def run_role(tmp_path, **extra):
    play = tmp_path / "play.yml"
    play.write_text(PLAY)
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("[controller]\nlocalhost ansible_connection=local management_ip=127.0.0.1\n")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    # no facts are gathered: the inventory gives the address the defaults would take from them
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(inventory),
           str(play), "-e", json.dumps(extra)]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize("variable", ["nova_rabbitmq_password", "nova_rabbitmq_user"])
def test_a_slash_in_the_rabbitmq_credentials_is_refused_by_name(tmp_path, variable):
    values = {"nova_rabbitmq_password": "Good-pw-3x", "nova_keystone_password": "k-pw-7y",
              "nova_db_password": "d-pw-5z", variable: "Sec/ret-9f"}
    r = run_role(tmp_path, **values)
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "%s must not contain '/'" % variable in out
    assert "Sec/ret-9f" not in out


def test_credentials_without_a_slash_pass(tmp_path):
    r = run_role(tmp_path, nova_rabbitmq_password="p@ss:w%rd$#?", nova_keystone_password="k-pw-7y",
                 nova_db_password="d-pw-5z")
    assert r.returncode == 0, r.stdout[-2000:]
