"""Roles are entered by their declared phases: every `tasks_from` in the playbooks, the roles and the example
names an entry point of that role's argument spec, without `.yml` (Ansible applies an entry point's spec only when
`tasks_from` names it so), except the targets still to be declared (issue 58), a list that only shrinks."""
import glob
import os

import pytest
import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
FILES = sorted(glob.glob(os.path.join(ROOT, "playbooks", "*.yml")) + glob.glob(os.path.join(ROOT, "site.yml"))
               + glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "*.yml"))
               + glob.glob(os.path.join(ROOT, "roles", "*", "handlers", "*.yml"))
               + glob.glob(os.path.join(ROOT, "docs", "examples", "*.yml")))
# (role, tasks_from) entered today without an entry point: each goes when its role is split into phases
NOT_YET_DECLARED = {
    ("osdeploy", "preview_stop.yml"), ("osdeploy", "tls.yml"), ("osdeploy", "verify_server.yml"),
    ("osdeploy", "verify_cloud.yml"), ("baseline", "placement.yml"), ("controller", "upgrade_watch.yml"),
    ("controller", "upgrade_backup.yml"), ("controller", "upgrade_finish.yml"), ("controller", "upgrade_report.yml"),
}


def entry_points(role):
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as f:
        return set(yaml.safe_load(f)["argument_specs"])


def role_entries():
    """(file, role, tasks_from) of every import_role/include_role with tasks_from."""
    found = []

    def walk(node, path):
        if isinstance(node, dict):
            for key in ("ansible.builtin.import_role", "ansible.builtin.include_role", "import_role", "include_role"):
                call = node.get(key)
                if isinstance(call, dict) and "tasks_from" in call:
                    found.append((os.path.relpath(path, ROOT), call["name"].split(".")[-1], call["tasks_from"]))
            for value in node.values():
                walk(value, path)
        elif isinstance(node, list):
            for value in node:
                walk(value, path)

    for path in FILES:
        with open(path) as f:
            walk(yaml.safe_load(f), path)
    return found


def test_the_files_are_found():
    assert len(role_entries()) >= 25


@pytest.mark.parametrize("where,role,target", [e for e in role_entries() if e[1:] not in NOT_YET_DECLARED])
def test_every_tasks_from_names_an_entry_point(where, role, target):
    assert not target.endswith(".yml"), "%s: tasks_from: %s of %s: name the entry point without .yml" % (
        where, target, role)
    assert target in entry_points(role), "%s: %s has no entry point %s in its meta/argument_specs.yml" % (
        where, role, target)


def test_the_list_of_targets_not_yet_declared_only_holds_what_is_still_used():
    used = {entry[1:] for entry in role_entries()}
    assert NOT_YET_DECLARED <= used, "declared since, or no longer used: %s" % sorted(NOT_YET_DECLARED - used)
