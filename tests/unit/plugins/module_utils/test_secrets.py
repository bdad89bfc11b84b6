"""The catalogue of secrets (module_utils/secrets.py): each generated value passes the rules the roles apply to
it, existing values are never changed, and the catalogue is what the roles declare (it cannot drift)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import pytest
import yaml

from ansible_collections.osdeploy.nova.plugins.module_utils import credentials, inputs, secrets

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")
DRAWS = 300
# Declared in the roles with rules but left out of the catalogue, and why.
NOT_GENERATED = {
    # a user name, checked with the secrets because it goes into the same transport_url
    "osdeploy_rabbitmq_user": "not a secret",
    # needed only when the operator sets another placement user (nova_placement_user); by default Nova's
    # own user talks to Placement
    "nova_placement_password": "optional",
}
# {'name': 'nova_db_password', 'rules': ['printable_ascii']} in a Jinja expression of vars/main.yml
_JINJA_SECRET = re.compile(r"\{'name': '(?P<name>\w+)'(?:, 'rules': \[(?P<rules>[^\]]*)\])?\}")


def declared_secrets():
    """[(role, name, rules)] of every entry of the roles' __*_secrets lists, literal or in a Jinja expression."""
    found = []
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", "*", "vars", "main.yml"))):
        role = path.split(os.sep)[-3]
        with open(path) as handle:
            data = yaml.safe_load(handle) or {}
        for var, value in data.items():
            if not (var.startswith("__") and var.endswith("_secrets")):
                continue
            if isinstance(value, list):
                for item in value:
                    item = {"name": item} if isinstance(item, str) else item
                    found.append((role, item["name"], tuple(item.get("rules") or ())))
            else:
                for match in _JINJA_SECRET.finditer(value):
                    rules = [r.strip().strip("'") for r in (match.group("rules") or "").split(",") if r.strip()]
                    found.append((role, match.group("name"), tuple(rules)))
    return found


def documented_variables():
    names = set()
    for path in glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml")):
        with open(path) as handle:
            for entry in (yaml.safe_load(handle)["argument_specs"] or {}).values():
                names.update(entry.get("options") or {})
    return names


def test_the_catalogue_has_the_thirteen_secrets_once_each_with_a_purpose():
    names = [secret.name for secret in secrets.CATALOGUE]
    assert len(names) == len(set(names)) == 13
    for secret in secrets.CATALOGUE:
        assert secret.purpose.endswith(".") and len(secret.purpose) < 100, secret.name
        assert set(secret.rules) <= set(inputs.RULES), secret.name


def test_every_secret_the_roles_declare_is_in_the_catalogue_with_the_same_rules():
    declared = declared_secrets()
    assert len(declared) >= 13, declared  # the parsing found the roles' lists
    for role, name, rules in declared:
        if name in NOT_GENERATED:
            continue
        assert name in secrets.BY_NAME, "%s (roles/%s/vars/main.yml) is not in the catalogue" % (name, role)
        assert set(rules) == set(secrets.BY_NAME[name].rules), "%s: rules %s in roles/%s, %s in the catalogue" % (
            name, list(rules), role, list(secrets.BY_NAME[name].rules))
    assert set(secrets.BY_NAME) <= set(name for dummy, name, dummy2 in declared)
    assert set(NOT_GENERATED) <= set(name for dummy, name, dummy2 in declared), "NOT_GENERATED names a stale one"


def test_every_catalogue_name_is_a_documented_variable_of_the_roles():
    documented = documented_variables()
    for name in secrets.BY_NAME:
        assert name in documented, "%s is in no roles/*/meta/argument_specs.yml" % name


@pytest.mark.parametrize("name", sorted(secrets.BY_NAME))
def test_every_generated_value_passes_its_rules(name):
    rules = secrets.BY_NAME[name].rules
    specials = secrets.specials_for(rules)
    for dummy in range(DRAWS):
        value = secrets.generate(name)
        assert len(value) == secrets.DEFAULT_LENGTH
        assert inputs.value_problems(name, value, rules) == []
        assert sum(ch in specials for ch in value) >= secrets.MIN_SPECIALS
        assert value[0] not in specials and value[-1] not in specials
        assert "{" not in value and "}" not in value


def test_url_unreserved_values_hold_only_letters_digits_and_the_four_unreserved_specials():
    for dummy in range(DRAWS):
        assert re.match(r"^[A-Za-z0-9._~-]+$", secrets.generate("baseline_keystone_db_password"))


def test_no_slash_values_make_a_transport_url_and_keep_the_other_specials():
    seen = set()
    for dummy in range(DRAWS):
        value = secrets.generate("osdeploy_rabbitmq_password")
        assert "/" not in value
        credentials.transport_url("openstack", value, "ctl")  # raises on what oslo.messaging cannot use
        seen.update(value)
    assert set("%$@:'\"") <= seen


def test_other_secrets_draw_from_every_special_character():
    seen = set()
    for dummy in range(DRAWS):
        seen.update(secrets.generate("nova_db_password"))
    assert set(secrets.SPECIALS) <= seen


def test_length_is_honoured_and_too_short_is_refused():
    assert len(secrets.generate("nova_db_password", 16)) == 16
    assert len(secrets.generate("nova_db_password", 64)) == 64
    with pytest.raises(ValueError):
        secrets.generate("nova_db_password", 15)


def test_missing_adds_only_what_the_mapping_lacks_in_catalogue_order():
    existing = {"nova_db_password": "x", "baseline_admin_password": "", "my_own_var": "keep"}
    added = secrets.missing(existing)
    assert list(added) == [s.name for s in secrets.CATALOGUE if s.name not in existing]
    whole = secrets.merged(existing, added)
    for name, value in existing.items():
        assert whole[name] == value  # never changed, even an empty or a weak one, nor a name of its own
    assert secrets.missing(whole) == {}


def test_missing_with_names_adds_only_those_and_refuses_unknown_ones():
    assert list(secrets.missing({}, ["nova_db_password", "baseline_admin_password"])) == [
        "baseline_admin_password", "nova_db_password"]
    assert secrets.missing({"nova_db_password": "x"}, ["nova_db_password"]) == {}
    with pytest.raises(ValueError, match="nova_dbpassword"):
        secrets.missing({}, ["nova_dbpassword"])


def test_problems_name_the_variable_and_rule_never_the_value():
    found = secrets.problems({"osdeploy_rabbitmq_password": "ab/cd-secretvalue", "baseline_admin_password": "ok"})
    assert len(found) == 1
    assert found[0].startswith("osdeploy_rabbitmq_password must not contain '/'")
    assert "secretvalue" not in found[0]


def test_yaml_lines_read_back_exactly():
    values = dict((name, secrets.generate(name)) for name in secrets.BY_NAME)
    values["odd"] = "a\\b\"c'd: #e %f $g"
    values["a key"] = "v"
    text = "\n".join(secrets.yaml_line(name, value) for name, value in values.items()) + "\n"
    assert yaml.safe_load(text) == values
