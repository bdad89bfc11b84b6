# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one skeleton every module of the collection is built on.

A module is a subclass of ``OsdeployModule`` that declares, as data:

- ``argument_spec``: its own options (``shared_spec`` holds the options of a
  family of modules, e.g. the MariaDB login or the OpenStack connection, and is
  merged under it);
- ``module_kwargs``: the rest of what AnsibleModule takes (``supports_check_mode``,
  ``required_if``, ...);
- ``required_libraries``: ``(importable, name, import traceback)`` triples checked
  before anything runs;
- ``defer_invocation_log``: log the invocation only once the module has
  registered the secrets that sit inside non-secret options (nova.conf values);

and implements one ``run()`` that returns the result (read -> plan -> apply).
Inside it there is one way to stop and one way to warn:

- ``self.fail(msg, **result)`` raises ``Failure``; the skeleton ends the run with
  ``fail_json``, the partial ``self.result`` merged with ``result``;
- ``self.warn(msg)`` collects a warning (``self.warnings``), issued when the run
  ends, successfully or not;

and one way each to touch the host:

- ``self.run_command(argv, ...)`` runs a command and stops the run, its output
  masked, when it exits with a code the caller did not allow;
- ``self.write_file(path, data, mode, owner, group)`` replaces a file
  atomically, its mode and owner set before its first byte, and leaves it
  untouched when it holds the data already (``read_file``, ``make_folders``
  beside it); code outside a module uses the functions they wrap
  (``write_atomically``, ``read_file``, ``make_missing_folders``);

and everything that leaves the module (message, warnings, result, the
traceback of an unexpected error) has the secrets masked: the values of no_log
options, what ``add_secrets()`` registered, and the password of any URL.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import grp
import os
import pwd
import re
import shlex
import stat
import tempfile
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.osdeploy.nova.plugins.module_utils.credentials import mask_text, mask_values, secret_variants


# -- files: what the skeleton's methods and the code outside a module (module_utils/nova_options.py) share --
def read_file(path):
    """The bytes of ``path``, or None when there is no such file."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError) as e:
        if e.errno == errno.ENOENT:
            return None
        raise


def octal_mode(mode, symbolic=None):
    """A file mode given as a number or as octal digits (``0640``) -> int; ``symbolic`` for one like ``u=rw``."""
    if isinstance(mode, int):
        return mode
    if isinstance(mode, str) and re.match(r"^0?[0-7]{3,4}$", mode.strip()):
        return int(mode.strip(), 8)
    return symbolic


def make_missing_folders(folder, mode=0o755):
    """Make ``folder`` and the missing folders above it with ``mode`` (not the umask's); return those made.

    Raises EnvironmentError, its ``filename`` the folder that could not be made.
    """
    missing = []
    while folder and not os.path.isdir(folder):
        missing.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    for path in reversed(missing):
        os.mkdir(path, mode)
        os.chmod(path, mode)  # the umask applies to mkdir
    return list(reversed(missing))


def write_atomically(path, data, mode=None, uid=-1, gid=-1, folder_mode=0o755):
    """Replace ``path`` with ``data`` (bytes, or text written as UTF-8); return whether anything changed.

    A file that holds ``data`` already is not rewritten (its mtime, which tells a service to restart, stays):
    only a wrong mode or owner is set in place. Otherwise a temporary file in the same folder gets ``mode``
    (None: the old file's, 0600 for a new one), ``uid`` and ``gid`` (-1: the writer's; a file that holds
    ``data`` keeps its own) before its first byte, then is synced and renamed over ``path``, and the folder
    synced: a reader sees the old file or the new one, never a part, and never a looser mode. Missing
    folders are made with ``folder_mode``. Raises EnvironmentError, the old file left as it was.
    """
    if not isinstance(data, bytes):
        data = data.encode("utf-8", "surrogateescape")
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    try:
        old = os.stat(path)
    except FileNotFoundError:
        old = None
    if old is not None and stat.S_ISREG(old.st_mode):
        if mode is None:
            mode = stat.S_IMODE(old.st_mode)
        if read_file(path) == data:
            changed = False
            if (uid != -1 and old.st_uid != uid) or (gid != -1 and old.st_gid != gid):
                os.chown(path, uid, gid)
                changed = True
            if stat.S_IMODE(old.st_mode) != mode:
                os.chmod(path, mode)
                changed = True
            return changed
    mode = 0o600 if mode is None else mode
    make_missing_folders(folder, folder_mode)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=folder)  # mode 0600
        with os.fdopen(fd, "wb") as handle:
            if uid != -1 or gid != -1:
                os.fchown(handle.fileno(), uid, gid)
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    try:  # the rename itself on disk; best effort, the file is in place either way
        folder_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(folder_fd)
        finally:
            os.close(folder_fd)
    except EnvironmentError:
        pass
    return True


class Failure(Exception):
    """Ends the run with fail_json: ``msg`` and extra result values."""

    def __init__(self, msg, result=None):
        Exception.__init__(self, msg)
        self.msg = msg
        self.result = result or {}


class _DeferredLogModule(AnsibleModule):
    """AnsibleModule that logs its invocation (syslog/journal) only when told to."""

    _ready = False

    def _log_invocation(self):
        if self._ready:
            super(_DeferredLogModule, self)._log_invocation()


class OsdeployModule(object):
    """Base class: subclasses declare their options as data and implement ``run()``."""

    shared_spec = {}
    argument_spec = {}
    module_kwargs = {}
    required_libraries = ()
    defer_invocation_log = False
    # no_log options whose values are not secrets as a whole (the module names the secrets in them)
    partly_secret_options = ()

    def __init__(self):
        spec = dict(self.shared_spec)
        spec.update(self.argument_spec)
        module_class = _DeferredLogModule if self.defer_invocation_log else AnsibleModule
        self.module = module_class(argument_spec=spec, **self.module_kwargs)
        self.params = self.module.params
        self.check_mode = self.module.check_mode
        self.diff_mode = self.module._diff
        self.result = {}
        self.warnings = []
        self._secrets = []

    # -- secrets -------------------------------------------------------------
    def secrets(self):
        """Every secret known so far: no_log option values and the registered ones."""
        found = [self.params.get(name) for name, spec in self.module.argument_spec.items()
                 if spec.get("no_log") and name not in self.partly_secret_options
                 and isinstance(self.params.get(name), str)]
        return [value for value in found if value] + self._secrets

    def add_secrets(self, values, no_log=False):
        """Register secrets found at run time; with no_log, Ansible masks them in the result too."""
        values = [str(value) for value in values if value]
        self._secrets.extend(values)
        if no_log:
            # also percent-encoded: a password inside a connection URL (the
            # module's own invocation, echoed at -vvv) is written that way
            self.module.no_log_values.update(secret_variants(values))

    def log_invocation(self):
        """For ``defer_invocation_log`` modules: log now, the secrets being registered."""
        self.module._ready = True
        if not self.module.no_log:
            self.module._log_invocation()

    def mask(self, text):
        return mask_text(text, self.secrets())

    # -- the one way to stop and to warn ---------------------------------------
    def fail(self, msg, **result):
        raise Failure(msg, result)

    def warn(self, msg):
        self.warnings.append(self.mask(msg))

    def require_library(self, importable, name, error):
        if not importable:
            self.fail(missing_required_lib(name), exception=error)

    # -- the one way to run a command and to write a file -------------------------
    def run_command(self, argv, data=None, allowed=(0,), what=None, missing=None, show_input=False, **kwargs):
        """Run ``argv`` (its first item looked up on PATH when it is a bare name); return ``(rc, out, err)``.

        An exit code outside ``allowed`` (None: any) stops the run naming ``what`` (default: the command
        line) with the end of its error output, secrets masked, and with ``show_input`` the ``data`` it read
        (a script whose errors cite its lines). A command not on this host stops the run with ``missing``
        (default: that it is not installed). Other keyword arguments go to AnsibleModule's ``run_command``.
        """
        given = [str(arg) for arg in argv]
        argv = list(given)
        if os.sep not in argv[0]:
            argv[0] = self.module.get_bin_path(argv[0])
            if argv[0] is None:
                self.fail(missing or "%s is not installed on this host (it is not on the PATH)" % given[0])
        rc, out, err = self.module.run_command(argv, data=data, **kwargs)
        if allowed is not None and rc not in allowed:
            said = (err or out or "").strip()[-2000:]
            msg = "%s failed (exit code %d): %s" % (what or " ".join(shlex.quote(arg) for arg in given), rc,
                                                    said or "no output")
            if show_input and data:
                msg += "\nits input was:\n%s" % (data if isinstance(data, str) else data.decode("utf-8", "replace"))
            self.fail(self.mask(msg.rstrip()), rc=rc)
        return rc, out, err

    read_file = staticmethod(read_file)

    def make_folders(self, folder, mode=0o755):
        """Make ``folder`` and the missing folders above it with ``mode``; return those made."""
        try:
            return make_missing_folders(folder, mode)
        except EnvironmentError as e:
            self.fail("cannot make the folder %s: %s" % (e.filename or folder, e.strerror or e))

    def write_file(self, path, data, mode=None, owner=None, group=None, folder_mode=0o755):
        """Replace ``path`` with ``data`` atomically (``write_atomically``); return whether anything changed.

        ``owner`` and ``group`` are names or numeric ids (None: the writer's). A failure names the path, never
        the data, and leaves the old file as it was.
        """
        path = os.path.abspath(path)
        try:
            uid = owner if isinstance(owner, int) else -1 if owner is None else pwd.getpwnam(owner).pw_uid
            gid = group if isinstance(group, int) else -1 if group is None else grp.getgrnam(group).gr_gid
        except KeyError:
            self.fail("cannot write %s: the owner %r or group %r does not exist on this host" % (path, owner, group))
        self.make_folders(os.path.dirname(path), folder_mode)
        try:
            return write_atomically(path, data, mode, uid, gid)
        except EnvironmentError as e:
            self.fail("could not write %s (the old file, if any, is unchanged): %s" % (path, e.strerror or e))

    # -- the run -----------------------------------------------------------------
    def run(self):  # pragma: no cover - abstract
        """Read, plan, apply; return the result dict."""
        raise NotImplementedError

    def cleanup(self):
        """Release what run() opened (connections, locks); called on every outcome."""

    def _finish(self, method, **result):
        secrets = self.secrets()
        for warning in self.warnings:
            self.module.warn(mask_text(warning, secrets))
        method(**mask_values(result, secrets))

    def __call__(self):
        try:
            try:
                for importable, name, error in self.required_libraries:
                    self.require_library(importable, name, error)
                result = self.run()
            finally:
                self.cleanup()
        except Failure as e:
            out = dict(self.result)
            out.update(e.result)
            self._finish(self.module.fail_json, msg=e.msg, **out)
        except Exception as e:  # anything unexpected: still no secret in the message
            self._finish(self.module.fail_json, msg="unexpected error: %s: %s" % (type(e).__name__, e),
                         exception=traceback.format_exc())
        self._finish(self.module.exit_json, **(self.result if result is None else result))


def default_or_required(spec, default):
    """An option's ``spec`` with ``default``, or required when the default is None.

    For the option builders of modules that share one class and differ in their
    defaults (module_utils/service_db_module.py, conf_ini_module.py).
    """
    spec = dict(spec)
    if default is None:
        spec["required"] = True
    else:
        spec["default"] = default
    return spec


def main(module_class):
    """The ``main()`` of every module: build the module and run it."""
    module_class()()
