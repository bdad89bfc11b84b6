"""The collection as a user gets it: built, installed offline, documented."""
import glob
import os
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODULES = sorted(os.path.splitext(os.path.basename(p))[0]
                 for p in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")))


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


def test_tarball_holds_no_build_or_test_output(installed):
    dummy, dummy, tarball = installed
    names = run(["tar", "-tzf", tarball]).split()
    assert "galaxy.yml" not in names and "MANIFEST.json" in names
    assert not [n for n in names if n.startswith(("build/", ".ci/", "tests/output/"))]
    assert "plugins/modules/hw_accel_fact.py" in names


@pytest.mark.parametrize("module", MODULES)
def test_module_doc_renders_from_the_installed_collection(installed, module):
    dest, env, dummy = installed
    text = run(["ansible-doc", "-t", "module", "osdeploy.nova.%s" % module], env=env)
    assert str(dest) in text  # documented from the installed copy, not the checkout
    for section in ("OPTIONS", "EXAMPLES", "RETURN VALUES"):
        assert section in text, "%s: no %s in ansible-doc output" % (module, section)
