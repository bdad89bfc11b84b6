"""site.yml and the roles stop early, with a message that says what to fix.

Each case runs the real playbooks through ansible-playbook against this machine
as the only host (local connection). Every case must fail before the first task
that would change anything, which the tests check by the task that failed.
"""
import json
import os
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
# These cases run the controller's playbook alone: no server is booted at the end.
SETTINGS = {"osdeploy_verify_server": False}


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
    assert "Nova's databases" not in out  # stopped before the first real task
    assert_no_secret(out)


def test_empty_password_fails_naming_it(tmp_path):
    extra = dict(PASSWORDS, nova_keystone_password="")
    rc, out = play("playbooks/controller.yml", write_inventory(tmp_path, ["controller", "compute"]), extra)
    assert rc != 0
    assert "nova_keystone_password is not set" in out
    assert "Nova's databases" not in out
    assert_no_secret(out)


def test_unreachable_controller_database_fails_with_host_and_port(tmp_path):
    port = free_port()
    extra = dict(PASSWORDS, nova_db_login_host="127.0.0.1", nova_db_login_port=port)
    rc, out = play("playbooks/controller.yml", write_inventory(tmp_path, ["controller", "compute"]), extra)
    assert rc != 0
    assert "cannot connect to MariaDB at 127.0.0.1:%d" % port in out
    assert "Register Nova in Keystone" not in out  # nothing after the database step ran
    assert_no_secret(out)
