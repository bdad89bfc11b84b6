"""The lab's secrets come from the collection's catalogue and generator (module_utils/secrets.py, tested in
tests/unit/plugins/module_utils/test_secrets.py): the file the lab writes, that it keeps what a lab has, and that
the lab finds the collection however it is run."""
import json
import os
import re
import subprocess
import sys

import yaml

from ansible_collections.osdeploy.nova.plugins.module_utils import inputs, secrets
from osdeploy_lab import base, common

ALL = [secret.name for secret in secrets.CATALOGUE]
TOOLS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


class FakeLab:
    """What Lab.ensure_group_vars uses of a lab."""
    TOOL = "tools/lab"
    name = "osdtest"
    state = {}

    def __init__(self, folder):
        self.dir = str(folder)
        self.changes = []

    def platform_group_vars(self):
        return {}

    def example_values(self):
        return None


def ensure(folder):
    lab = FakeLab(folder)
    base.Lab.ensure_group_vars(lab)
    return lab.changes


def test_a_new_lab_gets_every_secret_as_json_strings_in_a_0600_file(tmp_path):
    changes = ensure(tmp_path)
    path = tmp_path / "group_vars" / "all" / "secrets.yml"
    assert changes == ["secrets %s (%s)" % (path, ", ".join(ALL))]
    assert os.stat(str(path)).st_mode & 0o777 == 0o600
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    assert [line.split(":")[0] for line in lines] == ALL
    for line in lines:
        name, value = re.match(r'^(\w+): (".*")$', line).groups()
        value = json.loads(value)
        assert inputs.value_problems(name, value, secrets.BY_NAME[name].rules) == []
    assert list(yaml.safe_load(path.read_text())) == ALL
    assert ensure(tmp_path) == []


def test_an_existing_labs_secrets_are_kept_byte_for_byte_and_only_the_missing_one_is_added(tmp_path):
    path = tmp_path / "group_vars" / "all" / "secrets.yml"
    path.parent.mkdir(parents=True)
    # as an earlier lab wrote it (24 characters, sorted), one of them rotated by an operator's YAML dump
    old = "# Random secrets of the osdeploy lab osdtest\n" + "".join(
        '%s: "Old-%s-pw/%%$24chars"\n' % (name, name[:6]) for name in sorted(ALL) if name != "baseline_demo_password")
    old = old.replace('baseline_glance_password: "Old-baseli-pw/%$24chars"', "baseline_glance_password: Rotated-7")
    path.write_text(old)
    os.chmod(str(path), 0o600)
    assert ensure(tmp_path) == ["secrets %s (baseline_demo_password)" % path]
    text = path.read_text()
    assert text.startswith(old) and text[len(old):].startswith('baseline_demo_password: "')
    assert yaml.safe_load(text)["baseline_glance_password"] == "Rotated-7"
    assert ensure(tmp_path) == [] and path.read_text() == text


def run_lab_python(code, pythonpath):
    """`code` in a python without site-packages, the import path only `pythonpath` (no tools/collection-env)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(pythonpath))
    proc = subprocess.run([sys.executable, "-S", "-c", code], env=env, cwd="/", capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_lab_finds_the_collection_without_its_import_path(tmp_path):
    out = run_lab_python("from osdeploy_lab import common; print(' '.join(common.missing_secrets(None)))", [TOOLS])
    assert out.split() == ALL


def test_the_lab_uses_its_own_checkout_not_another_copy_on_the_path(tmp_path):
    other = tmp_path / "ansible_collections" / "osdeploy" / "nova" / "plugins" / "module_utils"
    other.mkdir(parents=True)
    (other / "secrets.py").write_text("raise ImportError('another copy of osdeploy.nova')\n")
    out = run_lab_python("from osdeploy_lab import common; print(common.collection_module_utils('secrets').__file__)",
                         [TOOLS, str(tmp_path)])
    assert out.strip() == os.path.join(common.ROOT, "plugins", "module_utils", "secrets.py")
