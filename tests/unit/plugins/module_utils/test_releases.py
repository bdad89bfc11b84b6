"""Which release a host gets by which install method, and every refusal, with its message naming the variable
(module_utils/releases.py, through the openstack_release filter the platform step uses)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.osdeploy.nova.plugins.filter.openstack_release import FilterModule, openstack_release
from ansible_collections.osdeploy.nova.plugins.module_utils.releases import (
    Refused, newest_source_release, python_in_range, resolve, version_at_least, version_key)


def release(nova, python=("3.11", "3.13"), libvirt="8.0.0", qemu="6.2.0", status="maintained", source=True, **extra):
    data = dict(codename=extra.pop("codename", "x"), status=status, slurp=False, upgrade_from=[],
                python={"min": python[0], "max": python[1]}, libvirt_min=libvirt, qemu_min=qemu, **extra)
    if source:
        data["source"] = {"constraints": "c.txt", "packages": {"nova": nova, "openstack-placement": "1.0.0"}}
    return data


# dict order is deliberately not release order: the newest is found by nova's version
RELEASES = {
    "2026.1": release("33.0.2", python=("3.10", "3.13"), codename="gazpacho"),
    "2026.2": release("34.0.0", codename="hibiscus"),
    "2027.1": release("35.0.0", status="unmaintained", codename="future"),  # not maintained: never the default
    "2025.1": release("31.0.0", python=("3.9", "3.12"), status="unmaintained", source=False, codename="epoxy"),
    "zed": release("26.2.2", python=("3.8", "3.9"), libvirt="6.0.0", qemu="4.2.0", status="end-of-life",
                   source=False, codename="zed"),
}
TRIXIE = {"release": "2025.1", "python": "3.13", "libvirt": "11.3.0", "qemu": "10.0"}
BOOKWORM = {"release": "zed", "python": "3.11", "libvirt": "9.0.0", "qemu": "7.2"}


def refused(method, release_name, platform="Debian-13", data=None, releases=None):
    with pytest.raises(Refused) as err:
        resolve(releases or RELEASES, method, release_name, platform, data or TRIXIE)
    message = str(err.value)
    assert "What %s can run: osdeploy_install_method distro with osdeploy_openstack_release" % platform in message
    return message


def test_versions_compare_as_numbers():
    assert version_key("3.11") == (3, 11)
    assert not version_at_least("3.9", "3.11")       # as text, "3.9" > "3.11"
    assert version_at_least("3.11", "3.9")
    assert version_at_least("7.2", "7.2.0") and version_at_least("7.2.0", "7.2")
    assert version_at_least("10.0", "6.2.0") and not version_at_least("9.0.0", "10.0.0")
    assert python_in_range("3.13", "3.11", "3.13") and python_in_range("3.13.5", "3.11", "3.13")
    assert not python_in_range("3.9", "3.10", "3.13") and not python_in_range("3.14", "3.11", "3.13")
    with pytest.raises(ValueError):
        version_key("3.x")


def test_distro_defaults_to_the_platforms_release():
    for value in ("", None, "2025.1"):
        resolved = resolve(RELEASES, "distro", value, "Debian-13", TRIXIE)
        assert resolved["name"] == "2025.1" and resolved["codename"] == "epoxy"
    assert resolve(RELEASES, "distro", "", "Debian-12", BOOKWORM)["name"] == "zed"


def test_source_defaults_to_the_newest_maintained_release_with_source_data():
    assert newest_source_release(RELEASES) == "2026.2"
    resolved = resolve(RELEASES, "source", "", "Debian-13", TRIXIE)
    assert resolved["name"] == "2026.2" and resolved["source"]["packages"]["nova"] == "34.0.0"
    assert "name" not in RELEASES["2026.2"]      # the data is not changed
    # an unquoted release in YAML is a float
    assert resolve(RELEASES, "source", 2026.1, "Debian-12", BOOKWORM)["name"] == "2026.1"


def test_an_unknown_method_is_refused_naming_the_choices():
    message = refused("pip", "")
    assert message.startswith("osdeploy_install_method is 'pip', which the collection does not know")
    assert "distro (Debian's own packages" in message and "source (nova and placement from PyPI" in message
    assert ('source with "" (the newest maintained: 2026.2) or 2027.1 (unmaintained upstream) or 2026.2 or 2026.1, '
            'from PyPI.') in message
    assert "2025.1 (unmaintained upstream), from Debian's own packages" in message
    assert refused(None, "").startswith("osdeploy_install_method is '', ")


def test_an_unknown_release_is_refused_and_a_codename_is_translated():
    message = refused("distro", "2024.1")
    assert message.startswith("osdeploy_openstack_release is '2024.1', which the collection does not know; it knows "
                              "2026.1, 2026.2, 2027.1 (unmaintained upstream), 2025.1 (unmaintained upstream), "
                              "zed (end-of-life upstream).")
    assert "(write Hibiscus as OpenStack numbers it: 2026.2)" in refused("source", "Hibiscus")


def test_distro_with_a_release_the_platform_does_not_ship_says_what_would_work():
    message = refused("distro", "2026.2")
    assert message.startswith("osdeploy_openstack_release is 2026.2, but osdeploy_install_method distro installs "
                              "Debian-13's own packages, which are OpenStack 2025.1; the collection installs 2026.2 "
                              "from source there (osdeploy_install_method source).")
    message = refused("distro", "zed")
    assert "nor can zed be installed from source there: zed has no source install in the collection" in message


def test_source_without_source_data_is_refused():
    message = refused("source", "2025.1")
    assert message.startswith("osdeploy_openstack_release is 2025.1 with osdeploy_install_method source, but 2025.1 "
                              "has no source install in the collection (no upper constraints for it); 2025.1 is "
                              "Debian-13's own packages, which osdeploy_install_method distro installs.")
    assert "which osdeploy_install_method distro installs" not in refused("source", "zed")


def test_source_when_the_platforms_python_is_outside_the_release_range():
    old = dict(BOOKWORM, python="3.9")
    message = refused("source", "2026.1", "Old-1", old)
    assert "osdeploy_openstack_release is 2026.1 with osdeploy_install_method source, but 2026.1 from source needs " \
           "Python 3.10 to 3.13 (OpenStack's tested runtimes of 2026.1), and Old-1's /usr/bin/python3 is 3.9." \
           in message
    assert "source with none (no release the collection installs from source runs there)" in message
    new = dict(TRIXIE, python="3.14")
    assert "needs Python 3.11 to 3.13" in refused("source", "", "New-1", new)
    assert 'osdeploy_openstack_release is "" (the newest maintained: 2026.2) with' in refused("source", "", "New-1", new)


def test_source_when_the_platforms_libvirt_or_qemu_is_older_than_novas_minimum():
    message = refused("source", "2026.2", "Old-1", dict(BOOKWORM, libvirt="7.10.0"))
    assert "2026.2 from source needs libvirt 8.0.0 or newer (nova's MIN_LIBVIRT_VERSION), and Old-1 ships 7.10.0." \
        in message
    message = refused("source", "2026.2", "Old-1", dict(BOOKWORM, qemu="6.1"))
    assert "needs QEMU 6.2.0 or newer (nova's MIN_QEMU_VERSION), and Old-1 ships 6.1." in message
    message = refused("source", "2026.2", "Old-1", dict(BOOKWORM, python="3.10", libvirt="7.0.0", qemu="5.2"))
    assert "needs Python 3.11 to 3.13" in message and "libvirt 8.0.0" in message and "QEMU 6.2.0" in message


def test_source_with_an_empty_release_and_no_maintained_source_release():
    releases = {"2025.1": RELEASES["2025.1"]}
    message = refused("source", "", releases=releases)
    assert message.startswith("osdeploy_openstack_release is empty, which with osdeploy_install_method source means "
                              "the newest maintained release with source data, and the collection has none.")


def test_the_filter_returns_the_release_or_the_refusal():
    assert FilterModule().filters()["openstack_release"] is openstack_release
    chosen = openstack_release(RELEASES, "source", "2026.1", "Debian-13", TRIXIE)
    assert chosen["refused"] == "" and chosen["release"]["name"] == "2026.1"
    chosen = openstack_release(RELEASES, "distro", "2026.1", "Debian-13", TRIXIE)
    assert chosen["release"] == {} and chosen["refused"].startswith("osdeploy_openstack_release is 2026.1, but")
    with pytest.raises(AnsibleFilterError, match="incomplete or malformed"):
        openstack_release(RELEASES, "source", "", "Debian-13", {"release": "2025.1"})
    with pytest.raises(AnsibleFilterError, match="must be dictionaries"):
        openstack_release([], "source", "", "Debian-13", TRIXIE)


# What a host runs against what the inventory asks (change_refused, through the release_change_refused filter the
# osdeploy role uses before any change). The real data's hops: Epoxy -> 2026.1 (SLURP) -> 2026.2; 2025.2 between.
HOPS = {
    "zed": dict(majors={"nova": 26, "openstack-placement": 8}, upgrade_from=[], slurp=False),
    "2025.1": dict(majors={"nova": 31, "openstack-placement": 13}, upgrade_from=[], slurp=True),
    "2025.2": dict(majors={"nova": 32, "openstack-placement": 14}, upgrade_from=["2025.1"], slurp=False),
    "2026.1": dict(majors={"nova": 33, "openstack-placement": 15}, upgrade_from=["2025.1", "2025.2"], slurp=True),
    "2026.2": dict(majors={"nova": 34, "openstack-placement": 16}, upgrade_from=["2026.1"], slurp=False),
}


def runs(version, method="source", placement=None, **more):
    """Units of a controller running nova `version` (and placement), plus `more` units."""
    units = {"nova-api": dict(service="nova", method=method, version=version),
             "placement-api": dict(service="placement", method=method, version=placement)}
    if placement is None:
        del units["placement-api"]
    units.update(more)
    return units


def said(units, target, method="source"):
    from ansible_collections.osdeploy.nova.plugins.filter.release_change_refused import release_change_refused
    text = release_change_refused(HOPS, "controller", {"units": units}, target, method)
    return " ".join(text.split())


def test_the_release_of_a_version_is_named_by_its_major():
    from ansible_collections.osdeploy.nova.plugins.module_utils.releases import release_of
    assert release_of(HOPS, "nova", "34.0.0") == "2026.2" and release_of(HOPS, "nova", "31.0.0") == "2025.1"
    assert release_of(HOPS, "openstack-placement", "15.0.0") == "2026.1"
    assert release_of(HOPS, "nova", "29.1.0") is None and release_of(HOPS, "nova", "x") is None


def test_a_units_release_is_named_through_its_services_distribution():
    from ansible_collections.osdeploy.nova.plugins.module_utils.releases import unit_release
    assert unit_release(HOPS, {"service": "placement", "version": "15.0.0"}) == "2026.1"
    assert unit_release(HOPS, {"service": "nova", "version": "34.0.0"}) == "2026.2"
    assert unit_release(HOPS, {"service": "nova", "version": None}) is None


def test_upgrade_paths_go_hop_by_hop_along_upgrade_from():
    from ansible_collections.osdeploy.nova.plugins.module_utils.releases import upgrade_path
    assert upgrade_path(HOPS, "2026.1", "2026.1") == []
    assert upgrade_path(HOPS, "2026.1", "2026.2") == ["2026.2"]
    assert upgrade_path(HOPS, "2025.1", "2026.1") == ["2026.1"]          # SLURP to SLURP, not through 2025.2
    assert upgrade_path(HOPS, "2025.1", "2026.2") == ["2026.1", "2026.2"]
    assert upgrade_path(HOPS, "zed", "2026.1") is None
    assert upgrade_path(HOPS, "2026.2", "2026.1") is None


def test_a_fresh_host_or_the_same_release_by_the_same_method_goes_on():
    assert said({}, "2026.2") == ""
    assert said(runs("34.0.0", placement="16.0.0", **{"nova-compute": dict(
        service="nova", method="source", version="34.0.0")}), "2026.2") == ""
    assert said(runs("31.0.0", method="distro", placement="13.0.0"), "2025.1", "distro") == ""


def test_a_downgrade_is_refused_with_the_values_that_keep_the_cloud():
    text = said(runs("34.0.0", placement="16.0.0"), "2026.1")
    assert text.startswith("Refused before any change: controller runs OpenStack 2026.2 from source (nova-api "
                           "34.0.0, placement-api 16.0.0), and the inventory asks for OpenStack 2026.1 by "
                           "osdeploy_install_method source.")
    assert "2026.1 is older than 2026.2: Nova migrates its databases forward only" in text
    assert "Set osdeploy_openstack_release 2026.2 and osdeploy_install_method source to keep this cloud" in text


def test_an_upgrade_is_refused_by_site_yml_with_its_hops_and_the_command():
    one = said(runs("33.0.2", placement="15.0.0"), "2026.2")
    assert "2026.1 -> 2026.2 is a supported upgrade (one release)" in one
    assert "site.yml does not change the release of a running cloud" in one
    assert "run the upgrade command, ansible-playbook -i INVENTORY osdeploy.nova.upgrade" in one
    assert one.endswith("Set osdeploy_openstack_release 2026.1 and osdeploy_install_method source to keep this "
                        "cloud as it is.")
    slurp = said(runs("31.0.0", method="distro", placement="13.0.0"), "2026.1")
    assert "2025.1 -> 2026.1 is a supported upgrade (SLURP to SLURP). site.yml does not change the release of a " \
           "running cloud" in slurp
    assert slurp.endswith("Set osdeploy_openstack_release 2025.1 and osdeploy_install_method distro to keep this "
                          "cloud as it is.")
    hops = said(runs("31.0.0", method="distro"), "2026.2")
    assert "Nova 34 accepts services no older than 2026.1, so the upgrade goes one supported hop at a time " \
           "(2025.1 -> 2026.1 -> 2026.2): set osdeploy_openstack_release 2026.1 and osdeploy_install_method " \
           "source and run the upgrade command" in hops
    from_source = said(runs("31.0.0", method="source"), "2026.2")
    assert "set osdeploy_openstack_release 2026.1 and run the upgrade command" in from_source
    none = said(runs("26.2.2", method="distro"), "2026.1")
    assert "No supported upgrade leads from zed to 2026.1" in none and none.endswith(
        "Set osdeploy_openstack_release zed and osdeploy_install_method distro to keep this cloud as it is.")


def upgrading(units, target, method="source"):
    from ansible_collections.osdeploy.nova.plugins.module_utils.releases import change_refused
    return " ".join(change_refused(HOPS, "controller", units, target, method, upgrading=True).split())


def test_the_upgrade_command_takes_one_supported_hop_from_source_and_completes_an_interrupted_one():
    assert upgrading({}, "2026.2") == ""
    assert upgrading(runs("33.0.2", placement="15.0.0"), "2026.2") == ""
    assert upgrading(runs("34.0.0", placement="16.0.0"), "2026.2") == ""
    # placement moved first, nova-api not yet: the re-run of an interrupted upgrade goes on
    assert upgrading(runs("33.0.2", placement="16.0.0"), "2026.2") == ""
    # and site.yml says so, pointing at the command
    interrupted = said(runs("33.0.2", placement="16.0.0"), "2026.2")
    assert "an upgrade (2026.1 -> 2026.2) was interrupted. site.yml does not finish an upgrade: Set " \
           "osdeploy_openstack_release 2026.2 and osdeploy_install_method source, and run the upgrade command, " \
           "to finish the upgrade." in interrupted


def test_the_upgrade_command_takes_debians_packages_to_the_next_source_release_and_completes_it():
    assert upgrading(runs("31.0.0", method="distro", placement="13.0.0"), "2026.1") == ""
    # Placement moved to its source environment first, Nova still Debian's: an interrupted hop goes on
    placement_moved = runs("31.0.0", method="distro")
    placement_moved["placement-api"] = dict(service="placement", method="source", version="15.0.0")
    assert upgrading(placement_moved, "2026.1") == ""
    # only ever to a source install: Debian's packages hold one release
    assert "makes into a source install (osdeploy_install_method source)" in upgrading(
        runs("31.0.0", method="distro"), "2026.1", method="distro")


def test_the_upgrade_command_refuses_two_hops_and_a_downgrade():
    assert "(the upgrade command)" in upgrading(runs("31.0.0", method="source"), "2026.2")
    assert "one supported hop at a time (2025.1 -> 2026.1 -> 2026.2)" in upgrading(runs("31.0.0"), "2026.2")
    assert "one supported hop at a time (2025.1 -> 2026.1 -> 2026.2)" in upgrading(
        runs("31.0.0", method="distro"), "2026.2")
    assert "2026.1 is older than 2026.2" in upgrading(runs("34.0.0"), "2026.1")
    assert "no single upgrade hop joins" in upgrading(
        runs("31.0.0", **{"nova-compute": dict(service="nova", method="source", version="33.0.2")}), "2026.2")


def test_a_host_between_releases_a_method_switch_and_an_unknown_version_are_refused():
    switch = said(runs("34.0.0"), "2026.2", "distro")
    assert "Switching the install method of a running release is an upgrade" in switch
    unknown = said(runs("29.0.0", method="distro"), "2026.2")
    assert "does not know that version of Nova or Placement" in unknown
    assert "runs a release the collection does not know from Debian's packages (nova-api 29.0.0)" in unknown
    assert "(nova-api of an unknown version)" in said(runs(None, method="distro"), "2026.2")


def test_the_change_filter_refuses_malformed_input():
    from ansible_collections.osdeploy.nova.plugins.filter.release_change_refused import (
        FilterModule, release_change_refused)
    assert "release_change_refused" in FilterModule().filters()
    with pytest.raises(AnsibleFilterError):
        release_change_refused(HOPS, "h", "not a dict", "2026.2", "source")
    with pytest.raises(AnsibleFilterError):
        release_change_refused(HOPS, "h", {"units": {"nova-api": {"service": "nova"}}}, "2026.2", "source")
