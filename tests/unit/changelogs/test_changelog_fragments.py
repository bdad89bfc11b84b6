"""The changelog's sources are valid: a malformed fragment fails CI, not the release.

CHANGELOG.md is rendered from changelogs/ by antsibull-changelog (tools/changelog,
and `antsibull-changelog release` on the release day); its linter, from the venv,
checks every fragment (YAML, known sections, reStructuredText) and changelog.yaml.
"""
import os
import shutil
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def antsibull_changelog(*args, cwd=ROOT):
    proc = subprocess.run([sys.executable, "-m", "antsibull_changelog"] + list(args), cwd=cwd,
                          capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_every_fragment_passes_the_lint():
    assert os.listdir(os.path.join(ROOT, "changelogs", "fragments")), "changelogs/fragments is empty"
    rc, out = antsibull_changelog("lint")
    assert (rc, out) == (0, ""), out


def test_changelog_yaml_passes_the_lint():
    rc, out = antsibull_changelog("lint-changelog-yaml", os.path.join("changelogs", "changelog.yaml"))
    assert (rc, out) == (0, ""), out


def test_a_malformed_fragment_fails_the_lint(tmp_path):
    """The test above can fail: a copy of the changelog sources with two bad fragments."""
    shutil.copy(os.path.join(ROOT, "galaxy.yml"), str(tmp_path))
    shutil.copytree(os.path.join(ROOT, "changelogs"), str(tmp_path / "changelogs"))
    fragments = tmp_path / "changelogs" / "fragments"
    (fragments / "unknown-section.yml").write_text("---\nnew_features:\n  - A section the config does not have.\n")
    (fragments / "not-yaml.yml").write_text("---\nminor_changes:\n  - ``a backquote cannot start a plain scalar``\n")
    rc, out = antsibull_changelog("lint", cwd=str(tmp_path))
    assert rc != 0
    assert "unknown-section.yml" in out and "new_features" in out, out
    assert "not-yaml.yml" in out, out
