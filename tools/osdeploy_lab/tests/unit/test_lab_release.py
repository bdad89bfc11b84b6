"""The lab's Debian release: another release's apt sources are this machine's with the suites renamed,
the default release's are used as they are, every release has a root filesystem of its own, and a
lab keeps the release it was made with."""
import json
import os

import pytest

from osdeploy_lab import common, nspawn
from osdeploy_lab.tests.unit.apt_sources_sample import DEB822


ONE_LINE = """deb http://mirror.example/debian bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian-security bookworm-security main
# deb http://mirror.example/debian bookworm-backports main
deb-src http://mirror.example/debian bookworm-updates main contrib
"""


@pytest.fixture
def sources(tmp_path):
    def write(text, name="debian.sources"):
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    return write


def test_trixie_sources_rename_every_suite_and_keep_the_rest(sources):
    text = common.release_sources(sources(DEB822), "trixie")
    assert text == (DEB822.replace("Suites: bookworm bookworm-updates", "Suites: trixie trixie-updates")
                    .replace("Suites: bookworm-security", "Suites: trixie-security"))
    assert "mirror.example" in text and "bookworm" not in text.replace("20250520", "")


def test_trixie_sources_in_one_line_format(sources):
    text = common.release_sources(sources(ONE_LINE, "sources.list"), "trixie")
    assert text.splitlines() == [
        "deb http://mirror.example/debian trixie main",
        "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian-security "
        "trixie-security main",
        "# deb http://mirror.example/debian bookworm-backports main",      # comments stay as they are
        "deb-src http://mirror.example/debian trixie-updates main contrib",
    ]


def test_the_default_release_uses_this_machines_sources_unchanged(sources):
    for text, name in ((DEB822, "debian.sources"), (ONE_LINE, "sources.list")):
        assert common.release_sources(sources(text, name), common.SUITE) == text


def test_sources_of_another_release_are_mapped_back(sources):
    trixie = sources(DEB822.replace("bookworm", "trixie"), "trixie.sources")
    assert common.release_sources(trixie, "bookworm") == DEB822


def test_each_release_has_its_own_root_filesystem(sources):
    path = sources(DEB822)
    keys = {release: nspawn.rootfs_key(path, release) for release in common.RELEASES}
    assert len(set(keys.values())) == len(common.RELEASES)
    assert nspawn.rootfs_key(path) == keys[common.SUITE]


def test_package_lists_are_data_of_each_release():
    assert common.SUITE in common.RELEASES and "trixie" in common.RELEASES
    for release, spec in common.RELEASES.items():
        assert spec["packages"], release
        for name in spec["packages"]:
            assert os.path.isfile(os.path.join(common.LABD, name)), (release, name)


def test_an_unknown_release_is_refused():
    with pytest.raises(common.LabError, match="use one of bookworm, trixie"):
        common.check_release("sid")


@pytest.fixture
def lab_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("OSDEPLOY_LAB_DIR", str(tmp_path / "lab"))
    monkeypatch.delenv("OSDEPLOY_LAB_SUBNET", raising=False)

    def with_state(state):
        os.makedirs(str(tmp_path / "lab"), exist_ok=True)
        (tmp_path / "lab" / "state.json").write_text(json.dumps(state))
    return with_state


def test_a_new_lab_takes_the_requested_release_else_the_default(lab_dir):
    assert nspawn.NspawnLab("osdunit").release == common.SUITE
    assert nspawn.NspawnLab("osdunit", release="trixie").release == "trixie"


def test_a_lab_keeps_the_release_it_was_made_with(lab_dir):
    lab_dir({"name": "osdunit", "subnet": "192.168.56.0/24", "release": "trixie", "rootfs": "/x/root"})
    made = nspawn.NspawnLab("osdunit")
    assert made.release == "trixie" and made.requested_release is None
    other = nspawn.NspawnLab("osdunit", release="bookworm")     # status, ssh, down: the lab as it is
    assert other.release == "trixie" and other.requested_release == "bookworm"   # up refuses it


def test_a_lab_made_before_releases_were_recorded_runs_the_default(lab_dir):
    lab_dir({"name": "osdunit", "subnet": "192.168.56.0/24", "computes": 1, "rootfs": "/x/root"})
    assert nspawn.NspawnLab("osdunit").release == common.SUITE
