"""The skeleton's one way to write a file and to run a command, on a temporary folder."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import stat

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.osdeploy.nova.plugins.module_utils.base import Failure, OsdeployModule, octal_mode


class Probe(OsdeployModule):
    argument_spec = dict(password=dict(type="str", no_log=True))
    module_kwargs = dict(supports_check_mode=True)


@pytest.fixture
def probe():
    with patch_module_args(dict(password="s3cret-value")):
        return Probe()


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_write_file_replaces_the_file_with_the_mode_and_owner_asked(probe, tmp_path):
    path = tmp_path / "a" / "b" / "file.conf"
    me = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    probe.write_file(str(path), u"first\n", 0o640, owner=me, group=group, folder_mode=0o750)
    assert path.read_text() == "first\n" and mode_of(path) == 0o640
    assert mode_of(path.parent) == mode_of(path.parent.parent) == 0o750
    probe.write_file(str(path), b"second\n", 0o600)
    assert path.read_bytes() == b"second\n" and mode_of(path) == 0o600
    assert os.listdir(str(path.parent)) == ["file.conf"], "no temporary file is left"


def test_write_file_keeps_the_old_file_and_names_the_path_not_the_data_when_it_fails(probe, tmp_path):
    path = tmp_path / "file.conf"
    path.write_text(u"old\n")
    with pytest.raises(Failure) as failed:
        probe.write_file(str(path), u"new s3cret-value\n", 0o600, owner="osdeploy-no-such-user")
    assert str(path) in failed.value.msg and "s3cret-value" not in failed.value.msg
    assert "osdeploy-no-such-user" in failed.value.msg
    assert path.read_text() == "old\n"


def test_read_file_is_none_for_a_missing_file(probe, tmp_path):
    assert probe.read_file(str(tmp_path / "none")) is None
    (tmp_path / "here").write_bytes(b"x")
    assert probe.read_file(str(tmp_path / "here")) == b"x"


def test_run_command_returns_the_output_and_allows_the_codes_asked(probe):
    assert probe.run_command(["sh", "-c", "echo out; echo err >&2"]) == (0, "out\n", "err\n")
    assert probe.run_command(["sh", "-c", "exit 1"], allowed=(0, 1))[0] == 1


def test_run_command_stops_naming_the_step_with_its_error_output_masked(probe):
    with pytest.raises(Failure) as failed:
        probe.run_command(["sh", "-c", "echo 'login refused for s3cret-value' >&2; exit 3"], what="the login")
    assert failed.value.msg.startswith("the login failed (exit code 3): login refused for ")
    assert "s3cret-value" not in failed.value.msg and failed.value.result == {"rc": 3}


def test_write_file_leaves_a_file_that_holds_the_data_untouched(probe, tmp_path):
    """Services restart by mtime: the same bytes are not written again; a wrong mode alone is set in place."""
    path = tmp_path / "file.conf"
    assert probe.write_file(str(path), u"same\n", 0o640) is True
    os.utime(str(path), (1000000000, 1000000000))
    assert probe.write_file(str(path), b"same\n", 0o640) is False
    assert os.stat(str(path)).st_mtime == 1000000000
    assert probe.write_file(str(path), b"same\n", 0o600) is True
    assert mode_of(path) == 0o600 and os.stat(str(path)).st_mtime == 1000000000
    assert probe.write_file(str(path), b"other\n", 0o600) is True
    assert os.stat(str(path)).st_mtime != 1000000000


def test_write_file_without_a_mode_keeps_the_old_files_and_makes_a_new_one_0600(probe, tmp_path):
    old, new = tmp_path / "old.conf", tmp_path / "new.conf"
    old.write_text(u"old\n")
    os.chmod(str(old), 0o644)
    probe.write_file(str(old), u"changed\n")
    probe.write_file(str(new), u"new\n")
    assert mode_of(old) == 0o644 and mode_of(new) == 0o600


def test_write_file_takes_numeric_ids(probe, tmp_path):
    path = tmp_path / "file.conf"
    probe.write_file(str(path), u"x\n", 0o644, owner=os.getuid(), group=os.getgid())
    assert os.stat(str(path)).st_uid == os.getuid()


def test_make_folders_names_the_folder_it_cannot_make(probe, tmp_path):
    (tmp_path / "file").write_text(u"")
    with pytest.raises(Failure) as failed:
        probe.make_folders(str(tmp_path / "file" / "sub"), 0o700)
    assert failed.value.msg == "cannot make the folder %s: File exists" % (tmp_path / "file")
    assert probe.make_folders(str(tmp_path / "a" / "b"), 0o700) == [str(tmp_path / "a"), str(tmp_path / "a" / "b")]


@pytest.mark.parametrize("given,expected", [(0o640, 0o640), ("0640", 0o640), ("640", 0o640), ("u=rw,g=r", None)])
def test_octal_mode(given, expected):
    assert octal_mode(given) == expected
    assert octal_mode(given, 0o600) == (0o600 if expected is None else expected)


def test_run_command_allows_any_code_with_none_and_names_a_missing_command(probe):
    assert probe.run_command(["sh", "-c", "exit 7"], allowed=None)[0] == 7
    with pytest.raises(Failure) as failed:
        probe.run_command(["osdeploy-no-such-command", "x"])
    assert failed.value.msg == "osdeploy-no-such-command is not installed on this host (it is not on the PATH)"
    with pytest.raises(Failure) as failed:
        probe.run_command(["osdeploy-no-such-command"], missing="install it (Debian package x)")
    assert failed.value.msg == "install it (Debian package x)"


def test_run_command_shows_the_input_it_read_when_asked(probe):
    with pytest.raises(Failure) as failed:
        probe.run_command(["sh", "-c", "cat >/dev/null; echo 'line 2: bad' >&2; exit 1"], data="one\ntwo s3cret-value\n",
                          show_input=True)
    assert failed.value.msg.startswith("sh -c 'cat >/dev/null; echo '\"'\"'line 2: bad")
    assert failed.value.msg.endswith("failed (exit code 1): line 2: bad\nits input was:\none\ntwo ********")
