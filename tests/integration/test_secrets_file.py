"""The playbook osdeploy.nova.secrets (module secrets_file) through ansible-playbook on this machine: the file it
makes, a second run that changes nothing, check mode, kept values, Ansible Vault, refusals, and that no value ever
shows, not even at -vvv. Another playbook reads the file back through an inventory, as site.yml would."""
import json
import os
import re
import stat
import subprocess
import sys

import pytest
import yaml

from ansible_collections.osdeploy.nova.plugins.module_utils import secrets

ALL = [secret.name for secret in secrets.CATALOGUE]
# Reads the secrets as Ansible sees them in an inventory's group_vars, into a JSON file (never to the output).
READ_BACK = """---
- name: Read the secrets as the roles would
  hosts: all
  gather_facts: false
  tasks:
    - name: Write them as JSON
      ansible.builtin.copy:
        content: "{{ dict(names | zip(names | map('extract', hostvars[inventory_hostname]))) | to_json }}"
        dest: "{{ out }}"
        mode: "0600"
      no_log: true
"""


def ansible(*args, **kw):
    """(rc, stdout + stderr) of an Ansible command, run from `cwd`."""
    proc = subprocess.run(list(args), capture_output=True, text=True, check=False, timeout=300, cwd=kw.get("cwd"),
                          env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"))
    return proc.returncode, proc.stdout + proc.stderr


def secrets_play(cwd, *extra):
    return ansible("ansible-playbook", "osdeploy.nova.secrets", *extra, cwd=str(cwd))


def recap(out):
    return re.search(r"localhost\s*: ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", out).groups()


def assert_no_value_in(out, values):
    for value in values:
        assert value not in out and json.dumps(value)[1:-1] not in out


@pytest.fixture
def inventory(tmp_path):
    """A folder as an operator has it: inventory.ini and group_vars/all (the file is made in there)."""
    (tmp_path / "inventory.ini").write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n"
                                            % sys.executable)
    (tmp_path / "read.yml").write_text(READ_BACK)
    return tmp_path


def read_back(folder, *extra):
    """The catalogue's secrets as ansible-playbook reads them from the inventory's group_vars."""
    out_file = folder / "read.json"
    rc, out = ansible("ansible-playbook", "-i", "inventory.ini", "read.yml", "-e",
                      json.dumps({"names": ALL, "out": str(out_file)}), *extra, cwd=str(folder))
    assert rc == 0, out
    return json.loads(out_file.read_text()), out


FILE = "group_vars/all/secrets.yml"


def test_a_first_run_makes_every_secret_a_second_changes_nothing(inventory):
    rc, out = secrets_play(inventory, "-e", "osdeploy_secrets_file=" + FILE, "-vvv")
    assert rc == 0, out
    assert recap(out) == ("1", "0")
    path = inventory / FILE
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    values = yaml.safe_load(path.read_text())
    assert list(values) == ALL
    assert "added " + ", ".join(ALL) in out and "ansible-vault encrypt" in out
    assert_no_value_in(out, values.values())

    read, read_out = read_back(inventory)
    assert read == values  # Ansible reads each value exactly as written
    assert_no_value_in(read_out, values.values())

    rc, out = secrets_play(inventory, "-e", "osdeploy_secrets_file=" + FILE)
    assert rc == 0 and recap(out) == ("0", "0"), out
    assert "nothing added; kept " + ", ".join(ALL) in out
    assert yaml.safe_load(path.read_text()) == values


def test_check_mode_on_a_missing_file_reports_the_change_and_writes_nothing(inventory):
    rc, out = secrets_play(inventory, "-e", "osdeploy_secrets_file=" + FILE, "--check", "--diff")
    assert rc == 0 and recap(out) == ("1", "0"), out
    assert "nova_db_password: ********" in out
    assert not (inventory / "group_vars").exists()


def test_an_existing_value_is_kept_byte_for_byte(inventory):
    path = inventory / FILE
    path.parent.mkdir(parents=True)
    old = "# the operator's own\nnova_db_password: 's3cr:t@pw%$x\"y'\n"
    path.write_text(old)
    rc, out = secrets_play(inventory, "-e", "osdeploy_secrets_file=" + FILE, "-vvv")
    assert rc == 0 and recap(out) == ("1", "0"), out
    text = path.read_text()
    assert text.startswith(old)
    values = yaml.safe_load(text)
    assert values["nova_db_password"] == 's3cr:t@pw%$x"y' and list(values) == ALL[9:10] + ALL[:9] + ALL[10:]
    assert "kept nova_db_password" in out
    assert_no_value_in(out, values.values())
    assert read_back(inventory)[0] == values


def test_with_a_vault_password_file_the_file_is_encrypted_and_ansible_reads_it(inventory):
    password = inventory / "vault-pass"
    password.write_text("the lab's vault password\n")
    options = ["-e", "osdeploy_secrets_file=" + FILE, "-e", "osdeploy_secrets_vault_password_file=vault-pass"]
    rc, out = secrets_play(inventory, *(options + ["-vvv"]))
    assert rc == 0 and recap(out) == ("1", "0"), out
    path = inventory / FILE
    encrypted = path.read_bytes()
    assert encrypted.startswith(b"$ANSIBLE_VAULT;")
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    rc, plain = ansible("ansible-vault", "view", "--vault-password-file", str(password), str(path))
    assert rc == 0, plain
    values = yaml.safe_load(plain)
    assert list(values) == ALL
    assert_no_value_in(out, values.values())

    rc, out = secrets_play(inventory, *options)
    assert rc == 0 and recap(out) == ("0", "0"), out
    assert path.read_bytes() == encrypted

    read, read_out = read_back(inventory, "--vault-password-file", str(password))
    assert read == values
    assert_no_value_in(read_out, values.values())

    rc, out = secrets_play(inventory, "-e", "osdeploy_secrets_file=" + FILE)
    assert rc != 0 and "is encrypted with ansible-vault" in out and "vault_password_file" in out


def test_a_directory_is_refused_naming_the_option(inventory):
    (inventory / "group_vars").mkdir()
    rc, out = secrets_play(inventory, "-e", "osdeploy_secrets_file=group_vars")
    assert rc != 0 and recap(out) == ("0", "1")
    assert "path: %s is a directory" % (inventory / "group_vars") in out


@pytest.mark.parametrize("extra", [[], ["-e", "osdeploy_secrets_file="]])
def test_a_missing_file_option_is_refused_saying_what_to_pass(inventory, extra):
    rc, out = secrets_play(inventory, *extra)
    assert rc != 0
    assert "osdeploy_secrets_file is not set" in out
    assert "-e osdeploy_secrets_file=inventories/mycloud/group_vars/all/secrets.yml" in out
    assert not (inventory / "group_vars").exists()
