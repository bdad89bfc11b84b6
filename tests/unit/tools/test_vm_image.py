"""The VM image (tools/vm.d) bakes every package the roles install.

If a role starts installing a package that the image lacks, the VM scenario
still works (the role installs it), only many minutes slower under emulation:
this test makes that drift visible at once.
"""
import glob
import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def package_list(path):
    with open(path) as f:
        return {w for line in f for w in line.split("#", 1)[0].split()}


def role_defaults():
    values = {}
    for path in glob.glob(os.path.join(ROOT, "roles", "*", "defaults", "main.yml")):
        with open(path) as f:
            values.update(yaml.safe_load(f) or {})
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


def test_every_role_package_is_baked_into_the_vm_image():
    # the image holds the lab's base list and the VM's own besides the roles' packages
    baked = set()
    for path in (("vm.d", "packages-baked.txt"), ("vm.d", "packages-vm.txt"), ("lab.d", "packages.txt")):
        baked |= package_list(os.path.join(ROOT, "tools", *path))
    missing = {name: where for name, where in role_packages().items() if name not in baked}
    assert not missing, "add to tools/vm.d/packages-baked.txt: %s" % missing


def test_the_image_key_covers_every_file_the_build_reads():
    with open(os.path.join(ROOT, "tools", "vm.d", "vmlab.py")) as f:
        source = f.read()
    for name in ("build-image", "customize-image", "osdeploy-vm-config", "packages-vm.txt",
                 "packages-baked.txt", "customize-rootfs", "packages.txt"):
        assert '"%s")' % name in source.split("IMAGE_INPUTS = ", 1)[1].split("\n\n", 1)[0], name
