"""tools/osdeploy_lab/testimage.py: the cache key of the guest test image, and its markers."""
import os
import re
import shutil
import subprocess

import pytest

from osdeploy_lab import testimage

TOOLDIR = testimage.INPUTS_DIR     # tools/test-image.d

PACKAGES = ["linux-image-6.1.0-56-cloud-amd64=6.1.192-2", "busybox-static=1:1.35.0-4+deb12u1+b1"]
BOOTLOADER = ["syslinux=3:6.04~git20190206.bf6db5b4+dfsg1-3+b1", "syslinux-common=3:6.04~git20190206.bf6db5b4+dfsg1-3"]


@pytest.fixture
def inputs(tmp_path):
    for name in testimage.INPUTS:
        shutil.copy(os.path.join(TOOLDIR, name), tmp_path / name)
    return tmp_path


def test_key_is_stable(inputs):
    key = testimage.image_key(PACKAGES, BOOTLOADER, inputs)
    assert re.fullmatch(r"[0-9a-f]{16}", key)
    assert testimage.image_key(list(PACKAGES), list(BOOTLOADER), inputs) == key
    assert testimage.image_key(PACKAGES, BOOTLOADER, TOOLDIR) == key      # the copy: same content, same key


@pytest.mark.parametrize("name", testimage.INPUTS)
def test_key_changes_with_each_script(inputs, name):
    key = testimage.image_key(PACKAGES, BOOTLOADER, inputs)
    with open(inputs / name, "a") as f:
        f.write("\n# edited\n")
    assert testimage.image_key(PACKAGES, BOOTLOADER, inputs) != key


def test_key_changes_with_package_versions(inputs):
    key = testimage.image_key(PACKAGES, BOOTLOADER, inputs)
    newer_kernel = ["linux-image-6.1.0-57-cloud-amd64=6.1.193-1", PACKAGES[1]]
    assert testimage.image_key(newer_kernel, BOOTLOADER, inputs) != key
    newer_syslinux = [BOOTLOADER[0] + "+b2", BOOTLOADER[1]]
    assert testimage.image_key(PACKAGES, newer_syslinux, inputs) != key


def test_key_covers_every_build_input():
    # A new file beside the scripts is read by the build; the key must cover it.
    files = {f for f in os.listdir(TOOLDIR) if not f.endswith(".py") and not f.startswith(".")
             and f != "__pycache__"}
    assert files == set(testimage.INPUTS)


def test_versions_come_from_apt(monkeypatch):
    answers = {
        ("apt-cache", "linux-image-cloud-amd64", "busybox-static"):
            "Package: linux-image-cloud-amd64\nVersion: 6.1.192-2\n"
            "Depends: linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)\n\n"
            "Package: busybox-static\nVersion: 1:1.35.0-4+deb12u1+b1\nBreaks: busybox\n\n",
        ("apt-cache", "linux-image-6.1.0-56-cloud-amd64"):
            "Package: linux-image-6.1.0-56-cloud-amd64\nSource: linux-signed-amd64 (6.1.192+2)\nVersion: 6.1.192-2\n\n",
        ("dpkg-query", "syslinux", "syslinux-common"): "syslinux=3:6.04-3+b1\nsyslinux-common=3:6.04-3\n",
    }

    def fake_run(argv, **_kwargs):
        key = (argv[0],) + tuple(a for a in argv[1:] if not a.startswith("-") and a != "show")
        return subprocess.CompletedProcess(argv, 0, answers[key], "")

    monkeypatch.setattr(testimage.subprocess, "run", fake_run)
    packages, bootloader = testimage.resolve_packages()
    assert packages == PACKAGES
    assert bootloader == ["syslinux=3:6.04-3+b1", "syslinux-common=3:6.04-3"]


def test_unknown_package_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(testimage.subprocess, "run",
                        lambda argv, **kw: subprocess.CompletedProcess(argv, 100, "", "E: No packages found"))
    with pytest.raises(testimage.ImageError, match="apt-get update"):
        testimage.resolve_packages()


def say_lines(path):
    """The text of each `say ...` in a guest script, $variables as written."""
    with open(os.path.join(TOOLDIR, path)) as f:
        return [m.strip('"') for m in re.findall(r'^\s*say (.+?)(?:\s*;;)?$', f.read(), re.M)]


def test_markers_match_what_the_guest_prints():
    printed = say_lines("init") + say_lines("udhcpc.script")
    sample = {"$ip": "192.0.2.50", "$interface": "eth0",
              "$result": "metadata ok uuid=0c6d0a4e-7b9e-4c53-9f5e-2a4d1f0b8e11 name=vm 1"}
    rendered = []
    for line in printed:
        for var, value in sample.items():
            line = line.replace(var, value)
        rendered.append(testimage.MARKER_PREFIX + line)
    text = "\n".join(rendered) + "\n"
    for name in ("boot", "dhcp", "metadata"):
        assert testimage.MARKERS[name].search(text), (name, rendered)
    assert testimage.MARKERS["metadata"].search(text)["name"] == "vm 1"
    # the metadata outcome is printed through $result, so its texts are assignments
    with open(os.path.join(TOOLDIR, "init")) as f:
        init = f.read()
    assert 'result="metadata ok uuid=$uuid name=$name"' in init
    assert init.count('result="metadata failed ') >= 2
