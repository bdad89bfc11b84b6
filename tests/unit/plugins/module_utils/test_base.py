"""The skeleton's one way to write a file and to run a command, on a temporary folder."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import stat

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.osdeploy.nova.plugins.module_utils.base import Failure, OsdeployModule


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
