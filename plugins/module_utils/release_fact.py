# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Nova and Placement a host runs, read from what systemd would start: each unit's file as systemd
finds it (/etc before /run before /lib), the virtual environment it runs (its command, or the uWSGI ini it
passes), and that environment's installed distribution; or, for Debian's own unit, the version of Debian's
package. Used by the openstack_release_fact module; pure functions over a root prefix, so that tests read
fixture trees.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re
import shlex

# Each unit the collection deploys, with the service whose code it runs.
UNITS = (
    ("nova-api", "nova"),
    ("nova-api-metadata", "nova"),
    ("nova-conductor", "nova"),
    ("nova-scheduler", "nova"),
    ("nova-novncproxy", "nova"),
    ("nova-compute", "nova"),
    ("placement-api", "placement"),
)
# A service's distribution on PyPI (what its environment's dist-info is named after) and Debian's package.
DISTRIBUTIONS = {"nova": "nova", "placement": "openstack-placement"}
DEBIAN_PACKAGES = {"nova": "python3-nova", "placement": "python3-placement"}
# Where systemd looks for a unit file, in its order of precedence.
UNIT_DIRS = ("etc/systemd/system", "run/systemd/system", "lib/systemd/system", "usr/lib/systemd/system")


def _path(root, relative):
    return os.path.join(root, relative.lstrip("/"))


def unit_file(root, unit):
    """The path (under root) of the file systemd loads for `unit`, None when there is none or it is masked."""
    for folder in UNIT_DIRS:
        path = os.path.join(root, folder, unit + ".service")
        if os.path.lexists(path):
            if os.path.islink(path) and os.readlink(path) == "/dev/null":
                return None
            return path
    return None


def exec_start(text):
    """The argv of a unit file's (last) ExecStart line, without systemd's prefixes (-, @, +, !)."""
    argv = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("ExecStart="):
            value = line[len("ExecStart="):].lstrip("-@+!:")
            argv = shlex.split(value) if value else []
    return argv


def environment_of(root, argv):
    """The virtual environment (a path on the host) a command runs in, or None (a system command): the
    command's own folder's parent when it holds pyvenv.cfg, or, for uWSGI, the ini's virtualenv/home."""
    if not argv:
        return None
    command = argv[0]
    parent = os.path.dirname(os.path.dirname(command))
    if os.path.basename(command) != "uwsgi" and os.path.isfile(_path(root, os.path.join(parent, "pyvenv.cfg"))):
        return parent
    if os.path.basename(command) == "uwsgi" and "--ini" in argv[:-1]:
        ini = argv[argv.index("--ini") + 1]
        try:
            with open(_path(root, ini)) as f:
                for line in f:
                    match = re.match(r"^\s*(virtualenv|venv|home)\s*=\s*(\S+)", line)
                    if match:
                        return match.group(2)
        except (IOError, OSError):
            return None
    return None


def environment_version(root, environment, distribution):
    """The version of `distribution` installed in `environment` (from its dist-info folder), or None."""
    name = re.sub(r"[-_.]+", "_", distribution).lower()
    for info in glob.glob(_path(root, os.path.join(environment, "lib", "python*", "site-packages", "*.dist-info"))):
        base = os.path.basename(info)[:-len(".dist-info")]
        dist, sep, version = base.rpartition("-")
        if sep and re.sub(r"[-_.]+", "_", dist).lower() == name:
            return version
    return None


def debian_versions(root, packages):
    """{package: upstream version} of the installed packages among `packages`, read from dpkg's status file
    (an epoch and Debian revision dropped: 2:31.0.0-6 -> 31.0.0)."""
    found = {}
    try:
        with open(_path(root, "var/lib/dpkg/status")) as f:
            text = f.read()
    except (IOError, OSError):
        return found
    for stanza in text.split("\n\n"):
        fields = dict(re.findall(r"^([A-Za-z-]+): ?(.*)$", stanza, re.M))
        if fields.get("Package") in packages and fields.get("Status", "").endswith(" installed"):
            version = fields.get("Version", "")
            version = version.split(":", 1)[-1]
            found[fields["Package"]] = version.rsplit("-", 1)[0] if "-" in version else version
    return found


def unit_pids(root, unit):
    """The processes of a unit (its cgroup's, cgroup v2), or None when the unit has no cgroup (it does not run)
    or it cannot be read."""
    try:
        with open(_path(root, "sys/fs/cgroup/system.slice/%s.service/cgroup.procs" % unit)) as f:
            return [line.strip() for line in f if line.strip()]
    except (IOError, OSError):
        return None


def running_environments(root, unit, environment):
    """The environments (their real paths, sorted) whose files the unit's processes mapped, for a unit run from
    `environment`: one after a restart or reload on it; two while a chain reload replaces old workers; [] when
    its processes map nothing of the environments' folder; None when it runs no process that can be read. The
    environment may be a link to one of them (the APIs'), which an upgrade moves before the processes follow."""
    pids = unit_pids(root, unit)
    if not pids:
        return None
    # the link and what it names share a folder (/opt/osdeploy/venvs); the kernel shows mapped files by real path
    folder = os.path.dirname(environment.rstrip("/"))
    found = set()
    for pid in pids:
        try:
            with open(_path(root, "proc/%s/maps" % pid)) as f:
                maps = f.read()
        except (IOError, OSError):
            continue
        for match in re.finditer(r"(?m)\s(%s/[^/\s]+)/" % re.escape(folder), maps):
            found.add(match.group(1))
    return sorted(found)


def read_units(root="/", processes=False):
    """{unit: {service, method (source|distro), version, environment}} of each unit of UNITS found on the
    host. A unit whose code cannot be told has version None. With `processes`, each also has `running`: for a
    source unit the environments its processes run (running_environments; None when it runs none), None for
    Debian's units."""
    found = {}
    debian = None
    for unit, service in UNITS:
        path = unit_file(root, unit)
        if path is None:
            continue
        with open(path) as f:
            argv = exec_start(f.read())
        environment = environment_of(root, argv)
        if environment:
            found[unit] = dict(service=service, method="source", environment=environment,
                               version=environment_version(root, environment, DISTRIBUTIONS[service]))
        else:
            if debian is None:
                debian = debian_versions(root, set(DEBIAN_PACKAGES.values()))
            found[unit] = dict(service=service, method="distro", environment=None,
                               version=debian.get(DEBIAN_PACKAGES[service]))
        if processes:
            found[unit]["running"] = running_environments(root, unit, environment) if environment else None
    return found
