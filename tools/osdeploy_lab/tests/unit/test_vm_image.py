"""The VM image (tools/vm.d) bakes every package the roles install.

If a role starts installing a package that the image lacks, the VM scenario
still works (the role installs it), only many minutes slower under emulation:
this test makes that drift visible at once.
"""
import glob
import os
import re

import pytest
import yaml

from osdeploy_lab import qemu
from osdeploy_lab.common import RELEASES, ROOT


def package_list(path):
    with open(path) as f:
        return {w for line in f for w in line.split("#", 1)[0].split()}


def load_all(kind):
    values = {}
    for path in glob.glob(os.path.join(ROOT, "roles", "*", kind, "main.yml")):
        with open(path) as f:
            values.update(yaml.safe_load(f) or {})
    return values


# a default chosen by install method from a role's vars: {{ __x[osdeploy_install_method].key }}
BY_METHOD = re.compile(r"\{\{\s*(__\w+)\[osdeploy_install_method\]\.(\w+)\s*\}\}")


def role_defaults():
    """The roles' defaults, with package lists chosen by install method taken for `distro`: what the VM
    image is for (its scenario deploys Debian's packages)."""
    values, variables = load_all("defaults"), load_all("vars")
    for key, value in values.items():
        m = BY_METHOD.fullmatch(value.strip()) if isinstance(value, str) else None
        if m:
            values[key] = variables[m.group(1)]["distro"][m.group(2)]
    return values


def walk_tasks(tasks):
    for task in tasks or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from walk_tasks(task.get(key))


def role_packages():
    defaults = role_defaults()
    found = {}
    for path in glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "*.yml")):
        with open(path) as f:
            for task in walk_tasks(yaml.safe_load(f)):
                args = task.get("ansible.builtin.apt")
                if not isinstance(args, dict) or "name" not in args:
                    continue
                names = args["name"]
                if isinstance(names, str):
                    m = re.fullmatch(r"\{\{\s*(\w+)\s*\}\}", names)
                    if m and m.group(1) not in defaults:
                        # a role var built from the role's *_packages defaults
                        # (the controller and compute roles' defaults are the nova role's nova_*)
                        role = os.path.basename(os.path.dirname(os.path.dirname(path)))
                        prefixes = (role + "_", "nova_") if role in ("controller", "compute") else (role + "_",)
                        names = [n for key, value in defaults.items()
                                 if key.startswith(prefixes) and key.endswith("_packages") for n in value]
                    else:
                        names = defaults[m.group(1)] if m else [names]
                for name in names:
                    found[name] = os.path.relpath(path, ROOT)
    return found


def test_the_roles_install_packages_at_all():
    # guards the parser above: an empty result would make the next test vacuous
    assert {"mariadb-server", "keystone", "nova-api", "nova-compute"} <= set(role_packages())


@pytest.mark.parametrize("release", sorted(RELEASES))
def test_every_role_package_is_baked_into_the_vm_image(release):
    # the image holds the lab's base list and the VM's own besides the roles' packages
    baked = set()
    for sub, name in qemu.package_files(release):
        baked |= package_list(os.path.join(ROOT, "tools", sub, name))
    missing = {name: where for name, where in role_packages().items() if name not in baked}
    assert not missing, "add to the %s lists of tools/osdeploy_lab/qemu.py (IMAGE_PACKAGES): %s" % (release, missing)


def files_run_by(sub, name):
    """The files of tools/ that the script tools/SUB/NAME runs or reads through "$here/...", and theirs."""
    with open(os.path.join(ROOT, "tools", sub, name)) as f:
        found = {os.path.normpath(os.path.join(sub, ref))
                 for ref in re.findall(r"\$here/([\w.-]+(?:/[\w.-]+)*)", f.read())}
    for path in sorted(found):
        found |= files_run_by(*os.path.split(path))
    return found


def test_the_build_runs_scripts_at_all():
    # guards the search below: an empty result would make the next test vacuous
    assert {"vm.d/customize-image", "vm.d/osdeploy-vm-config", "lab.d/customize-rootfs"} <= files_run_by(
        "vm.d", "build-image")


@pytest.mark.parametrize("release", sorted(RELEASES))
def test_the_image_key_covers_every_file_the_build_reads(release):
    hashed = {"%s/%s" % entry for entry in qemu.IMAGE_INPUTS + qemu.package_files(release)}
    # the package lists it is given are package_files(release) (test_vm_release.py)
    read = files_run_by("vm.d", "build-image") | {"vm.d/build-image"}
    assert read <= hashed, read - hashed
