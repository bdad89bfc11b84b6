# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pip for source installs: a wheelhouse pinned by constraints, and virtual environments made from it.

The decisions are plain functions (unit-tested without pip): what a constraints
file pins (``pins``), whether a requirement is one (``requirement_problem``),
what pip's installation report resolved (``report_items``), which of it nothing
pins (``unpinned``), which of it the wheelhouse lacks (``missing``), whether an
environment must be made again (``venv_problem``), which links to make and remove
(``plan_links``). ``PipModule`` runs pip the one way both modules do (isolated
from pip's user configuration and ``PIP_*`` variables, no cache, no prompt) and
reads its report; ``WheelhouseModule`` and ``PythonVenvModule`` are the steps of
the ``wheelhouse`` and ``python_venv`` modules, whose files hold their options.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import json
import os
import re
import shutil
import tempfile
import zipfile

from ansible.module_utils.urls import open_url

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 controllers are not supported
    from urlparse import urlsplit  # type: ignore

from ansible_collections.osdeploy.nova.plugins.module_utils.base import OsdeployModule

try:
    from urllib.parse import unquote, urlsplit
except ImportError:  # pragma: no cover - Python 2 targets are not supported
    from urllib import unquote  # type: ignore
    from urlparse import urlsplit  # type: ignore

# inside the wheelhouse: the lock of a run, and the folders pip writes into before wheels are moved in
LOCK_NAME = ".osdeploy-wheelhouse.lock"
PARTIAL_PREFIX = ".partial-"

BUILD_TOOLS_HINT = ("building a distribution from its source failed: install the build tools on this host "
                    "(apt-get install gcc python3-dev python3-setuptools python3-wheel) and run again")

# what pip prints when a distribution's build failed (pip 23 and 25)
_BUILD_FAILED = re.compile(r"(?i)failed (to build|building wheel)")

# a requirement as the modules accept it: a name, extras, version specifiers and a marker; no URL, path or option
_REQUIREMENT = re.compile(r"^\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[A-Za-z0-9._,\s-]*\])?"
                          r"\s*(?P<spec>(?:[<>=!~]=?|===)[^;@]*)?(?:;[^@]*)?$")
# an exact pin: name[extras] == or === one version, optionally with a marker
_PIN = re.compile(r"^\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?"
                  r"\s*===?\s*(?P<version>[^\s;,*]+)\s*(?:;.*)?$")


# -- where pip reads from -------------------------------------------------------------------------------

def trusted_host_args(location):
    """pip's --trusted-host for a wheelhouse served over plain http (pip ignores such a host otherwise).

    The controller serves its wheelhouse on the management network, as the cloud's other services
    talk there; an https URL needs nothing.
    """
    parts = urlsplit(location)
    if parts.scheme != "http":
        return []
    host = parts.hostname or ""
    if ":" in host:
        host = "[%s]" % host
    return ["--trusted-host", host + (":%d" % parts.port if parts.port else "")]


# -- what requirements and constraints say ---------------------------------------------------------------

def canonical_name(name):
    """PEP 503's normalized name: case and runs of -, _ and . do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text):
    """{canonical name: version} of every exact pin (== or ===) in a requirements or constraints text."""
    found = {}
    for line in (text or "").splitlines():
        line = line.split(" #", 1)[0].strip()
        match = _PIN.match(line) if line and not line.startswith(("#", "-")) else None
        if match:
            found[canonical_name(match.group("name"))] = match.group("version")
    return found


def requirement_problem(requirement):
    """Why a string is not a requirement the modules accept (an error naming it), None when it is one."""
    if requirement.strip().startswith("-"):
        return "%r is a pip option, not a requirement" % requirement
    if not _REQUIREMENT.match(requirement):
        return "%r is not a requirement of the form name, name==version or name>=version (no URL or path)" % (
            requirement)
    return None


def report_items(report):
    """What pip's installation report (``--report``) would install: [(name, version, url)], sorted by name."""
    items = []
    for entry in report.get("install", []):
        meta = entry.get("metadata", {})
        items.append((meta.get("name", ""), meta.get("version", ""), entry.get("download_info", {}).get("url", "")))
    return sorted(items, key=lambda item: canonical_name(item[0]))


def pinned_as(items):
    """['name==version', ...] of report items."""
    return ["%s==%s" % (name, version) for name, version, dummy in items]


def unpinned(items, pinned):
    """The names among report items that no exact pin (constraints or requirements) names."""
    return [name for name, dummy, dummy2 in items if canonical_name(name) not in pinned]


def missing(items, folder):
    """The report items that are not a file of `folder` (what a wheelhouse lacks)."""
    folder = os.path.realpath(folder)
    lacking = []
    for item in items:
        parts = urlsplit(item[2])
        if parts.scheme != "file" or os.path.realpath(os.path.dirname(unquote(parts.path))) != folder:
            lacking.append(item)
    return lacking


def url_secrets(url):
    """The user and password of a URL (an index token may sit in either), to be masked."""
    parts = urlsplit(url or "")
    return [unquote(value) for value in (parts.username, parts.password) if value]


def is_http_url(location):
    return location.startswith(("http://", "https://"))


def output_tail(text, lines=15):
    """The last lines of a command's output, where pip says what went wrong."""
    return "\n".join((text or "").strip().splitlines()[-lines:])


# -- the wheelhouse's files ----------------------------------------------------------------------------------
def is_complete_wheel(path):
    """Whether a file is a whole wheel (a zip whose every member reads back): an interrupted copy is not."""
    try:
        with zipfile.ZipFile(path) as whl:
            return whl.testzip() is None
    except (zipfile.BadZipfile, IOError, OSError):
        return False


def move_wheels(source, folder):
    """Move every complete wheel of `source` into `folder` (a rename: never half a file there).

    Returns [(file name, size)] of what was moved.
    """
    moved = []
    for name in sorted(os.listdir(source)):
        path = os.path.join(source, name)
        if name.endswith(".whl") and os.path.isfile(path) and is_complete_wheel(path):
            size = os.path.getsize(path)
            os.rename(path, os.path.join(folder, name))
            moved.append((name, size))
    return moved


def wheel_pin(filename):
    """'name==version' of a wheel's file name (name-version-[build-]python-abi-platform.whl)."""
    parts = filename.split("-")
    return "%s==%s" % (canonical_name(parts[0]), parts[1]) if len(parts) >= 5 else filename


def wheel_count(folder):
    return len([name for name in os.listdir(folder) if name.endswith(".whl")]) if os.path.isdir(folder) else 0


# -- a virtual environment -------------------------------------------------------------------------------------
def parse_pyvenv_cfg(text):
    """pyvenv.cfg's 'key = value' lines as a dict."""
    found = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            found[key.strip().lower()] = value.strip()
    return found


def minor(version):
    """'3.11' of '3.11.2'."""
    return ".".join(str(version).split(".")[:2])


def venv_problem(cfg, env_python, python, version, has_pip):
    """Why an existing environment must be made again, None when it serves as it is.

    cfg: its pyvenv.cfg (parse_pyvenv_cfg); env_python: its bin/python, symlinks resolved (None when absent);
    python, version: the interpreter asked for, resolved, and its version; has_pip: pip is in it.
    """
    made_with = cfg.get("version") or cfg.get("version_info") or "?"
    if minor(made_with) != minor(version):
        return "it was made with Python %s and the requested interpreter is Python %s (a platform upgrade?)" % (
            made_with, version)
    if env_python != python:
        return "its interpreter is %s, not %s" % (env_python or "missing", python)
    if cfg.get("include-system-site-packages", "false").lower() == "true":
        return "it sees every package of the system (include-system-site-packages = true)"
    if not has_pip:
        return "it has no pip (its creation was interrupted)"
    return None


def site_packages(path, version):
    """The environment's site-packages folder for its Python version."""
    return os.path.join(path, "lib", "python%s" % minor(version), "site-packages")


def read_links(folder, inside):
    """{name: link target} of the symbolic links in `folder` that point outside `inside` (this module's links),
    and {name: None} of what else `folder` holds (what pip installed)."""
    found = {}
    if not os.path.isdir(folder):
        return found
    inside = os.path.join(os.path.realpath(inside), "")
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        target = os.readlink(path) if os.path.islink(path) else None
        if target is not None and os.path.isabs(target) and not target.startswith(inside):
            found[name] = target
        else:
            found[name] = None
    return found


def plan_links(wanted, present):
    """(add, remove, conflicts): links to make or replace, links to remove, names pip's files already hold.

    wanted: {name: target}; present: read_links().
    """
    add = sorted(name for name, target in wanted.items() if name not in present or (
        present[name] is not None and present[name] != target))
    conflicts = sorted(name for name in wanted if name in present and present[name] is None)
    remove = sorted(name for name, target in present.items() if target is not None and name not in wanted)
    return [name for name in add if name not in conflicts], remove, conflicts


# Run by the platform's Python (-I): its version, and for each name of system_packages where the module is and
# the top-level entries (modules, packages, extension modules, metadata) of the distributions that provide it.
SYSTEM_PACKAGES_SCRIPT = r"""
import json, os, site, sys
import importlib.util
try:
    import importlib.metadata as metadata
except ImportError:
    metadata = None

def place(name):
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return os.path.abspath(list(spec.submodule_search_locations)[0])
    if not spec.origin or not os.path.isabs(spec.origin):
        return spec.origin or "built-in"
    return os.path.abspath(spec.origin)

sites = set(os.path.realpath(p) for p in site.getsitepackages())
owners = getattr(metadata, "packages_distributions", dict)() if metadata else {}
out = {"version": "%d.%d.%d" % sys.version_info[:3], "packages": {}}
for name in json.loads(sys.argv[1]):
    where = place(name)
    found = {"where": where, "in_site": False, "entries": {}, "distributions": []}
    out["packages"][name] = found
    if not where or not os.path.isabs(where) or os.path.realpath(os.path.dirname(where)) not in sites:
        continue
    found["in_site"] = True
    folder = os.path.dirname(where)
    entries = set([where])
    for dist_name in sorted(set(owners.get(name, []))):
        dist = metadata.distribution(dist_name)
        meta = getattr(dist, "_path", None)
        if meta is None or os.path.dirname(os.path.abspath(str(meta))) != folder:
            continue
        found["distributions"].append([dist.metadata["Name"], dist.version])
        entries.add(os.path.abspath(str(meta)))
        for item in dist.files or []:
            if item.parts and item.parts[0] not in ("..", "__pycache__"):
                entries.add(os.path.join(folder, item.parts[0]))
        for top in (dist.read_text("top_level.txt") or "").split():
            entries.add(place(top) or "")
    found["entries"] = dict((os.path.basename(e), e) for e in entries
                            if e and os.path.dirname(e) == folder and os.path.lexists(e))
print(json.dumps(out))
"""


def system_package_problem(name, found, python):
    """Why a name of system_packages cannot be linked (the script's answer for it), None when it can."""
    if not found.get("where"):
        return ("system_packages: %s is not importable by %s: install the Debian package that provides it "
                "(e.g. python3-%s) or remove it" % (name, python, name))
    if not found.get("in_site"):
        return ("system_packages: %s is part of Python itself (%s), which every environment sees: remove it" % (
            name, found["where"]))
    return None


# -- the modules' shared steps --------------------------------------------------------------------------------
class PipModule(OsdeployModule):
    """Runs pip as both modules do, reads its report, checks the common options."""

    defer_invocation_log = True

    def command(self, argv):
        """Run argv, whatever its exit code: (rc, its stdout and stderr)."""
        rc, out, err = self.run_command(argv, allowed=None)
        return rc, (out or "") + (err or "")

    def pip(self, python, args):
        """``python -m pip args`` as both modules run it: (rc, output)."""
        argv = [python, "-I", "-m", "pip"] + args[:1] + [
            "--isolated", "--no-input", "--disable-pip-version-check", "--no-cache-dir"] + args[1:]
        rc, output = self.command(argv)
        if rc != 0 and "No module named pip" in output:
            self.fail("python: %s has no pip: install Debian's python3-pip on this host" % python)
        return rc, output

    def resolve(self, python, args):
        """What ``pip install --dry-run`` would install with args: (report items, None) or (None, pip's output)."""
        report = os.path.join(tempfile.mkdtemp(dir=self.module.tmpdir), "report.json")
        rc, output = self.pip(python, ["install", "--dry-run", "--quiet", "--report", report] + args)
        if rc != 0:
            return None, output
        with open(report) as f:
            return report_items(json.load(f)), None

    def check_inputs(self):
        """Refuse bad paths, constraints and requirements before anything runs; return the exact pins of the
        constraints file and of the requirements."""
        p = self.params
        for option in ("path", "python", "constraints"):
            if not os.path.isabs(p[option]):
                self.fail("%s: %s is a relative path: give an absolute one" % (option, p[option]))
        if not os.path.exists(p["python"]):
            self.fail("python: %s does not exist on this host" % p["python"])
        if not os.path.isfile(p["constraints"]):
            self.fail("constraints: %s does not exist on this host: copy the release's constraints file there "
                      "(the versions are never resolved without it)" % p["constraints"])
        for requirement in p["requirements"]:
            problem = requirement_problem(requirement)
            if problem:
                self.fail("requirements: %s" % problem)
        with open(p["constraints"]) as f:
            pinned = pins(f.read())
        pinned.update(pins("\n".join(p["requirements"])))
        return pinned

    def refuse_unpinned(self, items, pinned):
        names = unpinned(items, pinned)
        if names:
            self.fail("constraints: %s would be installed at a version nothing pins (%s): pin each in the "
                      "constraints file (name===version) or in requirements (name==version)" % (
                          ", ".join(names), self.params["constraints"]), unpinned=names)


class WheelhouseModule(PipModule):
    """The wheelhouse step: resolve offline against the folder, fetch what it lacks (the options: wheelhouse's)."""

    def __init__(self):
        super(WheelhouseModule, self).__init__()
        self.lock = None

    def cleanup(self):
        if self.lock is not None:
            self.lock.close()

    def resolve_offline(self, args):
        """The resolution from the wheelhouse alone, wheels only: (items, None) or (None, pip's output)."""
        path = self.params["path"]
        if not os.path.isdir(path):
            return None, "%s does not exist" % path
        return self.resolve(self.params["python"], ["--no-index", "--find-links", path, "--only-binary", ":all:"]
                            + args)

    def salvage(self):
        """Wheels that an interrupted run completed, moved in; its folders removed. Returns what was moved."""
        path = self.params["path"]
        moved = []
        for name in sorted(os.listdir(path)):
            if name.startswith(PARTIAL_PREFIX) and os.path.isdir(os.path.join(path, name)):
                moved.extend(move_wheels(os.path.join(path, name), path))
                shutil.rmtree(os.path.join(path, name))
        return moved

    def fetch(self, items, index_args):
        """pip wheel of exactly the items into a folder of the wheelhouse; complete wheels moved in."""
        path = self.params["path"]
        partial = tempfile.mkdtemp(prefix=PARTIAL_PREFIX, dir=path)
        rc, output = self.pip(self.params["python"], [
            "wheel", "--no-deps", "--no-build-isolation", "--progress-bar", "off", "--wheel-dir", partial]
            + index_args + pinned_as(items))
        moved = move_wheels(partial, path)    # also after a failure: what pip completed is kept
        shutil.rmtree(partial)
        if rc != 0:
            hint = BUILD_TOOLS_HINT + ". " if _BUILD_FAILED.search(output) else ""
            self.fail("pip wheel failed (rc %s) fetching %s: %s%s" % (
                rc, ", ".join(pinned_as(items)), hint, output_tail(output)),
                fetched=[wheel_pin(name) for name, size in moved])
        return moved

    def run(self):
        p = self.params
        path = p["path"]
        if not p["requirements"]:
            self.fail("requirements: name at least one distribution, e.g. nova==34.0.0")
        pinned = self.check_inputs()
        self.add_secrets(url_secrets(p["index_url"]), no_log=True)
        self.log_invocation()
        args = ["--ignore-installed", "--no-build-isolation", "-c", p["constraints"]] + p["requirements"]
        index_args = ["--index-url", p["index_url"]] if p["index_url"] else []
        self.result = dict(changed=False, path=path, fetched=[], fetched_bytes=0)
        moved = []
        if not self.check_mode:
            if not os.path.isdir(path):
                os.makedirs(path, 0o755)
            self.lock = open(os.path.join(path, LOCK_NAME), "a")
            fcntl.flock(self.lock, fcntl.LOCK_EX)
            moved = self.salvage()

        items, dummy = self.resolve_offline(args)
        lacking = []
        if items is None:
            local = ["--find-links", path] if os.path.isdir(path) else []
            items, output = self.resolve(p["python"], index_args + local + args)
            if items is None:
                self.fail("pip cannot resolve %s with the constraints %s from %s: %s" % (
                    ", ".join(p["requirements"]), p["constraints"], p["index_url"] or "pip's default index",
                    output_tail(output)))
            lacking = missing(items, path)
        self.refuse_unpinned(items, pinned)
        fetched = [wheel_pin(name) for name, size in moved] + pinned_as(lacking)
        if lacking and not self.check_mode:
            moved.extend(self.fetch(lacking, index_args))
            dummy, output = self.resolve_offline(args)
            if output is not None:
                self.fail("the wheelhouse %s still cannot install %s offline after fetching %s: %s" % (
                    path, ", ".join(p["requirements"]), ", ".join(pinned_as(lacking)), output_tail(output)),
                    fetched=fetched)
        self.result.update(changed=bool(fetched), fetched=fetched, fetched_bytes=sum(size for name, size in moved),
                           wheels=wheel_count(path), distributions=pinned_as(items),
                           msg="%s: %d distributions for %s, %d fetched" % (
                               path, len(items), ", ".join(p["requirements"]), len(fetched)))
        return self.result


class PythonVenvModule(PipModule):
    """The environment step: make it, link the system packages, install from the wheelhouse (python_venv's options)."""

    def check_find_links(self):
        location = self.params["find_links"]
        if is_http_url(location):
            return
        if not os.path.isabs(location):
            self.fail("find_links: %s is neither an http(s) URL nor an absolute path: give the URL the "
                      "wheelhouse is served at, or its folder on this host" % location)
        if not os.path.isdir(location):
            self.fail("find_links: the folder %s does not exist on this host: build the wheelhouse there "
                      "(osdeploy.nova.wheelhouse) or give the URL it is served at" % location)

    def unreachable(self):
        """Why find_links' URL cannot be read (None when it can, or when it is a folder)."""
        location = self.params["find_links"]
        if not is_http_url(location):
            return None
        try:
            open_url(location, timeout=30).read()
        except Exception as e:  # pylint: disable=broad-except
            return ("find_links: the wheelhouse cannot be read at %s (%s): it must be served there (the "
                    "controller's wheelhouse service) and reachable from this host" % (location, e))
        return None

    def system_packages(self, python):
        """The platform Python's version, {name: target} of the links system_packages asks for, and the
        [name, version] of the distributions they link."""
        names = self.params["system_packages"]
        rc, output = self.command([python, "-I", "-c", SYSTEM_PACKAGES_SCRIPT, json.dumps(names)])
        if rc != 0:
            self.fail("python: %s could not run (rc %s): %s" % (python, rc, output_tail(output)))
        answer = json.loads(output.strip().splitlines()[-1])
        wanted, distributions = {}, []
        for name in names:
            found = answer["packages"][name]
            problem = system_package_problem(name, found, python)
            if problem:
                self.fail(problem)
            wanted.update(found["entries"])
            distributions.extend(found["distributions"])
        return answer["version"], wanted, distributions

    def state(self, python, version):
        """None for a usable environment at path, 'absent', or why it must be made again."""
        path = self.params["path"]
        cfg_path = os.path.join(path, "pyvenv.cfg")
        if not os.path.exists(cfg_path):
            if os.path.isdir(path) and os.listdir(path):
                self.fail("path: %s exists and is not a virtual environment (no pyvenv.cfg): name another path, "
                          "or remove it" % path)
            if os.path.exists(path) and not os.path.isdir(path):
                self.fail("path: %s exists and is not a folder: name another path" % path)
            return "absent"
        with open(cfg_path) as f:
            cfg = parse_pyvenv_cfg(f.read())
        env_python = os.path.join(path, "bin", "python")
        env_python = os.path.realpath(env_python) if os.path.exists(env_python) else None
        has_pip = os.path.isdir(os.path.join(site_packages(path, version), "pip"))
        return venv_problem(cfg, env_python, os.path.realpath(python), version, has_pip)

    def create(self, python, clear):
        path = self.params["path"]
        rc, output = self.command([python, "-m", "venv"] + (["--clear"] if clear else []) + [path])
        if rc != 0:
            self.fail("python: %s -m venv %s failed (rc %s): install Debian's python3-venv on this host. %s" % (
                python, path, rc, output_tail(output)))

    def link(self, folder, add, remove, wanted):
        for name in remove + add:
            if os.path.lexists(os.path.join(folder, name)):
                os.unlink(os.path.join(folder, name))
        for name in add:
            os.symlink(wanted[name], os.path.join(folder, name))

    def run(self):
        p = self.params
        path, python = p["path"], p["python"]
        pinned = self.check_inputs()
        self.check_find_links()
        self.add_secrets(url_secrets(p["find_links"]), no_log=True)
        self.log_invocation()
        version, wanted, distributions = self.system_packages(python)
        state = self.state(python, version)
        folder = site_packages(path, version)
        add, remove, conflicts = plan_links(wanted, {} if state else read_links(folder, path))
        if conflicts:
            self.fail("system_packages: %s in %s came from the environment's own packages, not a link: remove "
                      "them from system_packages or from the requirements" % (", ".join(conflicts), folder))
        self.result = dict(changed=bool(state or add or remove), path=path, python_version=version,
                           created=bool(state), installed=[], linked=sorted(wanted),
                           links_changed=sorted(add + remove))
        problem = self.unreachable() if state else None
        if problem:
            self.fail(problem)
        if state and state != "absent":
            self.warn("%s is made again: %s" % (path, state))
        if state and self.check_mode:
            self.result.update(installed=list(p["requirements"]), msg=(
                "would make the environment %s with %s (Python %s) and install its %d requirements from %s" % (
                    path, python, version, len(p["requirements"]), p["find_links"])))
            return self.result
        if state:
            self.create(python, clear=state != "absent")
        if not self.check_mode:
            self.link(folder, add, remove, wanted)
        if p["requirements"]:
            self.install(os.path.join(path, "bin", "python"), pinned, distributions)
        self.result["msg"] = "%s: %s, %d installed, %d links changed" % (
            path, "made" if state else "present", len(self.result["installed"]), len(self.result["links_changed"]))
        return self.result

    def install(self, env_python, pinned, distributions):
        """Resolve with the environment's pip (from find_links only); install what it lacks."""
        p = self.params
        args = ["--no-index", "--find-links", p["find_links"], "--only-binary", ":all:", "-c", p["constraints"]] + (
            trusted_host_args(p["find_links"]) + p["requirements"])
        items, output = self.resolve(env_python, args)
        if items is None:
            self.fail(self.unreachable() or "pip cannot install %s from %s with the constraints %s: %s" % (
                ", ".join(p["requirements"]), p["find_links"], p["constraints"], output_tail(output)))
        linked = dict((canonical_name(name), version) for name, version in distributions)
        replaced = ["%s (linked: %s, wanted: %s)" % (name, linked[canonical_name(name)], version)
                    for name, version, dummy in items if canonical_name(name) in linked]
        if replaced:
            self.fail("system_packages: pip would replace the platform's %s through the links (the system's files): "
                      "pin the platform's version, or remove it from system_packages" % ", ".join(replaced))
        self.refuse_unpinned(items, pinned)
        self.result["installed"] = pinned_as(items)
        if items:
            self.result["changed"] = True
            if not self.check_mode:
                rc, output = self.pip(env_python, ["install", "--progress-bar", "off"] + args)
                if rc != 0:
                    self.fail(self.unreachable() or "pip install failed (rc %s): %s" % (rc, output_tail(output)))
