"""docs/variables.md is generated from the roles' argument specs (tools/docs-variables): the reference a user reads
must say what the specs say, so a spec changed without the file regenerated fails here, naming the fix."""
import os
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
TOOL = os.path.join(ROOT, "tools", "docs_variables.py")  # what tools/docs-variables runs with the venv's Python


def load_tool():
    # tools/ is on pytest's path (pytest.ini)
    import docs_variables  # pylint: disable=import-outside-toplevel
    return docs_variables


def test_docs_variables_md_is_what_the_argument_specs_give():
    proc = subprocess.run([sys.executable, TOOL, "--check"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_reference_names_every_role_entry_point_and_option():
    import yaml  # pylint: disable=import-outside-toplevel
    with open(os.path.join(ROOT, "docs", "variables.md"), encoding="utf-8") as f:
        text = f.read()
    for role in os.listdir(os.path.join(ROOT, "roles")):
        path = os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")
        if not os.path.isfile(path):
            continue
        assert "## `osdeploy.nova.%s`" % role in text
        with open(path, encoding="utf-8") as f:
            for entry, spec in yaml.safe_load(f)["argument_specs"].items():
                assert "### Entry point `%s`" % entry in text
                for option in spec.get("options") or {}:
                    assert "`%s`" % option in text, (role, entry, option)


def test_check_fails_naming_the_fix_when_the_file_is_stale(tmp_path):
    for part in ("roles/demo/meta", "docs"):
        os.makedirs(tmp_path / part)
    (tmp_path / "roles/demo/meta/argument_specs.yml").write_text(
        "argument_specs:\n  main:\n    short_description: A demo\n    options:\n"
        "      demo_x:\n        type: int\n        default: 1\n        description: One of O(demo_y=2).\n")
    (tmp_path / "docs/variables.md").write_text("old\n")
    proc = subprocess.run([sys.executable, TOOL, "--check", "--root", str(tmp_path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "docs/variables.md is stale" in proc.stderr and "Run tools/docs-variables" in proc.stderr
    assert subprocess.run([sys.executable, TOOL, "--root", str(tmp_path)], check=False).returncode == 0
    written = (tmp_path / "docs/variables.md").read_text()
    assert "| `demo_x` | int | `1` |  | One of `demo_y=2`. |" in written
    assert subprocess.run([sys.executable, TOOL, "--check", "--root", str(tmp_path)], check=False).returncode == 0


def test_markup_becomes_markdown():
    tool = load_tool()
    assert tool.render_markup("C(a b) V(true) I(it) B(bold) M(osdeploy.nova.cell_v2)") == \
        "`a b` `true` *it* **bold** `osdeploy.nova.cell_v2`"
    assert tool.render_markup("O(osdeploy.nova.osdeploy#role:main:osdeploy_install_method=source)") == \
        "`osdeploy_install_method=source`"
    assert tool.render_markup("O(osdeploy_verify_markers=[]) L(the guide,https://example.org/x)") == \
        "`osdeploy_verify_markers=[]` [the guide](https://example.org/x)"
    assert tool.render_markup("C(f(x)) U(https://example.org)") == "`f(x)` <https://example.org>"
    assert tool.render_markup("CIDR(s) and PC(x)") == "CIDR(s) and PC(x)"


def test_the_output_is_the_same_on_every_run():
    tool = load_tool()
    assert tool.generate(ROOT) == tool.generate(ROOT)
