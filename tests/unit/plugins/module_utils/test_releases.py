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
