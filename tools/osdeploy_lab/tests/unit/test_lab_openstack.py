"""`up --openstack` (or OSDEPLOY_LAB_OPENSTACK) chooses what the lab's hosts get of OpenStack: it is
written as the collection's contract variables into the lab's group_vars, kept by the lab, and
refused before anything is made when it is not distro or source:RELEASE."""
import os

import pytest
import yaml

from osdeploy_lab import common, qemu
from osdeploy_lab.common import LabError


def test_source_names_the_method_and_the_release_as_a_string():
    assert yaml.safe_load(common.openstack_group_vars("source:2026.2")) == {
        "osdeploy_install_method": "source", "osdeploy_openstack_release": "2026.2"}


def test_distro_names_only_the_method():
    assert yaml.safe_load(common.openstack_group_vars("distro")) == {"osdeploy_install_method": "distro"}


@pytest.mark.parametrize("spec", ["source", "source:", "source:26.2", "packages", "distro:2025.1", "source:2026.3"])
def test_anything_else_is_refused_with_the_choices(spec):
    with pytest.raises(LabError, match="use distro .* or source:RELEASE"):
        common.check_openstack(spec)


def test_the_variables_are_the_collections_contract():
    with open(os.path.join(common.ROOT, "roles", "osdeploy", "defaults", "main.yml")) as f:
        defaults = yaml.safe_load(f)
    for name in yaml.safe_load(common.openstack_group_vars("source:2026.2")):
        assert name in defaults


@pytest.fixture(name="lab")
def fixture_lab(tmp_path, monkeypatch):
    monkeypatch.setenv("OSDEPLOY_LAB_DIR", str(tmp_path / "lab"))
    monkeypatch.delenv("OSDEPLOY_LAB_SUBNET", raising=False)
    made = qemu.QemuLab("osdunit", release="trixie")
    os.makedirs(made.dir)
    return made


def read_openstack_vars(lab):
    path = os.path.join(lab.dir, "group_vars", "all", "openstack.yml")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return yaml.safe_load(f)


def test_group_vars_follow_the_labs_choice_and_a_rewrite_is_a_change(lab):
    lab.ensure_group_vars()
    assert read_openstack_vars(lab) is None     # no choice: the collection's defaults
    lab.state["openstack"] = "source:2026.2"
    lab.changes = []
    lab.ensure_group_vars()
    assert read_openstack_vars(lab)["osdeploy_install_method"] == "source"
    assert lab.changes == ["group_vars of all (openstack.yml)"]
    lab.changes = []
    lab.ensure_group_vars()
    assert lab.changes == []
    lab.state["openstack"] = "distro"
    lab.ensure_group_vars()
    assert read_openstack_vars(lab) == {"osdeploy_install_method": "distro"}


def test_the_command_line_refuses_a_bad_choice_before_making_anything(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(qemu.os, "geteuid", lambda: 0)
    monkeypatch.setattr(qemu.QemuLab, "NEEDED_TOOLS", {})
    monkeypatch.setenv("OSDEPLOY_LAB_DIR", str(tmp_path / "lab"))
    monkeypatch.setenv("PATH", os.environ.get("PATH", ""))
    monkeypatch.setenv("OSDEPLOY_LAB_OPENSTACK", "source:zed")
    assert qemu.main(["up"]) == 1
    assert "openstack 'source:zed': use distro" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "lab")


def test_a_lab_with_hosts_keeps_its_choice_and_says_how_to_change_it(lab, monkeypatch):
    monkeypatch.setattr(qemu.QemuLab, "found_hosts", lambda self: ["controller"])
    # made without a choice: the collection's defaults (a source install), which Debian's packages would replace
    with pytest.raises(LabError, match=r"hosts made for --openstack default; `tools/vmlab down` first to use distro"):
        lab.refuse_other_openstack("distro")
    lab.state["openstack"] = "source:2026.1"
    lab.refuse_other_openstack("source:2026.1")
    for other in ("source:2026.2", "distro"):
        with pytest.raises(LabError, match=r"hosts made for --openstack source:2026\.1; `tools/vmlab down` first"):
            lab.refuse_other_openstack(other)


def test_a_lab_without_hosts_takes_a_new_choice(lab, monkeypatch):
    monkeypatch.setattr(qemu.QemuLab, "found_hosts", lambda self: [])
    lab.state["openstack"] = "distro"
    lab.refuse_other_openstack("source:2026.2")


def test_the_openstack_verb_changes_only_the_inventorys_choice_of_a_lab_with_hosts(lab, monkeypatch):
    monkeypatch.setattr(qemu.QemuLab, "found_hosts", lambda self: ["controller", "compute1"])
    lab.state["openstack"] = "source:2026.1"
    lab.ensure_group_vars()
    with open(lab.inventory, "w") as f:
        f.write("[controller]\n")
    lab.changes = []
    lab.set_openstack("source:2026.2")
    assert read_openstack_vars(lab)["osdeploy_openstack_release"] == "2026.2"
    assert lab.changes == ["group_vars of all (openstack.yml)"]
    lab.refuse_other_openstack("source:2026.2")     # kept: `up` goes on with it
    with pytest.raises(LabError, match="openstack 'source:zed'"):
        lab.set_openstack("source:zed")


def test_the_openstack_verb_needs_a_lab_with_hosts(lab, monkeypatch):
    monkeypatch.setattr(qemu.QemuLab, "found_hosts", lambda self: [])
    with pytest.raises(LabError, match=r"has no hosts: `tools/vmlab up --openstack source:2026\.2` makes them"):
        lab.set_openstack("source:2026.2")
