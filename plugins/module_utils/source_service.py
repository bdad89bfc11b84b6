# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the source_service module does around one service installed from source on one host, in one call.

read -> plan -> apply:

- ``problems(params)``: the options refused before anything is read or changed (pure);
- ``plan_path(...)``, ``plan_link(...)``, ``plan_folder(...)``: what one path needs, from what is on disk (pure
  over a ``stat`` result and the bytes);
- ``stale_units(...)``: the running units that started before a file they run with last changed, and the APIs
  with a worker older than their environment link (pure over the units' state, mtimes and workers' ages);
- ``decide(...)``: the units that restart and the APIs that reload (pure: the role's restart decision);
- ``SourceServiceModule``: reads the host, plans with the above, applies (writes through ``OsdeployModule``'s
  ``write_file``, commands through its ``run_command``), never starts or restarts anything.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import grp
import os
import pwd
import re
import shlex
import stat
import tempfile
import time

from ansible_collections.osdeploy.nova.plugins.module_utils.base import OsdeployModule
from ansible_collections.osdeploy.nova.plugins.module_utils.release_fact import UNITS

# The units uWSGI serves (roles/source/vars/main.yml, __source_unit_data: those with ``wsgi``).
API_UNITS = ("nova-api", "nova-api-metadata", "placement-api")
# The states of a unit that count as running before the call (roles/osdeploy/vars/main.yml, __osdeploy_was_running).
WAS_RUNNING = ("active", "activating", "reloading", "deactivating")
# What the environment gives nova (and where): copied into config_dir.
PASTE = "api-paste.ini"
ROOTWRAP = "rootwrap.conf"
FILTERS = "rootwrap.d"
_OCTAL = re.compile(r"^0?[0-7]{3,4}$")
_EXEC_DIRS = re.compile(r"(?m)^exec_dirs[ \t]*=[ \t]*")
_DEBIAN_UNIT = re.compile(r"^(/usr)?/lib/systemd/system/[^/@]+[.]service$")


def service_units(service):
    return [unit for unit, owner in UNITS if owner == service]


def mode_problem(where, mode):
    """Why ``mode`` (an option's value) is not an octal mode, or None."""
    if isinstance(mode, str) and _OCTAL.match(mode):
        return None
    return ("%s: %r is not an octal mode; give it as a quoted string of octal digits, e.g. '0644' (YAML reads an "
            "unquoted 0644 as the number 420)" % (where, mode))


def problems(params):
    """What is wrong with the options, each naming the option and the fix; [] when they can run."""
    found = []
    service = params["service"]
    known = service_units(service)
    units = params["units"] or []
    unknown = [unit for unit in units if unit not in known]
    if unknown:
        found.append("units: %s does not have %s (it has %s); leave them out"
                     % (service, ", ".join(unknown), ", ".join(known)))
    ports = params["ports"] or {}
    for unit in units:
        if unit in API_UNITS and not ports.get(unit):
            found.append("ports: the API %s has no port; give it one (ports: {%s: <port>})" % (unit, unit))
    for name in ("venv", "venv_link", "command_dir", "config_dir", "unit_dir"):
        value = params.get(name)
        if value and not os.path.isabs(value):
            found.append("%s: %s is not an absolute path; give the full path" % (name, value))
    if any(unit in API_UNITS for unit in units) and not params.get("venv"):
        found.append("venv: the APIs of units run the environment by its link; give venv")
    if params["commands"] and not params.get("venv"):
        found.append("commands: the links into %s point into the environment; give venv too" % params["command_dir"])
    if params["environment_files"] and not params.get("venv"):
        found.append("environment_files: the files are copied from the environment; give venv too")
    for index, folder in enumerate(params["directories"] or []):
        where = "directories[%d]" % index
        if not os.path.isabs(folder.get("path") or ""):
            found.append("%s.path: %r is not an absolute path; give the full path" % (where, folder.get("path")))
        problem = mode_problem(where + ".mode", folder.get("mode"))
        if problem:
            found.append(problem)
    paths = set()
    for index, entry in enumerate(params["files"] or []):
        where = "files[%d]" % index
        path = entry.get("path") or ""
        if not os.path.isabs(path):
            found.append("%s.path: %r is not an absolute path; give the full path" % (where, entry.get("path")))
        elif path in paths:
            found.append("%s.path: %s is given twice; give each file once" % (where, path))
        paths.add(path)
        problem = mode_problem(where + ".mode", entry.get("mode"))
        if problem:
            found.append(problem)
        if entry.get("unit") and entry["unit"] not in units:
            found.append("%s.unit: %s is not one of units (%s); name a unit of this host, or none"
                         % (where, entry["unit"], ", ".join(units) or "none"))
        if entry.get("validate") and "%s" not in entry["validate"]:
            found.append("%s.validate: %r has no %%s where the new file's path goes; add it, e.g. "
                         "'/usr/sbin/visudo -cf %%s'" % (where, entry["validate"]))
    return found


def _ids(owner, group):
    """(uid, gid) of the names, None for a name this host does not know."""
    try:
        uid = pwd.getpwnam(owner).pw_uid
    except KeyError:
        uid = None
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        gid = None
    return uid, gid


def attribute_reasons(current, mode, owner, group):
    """Why a path's mode, owner or group (``current``: its ``lstat``) are not the ones asked; [] when they are."""
    uid, gid = _ids(owner, group)
    reasons = []
    if stat.S_IMODE(current.st_mode) != mode:
        reasons.append("mode %04o -> %04o" % (stat.S_IMODE(current.st_mode), mode))
    if uid is None or current.st_uid != uid:
        reasons.append("owner -> %s" % owner)
    if gid is None or current.st_gid != gid:
        reasons.append("group -> %s" % group)
    return reasons


def plan_path(path, want, mode, owner, group, current, data):
    """What a file needs: None when its content and attributes are right; else ``write`` (content, or no file
    yet) or ``attributes`` (chmod/chown in place, the mtime kept), with the reasons.

    ``current`` is the ``lstat`` of the path (None: no file), ``data`` its bytes.
    """
    if current is None:
        return dict(path=path, action="write", reasons=["new"])
    if not stat.S_ISREG(current.st_mode):
        return dict(path=path, action="write", reasons=["not a file"])
    if data != want:
        return dict(path=path, action="write", reasons=["content"])
    reasons = attribute_reasons(current, mode, owner, group)
    return dict(path=path, action="attributes", reasons=reasons) if reasons else None


def plan_folder(path, mode, owner, group, current):
    """What a folder needs: None, ``make``, ``attributes`` (the reasons) or ``refuse`` (not a folder)."""
    if current is None:
        return dict(path=path, action="make", reasons=["new"])
    if not stat.S_ISDIR(current.st_mode):
        return dict(path=path, action="refuse", reasons=["not a folder"])
    reasons = attribute_reasons(current, mode, owner, group)
    return dict(path=path, action="attributes", reasons=reasons) if reasons else None


def plan_link(path, target, current, current_target):
    """What a link needs: None when ``path`` is a link to ``target``; else ``link`` or ``refuse`` (a folder)."""
    if current is None:
        return dict(path=path, target=target, action="link", reasons=["new"])
    if stat.S_ISDIR(current.st_mode):
        return dict(path=path, target=target, action="refuse", reasons=["a folder is in the way"])
    if not stat.S_ISLNK(current.st_mode):
        return dict(path=path, target=target, action="link", reasons=["not a link"])
    if current_target != target:
        return dict(path=path, target=target, action="link", reasons=["pointed at %s" % current_target])
    return None


def rootwrap_conf(text, bin_dir):
    """Nova's rootwrap.conf with ``exec_dirs`` led by the environment's ``bin`` (the role's regex_replace)."""
    return _EXEC_DIRS.sub(lambda match: "exec_dirs=" + bin_dir + ",", text)


def stale_units(units, states, files, now, link, link_mtime, workers):
    """The running units that started before one of their files last changed (restart), and the APIs, of the
    others, with a worker older than the environment link (reload), as ``(restart, reload)``.

    ``states``: {unit: {ActiveState, ExecMainStartTimestamp (seconds or None), MainPID}}; ``files``: {unit:
    [(mtime or None, text)]}; ``link_mtime`` None when there is no link; ``workers``: {unit: [ages in seconds]}.
    The same check as the shell task it replaces: whole seconds, a file newer than the start restarts.
    """
    restart, reload = [], []
    for unit in units:
        state = states.get(unit) or {}
        started = state.get("ExecMainStartTimestamp")
        if state.get("ActiveState") != "active" or started is None:
            continue
        if any(mtime is not None and int(mtime) > int(started) for mtime, dummy in files.get(unit, [])):
            restart.append(unit)
            continue
        if link_mtime is None or not any(link in (text or "") for dummy, text in files.get(unit, [])):
            continue
        if any(int(now) - int(age) < int(link_mtime) for age in workers.get(unit, [])):
            reload.append(unit)
    return restart, reload


def decide(units, apis, running, changed_units, environment_changed, link_changed, paste_changed, stale_restart,
           stale_reload):
    """The units that restart and the APIs that reload, in the order of ``units``.

    A unit restarts when it was running before the call and runs with something that changed: the environment
    (every unit), its own files, or it started before they last changed (``stale_restart``). A running API that
    does not restart reloads worker by worker when its environment link moved, nova's api-paste.ini changed or a
    worker is older than the link (``stale_reload``). A unit that was not running starts with all of it.
    """
    changed = set(changed_units) | set(stale_restart) | (set(units) if environment_changed else set())
    restart = [unit for unit in units if unit in changed and unit in running]
    moved = link_changed or paste_changed
    reload = [unit for unit in units if unit in apis and unit in running and unit not in restart
              and (moved or unit in stale_reload)]
    return restart, reload


def parse_show(text):
    """``systemctl show`` of several units: {Id without .service: {property: value}}."""
    found, current = {}, {}
    for line in (text or "").splitlines() + [""]:
        if not line.strip():
            if current.get("Id"):
                found[current["Id"][:-len(".service")] if current["Id"].endswith(".service") else current["Id"]] = current
            current = {}
            continue
        key, dummy, value = line.partition("=")
        current[key] = value
    return found


def start_seconds(value):
    """``ExecMainStartTimestamp`` (``--timestamp=unix``: ``@1700000000``) as seconds, None when unset."""
    value = (value or "").strip().lstrip("@")
    return int(value) if value.isdigit() else None


class SourceServiceModule(OsdeployModule):
    """The module's run: validate, read, plan, apply; see the module's DOCUMENTATION."""

    module_kwargs = dict(supports_check_mode=True)

    def run(self):
        params = self.params
        found = problems(params)
        if found:
            self.fail("source_service (%s): nothing was changed: %s" % (params["service"], "; ".join(found)),
                      changed=False, problems=found)
        self.changes, self.diffs, self.changed_files = [], [], []
        self.unit_files_changed = False
        units = params["units"] or []
        apis = [unit for unit in units if unit in API_UNITS]
        states = self.unit_states(units)
        running = [unit for unit in units if (states.get(unit) or {}).get("ActiveState") in WAS_RUNNING]

        # -- plan: every path and what it needs, before anything changes --------------------------------------
        folders = [self.folder_plan(entry) for entry in self.folders()]
        self.refuse_blocked(folders)
        files = [self.file_plan(entry) for entry in self.wanted_files()]
        links = self.link_plans(apis)
        self.refuse_blocked(links)
        held, masked = self.debian_plan()

        unit_files = dict((unit, []) for unit in units)
        changed_units = set()
        paste_changed = False
        for entry, plan in files:
            if entry.get("unit"):
                unit_files[entry["unit"]].append((self.mtime(entry["path"]), entry["text"]))
                if plan:
                    changed_units.add(entry["unit"])
            if plan and entry.get("paste"):
                paste_changed = True
        link = params["venv_link"] or self.default_link()
        link_plan = [plan for plan in links if plan and plan["path"] == link]
        stale_restart, stale_reload = stale_units(
            units, states, unit_files, time.time(), link, self.mtime(link) if apis else None,
            self.worker_ages([unit for unit in apis if unit in running], states))
        restart, reload = decide(units, apis, running, changed_units, params["environment_changed"],
                                 bool(link_plan), paste_changed, stale_restart, stale_reload)

        # -- apply, in order: folders, files, links, Debian's packages and units, systemd -------------------------
        for plan in folders:
            if plan:
                self.apply_folder(plan)
        for entry, plan in files:
            if plan:
                self.apply_file(entry, plan)
        for plan in links:
            if plan:
                self.apply_link(plan)
        self.apply_debian(held, masked)
        if self.unit_files_changed or stale_restart or stale_reload:
            self.changes.append("systemd: daemon-reload")
            if not self.check_mode:
                self.run_command(["systemctl", "daemon-reload"])
        result = dict(changed=bool(self.changes), changes=self.changes, changed_files=self.changed_files,
                      restart=restart, reload=reload)
        if self.diff_mode:
            result["diff"] = self.diffs
        return result

    # -- reading the host -------------------------------------------------------------------------------------------
    @staticmethod
    def lstat(path):
        try:
            return os.lstat(path)
        except OSError:
            return None

    def mtime(self, path):
        current = self.lstat(path)
        return None if current is None else current.st_mtime

    def default_link(self):
        venv = self.params["venv"]
        return os.path.join(os.path.dirname(venv.rstrip("/")), self.params["service"]) if venv else None

    def unit_states(self, units):
        if not units:
            return {}
        dummy, out, dummy = self.run_command(
            ["systemctl", "show", "--timestamp=unix", "-p", "Id", "-p", "ActiveState", "-p",
             "ExecMainStartTimestamp", "-p", "MainPID"] + [unit + ".service" for unit in units],
            what="reading the state of the units (systemctl show)")
        states = parse_show(out)
        for state in states.values():
            state["ExecMainStartTimestamp"] = start_seconds(state.get("ExecMainStartTimestamp"))
        return states

    def worker_ages(self, units, states):
        """{unit: [seconds each worker (a child of the unit's main process) has run]}."""
        ages = {}
        for unit in units:
            pid = (states.get(unit) or {}).get("MainPID") or "0"
            if pid == "0":
                continue
            rc, out, dummy = self.run_command(["ps", "-o", "etimes=", "--ppid", pid], allowed=(0, 1),
                                              what="reading the age of %s's workers (ps)" % unit)
            ages[unit] = [int(age) for age in out.split() if age.isdigit()] if rc == 0 else []
        return ages

    # -- folders ----------------------------------------------------------------------------------------------------
    def folders(self):
        return [dict(folder, mode=int(folder["mode"], 8)) for folder in self.params["directories"] or []]

    def folder_plan(self, entry):
        plan = plan_folder(entry["path"], entry["mode"], entry["owner"], entry["group"], self.lstat(entry["path"]))
        if plan:
            plan.update(mode=entry["mode"], owner=entry["owner"], group=entry["group"])
        return plan

    def refuse_blocked(self, plans):
        blocked = ["%s (%s)" % (plan["path"], ", ".join(plan["reasons"])) for plan in plans
                   if plan and plan["action"] == "refuse"]
        if blocked:
            self.fail("source_service (%s): nothing was changed: %s; move it away" % (
                self.params["service"], "; ".join(blocked)), changed=False)

    def apply_folder(self, plan):
        if plan["action"] == "make":
            self.changes.append("made folder %s" % plan["path"])
            if self.check_mode:
                return
            self.make_folders(plan["path"], plan["mode"])
        else:
            self.changes.append("folder %s: %s" % (plan["path"], ", ".join(plan["reasons"])))
            if self.check_mode:
                return
        self.set_attributes(plan["path"], plan["mode"], plan["owner"], plan["group"])

    def set_attributes(self, path, mode, owner, group):
        try:
            uid, gid = pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid
        except KeyError:
            self.fail("cannot set the owner of %s: the owner %r or group %r does not exist on this host"
                      % (path, owner, group))
        try:
            current = os.lstat(path)
            if (current.st_uid, current.st_gid) != (uid, gid):
                os.chown(path, uid, gid)
            if stat.S_IMODE(current.st_mode) != mode:
                os.chmod(path, mode)
        except OSError as e:
            self.fail("cannot set the mode or owner of %s: %s" % (path, e.strerror or e))

    # -- files ------------------------------------------------------------------------------------------------------
    def config_dir(self):
        return self.params["config_dir"] or "/etc/%s" % self.params["service"]

    def wanted_files(self):
        """Each file with its bytes: the environment's copies (nova), then the given files."""
        wanted = []
        if self.params["environment_files"]:
            source = os.path.join(self.params["venv"], "etc", self.params["service"])
            target = self.config_dir()
            paste = self.source_text(os.path.join(source, PASTE))
            wanted.append(dict(path=os.path.join(target, PASTE), text=paste, owner="root",
                               group=self.params["service"], mode=0o640, paste=True))
            rootwrap = self.source_text(os.path.join(source, ROOTWRAP))
            wanted.append(dict(path=os.path.join(target, ROOTWRAP), owner="root", group="root", mode=0o644,
                               text=rootwrap_conf(rootwrap, os.path.join(self.params["venv"], "bin"))))
            filters = os.path.join(source, FILTERS)
            try:
                names = sorted(name for name in os.listdir(filters) if fnmatch.fnmatch(name, "*.filters")
                               and not name.startswith(".") and os.path.isfile(os.path.join(filters, name)))
            except OSError as e:
                self.fail("cannot read rootwrap's filters in %s: %s" % (filters, e.strerror or e))
            for name in names:
                wanted.append(dict(path=os.path.join(target, FILTERS, name), owner="root", group="root",
                                   mode=0o644, text=self.source_text(os.path.join(filters, name))))
        for entry in self.params["files"] or []:
            wanted.append(dict(entry, text=entry["content"], mode=int(entry["mode"], 8)))
        for entry in wanted:
            entry["data"] = entry["text"].encode("utf-8", "surrogateescape")
        return wanted

    def source_text(self, path):
        data = self.read_file(path)
        if data is None:
            self.fail("%s is not in the environment %s: is it made? (the environment entry point makes it)"
                      % (path, self.params["venv"]))
        return data.decode("utf-8", "surrogateescape")

    def file_plan(self, entry):
        current = self.lstat(entry["path"])
        data = self.read_file(entry["path"]) if current is not None and stat.S_ISREG(current.st_mode) else None
        entry["before"] = data
        return entry, plan_path(entry["path"], entry["data"], entry["mode"], entry["owner"], entry["group"],
                                current, data)

    def apply_file(self, entry, plan):
        path = entry["path"]
        self.changed_files.append(path)
        if os.path.dirname(path) == (self.params["unit_dir"] or "").rstrip("/"):
            self.unit_files_changed = True
        if plan["action"] == "write":
            self.changes.append("wrote %s (%s)" % (path, ", ".join(plan["reasons"])))
            if self.diff_mode:
                self.diffs.append(dict(
                    before_header=path, after_header=path, after=entry["text"],
                    before=(entry["before"] or b"").decode("utf-8", "surrogateescape")))
            if self.check_mode:
                return
            if entry.get("validate"):
                self.validate(entry)
            self.write_file(path, entry["data"], entry["mode"], entry["owner"], entry["group"])
        else:
            self.changes.append("file %s: %s" % (path, ", ".join(plan["reasons"])))
            if self.diff_mode:
                self.diffs.append(dict(before_header=path, after_header=path, before="%s\n" % ", ".join(
                    plan["reasons"]), after="mode %04o, %s:%s\n" % (entry["mode"], entry["owner"], entry["group"])))
            if not self.check_mode:
                self.set_attributes(path, entry["mode"], entry["owner"], entry["group"])

    def validate(self, entry):
        """Run the entry's check on the new content in a file of its own; the old file stays when it fails."""
        fd, tmp = tempfile.mkstemp(prefix=".source_service.", dir=self.module.tmpdir)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(entry["data"])
            argv = [tmp if word == "%s" else word.replace("%s", tmp) for word in shlex.split(entry["validate"])]
            rc, out, err = self.run_command(argv, allowed=tuple(range(256)))
            if rc != 0:
                self.fail("%s was not written (the old file is unchanged): %s refused its new content: %s" % (
                    entry["path"], entry["validate"].split()[0], self.mask((err or out or "").strip()[-2000:])),
                    changed=bool(self.changes), changes=self.changes)
        finally:
            os.unlink(tmp)

    # -- links ------------------------------------------------------------------------------------------------------
    def link_plans(self, apis):
        venv = self.params["venv"]
        wanted = [(os.path.join(self.params["command_dir"], command), os.path.join(venv, "bin", command))
                  for command in self.params["commands"] or []]
        if venv and apis:
            wanted.append((self.params["venv_link"] or self.default_link(), os.path.basename(venv.rstrip("/"))))
        plans = []
        for path, target in wanted:
            current = self.lstat(path)
            plans.append(plan_link(path, target, current,
                                   os.readlink(path) if current is not None and stat.S_ISLNK(current.st_mode)
                                   else None))
        return plans

    def apply_link(self, plan):
        self.changes.append("linked %s -> %s (%s)" % (plan["path"], plan["target"], ", ".join(plan["reasons"])))
        if self.check_mode:
            return
        folder = os.path.dirname(plan["path"])
        self.make_folders(folder)
        tmp = os.path.join(folder, ".%s.%d.link" % (os.path.basename(plan["path"]), os.getpid()))
        try:
            if os.path.lexists(tmp):
                os.unlink(tmp)
            os.symlink(plan["target"], tmp)
            os.replace(tmp, plan["path"])
        except OSError as e:
            self.fail("cannot link %s to %s: %s" % (plan["path"], plan["target"], e.strerror or e),
                      changed=True, changes=self.changes)

    # -- Debian's packages of the service: held, and their other units stopped and masked --------------------------
    def debian_plan(self):
        """(packages to hold, {unit: [what it needs, in order: disable, mask, stop]})."""
        patterns = self.params["hold"] or []
        if not patterns:
            return [], {}
        dummy, out, dummy = self.run_command(
            ["dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Package}\n"] + patterns, allowed=(0, 1),
            what="reading which of Debian's packages of %s are installed (dpkg-query)" % self.params["service"])
        installed, held = [], []
        for line in out.splitlines():
            fields = line.split()
            if len(fields) >= 2 and re.match(r"^[ih]i$", fields[0][:2]):
                installed.append(fields[-1])
                if fields[0][0] != "h":
                    held.append(fields[-1])
        if not installed:
            return held, {}
        dummy, out, dummy = self.run_command(["dpkg-query", "-L"] + installed,
                                             what="reading the files of Debian's packages (dpkg-query -L)")
        ours = set(unit for unit, dummy in UNITS)
        names = sorted(set(os.path.basename(line.strip())[:-len(".service")] for line in out.splitlines()
                           if _DEBIAN_UNIT.match(line.strip())) - ours)
        masked = {}
        if names:
            dummy, out, dummy = self.run_command(
                ["systemctl", "show", "-p", "Id", "-p", "ActiveState", "-p", "UnitFileState"]
                + [name + ".service" for name in names], what="reading the state of Debian's units (systemctl show)")
            states = parse_show(out)
            for name in names:
                state = states.get(name) or {}
                needs = []
                if state.get("UnitFileState") in ("enabled", "enabled-runtime", "linked", "linked-runtime", "alias"):
                    needs.append("disable")
                if state.get("UnitFileState") not in ("masked", "masked-runtime"):
                    needs.append("mask")
                if state.get("ActiveState") in WAS_RUNNING:
                    needs.append("stop")
                if needs:
                    masked[name] = needs
        return held, masked

    def apply_debian(self, held, masked):
        for package in held:
            self.changes.append("held %s" % package)
        if held and not self.check_mode:
            self.run_command(["dpkg", "--set-selections"], data="".join("%s hold\n" % p for p in held),
                             what="holding %s (dpkg --set-selections)" % ", ".join(held))
        for name, needs in sorted(masked.items()):
            self.changes.append("%s %s" % ("+".join(needs), name))
            if self.check_mode:
                continue
            for need in needs:
                self.run_command(["systemctl", need, name + ".service"])
