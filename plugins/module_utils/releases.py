# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which OpenStack release a host gets, and how: the install method and release of the contract
(osdeploy_install_method, osdeploy_openstack_release) resolved against the release data
(roles/osdeploy/vars/releases.yml) and this host's platform data (vars/platforms/), or refused
with the reason and the choices the platform offers.

Pure functions, used by the openstack_release filter (the osdeploy role's platform step) and
unit-tested without Ansible. Versions compare as numbers, component by component (3.9 < 3.11).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.osdeploy.nova.plugins.module_utils.release_fact import DISTRIBUTIONS

METHODS = ("distro", "source")
METHOD_VAR = "osdeploy_install_method"
RELEASE_VAR = "osdeploy_openstack_release"


class Refused(Exception):
    """The choice cannot be installed on this platform; the message names the variable, the reason and the
    choices."""


def version_key(text):
    """'3.11' -> (3, 11); ValueError for anything but dot-separated numbers."""
    parts = str(text).strip().split(".")
    if not all(part.isdigit() for part in parts):
        raise ValueError("%r is not a version of dot-separated numbers" % (text,))
    return tuple(int(part) for part in parts)


def version_at_least(have, need):
    """`have` >= `need`, a missing component counting as 0 ('7.2' >= '7.2.0')."""
    have, need = version_key(have), version_key(need)
    width = max(len(have), len(need))
    return have + (0,) * (width - len(have)) >= need + (0,) * (width - len(need))


def python_in_range(python, low, high):
    """`python` (major.minor, or longer) lies in [low, high], compared as major.minor."""
    minor = version_key(python)[:2]
    return version_key(low)[:2] <= minor <= version_key(high)[:2]


def _text(value):
    """A variable's value as text: an unquoted 2026.2 in YAML is a float, null is empty."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return repr(value)
    return str(value).strip()


def source_problem(releases, name, platform, platform_data):
    """Why `name` (a known release) cannot be installed from source on `platform`, or None."""
    data = releases[name]
    if not data.get("source"):
        return "%s has no source install in the collection (no upper constraints for it)" % name
    problems = []
    python = data["python"]
    if not python_in_range(platform_data["python"], python["min"], python["max"]):
        problems.append("Python %s to %s (OpenStack's tested runtimes of %s), and %s's /usr/bin/python3 is %s"
                        % (python["min"], python["max"], name, platform, platform_data["python"]))
    for what, label, source in (("libvirt", "libvirt", "MIN_LIBVIRT_VERSION"), ("qemu", "QEMU", "MIN_QEMU_VERSION")):
        need = data[what + "_min"]
        if not version_at_least(platform_data[what], need):
            problems.append("%s %s or newer (nova's %s), and %s ships %s"
                            % (label, need, source, platform, platform_data[what]))
    if problems:
        return "%s from source needs %s" % (name, "; ".join(problems))
    return None


def newest_source_release(releases):
    """The newest maintained release with source data (by its nova version), or None."""
    candidates = [name for name, data in releases.items() if data.get("status") == "maintained" and data.get("source")]
    if not candidates:
        return None
    return max(candidates, key=lambda name: version_key(releases[name]["source"]["packages"]["nova"]))


def _label(releases, name):
    status = releases[name].get("status")
    return name if status == "maintained" else "%s (%s upstream)" % (name, status)


def choices(releases, platform, platform_data):
    """The sentence listing what `platform` can run: each method with the release values that work."""
    newest = newest_source_release(releases)
    working = sorted((name for name in releases if source_problem(releases, name, platform, platform_data) is None),
                     key=lambda name: version_key(releases[name]["source"]["packages"]["nova"]), reverse=True)
    source = [_label(releases, name) for name in working]
    if newest in working:
        source.insert(0, '"" (the newest maintained: %s)' % newest)
    source = (" or ".join(source) + ", from PyPI") if source else \
        "none (no release the collection installs from source runs there)"
    return ("What %s can run: %s distro with %s \"\" or %s, from Debian's own packages; source with %s."
            % (platform, METHOD_VAR, RELEASE_VAR, _label(releases, platform_data["release"]), source))


def resolve(releases, method, release, platform, platform_data):
    """The release to install: its data with its `name`. Raises Refused, naming the variable, the reason and the
    choices, for an unknown method or release or one the platform cannot run by that method."""
    method, release = _text(method), _text(release)
    offer = choices(releases, platform, platform_data)
    if method not in METHODS:
        raise Refused("%s is %r, which the collection does not know: it installs OpenStack with distro (Debian's "
                      "own packages of the release the platform ships) or source (nova and placement from PyPI into "
                      "virtual environments, pinned by the release's upper constraints). %s" % (METHOD_VAR, method, offer))
    if release and release not in releases:
        codenames = dict((data.get("codename"), name) for name, data in releases.items())
        hint = (" (write %s as OpenStack numbers it: %s)" % (release, codenames[release.lower()])
                if release.lower() in codenames and codenames[release.lower()] != release.lower() else "")
        raise Refused("%s is %r, which the collection does not know%s; it knows %s. %s"
                      % (RELEASE_VAR, release, hint, ", ".join(_label(releases, name) for name in releases), offer))
    distro = platform_data["release"]
    if method == "distro":
        if release and release != distro:
            problem = source_problem(releases, release, platform, platform_data)
            instead = ("the collection installs %s from source there (%s source)" % (release, METHOD_VAR)
                       if problem is None else "nor can %s be installed from source there: %s" % (release, problem))
            raise Refused("%s is %s, but %s distro installs %s's own packages, which are OpenStack %s; %s. %s"
                          % (RELEASE_VAR, release, METHOD_VAR, platform, distro, instead, offer))
        name = distro
    else:
        name = release or newest_source_release(releases)
        if name is None:
            raise Refused("%s is empty, which with %s source means the newest maintained release with source data, "
                          "and the collection has none. %s" % (RELEASE_VAR, METHOD_VAR, offer))
        problem = source_problem(releases, name, platform, platform_data)
        if problem:
            also = ("; %s is %s's own packages, which %s distro installs" % (name, platform, METHOD_VAR)
                    if name == distro else "")
            raise Refused("%s is %s with %s source, but %s%s. %s"
                          % (RELEASE_VAR, release or '"" (the newest maintained: %s)' % name, METHOD_VAR,
                             problem, also, offer))
    resolved = dict(releases[name])
    resolved["name"] = name
    return resolved


# What a host runs against what the inventory asks: site.yml deploys and reconfigures a release; moving a running
# cloud to another one is an upgrade, which goes in Nova's order or not at all.

def release_of(releases, service, version):
    """The name of the release whose `service` (nova, openstack-placement) has `version`'s major version, or
    None (a version the data does not know)."""
    try:
        major = version_key(version)[0]
    except (TypeError, ValueError):
        return None
    for name, data in releases.items():
        if data.get("majors", {}).get(service) == major:
            return name
    return None


def unit_release(releases, unit):
    """The release a unit of openstack_release_fact runs ({service, version, ...}), or None."""
    if not unit.get("version"):
        return None
    return release_of(releases, DISTRIBUTIONS[unit["service"]], unit["version"])


def upgrade_path(releases, current, target):
    """The shortest chain of supported hops from `current` to `target` (the releases after `current`, ending with
    `target`; [] when they are the same), or None. A hop goes to a release whose upgrade_from names the one
    before it."""
    if current == target:
        return []
    paths = {current: []}
    todo = [current]
    while todo:
        here = todo.pop(0)
        for name in sorted(releases, key=lambda n: releases[n]["majors"]["nova"]):
            if name not in paths and here in releases[name].get("upgrade_from", []):
                paths[name] = paths[here] + [name]
                if name == target:
                    return paths[name]
                todo.append(name)
    return None


def _described(name, method, units):
    """'OpenStack 2026.2 from source (nova-api 34.0.0, placement-api 16.0.0)'."""
    how = "from source" if method == "source" else "from Debian's packages"
    return "%s %s (%s)" % ("OpenStack %s" % name if name else "a release the collection does not know", how,
                           ", ".join("%s %s" % (unit, data["version"] or "of an unknown version")
                                     for unit, data in units))


UPGRADE_COMMAND = "ansible-playbook -i INVENTORY osdeploy.nova.upgrade (playbooks/upgrade.yml in a checkout)"
# The install methods the upgrade command takes a host from, and to: Debian's packages hold one release per
# platform, so every hop ends in a source install (from Debian's packages or from the source release before).
UPGRADES_FROM_METHODS = ("distro", "source")
UPGRADES_TO_METHODS = ("source",)


def _major(releases, name):
    return releases[name]["majors"]["nova"]


def change_refused(releases, host, units, target, target_method, upgrading=False):
    """Why a run must not deploy `target` (a release name, by `target_method`) on a host that runs `units`
    (openstack_release_fact's units: {unit: {service, method, version}}), or "" when it may.

    site.yml (upgrading false) may go on where the host runs no Nova or Placement yet, or exactly `target` by
    `target_method`; anything else changes a running cloud's release, which Nova allows only in its upgrade
    order. The upgrade command (upgrading true) may also go on where every service runs `target` or the one
    release a single supported hop before it (some services already moved: an interrupted upgrade, which it
    completes). The message names what the host runs, why, the way on, and the values that keep the cloud."""
    if not units:
        return ""
    running = {}
    for unit, data in sorted(units.items()):
        name = unit_release(releases, data)
        running.setdefault((name, data["method"]), []).append((unit, data))
    if set(running) == {(target, target_method)}:
        return ""
    said = " and ".join(_described(name, method, found) for (name, method), found in running.items())
    head = ("Refused before any change: %s runs %s, and the inventory asks for OpenStack %s by %s %s%s."
            % (host, said, target, METHOD_VAR, target_method, " (the upgrade command)" if upgrading else ""))
    if any(name is None for name, dummy in running):
        return ("%s The collection does not know that version of Nova or Placement, so it cannot tell whether %s "
                "would be an upgrade Nova supports; it knows %s." % (head, target, ", ".join(releases)))
    names = set(name for name, dummy in running)
    current = min(names, key=lambda name: _major(releases, name))
    newest = max(names, key=lambda name: _major(releases, name))
    methods = sorted(set(method for name, method in running if name == current))
    keep = "Set %s %s and %s %s to keep this cloud as it is." % (RELEASE_VAR, current, METHOD_VAR, methods[0])
    if len(names) > 1:
        keep = ("Set %s %s and %s %s, and run the upgrade command, to finish the upgrade."
                % (RELEASE_VAR, newest, METHOD_VAR, target_method))
    if _major(releases, target) < _major(releases, newest):
        return ("%s %s is older than %s: Nova migrates its databases forward only, and no release goes back. %s"
                % (head, target, newest, keep))
    if names == {target}:
        return ("%s Switching the install method of a running release is an upgrade in Nova's order, which the "
                "collection does not automate. %s" % (head, keep))
    if names - {current, target} or any(name == target and method != target_method for name, method in running):
        return ("%s Its services run releases or install methods no single upgrade hop joins: an upgrade was done "
                "by hand. Bring every service of the host to one release first." % head)
    path = upgrade_path(releases, current, target)
    if path is None:
        return ("%s No supported upgrade leads from %s to %s: Nova accepts upgrades from %s only through "
                "releases the collection does not install. %s" % (head, current, target, current, keep))
    hops = " -> ".join([current] + path)
    # the first hop from Debian's packages also names the method it goes to
    switch = "" if methods == ["source"] else " and %s source" % METHOD_VAR
    if len(path) > 1:
        return ("%s Nova %s accepts services no older than %s, so the upgrade goes one supported hop at a time (%s): "
                "set %s %s%s and run the upgrade command, %s, then the next hop. %s"
                % (head, _major(releases, target), " or ".join(releases[target]["upgrade_from"]), hops, RELEASE_VAR,
                   path[0], switch, UPGRADE_COMMAND, keep))
    kind = "SLURP to SLURP" if releases[current].get("slurp") and releases[target].get("slurp") else "one release"
    if any(method not in UPGRADES_FROM_METHODS for method in methods) or target_method not in UPGRADES_TO_METHODS:
        return ("%s %s is a supported upgrade (%s), which the upgrade command makes into a source install (%s "
                "source): Debian's packages of a platform hold its one release. %s"
                % (head, hops, kind, METHOD_VAR, keep))
    if upgrading:
        return ""
    if len(names) > 1:
        return ("%s Its services run two releases: an upgrade (%s) was interrupted. site.yml does not finish an "
                "upgrade: %s" % (head, hops, keep))
    return ("%s %s is a supported upgrade (%s). site.yml does not change the release of a running cloud (it would "
            "restart new code beside old computes, outside Nova's upgrade order): run the upgrade command, %s, "
            "which goes in that order. %s" % (head, hops, kind, UPGRADE_COMMAND, keep))
