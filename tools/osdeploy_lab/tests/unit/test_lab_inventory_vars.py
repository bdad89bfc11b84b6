"""The labs' inventories give emulated (TCG) hosts longer waits, and only those."""
import os

from osdeploy_lab import common


def test_tcg_hosts_get_longer_service_and_discovery_waits():
    assert common.accel_inventory_vars("tcg") == [
        "lab_accel=tcg", "baseline_service_timeout=1800", "nova_service_timeout=1800",
        "nova_cell_discovery_timeout=1800"]


def test_kvm_hosts_keep_the_roles_defaults():
    assert common.accel_inventory_vars("kvm") == ["lab_accel=kvm"]


def test_the_variables_are_the_roles_public_ones():
    defaults = ""
    for role in ("baseline", "nova"):
        with open(os.path.join(common.ROOT, "roles", role, "defaults", "main.yml")) as f:
            defaults += f.read()
    for line in common.accel_inventory_vars("tcg")[1:]:
        assert "\n%s:" % line.split("=", maxsplit=1)[0] in defaults


def test_the_nspawn_labs_group_vars_are_the_roles_public_ones(monkeypatch):
    import yaml
    from osdeploy_lab import nspawn
    monkeypatch.setattr(nspawn.testimage, "ensure_image", lambda: "/cache/test-image/x/image")
    lab = nspawn.NspawnLab.__new__(nspawn.NspawnLab)
    lab.pbridge = "osdlabp"
    known = {}
    for role in ("baseline", "nova", "osdeploy"):
        with open(os.path.join(common.ROOT, "roles", role, "defaults", "main.yml")) as f:
            known.update(yaml.safe_load(f))
    for group, text in lab.platform_group_vars().items():
        for name in yaml.safe_load(text):
            assert name in known, "%s (group %s) is no role's default" % (name, group)


def test_the_nspawn_lab_deploys_from_the_example_inventorys_settings(monkeypatch):
    import yaml
    from osdeploy_lab import nspawn
    monkeypatch.setattr(nspawn.testimage, "ensure_image", lambda: "/cache/test-image/x/image")
    lab = nspawn.NspawnLab.__new__(nspawn.NspawnLab)
    with open(common.EXAMPLE_VARS) as f:
        example = f.read()
    text = common.example_inventory_vars(lab.example_values(), "tools/lab")
    got = yaml.safe_load(text)
    # every setting of the example, no other, with the lab's values; the example's comments kept
    assert set(got) == set(yaml.safe_load(example))
    assert got["baseline_provider_cidr"] == "203.0.113.0/24" and got["baseline_provider_gateway"] == ""
    assert got["baseline_floating_range"] == {"start": "203.0.113.100", "end": "203.0.113.199"}
    assert got["osdeploy_verify_image"] == "/cache/test-image/x/image"
    for line in example.splitlines():
        if line.startswith("#"):
            assert line in text.splitlines()
    # what the lab writes beside it sets none of them again (group_vars files would override each other by name)
    lab.pbridge = "osdlabp"
    for group, lab_text in lab.platform_group_vars().items():
        assert not set(yaml.safe_load(lab_text)) & set(got), group
    # the example only suggests the proof's login (commented out: an operator's image has its own user), the lab
    # logs into its test image as root, and needs no console markers for it
    assert "\n# osdeploy_verify_ssh_user: cirros\n" in text
    lab_all = yaml.safe_load(lab.platform_group_vars()["all"])
    assert lab_all["osdeploy_verify_ssh_user"] == "root" and "osdeploy_verify_markers" not in lab_all


def test_a_setting_the_example_inventory_lacks_is_refused():
    import pytest
    with pytest.raises(common.LabError, match="sets no_such_variable 0 times"):
        common.example_inventory_vars({"no_such_variable": 1}, "tools/lab")
