"""secrets_file in a temporary folder: the file it makes, what it keeps, check mode, modes, refusals, Ansible
Vault, and that no value ever shows."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat

import pytest
import yaml

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.osdeploy.nova.plugins.module_utils import inputs, secrets
from ansible_collections.osdeploy.nova.plugins.modules import secrets_file

ALL = [secret.name for secret in secrets.CATALOGUE]


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def values_of(path):
    with open(str(path)) as handle:
        return yaml.safe_load(handle)


def assert_no_value_in(out, values):
    shown = json.dumps(out)
    for value in values:
        assert value not in shown and json.dumps(value)[1:-1] not in shown


@pytest.fixture(autouse=True)
def warned(monkeypatch):
    """The warnings of each run (Ansible keeps them in a global list across runs of a test process)."""
    found = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, msg, **kw: found.append(msg))
    return found


@pytest.fixture
def target(tmp_path):
    return tmp_path / "inv" / "group_vars" / "all" / "secrets.yml"


def test_a_new_file_gets_every_secret_with_mode_0600_in_a_0700_folder(run_main, target):
    rc, out = run_main(secrets_file, dict(path=str(target)))
    assert rc == 0 and out["changed"], out
    assert out["added"] == ALL and out["kept"] == [] and out["encrypted"] is False
    values = values_of(target)
    assert list(values) == ALL
    for name, value in values.items():
        assert inputs.value_problems(name, value, secrets.BY_NAME[name].rules) == []
    assert mode_of(target) == 0o600
    assert mode_of(target.parent) == mode_of(target.parent.parent) == 0o700
    assert_no_value_in(out, values.values())

    os.utime(str(target), (1000000000, 1000000000))
    rc, again = run_main(secrets_file, dict(path=str(target)))
    assert rc == 0 and not again["changed"] and again["added"] == [] and again["kept"] == ALL
    assert values_of(target) == values and os.stat(str(target)).st_mtime == 1000000000, "the file is not rewritten"


def test_check_mode_predicts_and_writes_nothing(run_main, target):
    rc, out = run_main(secrets_file, dict(path=str(target)), check=True)
    assert rc == 0 and out["changed"] and out["added"] == ALL
    assert not target.parent.parent.parent.exists()


def test_existing_values_comments_and_other_names_are_kept_byte_for_byte(run_main, target):
    target.parent.mkdir(parents=True)
    old = "# mine\nnova_db_password: 'its own: value'\nsome_other: plain text\n"
    target.write_text(old)
    os.chmod(str(target), 0o644)
    rc, out = run_main(secrets_file, dict(path=str(target), _ansible_diff=True))
    assert rc == 0 and out["changed"]
    assert out["kept"] == ["nova_db_password", "some_other"]
    assert out["added"] == [name for name in ALL if name != "nova_db_password"]
    text = target.read_text()
    assert text.startswith(old)
    values = values_of(target)
    assert values["nova_db_password"] == "its own: value" and values["some_other"] == "plain text"
    assert mode_of(target) == 0o600
    assert "nova_db_password: ********" in out["diff"]["before"]
    assert_no_value_in(out, values.values())


def test_a_wider_mode_alone_is_a_change(run_main, target):
    run_main(secrets_file, dict(path=str(target)))
    os.chmod(str(target), 0o640)
    rc, out = run_main(secrets_file, dict(path=str(target)), check=True)
    assert out["changed"] and out["added"] == [] and mode_of(target) == 0o640
    rc, out = run_main(secrets_file, dict(path=str(target)))
    assert out["changed"] and mode_of(target) == 0o600


def test_a_flow_mapping_is_written_anew_with_its_values(run_main, target):
    target.parent.mkdir(parents=True)
    target.write_text('{nova_db_password: "x-y", extra: z}')
    rc, out = run_main(secrets_file, dict(path=str(target)))
    values = values_of(target)
    assert values["nova_db_password"] == "x-y" and values["extra"] == "z" and len(values) == 14


def test_names_and_length(run_main, target):
    rc, out = run_main(secrets_file, dict(path=str(target), names=["nova_db_password"], length=20))
    assert out["added"] == ["nova_db_password"]
    assert len(values_of(target)["nova_db_password"]) == 20


def test_a_broken_existing_value_is_kept_with_a_warning_naming_variable_and_rule(run_main, target, warned):
    target.parent.mkdir(parents=True)
    target.write_text('osdeploy_rabbitmq_password: "abc/hunter2secret"\n')
    rc, out = run_main(secrets_file, dict(path=str(target)))
    assert rc == 0
    assert any(w.startswith("osdeploy_rabbitmq_password must not contain '/'") for w in warned), warned
    assert_no_value_in([out, warned], ["abc/hunter2secret"])
    assert values_of(target)["osdeploy_rabbitmq_password"] == "abc/hunter2secret"


@pytest.mark.parametrize("content, option, words", [
    ("- a\n- b\n", "path", "not a mapping"),
    ("nova_db_password: 12345\n", "path", "nova_db_password has no string value"),
    ("nova_db_password: [\n", "path", "not valid YAML"),
    ("$ANSIBLE_VAULT;1.1;AES256\n6162\n", "path", "vault_password_file"),
])
def test_a_bad_existing_file_is_refused_before_anything_is_written(run_main, target, content, option, words):
    target.parent.mkdir(parents=True)
    target.write_text(content)
    rc, out = run_main(secrets_file, dict(path=str(target)))
    assert rc == 1 and out["msg"].startswith(option + ":") and words in out["msg"], out
    assert target.read_text() == content
    assert "12345" not in out["msg"]


@pytest.mark.parametrize("args, words", [
    (dict(length=15), "length: 15 is too short"),
    (dict(names=["nova_dbpassword"]), "names: nova_dbpassword is not a secret"),
])
def test_bad_options_are_refused(run_main, target, args, words):
    args["path"] = str(target)
    rc, out = run_main(secrets_file, args)
    assert rc == 1 and words in out["msg"]
    assert not target.parent.parent.parent.exists()


def test_a_directory_is_refused(run_main, tmp_path):
    rc, out = run_main(secrets_file, dict(path=str(tmp_path)))
    assert rc == 1 and out["msg"].startswith("path: %s is a directory" % tmp_path)


def test_vault(run_main, target, tmp_path):
    password = tmp_path / "vault-pass"
    password.write_text("the vault password\n")
    args = dict(path=str(target), vault_password_file=str(password), names=["nova_db_password"])
    rc, out = run_main(secrets_file, args)
    assert rc == 0 and out["changed"] and out["encrypted"], out
    first = target.read_bytes()
    assert first.startswith(b"$ANSIBLE_VAULT;") and mode_of(target) == 0o600

    rc, out = run_main(secrets_file, args)
    assert rc == 0 and not out["changed"] and target.read_bytes() == first

    args["names"] = None
    rc, out = run_main(secrets_file, args)
    assert out["changed"] and out["kept"] == ["nova_db_password"] and len(out["added"]) == 12
    assert target.read_bytes().startswith(b"$ANSIBLE_VAULT;")

    rc, out = run_main(secrets_file, dict(path=str(target)))
    assert rc == 1 and out["msg"].startswith("path:") and "vault_password_file" in out["msg"]

    plain = tmp_path / "plain.yml"
    plain.write_text('a: "b"\n')
    rc, out = run_main(secrets_file, dict(path=str(plain), vault_password_file=str(password)))
    assert rc == 1 and out["msg"].startswith("vault_password_file:") and "ansible-vault encrypt" in out["msg"]

    password.write_text("another password\n")
    rc, out = run_main(secrets_file, dict(path=str(target), vault_password_file=str(password)))
    assert rc == 1 and out["msg"].startswith("vault_password_file: ansible-vault decrypt of %s with the password in %s "
                                             "failed (exit code 1): " % (target, password)), out["msg"]


def test_a_relative_path_is_refused(run_main):
    rc, out = run_main(secrets_file, dict(path="inv/secrets.yml"))
    assert rc == 1 and out["msg"].startswith("path: inv/secrets.yml is a relative path")
