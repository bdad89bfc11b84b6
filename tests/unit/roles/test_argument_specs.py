"""The roles' documented variables (meta/argument_specs.yml) match their defaults.

ansible-doc and Ansible's argument validation read the specs; the roles run
with defaults/main.yml. The nova role's defaults hold the nova_* variables of
the controller and compute roles too, so each of its defaults must be
documented in the spec of nova, controller or compute (test_variables.py: of
the one whose hosts read it).
"""
import os
import re

import pytest
import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
ROLES = ("osdeploy", "baseline", "nova", "controller", "compute", "source")
# where the defaults of a role are documented (the controller and compute roles have none of their own: their
# settings are the nova role's)
DOCUMENTED_IN = {"osdeploy": ("osdeploy",), "baseline": ("baseline",), "nova": ("nova", "controller", "compute"),
                 "source": ("source",)}


def load(role, *parts):
    path = os.path.join(ROOT, "roles", role, *parts)
    if parts[0] == "defaults" and not os.path.exists(path):
        return {}
    with open(path) as f:
        return yaml.safe_load(f) or {}


def spec_options(role):
    """The options of the role's main entry point; of every entry point for a role without one (the source role,
    which other roles include by its entry points)."""
    specs = load(role, "meta", "argument_specs.yml")["argument_specs"]
    if "main" in specs:
        return specs["main"].get("options", {})
    options = {}
    for entry in specs.values():
        options.update(entry.get("options") or {})
    return options


@pytest.mark.parametrize("role", sorted(DOCUMENTED_IN))
def test_every_default_is_documented_with_the_same_default(role):
    defaults = load(role, "defaults", "main.yml")
    specs = {r: spec_options(r) for r in DOCUMENTED_IN[role]}
    assert defaults, "roles/%s/defaults/main.yml is empty" % role
    for name, value in defaults.items():
        documented = [r for r in specs if name in specs[r]]
        assert documented, "%s (roles/%s/defaults) is in no argument spec of %s" % (name, role, DOCUMENTED_IN[role])
        for r in documented:
            spec = specs[r][name]
            assert spec.get("description"), "%s in roles/%s/meta/argument_specs.yml has no description" % (name, r)
            if "default" in spec:
                assert spec["default"] == value, "%s: default %r in %s's spec, %r in roles/%s/defaults" % (
                    name, spec["default"], r, value, role)


@pytest.mark.parametrize("role", ROLES)
def test_no_spec_claims_a_default_the_role_does_not_have(role):
    defaults = {}
    for r in DOCUMENTED_IN:
        if role in DOCUMENTED_IN[r]:
            defaults.update(load(r, "defaults", "main.yml"))
    for name, spec in spec_options(role).items():
        if name not in defaults:
            assert "default" not in spec, "%s: roles/%s documents a default that no defaults/main.yml sets" % (
                name, role)
        if spec.get("required"):
            assert name not in defaults, "%s is required but roles/*/defaults give it a value" % name


def test_a_wrong_default_would_be_caught(tmp_path, monkeypatch):
    """The check above can fail: a spec whose default differs from defaults/main.yml."""
    spec = {"argument_specs": {"main": {"options": {"x_var": {"type": "int", "default": 1, "description": "x"}}}}}
    for sub, content in (("meta/argument_specs.yml", spec), ("defaults/main.yml", {"x_var": 2})):
        path = tmp_path / "roles" / "baseline" / sub
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(content))
    monkeypatch.setattr(__import__(__name__), "ROOT", str(tmp_path))
    with pytest.raises(AssertionError, match="x_var: default 1"):
        test_every_default_is_documented_with_the_same_default("baseline")


def reference_contract_variables():
    """The options of docs/variables.md's section of the osdeploy role (generated: tools/docs-variables)."""
    with open(os.path.join(ROOT, "docs", "variables.md")) as f:
        section = f.read().split("## `osdeploy.nova.osdeploy`")[1].split("\n## ")[0]
    names = set()
    for row in section.splitlines():
        if row.startswith("| `"):
            names.update(re.findall(r"`([a-z_]+)`", row.split("|")[1]))
    return names


def test_the_reference_of_the_contract_matches_the_argument_specs():
    assert reference_contract_variables() == set(spec_options("osdeploy"))


def test_site_ymls_own_variable_is_documented():
    """osdeploy_baseline is read by the playbooks, in no role's spec: docs/inclusion.md documents it."""
    with open(os.path.join(ROOT, "docs", "inclusion.md")) as f:
        assert "`osdeploy_baseline: false`" in f.read()
