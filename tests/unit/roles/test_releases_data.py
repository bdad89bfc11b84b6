"""The release data (roles/osdeploy/vars/releases.yml), the platforms' (vars/platforms/) and the constraints files
(files/constraints/) agree with each other and with the contract's argument spec.

What a release's data says was read upstream (the data file's comments say where); these tests hold the files to
their shape: a source release has its constraints file, whose header says where it came from; versions are
versions; every name one file uses exists in the other.
"""
import glob
import os
import re

import pytest
import yaml

from ansible_collections.osdeploy.nova.plugins.module_utils.releases import (
    METHODS, newest_source_release, resolve, version_key)

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
ROLE = os.path.join(ROOT, "roles", "osdeploy")
STATUSES = {"maintained", "unmaintained", "end-of-life"}
SERVICES = {"nova", "openstack-placement"}


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as f:
        return yaml.safe_load(f)


RELEASES = load("vars", "releases.yml")["__osdeploy_releases"]
PLATFORMS = load("vars", "main.yml")["__osdeploy_platforms"]
SOURCE = sorted(name for name, data in RELEASES.items() if data.get("source"))


def platform_data(platform):
    return load("vars", "platforms", platform + ".yml")["__osdeploy_platform_data"]


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def constraints(name):
    """(header comment lines, {package: {version, ...}}) of a release's constraints file."""
    with open(os.path.join(ROLE, "files", "constraints", RELEASES[name]["source"]["constraints"])) as f:
        lines = f.read().splitlines()
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            assert re.match(r"^[A-Za-z0-9._-]+===[^\s;]+(;.+)?$", line), "not name===version[;marker]: %r" % line
            package, version = line.split(";", 1)[0].split("===")
            pins.setdefault(canonical(package), set()).add(version)
    return header, pins


@pytest.mark.parametrize("name", sorted(RELEASES))
def test_each_release_has_its_fields(name):
    data = RELEASES[name]
    assert data["status"] in STATUSES, "%s: status %r" % (name, data["status"])
    assert isinstance(data["slurp"], bool) and data["codename"]
    assert set(data["upgrade_from"]) <= set(RELEASES) - {name}, "%s upgrades from releases the data lacks" % name
    assert version_key(data["python"]["min"]) <= version_key(data["python"]["max"])
    version_key(data["libvirt_min"])
    version_key(data["qemu_min"])
    assert set(data) <= {"codename", "status", "slurp", "majors", "upgrade_from", "python", "libvirt_min",
                         "qemu_min", "manager_shutdown_timeout", "source", "distro"}, "%s: unknown fields" % name
    for packages in [data.get("source", {}).get("packages", {})] + list(data.get("distro", {}).values()):
        for version in packages.values():
            version_key(version)


@pytest.mark.parametrize("name", sorted(RELEASES))
def test_each_releases_majors_are_those_of_the_versions_it_installs_and_upgrades_go_forward(name):
    """What names a host's release (openstack_release_fact) and orders the hops: the major versions."""
    data = RELEASES[name]
    assert set(data["majors"]) == SERVICES and all(isinstance(v, int) for v in data["majors"].values())
    for packages in [data.get("source", {}).get("packages", {})] + list(data.get("distro", {}).values()):
        for service, version in packages.items():
            assert version_key(version)[0] == data["majors"][service], (name, service, version)
    for older in data["upgrade_from"]:
        for service in SERVICES:
            assert RELEASES[older]["majors"][service] < data["majors"][service], (older, name, service)
    others = [other for other in RELEASES if other != name]
    assert all(RELEASES[other]["majors"]["nova"] != data["majors"]["nova"] for other in others)


@pytest.mark.parametrize("name", sorted(RELEASES))
def test_the_compute_stop_timeout_is_known_from_nova_33_on(name):
    """nova 33 added [DEFAULT] manager_shutdown_timeout (read from the wheels of 31, 32.2.1, 33.0.2, 34.0.0)."""
    data = RELEASES[name]
    novas = [data["source"]["packages"]["nova"]] if "source" in data else []
    novas += [packages["nova"] for packages in data.get("distro", {}).values()]
    if not novas:   # a release the collection cannot install (2025.2: nova 32, without the option)
        assert "manager_shutdown_timeout" not in data, name
    for nova in novas:
        assert data.get("manager_shutdown_timeout", False) is (version_key(nova) >= (33,)), (name, nova)


@pytest.mark.parametrize("name", SOURCE)
def test_a_source_release_has_its_constraints_whose_header_names_their_source(name):
    source = RELEASES[name]["source"]
    assert set(source["packages"]) == SERVICES
    assert os.path.isfile(os.path.join(ROLE, "files", "constraints", source["constraints"])), source["constraints"]
    header, pins = constraints(name)
    said = "\n".join(header)
    assert "# source: https://opendev.org/openstack/requirements upper-constraints.txt" in header, said
    assert any(re.match(r"^# branch: (master|stable/\S+)$", line) for line in header), said
    assert any(re.match(r"^# commit: [0-9a-f]{40} \(\d{4}-\d\d-\d\d\)$", line) for line in header), said
    # a pin raised from upstream's is named in the header with its reason, and is the file's pin
    for package, old, new in re.findall(r"^#   (\S+) (\S+) -> (\S+) \(.+\)$", said, re.M):
        assert pins[canonical(package)] == {new}, "%s: the header raises %s to %s" % (name, package, new)
        assert version_key(new) > version_key(old)
    # like upstream's, it pins no service the release data names, or pins the same version
    for package, version in source["packages"].items():
        assert pins.get(canonical(package), {version}) == {version}, "%s pins %s" % (source["constraints"], package)
    assert len(pins) > 100, "%s is not a release's upper constraints" % source["constraints"]


@pytest.mark.parametrize("name", SOURCE)
def test_a_source_releases_extra_requirements_are_pinned_by_its_constraints_and_its_pins_add_the_unpinned(name):
    """What each environment installs beside its service is pinned by the upper constraints; the release's own
    pins (appended to the constraints the hosts get) name only what those leave unpinned, at one version each."""
    source = RELEASES[name]["source"]
    assert set(source) == {"constraints", "packages", "requirements", "pins"}, "%s: source fields" % name
    header, pins = constraints(name)
    assert set(source["requirements"]) == SERVICES
    for service, requirements in source["requirements"].items():
        for requirement in requirements:
            assert re.match(r"^[A-Za-z0-9._-]+$", requirement), "%s: %s is pinned by the constraints" % (name, requirement)
            assert canonical(requirement) in pins, "%s: %s's %s is not pinned by %s" % (
                name, service, requirement, source["constraints"])
    assert {"setuptools", "certifi", "legacy-cgi"} <= set(source["pins"]), "%s: pins" % name
    for package, version in source["pins"].items():
        version_key(version.replace(".post", "."))
        assert canonical(package) not in pins, "%s: %s is pinned by %s already" % (name, package, source["constraints"])
        assert canonical(package) not in SERVICES


def test_every_constraints_file_belongs_to_a_release():
    used = {RELEASES[name]["source"]["constraints"] for name in SOURCE}
    shipped = {os.path.basename(p) for p in glob.glob(os.path.join(ROLE, "files", "constraints", "*"))}
    assert shipped == used


def test_newer_releases_have_newer_services():
    """Ordered by nova's version, placement's grows too (Placement must be at least as new as Nova's release)."""
    versions = [dict(RELEASES[name]["source"]["packages"], name=name) for name in SOURCE]
    versions += [dict(packages, name=name) for name, data in RELEASES.items()
                 for packages in data.get("distro", {}).values()]
    versions.sort(key=lambda v: version_key(v["nova"]))
    placements = [version_key(v["openstack-placement"]) for v in versions]
    assert placements == sorted(placements), [(v["name"], v["nova"], v["openstack-placement"]) for v in versions]
    assert [v["name"] for v in versions if v["name"] in SOURCE] == sorted(SOURCE, key=version_key)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_each_platform_names_a_release_that_exists_and_ships_it(platform):
    data = platform_data(platform)
    assert set(data) == {"release", "python", "libvirt", "qemu"}
    for what in ("python", "libvirt", "qemu"):
        version_key(data[what])
    assert data["release"] in RELEASES, "%s names release %r" % (platform, data["release"])
    assert platform in RELEASES[data["release"]].get("distro", {}), \
        "%s's packages are %s, whose distro data does not name it" % (platform, data["release"])


def test_each_distro_entry_is_a_platform_whose_release_it_is():
    for name, data in RELEASES.items():
        for platform in data.get("distro", {}):
            assert platform in PLATFORMS and platform_data(platform)["release"] == name, (name, platform)


def test_the_defaults_install_the_newest_maintained_release_from_source():
    """source, the default, installs the newest maintained release on every platform; distro, an explicit
    choice, keeps each platform on its own packages (Debian 12 Zed, Debian 13 2025.1)."""
    defaults = load("defaults", "main.yml")
    assert defaults["osdeploy_install_method"] == "source" and defaults["osdeploy_openstack_release"] == ""
    got = {platform: resolve(RELEASES, "source", "", platform, platform_data(platform))["name"]
           for platform in PLATFORMS}
    assert got == {"Debian-12": "2026.2", "Debian-13": "2026.2"}
    assert newest_source_release(RELEASES) == "2026.2"
    got = {platform: resolve(RELEASES, "distro", "", platform, platform_data(platform))["name"]
           for platform in PLATFORMS}
    assert got == {"Debian-12": "zed", "Debian-13": "2025.1"}


def test_the_argument_spec_offers_exactly_the_known_methods_and_releases():
    options = load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert options["osdeploy_install_method"]["choices"] == list(METHODS)
    assert options["osdeploy_openstack_release"]["choices"] == [""] + list(RELEASES)
