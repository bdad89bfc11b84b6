"""nova_manage: running nova-manage as nova, stderr filtering, secrets kept off argv and out of output."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import os

import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils import nova_manage as N

Pw = collections.namedtuple("Pw", "pw_name pw_uid pw_gid")
NOVA = Pw("nova", 64060, 64060)
EVENTLET = ("Modules with known eventlet monkey patching issues were imported prior to eventlet monkey "
            "patching: urllib3. This warning can usually be ignored if the caller is only importing and "
            "not executing nova code.")


def test_stderr_noise_is_filtered_and_real_lines_kept():
    err = "\n".join([
        EVENTLET,
        "/usr/lib/python3/dist-packages/oslo_db/sqlalchemy/enginefacade.py:1366: OsloDBDeprecationWarning: "
        "EngineFacade is deprecated",
        "  return _facade.get_engine()",
        "",
        "\x1b[00mCould not load none",
        "Traceback (most recent call last):",
        "  File \"/bin/nova-manage\", line 10, in <module>",
    ])
    real, noise = N.filter_stderr(err)
    assert real == ["Could not load none", "Traceback (most recent call last):",
                    "  File \"/bin/nova-manage\", line 10, in <module>"]
    assert len(noise) == 3
    assert N.filter_stderr(EVENTLET + "\n") == ([], [EVENTLET])


def test_override_config_escapes_oslo_interpolation():
    text = N.override_config_text({("database", "connection"): "mysql+pymysql://n:p$x@h/nova",
                                   ("DEFAULT", "transport_url"): "rabbit://o:p%24@h:5672/"})
    assert text == ("[DEFAULT]\ntransport_url = rabbit://o:p%24@h:5672/\n\n"
                    "[database]\nconnection = mysql+pymysql://n:p$$x@h/nova\n")
    with pytest.raises(ValueError):
        N.escape_oslo("a\nb")


def test_user_prefix():
    assert N.user_prefix(0, NOVA, "/usr/bin/setpriv") == [
        "/usr/bin/setpriv", "--reuid=64060", "--regid=64060", "--init-groups", "--reset-env", "--"]
    assert N.user_prefix(64060, NOVA, None) == []
    with pytest.raises(ValueError, match="run it as root"):
        N.user_prefix(1000, NOVA, "/usr/bin/setpriv")
    with pytest.raises(ValueError, match="setpriv"):
        N.user_prefix(0, NOVA, None)


class FakeRun(object):
    def __init__(self, rc=0, out="", err=EVENTLET):
        self.rc, self.out, self.err = rc, out, err
        self.calls = []

    def __call__(self, argv, cwd):
        override = None
        if "--config-file" in argv:
            paths = [argv[i + 1] for i, a in enumerate(argv) if a == "--config-file"]
            if len(paths) > 1:
                with open(paths[-1]) as f:
                    override = (paths[-1], oct(os.stat(paths[-1]).st_mode & 0o777), f.read())
        self.calls.append(dict(argv=argv, cwd=cwd, override=override))
        return self.rc, self.out, self.err


def test_run_keeps_secrets_off_argv_and_removes_the_override():
    fake = FakeRun(out="\x1b[00mcreated c1\x1b[00m\n")
    nm = N.NovaManage(fake, "/usr/bin/nova-manage", ["/etc/nova/nova.conf"], prefix=["setpriv", "--"],
                      user=None, secrets=["s3cret"])
    res = nm.run(["cell_v2", "create_cell", "--name", "cell1"],
                 overrides={("database", "connection"): "mysql+pymysql://nova:s3cret@db/nova"})
    call = fake.calls[0]
    assert call["cwd"] == "/"
    assert call["argv"][:4] == ["setpriv", "--", "/usr/bin/nova-manage", "--config-file"]
    assert "s3cret" not in " ".join(call["argv"])
    path, mode, text = call["override"]
    assert mode == "0o600" and "s3cret" in text
    assert not os.path.exists(path) and not os.path.exists(os.path.dirname(path))
    assert res == dict(cmd="nova-manage cell_v2 create_cell --name cell1", rc=0, stdout="created c1",
                       stderr="", noise=1)


def test_failure_is_masked_and_summarized():
    out = "ERROR: Could not access cell0.\nError: (2003, \"Can't connect\") mysql+pymysql://nova:s3cret@db/x\n"
    nm = N.NovaManage(FakeRun(rc=1, out=out, err=EVENTLET + "\nboom s3cret"), "nova-manage", ["/c"],
                      secrets=["s3cret"])
    with pytest.raises(N.NovaManageError) as info:
        nm.run(["db", "sync"])
    e = info.value
    assert e.rc == 1 and "s3cret" not in e.msg + e.stdout + e.stderr
    assert e.msg.startswith("`nova-manage db sync` failed with rc 1: ERROR: Could not access cell0.")
    assert "boom ********" in e.msg and "Modules with known eventlet" not in e.stderr
    # an accepted non-zero rc is returned, not raised
    assert nm.run(["cell_v2", "discover_hosts"], ok_rcs=(0, 1))["rc"] == 1
