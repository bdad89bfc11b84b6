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
