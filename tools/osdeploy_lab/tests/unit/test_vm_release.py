"""The VM lab's Debian release (tools/vmlab, tools/vagrant-box): one cached image per release, built
from this machine's apt sources with the release's suites and the release's package lists; --release
(or OSDEPLOY_LAB_RELEASE) chooses it, a lab keeps it, and the Vagrant box is named after the image's
release."""
import json
import os
import shutil
import subprocess

import pytest

from osdeploy_lab import qemu
from osdeploy_lab.common import RELEASES, SUITE, TOOLS, LabError
from osdeploy_lab.tests.unit.apt_sources_sample import DEB822


@pytest.fixture
def sources(tmp_path, monkeypatch):
    path = tmp_path / "debian.sources"
    path.write_text(DEB822)
    monkeypatch.setenv("OSDEPLOY_LAB_SOURCES", str(path))
    return str(path)


def test_each_release_has_its_own_image(sources):
    keys = {release: qemu.image_key(sources, release) for release in RELEASES}
    assert set(keys) == {"bookworm", "trixie"}
    assert len(set(keys.values())) == len(keys)
    assert qemu.image_key(sources) == keys["bookworm"]      # the default release


def test_the_release_is_in_the_key_even_when_the_sources_name_no_suite_of_it(tmp_path):
    stable = tmp_path / "stable.sources"
    stable.write_text(DEB822.replace("bookworm", "stable"))
    assert len({qemu.image_key(str(stable), release) for release in RELEASES}) == len(RELEASES)


def test_the_image_key_follows_the_apt_sources(sources, tmp_path):
    other = tmp_path / "other.sources"
    other.write_text(DEB822.replace("mirror.example", "other.example"))
    for release in RELEASES:
        assert qemu.image_key(sources, release) != qemu.image_key(str(other), release)


def test_a_releases_own_package_list_is_in_its_key_only(sources, monkeypatch):
    before = {release: qemu.image_key(sources, release) for release in RELEASES}
    monkeypatch.setitem(qemu.IMAGE_PACKAGES, "trixie", qemu.IMAGE_PACKAGES["trixie"][:1])
    assert qemu.image_key(sources, "trixie") != before["trixie"]
    assert qemu.image_key(sources, "bookworm") == before["bookworm"]


def test_every_release_of_the_lab_has_an_image():
    assert set(qemu.IMAGE_PACKAGES) == set(RELEASES)


@pytest.mark.parametrize("release", sorted(RELEASES))
def test_the_package_lists_of_a_release(release):
    files = qemu.package_files(release)
    # the nspawn lab's lists of the release, then the VM's own
    assert files == (tuple(("lab.d", name) for name in RELEASES[release]["packages"])
                     + tuple(("vm.d", name) for name in qemu.IMAGE_PACKAGES[release]))
    assert ("vm.d", "packages-baked.txt") in files and ("vm.d", "packages-vm.txt") in files
    for sub, name in files:
        assert os.path.isfile(os.path.join(TOOLS, sub, name)), (sub, name)


@pytest.fixture
def build_image_call(tmp_path, monkeypatch):
    """ensure_image(release=...) -> (argv of build-image, text of the apt sources file it is given):
    the build runs in a temporary directory, with subprocess.run recording instead of building."""
    calls = []

    def cached_build(kind, key, build, rebuild=False, in_use=None):
        tmp = tmp_path / ("build-" + key)
        tmp.mkdir()
        with open(str(tmp / "build.log"), "w") as logf:
            build(str(tmp), logf, logf)
        return str(tmp)

    def record(argv, **_kwargs):
        calls.append((argv, open(argv[2]).read()))
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr(qemu, "cached_build", cached_build)
    monkeypatch.setattr(qemu.subprocess, "run", record)

    def call(**kwargs):
        qemu.ensure_image(**kwargs)
        assert len(calls) == 1
        return calls.pop()
    return call


def test_a_trixie_image_is_built_with_trixie_suites_and_lists(sources, build_image_call):
    argv, text = build_image_call(release="trixie")
    assert os.path.basename(argv[0]) == "build-image"
    assert argv[3] == "trixie"
    assert text == (DEB822.replace("Suites: bookworm bookworm-updates", "Suites: trixie trixie-updates")
                    .replace("Suites: bookworm-security", "Suites: trixie-security"))
    assert [os.path.relpath(p, TOOLS) for p in argv[4:]] == [
        os.path.join(sub, name) for sub, name in qemu.package_files("trixie")]


def test_the_default_image_is_bookworm_with_this_machines_sources(sources, build_image_call):
    argv, text = build_image_call()
    assert argv[3] == "bookworm" and text == DEB822


def test_an_unknown_release_has_no_image(sources):
    with pytest.raises(LabError, match="use one of bookworm, trixie"):
        qemu.ensure_image(release="sid")


# ---------------------------------------------------------------- tools/vmlab's command line

@pytest.fixture
def vmlab_cli(tmp_path, monkeypatch, sources):
    """Run tools/vmlab's main(argv) without root, qemu or mmdebstrap: `build` and `up` record what
    they were asked for instead of building or booting. Returns (exit code, recorded)."""
    recorded = []
    monkeypatch.setattr(qemu.os, "geteuid", lambda: 0)
    monkeypatch.setattr(qemu.QemuLab, "NEEDED_TOOLS", {})
    monkeypatch.setattr(qemu.QemuLab, "build", staticmethod(lambda rebuild=False, release=SUITE: recorded.append(
        ("build", release)) or "/cache/vm-image/x/image"))
    monkeypatch.setattr(qemu.QemuLab, "up", lambda self, computes=None, openstack=None: recorded.append(
        ("up", self.release) + ((openstack,) if openstack else ())))
    monkeypatch.setenv("OSDEPLOY_LAB_DIR", str(tmp_path / "lab"))
    monkeypatch.setenv("PATH", os.environ.get("PATH", ""))     # cli may add /usr/sbin: restored after
    monkeypatch.delenv("OSDEPLOY_LAB_RELEASE", raising=False)
    monkeypatch.delenv("OSDEPLOY_LAB_SUBNET", raising=False)

    def run(*argv):
        rc = qemu.main(list(argv))
        return rc, recorded[:]
    return run


def test_build_and_up_take_the_release(vmlab_cli):
    assert vmlab_cli("build", "--release", "trixie") == (0, [("build", "trixie")])
    assert vmlab_cli("up", "--release", "trixie", "--computes", "1")[1][-1] == ("up", "trixie")


def test_the_release_defaults_to_bookworm_else_the_environment(vmlab_cli, monkeypatch):
    assert vmlab_cli("build") == (0, [("build", "bookworm")])
    monkeypatch.setenv("OSDEPLOY_LAB_RELEASE", "trixie")
    assert vmlab_cli("build")[1][-1] == ("build", "trixie")
    assert vmlab_cli("up")[1][-1] == ("up", "trixie")
    assert vmlab_cli("build", "--release", "bookworm")[1][-1] == ("build", "bookworm")   # --release wins


def test_an_unknown_release_is_refused(vmlab_cli, monkeypatch, capsys):
    with pytest.raises(SystemExit) as exc:
        vmlab_cli("up", "--release", "sid")
    assert exc.value.code == 2 and "invalid choice: 'sid'" in capsys.readouterr().err
    monkeypatch.setenv("OSDEPLOY_LAB_RELEASE", "sid")
    assert vmlab_cli("build") == (1, [])
    assert "OSDEPLOY_LAB_RELEASE=sid: use one of bookworm, trixie" in capsys.readouterr().err


@pytest.fixture
def lab_state(tmp_path, monkeypatch):
    monkeypatch.setenv("OSDEPLOY_LAB_DIR", str(tmp_path / "lab"))
    monkeypatch.delenv("OSDEPLOY_LAB_SUBNET", raising=False)

    def write(state):
        (tmp_path / "lab").mkdir(exist_ok=True)
        (tmp_path / "lab" / "state.json").write_text(json.dumps(state))
    return write


def test_a_vm_lab_keeps_the_release_it_was_made_with(lab_state, monkeypatch):
    lab_state({"name": "osdunit", "subnet": "192.168.57.0/24", "kind": "vm", "release": "trixie",
               "image": "/cache/vm-image/x/image"})

    def must_not_run(*_args, **_kwargs):
        raise AssertionError("up went on with another release")
    # should up not refuse: no image, no VM
    monkeypatch.setattr(qemu.QemuLab, "build", staticmethod(must_not_run))
    monkeypatch.setattr(qemu, "choose_accel", must_not_run)
    made = qemu.QemuLab("osdunit", release="bookworm")
    assert made.release == "trixie" and made.requested_release == "bookworm"
    with pytest.raises(LabError, match="exists with release trixie; `tools/vmlab down` first"):
        made.up()


def test_up_records_the_release_and_boots_its_image(lab_state, monkeypatch, tmp_path):
    built = []

    class Stop(Exception):
        pass

    def ensure_image(rebuild=False, release=SUITE):
        built.append(release)
        raise Stop()        # nothing further: no key, no hub, no VM
    monkeypatch.setattr(qemu.QemuLab, "build", staticmethod(ensure_image))
    monkeypatch.setattr(qemu, "choose_accel", lambda: ("tcg", "unit test"))
    with pytest.raises(Stop):
        qemu.QemuLab("osdunit", release="trixie").up(1)
    assert built == ["trixie"]
    assert json.loads((tmp_path / "lab" / "state.json").read_text())["release"] == "trixie"


def test_a_vm_lab_made_before_releases_were_recorded_runs_bookworm(lab_state):
    # its image is Debian 12's: `up --release trixie` must not boot it as a trixie lab
    lab_state({"name": "osdunit", "subnet": "192.168.57.0/24", "kind": "vm", "image": "/cache/vm-image/x/image"})
    old = qemu.QemuLab("osdunit", release="trixie")
    assert old.release == "bookworm" and old.requested_release == "trixie"


def test_a_new_vm_lab_takes_the_requested_release(lab_state):
    assert qemu.QemuLab("osdunit", release="trixie").release == "trixie"
    assert qemu.QemuLab("osdunit").release == "bookworm"


# ---------------------------------------------------------------- tools/vagrant-box

OS_RELEASE = {"bookworm": 'VERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n',
              "trixie": 'VERSION_ID="13"\nVERSION_CODENAME=trixie\nID=debian\n'}


@pytest.fixture
def vagrant_box(tmp_path):
    """Run tools/vagrant-box on an image directory of a release (files of a few bytes) with a `vagrant`
    on PATH that refuses to run: what is checked here is decided before any box is made."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "vagrant").write_text("#!/bin/sh\necho 'unit test: vagrant must not run' >&2\nexit 99\n")
    (bindir / "vagrant").chmod(0o755)
    env = dict(os.environ, PATH="%s:%s" % (bindir, os.environ.get("PATH", "")),
               OSDEPLOY_CACHE=str(tmp_path / "cache"), VAGRANT_HOME=str(tmp_path / "vagrant.d"))

    def run(release, *args):
        image = tmp_path / ("image-" + release)
        image.mkdir(exist_ok=True)
        for name in ("disk.qcow2", "vmlinuz", "initrd.img"):
            (image / name).write_text(name)
        (image / "os-release").write_text(OS_RELEASE[release])
        return subprocess.run([os.path.join(TOOLS, "vagrant-box"), "--image", str(image)] + list(args),
                              env=env, capture_output=True, text=True, timeout=60, check=False)
    return run


@pytest.mark.skipif(not all(shutil.which(t) for t in ("qemu-img", "sha256sum", "tar")),
                    reason="tools/vagrant-box needs qemu-img, sha256sum and tar")
@pytest.mark.parametrize("release, box", [("bookworm", "osdeploy/debian12"), ("trixie", "osdeploy/debian13")])
def test_the_box_is_named_after_the_images_release(vagrant_box, release, box):
    out = vagrant_box(release, "--release", release)
    assert "vagrant-box: box %s: Debian %s (%s)" % (box, box[-2:], release) in out.stderr, out.stderr


@pytest.mark.skipif(not all(shutil.which(t) for t in ("qemu-img", "sha256sum", "tar")),
                    reason="tools/vagrant-box needs qemu-img, sha256sum and tar")
def test_the_box_refuses_a_name_or_release_other_than_the_images(vagrant_box):
    out = vagrant_box("trixie", "--name", "osdeploy/debian12")
    assert out.returncode == 1
    assert "box osdeploy/debian12 would hold Debian 13 (trixie): name it osdeploy/debian13" in out.stderr
    out = vagrant_box("trixie", "--release", "bookworm")
    assert out.returncode == 1 and "is trixie, not bookworm" in out.stderr
    out = vagrant_box("bookworm", "--name", "mine/debian")        # any other name is the user's choice
    assert "vagrant-box: box mine/debian: Debian 12 (bookworm)" in out.stderr, out.stderr
