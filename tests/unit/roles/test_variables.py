"""Every public variable of the roles has one home: one defaults file defines it (or none, for an input
without a default such as a password), one role's argument spec documents it, and the roles read it.

A role reads what its tasks, handlers, templates, vars and defaults name in Jinja (and what they pass to
check_inputs by name). A role runs with its dependencies (meta/main.yml) and as part of the roles that
depend on it, so what a role reads must be documented in the spec of a role of that chain: a variable the
roles read that no spec documents (a typo, a name that was renamed) fails here, and so does a documented
one that no role reads (a setting that does nothing).
"""
import glob
import os
import re

import pytest
import yaml
from jinja2 import Environment, nodes

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
# The public variables: each role's prefix (ansible-lint's var-naming asks a role's defaults to use its
# own), with nova_ for the nova role, whose defaults hold the controller's and compute's settings; source_ are the
# parameters the roles pass to the source role they include.
PUBLIC = re.compile(r"^(osdeploy|baseline|nova|controller|compute|source)_[a-z0-9_]+$")
# The public facts a role sets for the roles that run with it: no spec option (nobody sets them), documented in the
# description of the role's main entry point, with their keys.
OUTPUTS = {"osdeploy": {"osdeploy_host"}}
# Task keywords whose strings are bare Jinja expressions.
EXPRESSIONS = {"when", "changed_when", "failed_when", "until", "that"}
# Jinja decodes the roles' regular expressions ('\S') as Python string literals, which warns.
pytestmark = pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning")


class _AnyCallable(dict):
    """Filters and tests by any name: parsing needs none of Ansible's."""

    def get(self, key, default=None):
        return super().get(key) or (lambda *args, **kwargs: None)


JINJA = Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
JINJA.filters = _AnyCallable(JINJA.filters)
JINJA.tests = _AnyCallable(JINJA.tests)


def roles():
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "roles", "*")))


def load(path):
    with open(path) as f:
        return yaml.safe_load(f) or {}


def role_file(role, *parts):
    path = os.path.join(ROOT, "roles", role, *parts)
    return load(path) if os.path.exists(path) else {}


def defaults(role):
    return role_file(role, "defaults", "main.yml")


def documented(role):
    """Every option of every entry point of the role's argument spec."""
    specs = role_file(role, "meta", "argument_specs.yml").get("argument_specs", {})
    return {name for entry in specs.values() for name in entry.get("options", {})}


def dependencies(role):
    deps = role_file(role, "meta", "main.yml").get("dependencies") or []
    return {(d["role"] if isinstance(d, dict) else d).split(".")[-1] for d in deps}


def chain(role):
    """The role, what it depends on and what depends on it, transitively: the roles it runs with."""
    found, todo = set(), [role]
    while todo:
        r = todo.pop()
        if r not in found:
            found.add(r)
            todo += list(dependencies(r))
    below = set()
    todo = [role]
    while todo:
        r = todo.pop()
        for other in roles():
            if r in dependencies(other) and other not in below:
                below.add(other)
                todo.append(other)
    return found | below


def jinja_reads(text):
    """Public names a template reads: variables, attributes (hostvars[h].name) and string keys or list
    items (hostvars[h]['name'], check_inputs' interfaces: ['name']) that are public names."""
    found = set()
    tree = JINJA.parse(text)
    for node in tree.find_all((nodes.Name, nodes.Getattr, nodes.Getitem, nodes.List, nodes.Tuple)):
        if isinstance(node, nodes.Name) and node.ctx == "load":
            found.add(node.name)
        elif isinstance(node, nodes.Getattr):
            found.add(node.attr)
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            found.add(node.arg.value)
        elif isinstance(node, (nodes.List, nodes.Tuple)):
            found.update(item.value for item in node.items if isinstance(item, nodes.Const))
    return {name for name in found if isinstance(name, str) and PUBLIC.match(name)}


def yaml_reads(node, key=None):
    """Public names a YAML file reads: in its Jinja, and as plain values (check_inputs' secrets by name)."""
    if isinstance(node, dict):
        return set().union(*[yaml_reads(value, k) for k, value in node.items()])
    if isinstance(node, list):
        return set().union(*[yaml_reads(value, key) for value in node])
    if not isinstance(node, str):
        return set()
    if key in EXPRESSIONS:
        return jinja_reads("{{ %s }}" % node)
    if "{{" in node or "{%" in node:
        return jinja_reads(node)
    return {node} if PUBLIC.match(node) else set()


def reads(role):
    """Public name -> the role's files that read it."""
    found = {}
    for sub in ("tasks", "handlers", "templates", "vars", "defaults"):
        for path in sorted(glob.glob(os.path.join(ROOT, "roles", role, sub, "**", "*"), recursive=True)):
            if os.path.isdir(path):
                continue
            if path.endswith(".j2"):
                with open(path) as f:
                    names = jinja_reads(f.read())
            else:
                names = yaml_reads(load(path))
            for name in names:
                found.setdefault(name, []).append(os.path.relpath(path, ROOT))
    return found


@pytest.mark.parametrize("role", roles())
def test_every_variable_the_role_reads_is_documented_where_the_role_runs(role):
    where = chain(role)
    documented_there = set().union(*[documented(r) | OUTPUTS.get(r, set()) for r in where])
    missing = {name: files for name, files in reads(role).items() if name not in documented_there}
    assert not missing, "read by roles/%s, documented in no argument spec of %s: %s" % (
        role, sorted(where), missing)


@pytest.mark.parametrize("role", roles())
def test_every_documented_variable_is_read_where_the_role_runs(role):
    read_there = set().union(*[reads(r) for r in chain(role)])
    unread = documented(role) - read_there
    assert not unread, "documented in roles/%s/meta/argument_specs.yml, read by no role it runs with: %s" % (
        role, sorted(unread))


def test_each_variable_is_documented_in_one_role_and_defined_in_one_defaults_file():
    for kind, of in (("documented", documented), ("defined", lambda r: set(defaults(r)))):
        homes = {}
        for role in roles():
            for name in of(role):
                homes.setdefault(name, []).append(role)
        twice = {name: where for name, where in homes.items() if len(where) > 1}
        assert not twice, "%s in more than one role: %s" % (kind, twice)


def facts_set(role):
    """Names the role's tasks set with set_fact."""
    found = set()

    def walk(node):
        if isinstance(node, dict):
            for key in ("ansible.builtin.set_fact", "set_fact"):
                if isinstance(node.get(key), dict):
                    found.update(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
    for path in glob.glob(os.path.join(ROOT, "roles", role, "tasks", "**", "*.yml"), recursive=True):
        walk(load(path))
    return found


@pytest.mark.parametrize("role, fact", sorted((r, f) for r, facts in OUTPUTS.items() for f in facts))
def test_each_output_is_set_by_its_role_documented_in_its_main_entry_point_and_read(role, fact):
    assert fact in facts_set(role), "%s is listed as roles/%s's output, which sets no such fact" % (fact, role)
    description = role_file(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["description"]
    assert any(fact in paragraph for paragraph in description), (
        "roles/%s/meta/argument_specs.yml's main does not describe %s" % (role, fact))
    assert fact not in documented(role) and fact not in defaults(role), "%s is an output, not an input" % fact
    assert any(fact in reads(other) for other in roles() if other != role), "no other role reads %s" % fact


def test_vars_files_hold_no_public_variable():
    """A public variable is set in defaults, where the inventory can override it; vars/ is the roles' own."""
    for path in glob.glob(os.path.join(ROOT, "roles", "*", "vars", "**", "*.yml"), recursive=True):
        public = sorted(name for name in load(path) if PUBLIC.match(name))
        assert not public, "%s sets public variables: %s" % (os.path.relpath(path, ROOT), public)


def test_the_reads_are_found():
    """The checks above can fail: a name that no spec documents, read in each way the roles read."""
    assert jinja_reads("{{ nova_x | default(osdeploy_y) }}") == {"nova_x", "osdeploy_y"}
    assert jinja_reads("{% for h in groups.all %}{{ hostvars[h].nova_a ~ hostvars[h]['nova_b'] }}{% endfor %}") \
        == {"nova_a", "nova_b"}
    assert jinja_reads("{{ 'nova_api' | osdeploy.nova.db_url(x, port=nova_db_port) }}") == {"nova_db_port"}
    assert yaml_reads({"when": "baseline_z | bool", "secrets": [{"name": "nova_s"}],
                       "interfaces": "{{ ['baseline_i'] if true else [] }}", "msg": "nova_not_a_name here"}) \
        == {"baseline_z", "nova_s", "baseline_i"}
    assert "nova_keystone_password" in reads("controller")
    assert "controller" in chain("osdeploy") and "baseline" not in chain("nova")
