"""The tag table of docs/operations.md lists exactly the tags the roles and playbooks use (the molecule scenario
runs each documented tag alone on a converged lab, so an undocumented tag would go untested)."""
import glob
import os
import re

import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")


def tags_in(node, found):
    if isinstance(node, dict):
        tags = node.get("tags")
        if isinstance(tags, str):
            tags = [tags]
        found.update(tags or [])
        for value in node.values():
            tags_in(value, found)
    elif isinstance(node, list):
        for value in node:
            tags_in(value, found)
    return found


def used_tags():
    found = set()
    files = glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "*.yml")) + glob.glob(
        os.path.join(ROOT, "playbooks", "*.yml")) + [os.path.join(ROOT, "site.yml")]
    for path in files:
        with open(path) as f:
            tags_in(yaml.safe_load(f), found)
    return found - {"always"}


def documented_tags():
    with open(os.path.join(ROOT, "docs", "operations.md")) as f:
        table = f.read().split("<!-- tags -->")[1].split("<!-- /tags -->")[0]
    return re.findall(r"^\| `([\w-]+)` \|", table, re.M)


def test_every_tag_is_documented_and_every_documented_tag_exists():
    documented = documented_tags()
    used = used_tags()
    assert set(documented) == used
    assert len(documented) == len(set(documented))


def test_the_check_can_fail():
    assert "nova-config" in used_tags()
    assert "no-such-tag" not in documented_tags()
