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
