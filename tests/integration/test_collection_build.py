"""The collection as a user gets it: built, installed offline, documented."""
import glob
import os
import re
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODULES = sorted(os.path.splitext(os.path.basename(p))[0]
                 for p in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")))

# What the artifact may hold: what a user runs and reads, and the metadata galaxy writes.
# Of inventories/ only the example operators copy; no tools/, tests/, molecule/, requirements/, dev/, Makefile, .ci
# or lint config;
# of changelogs/ only changelog.yaml (the release data), not the fragments or antsibull-changelog's config.
ALLOWED_DIRS = ("plugins/", "roles/", "playbooks/", "docs/", "meta/", "inventories/example/")
ALLOWED_FILES = ("MANIFEST.json", "FILES.json", "README.md", "CHANGELOG.md", "LICENSE", "COPYING",
                 "site.yml", "changelogs", "changelogs/changelog.yaml", "inventories")


def run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)
    assert proc.returncode == 0, "%s failed (rc %s):\n%s%s" % (cmd, proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    run(["ansible-galaxy", "collection", "build", "--output-path", str(out), ROOT])
    tarballs = glob.glob(str(out / "osdeploy-nova-*.tar.gz"))
    assert len(tarballs) == 1
    dest = tmp_path_factory.mktemp("collections")
    # only the installed copy is visible: not the checkout the test tooling links
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(dest))
    env.pop("PYTHONPATH", None)
    run(["ansible-galaxy", "collection", "install", "--offline", "-p", str(dest), tarballs[0]], env=env)
    assert os.path.isfile(os.path.join(str(dest), "ansible_collections/osdeploy/nova/MANIFEST.json"))
    return dest, env, tarballs[0]


def test_tarball_holds_only_what_a_user_runs_and_reads(installed, tier_output):
    """The artifact's file list, printed in the tier's output (conftest: tier_output), holds only the product."""
    dummy, dummy, tarball = installed
    names = [n.rstrip("/") for n in run(["tar", "-tzf", tarball]).split()]
    tops = {}
    for name in names:
        top = name.split("/")[0]
        tops[top] = tops.get(top, 0) + 1
    tier_output("artifact %s holds %d entries (%s):\n%s" % (
        os.path.basename(tarball), len(names), ", ".join("%s %d" % item for item in sorted(tops.items())),
        "\n".join("  " + name for name in sorted(names))))
    assert "galaxy.yml" not in names and "MANIFEST.json" in names and "FILES.json" in names
    assert "plugins/modules/hw_accel_fact.py" in names and "roles/compute/tasks/main.yml" in names
    unexpected = [n for n in names
                  if n not in ALLOWED_FILES and n + "/" not in ALLOWED_DIRS and not n.startswith(ALLOWED_DIRS)]
    assert unexpected == [], "the artifact holds files a user does not need: %s" % unexpected


def test_tarball_holds_every_file_a_user_needs(installed):
    """Everything git tracks under plugins/, roles/, playbooks/, meta/, docs/ and inventories/example is in the
    artifact."""
    dummy, dummy, tarball = installed
    names = set(n.rstrip("/") for n in run(["tar", "-tzf", tarball]).split())
    tracked = run(["git", "-C", ROOT, "ls-files", "plugins", "roles", "playbooks", "meta", "docs",
                   "inventories/example"]).split()
    missing = sorted(set(tracked) - names)
    assert missing == [], missing


@pytest.mark.parametrize("module", MODULES)
def test_module_doc_renders_from_the_installed_collection(installed, module):
    dest, env, dummy = installed
    text = run(["ansible-doc", "-t", "module", "osdeploy.nova.%s" % module], env=env)
    assert str(dest) in text  # documented from the installed copy, not the checkout
    for section in ("OPTIONS", "EXAMPLES", "RETURN VALUES"):
        assert section in text, "%s: no %s in ansible-doc output" % (module, section)


def test_site_runs_by_its_collection_name(installed, tmp_path):
    """ansible-playbook osdeploy.nova.site, from the installed collection alone: the playbook and every
    role and playbook it imports resolve (a syntax check: no host is touched)."""
    dest, env, dummy = installed
    out = run(["ansible-playbook", "-i", "localhost,", "--syntax-check", "osdeploy.nova.site"], env=env,
              cwd=str(tmp_path))
    assert "playbook: " in out and str(dest) in out, out


# What a user of the installed collection meets (plugin docs, role messages and comments, playbooks)
# names no file that only the source repository has.
UNSHIPPED = re.compile(r"\btools/|\bMakefile\b|\bmake (deploy|test)\b|\bmolecule/|\btests/(unit|integration)\b")


def test_what_runs_names_no_file_that_is_not_shipped(installed):
    dest, dummy, dummy = installed
    root = os.path.join(str(dest), "ansible_collections", "osdeploy", "nova")
    found = []
    for top in ("plugins", "roles", "playbooks", "meta", "inventories"):
        for folder, dummy, files in os.walk(os.path.join(root, top)):
            for name in files:
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        if UNSHIPPED.search(line):
                            found.append("%s:%d: %s" % (os.path.relpath(path, root), number, line.strip()))
    assert found == [], "\n".join(found)
