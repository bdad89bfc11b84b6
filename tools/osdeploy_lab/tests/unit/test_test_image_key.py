"""tools/osdeploy_lab/testimage.py: the cache key of the guest test image, and its markers."""
import os
import re
import shutil
import subprocess

import pytest

from osdeploy_lab import testimage

TOOLDIR = testimage.INPUTS_DIR     # tools/test-image.d

PACKAGES = ["linux-image-6.1.0-56-cloud-amd64=6.1.192-2", "busybox-static=1:1.35.0-4+deb12u1+b1",
            "dropbear-bin=2022.83-1+deb12u3", "gcc-12-base=12.2.0-14+deb12u1", "libc6=2.36-9+deb12u14",
            "libcrypt1=1:4.4.33-2", "libgcc-s1=12.2.0-14+deb12u1", "libgmp10=2:6.2.1+dfsg1-1.1",
            "libtomcrypt1=1.18.2-6", "libtommath1=1.2.0-6+deb12u1", "zlib1g=1:1.2.13.dfsg-1"]
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
    newer_kernel = ["linux-image-6.1.0-57-cloud-amd64=6.1.193-1"] + PACKAGES[1:]
    assert testimage.image_key(newer_kernel, BOOTLOADER, inputs) != key
    newer_libc = [p.replace("libc6=2.36-9+deb12u14", "libc6=2.36-9+deb12u15") for p in PACKAGES]
    assert newer_libc != PACKAGES
    assert testimage.image_key(newer_libc, BOOTLOADER, inputs) != key
    newer_syslinux = [BOOTLOADER[0] + "+b2", BOOTLOADER[1]]
    assert testimage.image_key(PACKAGES, newer_syslinux, inputs) != key


def test_key_covers_every_build_input():
    # A new file beside the scripts is read by the build; the key must cover it.
    files = {f for f in os.listdir(TOOLDIR) if not f.endswith(".py") and not f.startswith(".")
             and f != "__pycache__"}
    assert files == set(testimage.INPUTS)


APT = {   # apt-cache show --no-all-versions NAME: its record (trimmed to what matters)
    "linux-image-cloud-amd64": "Package: linux-image-cloud-amd64\nVersion: 6.1.192-2\n"
                               "Depends: linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)\n",
    "busybox-static": "Package: busybox-static\nVersion: 1:1.35.0-4+deb12u1+b1\nBreaks: busybox\n",
    "linux-image-6.1.0-56-cloud-amd64": "Package: linux-image-6.1.0-56-cloud-amd64\n"
                                        "Source: linux-signed-amd64 (6.1.192+2)\nVersion: 6.1.192-2\n"
                                        "Depends: kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool\n",
    "dropbear-bin": "Package: dropbear-bin\nVersion: 2022.83-1+deb12u3\n"
                    "Depends: libc6 (>= 2.34), libcrypt1 (>= 1:4.1.0), libtomcrypt1 (>= 1.18.2), libtommath1 (>= 1.2.0), "
                    "zlib1g (>= 1:1.1.4)\nRecommends: openssh-client\n",
    "libc6": "Package: libc6\nVersion: 2.36-9+deb12u14\nDepends: libgcc-s1\nBreaks: hurd (<< 1:0.9.git20220301-2)\n",
    "libcrypt1": "Package: libcrypt1\nVersion: 1:4.4.33-2\nPre-Depends: libc6 (>= 2.36)\n",
    "libtomcrypt1": "Package: libtomcrypt1\nVersion: 1.18.2-6\n"
                    "Depends: libc6 (>= 2.14), libgmp10 (>= 2:6.2.1+dfsg1), libtommath1 (>= 1.1.0)\n",
    "libtommath1": "Package: libtommath1\nVersion: 1.2.0-6+deb12u1\nDepends: libc6 (>= 2.14)\n",
    "zlib1g": "Package: zlib1g\nVersion: 1:1.2.13.dfsg-1\nDepends: libc6 (>= 2.14)\n",
    "libgcc-s1": "Package: libgcc-s1\nVersion: 12.2.0-14+deb12u1\nDepends: gcc-12-base (= 12.2.0-14+deb12u1), libc6 (>= 2.35)\n",
    "libgmp10": "Package: libgmp10\nVersion: 2:6.2.1+dfsg1-1.1\nDepends: libc6:any (>= 2.14)\n",
    "gcc-12-base": "Package: gcc-12-base\nVersion: 12.2.0-14+deb12u1\n",
}


def fake_apt(calls):
    def fake_run(argv, **_kwargs):
        names = [a for a in argv[1:] if not a.startswith("-") and a != "show"]
        calls.append(names)
        if argv[0] == "dpkg-query":
            return subprocess.CompletedProcess(argv, 0, "syslinux=3:6.04-3+b1\nsyslinux-common=3:6.04-3\n", "")
        return subprocess.CompletedProcess(argv, 0, "\n".join(APT[n] for n in names), "")
    return fake_run


def test_versions_come_from_apt(monkeypatch):
    calls = []
    monkeypatch.setattr(testimage.subprocess, "run", fake_apt(calls))
    packages, bootloader = testimage.resolve_packages()
    # build-image's order: kernel, busybox, dropbear, then dropbear's dependencies
    # (recursively, Pre-Depends too; not the kernel's, whose files stay out) by name
    assert packages == PACKAGES
    assert bootloader == ["syslinux=3:6.04-3+b1", "syslinux-common=3:6.04-3"]
    # one apt-cache call per level of dependencies, each package asked once
    assert calls == [["linux-image-cloud-amd64", "busybox-static", "dropbear-bin"],
                     ["linux-image-6.1.0-56-cloud-amd64", "libc6", "libcrypt1", "libtomcrypt1", "libtommath1", "zlib1g"],
                     ["libgcc-s1", "libgmp10"], ["gcc-12-base"], ["syslinux", "syslinux-common"]]


def test_depended_on_takes_first_alternatives_without_versions():
    fields = {"Pre-Depends": "libc6 (>= 2.36)",
              "Depends": "libgmp10:any (>= 2:6.2.1), debconf (>= 0.5) | debconf-2.0, libc6 (>= 2.14), foo [amd64]"}
    assert testimage.depended_on(fields) == ["libc6", "libgmp10", "debconf", "foo"]
    assert testimage.depended_on({}) == []


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
    with open(os.path.join(TOOLDIR, "init")) as f:
        init = f.read()
    # the metadata and ssh outcomes are printed through $result: their texts are assignments
    results = re.findall(r'^\s*result="(.*)"$', init, re.M)
    assert 'metadata ok uuid=$uuid name=$name' in results
    assert 'ssh ok key=$key_type' in results
    assert sum(r.startswith("metadata failed ") for r in results) >= 2
    assert sum(r.startswith("ssh failed ") for r in results) >= 2
    sample = {"$ip": "192.0.2.50", "$interface": "eth0", "$uuid": "0c6d0a4e-7b9e-4c53-9f5e-2a4d1f0b8e11",
              "$name": "vm 1", "$key_type": "ssh-ed25519", "$1": "eth1", "$host_name": "vm-1"}
    rendered = []
    for line in [p for p in printed if p != "$result"] + results:
        for var, value in sample.items():
            line = line.replace(var, value)
        rendered.append(testimage.MARKER_PREFIX + line)
    text = "\n".join(rendered) + "\n"
    for name in testimage.MARKERS:
        assert testimage.MARKERS[name].search(text), (name, rendered)
    assert testimage.MARKERS["metadata"].search(text)["name"] == "vm 1"
    assert testimage.MARKERS["ssh"].search(text)["key_type"] == "ssh-ed25519"
    assert testimage.MARKERS["hostname"].search(text)["hostname"] == "vm-1"
    assert sum(line.startswith(testimage.MARKER_PREFIX + "hostname failed ") for line in rendered) >= 3
    assert [m["iface"] for m in testimage.MARKERS["dhcp"].finditer(text)] == ["eth0"]
    # every line the guest prints about ssh is one marker or the other
    ssh_lines = [line for line in rendered if line.startswith(testimage.MARKER_PREFIX + "ssh ")]
    assert len(ssh_lines) >= 3
    for line in ssh_lines:
        assert testimage.MARKERS["ssh"].match(line) or testimage.MARKERS["ssh_failed"].match(line), line
