# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running nova-manage: as the nova user, with the right config files, quietly and safely.

* The command runs as the nova user (``setpriv`` from util-linux when the module runs
  as root) with a clean environment, so that files it creates belong to nova.
* Secrets never go on the command line (where ``ps`` shows them): a URL that
  nova-manage must store is written to a private, temporary config file passed as the
  last ``--config-file``, which nova-manage reads as its default.
* stderr noise that nova-manage always prints (eventlet's monkey-patching notice,
  Python warnings) is filtered; everything returned is masked.
* The config files are read with oslo.config, as nova-manage reads them
  (``$$`` escapes, later files override earlier ones).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import tempfile

from ansible_collections.osdeploy.nova.plugins.module_utils.credentials import mask_text

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NOISE = (
    re.compile(r"^Modules with known eventlet monkey patching issues were imported"),
    re.compile(r"^\S.*:\d+: \w*Warning: "),  # python warnings.showwarning format
    re.compile(r"^\s*warnings\.warn\("),
)


def strip_ansi(text):
    return _ANSI.sub("", text or "")


def filter_stderr(text):
    """Split nova-manage's stderr into (real lines, noise lines), ANSI colours removed.

    Noise: the eventlet monkey-patching notice and Python warnings (the warning line
    and the indented source line that follows it).
    """
    real, noise = [], []
    previous_was_warning = False
    for line in strip_ansi(text).splitlines():
        if not line.strip():
            previous_was_warning = False
            continue
        if any(p.search(line) for p in _NOISE):
            noise.append(line)
            previous_was_warning = True
            continue
        if previous_was_warning and line.startswith((" ", "\t")):
            noise.append(line)
            continue
        previous_was_warning = False
        real.append(line)
    return real, noise


def escape_oslo(value):
    """A value as oslo.config reads it back unchanged (``$`` is its interpolation sign)."""
    if "\n" in value or "\r" in value:
        raise ValueError("a value with a line break cannot be written to a config file")
    return value.replace("$", "$$")


def override_config_text(values):
    """INI text for {(section, option): value}, sections in a stable order."""
    sections = {}
    for (section, option), value in values.items():
        sections.setdefault(section, []).append((option, value))
    lines = []
    for section in sorted(sections, key=lambda s: (s != "DEFAULT", s)):
        lines.append("[%s]" % section)
        for option, value in sorted(sections[section]):
            lines.append("%s = %s" % (option, escape_oslo(value)))
        lines.append("")
    return "\n".join(lines)


def read_config(config_files):
    """The URLs nova-manage will use: dict(transport_url, database_connection, api_database_connection).

    Raises ValueError with a readable sentence when a file is missing or unreadable.
    """
    from oslo_config import cfg  # imported by the caller's check first

    conf = cfg.ConfigOpts()
    conf.register_opt(cfg.StrOpt("transport_url", secret=True))
    conf.register_opt(cfg.StrOpt("connection", secret=True), group="database")
    conf.register_opt(cfg.StrOpt("connection", secret=True), group="api_database")
    for path in config_files:
        if not os.path.isfile(path):
            raise ValueError("config file %s does not exist (config_files)" % path)
    kwargs = dict(args=[], project="nova", default_config_files=list(config_files))
    try:
        try:
            conf(use_env=False, **kwargs)
        except TypeError:  # oslo.config without environment sources
            conf(**kwargs)
    except cfg.Error as e:
        raise ValueError("cannot read the config files %s: %s"
                         % (", ".join(config_files), mask_text(str(e))))
    return dict(transport_url=conf.transport_url, database_connection=conf.database.connection,
                api_database_connection=conf.api_database.connection)


def user_prefix(current_uid, user, setpriv):
    """The argv prefix that runs a command as `user` (a pwd entry) from uid `current_uid`."""
    if current_uid == user.pw_uid:
        return []
    if current_uid != 0:
        raise ValueError("the module runs as uid %d and cannot switch to user %r: run it as root "
                         "(become: true) or as %r" % (current_uid, user.pw_name, user.pw_name))
    if not setpriv:
        raise ValueError("setpriv (util-linux) is needed to run nova-manage as %r" % user.pw_name)
    return [setpriv, "--reuid=%d" % user.pw_uid, "--regid=%d" % user.pw_gid, "--init-groups",
            "--reset-env", "--"]


class NovaManageError(Exception):
    """nova-manage failed; every attribute is masked already."""

    def __init__(self, msg, rc=None, stdout="", stderr="", cmd=None):
        super(NovaManageError, self).__init__(msg)
        self.msg = msg
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.cmd = cmd


class NovaManage(object):
    """nova-manage with fixed config files, run through `run(argv, cwd)` -> (rc, out, err).

    `secrets` are masked (with every URL password) in everything this returns.
    """

    def __init__(self, run, executable, config_files, prefix=(), user=None, secrets=()):
        self.run_fn = run
        self.executable = executable
        self.config_files = list(config_files)
        self.prefix = list(prefix)
        self.user = user
        self.secrets = list(secrets)
        self.history = []

    def mask(self, text):
        return mask_text(text, self.secrets)

    def command(self, args, extra_config=None):
        argv = list(self.prefix) + [self.executable]
        for path in self.config_files + ([extra_config] if extra_config else []):
            argv += ["--config-file", path]
        return argv + list(args)

    def _write_override(self, values):
        """A private directory with one config file that only nova (and root) can read."""
        tmpdir = tempfile.mkdtemp(prefix="osdeploy-cell_v2-")
        path = os.path.join(tmpdir, "override.conf")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(override_config_text(values))
        if self.user is not None and os.getuid() == 0:
            for p in (tmpdir, path):
                os.chown(p, self.user.pw_uid, self.user.pw_gid)
        return tmpdir, path

    def run(self, args, overrides=None, ok_rcs=(0,)):
        """Run `nova-manage ARGS`; return dict(rc, stdout, stderr, noise, cmd), all masked.

        `overrides` ({(section, option): value}) go into the temporary config file.
        Raises NovaManageError when rc is not in `ok_rcs`.
        """
        tmpdir = path = None
        if overrides:
            tmpdir, path = self._write_override(overrides)
        try:
            argv = self.command(args, path)
            rc, out, err = self.run_fn(argv, "/")
        finally:
            if tmpdir:
                shutil.rmtree(tmpdir, ignore_errors=True)
        shown = " ".join(["nova-manage"] + list(args))
        real, noise = filter_stderr(err)
        result = dict(cmd=shown, rc=rc, stdout=self.mask(strip_ansi(out)).rstrip("\n"),
                      stderr=self.mask("\n".join(real)), noise=len(noise))
        self.history.append(dict(cmd=shown, rc=rc))
        if rc not in ok_rcs:
            lines = [line for line in (result["stdout"] + "\n" + result["stderr"]).splitlines() if line.strip()]
            tail = " | ".join(lines[-6:]) if lines else "no output"
            raise NovaManageError("`%s` failed with rc %s: %s" % (shown, rc, tail), rc=rc,
                                  stdout=result["stdout"], stderr=result["stderr"], cmd=shown)
        return result
