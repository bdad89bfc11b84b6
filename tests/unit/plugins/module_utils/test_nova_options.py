"""nova_options: lookups, suggestions, type checks, secrets and the plan, on a small fake schema.

The real schema of Debian's Zed nova is exercised by tests/integration/test_nova_conf_ini.py.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils import nova_options
from ansible_collections.osdeploy.nova.plugins.module_utils.nova_options import Schema, prepare


def S(**kw):
    info = {"type": "string", "multi": False, "secret": False}
    info.update(kw)
    return info


FAKE = {
    "format": nova_options.SCHEMA_FORMAT,
    "versions": {"nova": "26.2.2"},
    "groups": {
        "DEFAULT": {"my_ip": S(type="hostaddress"), "debug": S(type="boolean"), "transport_url": S(secret=True),
                    "enabled_apis": S(type="list", item=S(choices=["osapi_compute", "metadata"])),
                    "state_path": S(), "instance_name_template": S(), "osapi_compute_workers": S(type="integer", min=1),
                    "secret_number": S(type="integer", secret=True)},
        "vnc": {"server_listen": S(type="hostaddress"), "server_proxyclient_address": S(type="hostaddress"),
                "novncproxy_port": S(type="port", min=0, max=65535), "novncproxy_base_url": S(type="uri")},
        "spice": {"server_listen": S(type="hostaddress"), "server_proxyclient_address": S(type="hostaddress")},
        "api": {"auth_strategy": S(choices=["keystone", "noauth2"])},
        "keystone_authtoken": {
            "www_authenticate_uri": S(),
            "auth_uri": S(deprecated_for_removal=True, deprecated_since="Queens",
                          deprecated_reason="use www_authenticate_uri"),
            "auth_type": S(), "auth_section": S(),
            "password": S(secret=True, plugins=["password", "v3password"]),
            "username": S(plugins=["password", "v3password"]),
            "application_credential_secret": S(secret=True, plugins=["v3applicationcredential"]),
        },
        "libvirt": {"virt_type": S(choices=["kvm", "lxc", "qemu", "parallels"])},
        "pci": {"alias": S(multi=True)},
        "database": {"connection": S(secret=True)},
        "filter_scheduler": {"weights": S(type="dict")},
    },
    "aliases": {"DEFAULT": {"novncproxy_base_url": ["vnc", "novncproxy_base_url"]},
                "keystone_authtoken": {"memcache_servers": ["keystone_authtoken", "memcached_servers"]}},
}


@pytest.fixture
def schema():
    return Schema(json.loads(json.dumps(FAKE)))


# ---------------------------------------------------------------- lookups and suggestions


def test_guide_typo_in_section(schema):
    found = schema.lookup("keystone_authstoken", "password")
    assert found == {"status": "unknown_section", "suggestions": ["[keystone_authtoken]"]}


def test_guide_typo_in_option(schema):
    found = schema.lookup("vnc", "vncserver_proxycient_address")
    assert found["status"] == "unknown_option"
    assert found["suggestions"][0] == "[vnc] server_proxyclient_address"


def test_removed_option_suggests_the_section_named_in_it(schema):
    found = schema.lookup("DEFAULT", "vncserver_listen")
    assert found["suggestions"][0] == "[vnc] server_listen"


def test_option_moved_to_another_section(schema):
    assert schema.lookup("DEFAULT", "auth_strategy")["suggestions"] == ["[api] auth_strategy"]


def test_lowercase_default_is_not_default(schema):
    assert schema.lookup("default", "debug") == {"status": "unknown_section", "suggestions": ["[DEFAULT]"]}
    assert schema.lookup("VNC", "server_listen")["status"] == "ok"


def test_alias(schema):
    found = schema.lookup("DEFAULT", "novncproxy_base_url")
    assert (found["status"], found["new_section"], found["new_option"]) == ("alias", "vnc", "novncproxy_base_url")


def test_plugin_mismatch(schema):
    assert schema.plugin_mismatch("keystone_authtoken", "password", "password") is None
    assert schema.plugin_mismatch("keystone_authtoken", "password", None) is None
    assert schema.plugin_mismatch("keystone_authtoken", "password", "v3applicationcredential") == [
        "password", "v3password"]


# ---------------------------------------------------------------- values


@pytest.mark.parametrize("info, good, bad", [
    (S(type="boolean"), ["true", "False", "1", "off", "yes"], ["maybe", "", "2"]),
    (S(type="integer", min=1), ["1", "42"], ["0", "x", "1.5"]),
    (S(type="port"), ["0", "6080", "65535"], ["65536", "-1", "http"]),
    (S(type="float", min=0.0), ["1.5", "0"], ["-0.1", "abc"]),
    (S(choices=["kvm", "qemu"]), ["kvm", "qemu"], ["KVM", "xen"]),
    (S(choices=["A", "b"], ignore_case=True), ["a", "B"], ["c"]),
    (S(type="ip"), ["10.0.0.1", "::1"], ["10.0.0.300", "host"]),
    (S(type="ip", version=4), ["10.0.0.1"], ["::1"]),
    (S(type="list", item=S(choices=["osapi_compute", "metadata"])), ["osapi_compute,metadata", ""],
     ["osapi_compute,ec2"]),
    (S(type="dict"), ["a:1,b:2"], ["a"]),
    (S(max_length=3, regex="^[a-z]+$"), ["abc"], ["abcd", "AB"]),
])
def test_check_value(info, good, bad):
    for text in good:
        assert nova_options.check_value(info, text) is None, text
    for text in bad:
        assert nova_options.check_value(info, text), text


def test_describe_type_for_errors():
    assert nova_options.describe_type(S(choices=["kvm", "qemu"])) == "one of kvm, qemu"
    assert nova_options.describe_type(S(type="port")) == "a port number (integer)"
    assert nova_options.describe_type(S(type="integer", min=1, max=9)) == "an integer >= 1 and <= 9"


def test_value_strings_list_vs_multi_vs_unknown():
    assert nova_options.value_strings(S(type="list"), ["a", "b"]) == ["a,b"]
    assert nova_options.value_strings(S(multi=True), ["a", "b"]) == ["a", "b"]
    assert nova_options.value_strings(None, ["a", "b"]) == ["a", "b"]
    assert nova_options.value_strings(S(type="dict"), {"a": 1, "b": True}) == ["a:1,b:true"]
    assert nova_options.value_strings(S(type="boolean"), False) == ["false"]
    assert nova_options.value_strings(S(type="integer"), 5) == ["5"]
    with pytest.raises(ValueError, match="single value"):
        nova_options.value_strings(S(), ["a"])
    with pytest.raises(ValueError, match="comma"):
        nova_options.value_strings(S(type="list"), ["a,b"])
    with pytest.raises(ValueError, match="mapping"):
        nova_options.value_strings(S(type="boolean"), {"a": 1})
    with pytest.raises(ValueError, match="expected a string"):
        nova_options.value_strings(None, [{"nested": 1}])


def test_references(schema):
    assert nova_options.references("$my_ip:${vnc.novncproxy_port}/$$x$") == ["my_ip", "vnc.novncproxy_port"]
    assert nova_options.check_references(schema, "vnc", "$my_ip") is None
    assert nova_options.check_references(schema, "vnc", "${vnc.novncproxy_port}") is None
    assert "write $my_ip" in nova_options.check_references(schema, "vnc", "${DEFAULT.my_ip}")
    why = nova_options.check_references(schema, "vnc", "$my_ipp")
    assert "$my_ipp" in why and "did you mean $my_ip" in why and "literal_options" in why


def test_secret_detection(schema):
    assert nova_options.is_secret(schema, "database", "connection")
    assert nova_options.is_secret(schema, "keystone_authtoken", "password")
    assert nova_options.is_secret(schema, "anything", "rabbit_password")  # by name
    assert nova_options.is_secret(schema, "DEFAULT", "state_path", extra={"DEFAULT.state_path"})
    assert not nova_options.is_secret(schema, "DEFAULT", "my_ip")
    assert nova_options.is_secret(None, "x", "admin_token")  # no schema: names decide
    assert not nova_options.is_secret(None, "x", "my_ip")


# ---------------------------------------------------------------- the plan


def test_prepare_controller_settings(schema):
    plan = prepare({
        "DEFAULT": {"my_ip": "10.0.0.11", "transport_url": "rabbit://u:pa$s@h/", "enabled_apis": ["osapi_compute",
                                                                                                  "metadata"]},
        "vnc": {"server_listen": "$my_ip", "novncproxy_port": 6080},
        "keystone_authtoken": {"password": "NOVA$PASS", "auth_type": "password"},
        "pci": {"alias": ["a", "b"]},
        "libvirt": {"virt_type": None},
    }, schema=schema)
    assert plan["errors"] == [] and plan["warnings"] == []
    edits = dict(((s, o), v) for s, o, v in plan["edits"])
    assert edits[("DEFAULT", "transport_url")] == ["rabbit://u:pa$$s@h/"]
    assert edits[("DEFAULT", "enabled_apis")] == ["osapi_compute,metadata"]
    assert edits[("vnc", "server_listen")] == ["$my_ip"]
    assert edits[("vnc", "novncproxy_port")] == ["6080"]
    assert edits[("keystone_authtoken", "password")] == ["NOVA$$PASS"]
    assert edits[("pci", "alias")] == ["a", "b"]
    assert edits[("libvirt", "virt_type")] is None
    assert "NOVA$PASS" in plan["secret_values"] and "NOVA$$PASS" in plan["secret_values"]


def test_an_option_a_later_nova_removed_is_refused_with_what_replaces_it(schema):
    # [api] use_forwarded_for: deprecated in Zed, removed by Epoxy (this schema does not have it)
    plan = prepare({"api": {"use_forwarded_for": True}}, schema=schema)
    assert plan["errors"] == [
        "[api] use_forwarded_for is not an option of Nova 26.2.2 (removed after Zed deprecated it: oslo.middleware's "
        "HTTPProxyToWSGI does this; set [oslo_middleware] enable_proxy_headers_parsing = true instead)"]
    removing = prepare({"api": {"use_forwarded_for": None}}, schema=schema)
    assert removing["errors"] == [] and "removing it anyway" in removing["warnings"][0]


def test_prepare_hides_urls_with_passwords_anywhere(schema):
    plan = prepare({"DEFAULT": {"state_path": "http://user:pw@host/x", "my_ip": "10.0.0.1"}}, schema=schema)
    assert plan["secret_values"] == ["http://user:pw@host/x"]


def test_prepare_guide_mistakes(schema):
    plan = prepare({"keystone_authstoken": {"password": "x"},
                    "vnc": {"vncserver_proxycient_address": "$my_ip"},
                    "DEFAULT": {"use_neutron": True, "debug": "maybe", "rpc_backend": "rabbit"},
                    "libvirt": {"virt_type": "xen"},
                    "keystone_authtoken": {"auth_uri": "http://c:5000", "memcache_servers": "c:11211"}},
                   schema=schema)
    errors = "\n".join(plan["errors"])
    assert "[keystone_authstoken] is not a section Nova 26.2.2 reads (did you mean [keystone_authtoken]?)" in errors
    assert "[vnc] vncserver_proxycient_address is not an option of Nova 26.2.2 " \
           "(did you mean [vnc] server_proxyclient_address?)" in errors
    assert "[DEFAULT] use_neutron is not an option" in errors and "nova-network" in errors
    assert "[DEFAULT] rpc_backend" in errors and "transport_url" in errors
    assert "[DEFAULT] debug = maybe: expected a boolean" in errors
    assert "[libvirt] virt_type = xen: expected one of kvm, lxc, qemu, parallels" in errors
    assert len(plan["errors"]) == 6
    warnings = "\n".join(plan["warnings"])
    assert "[keystone_authtoken] auth_uri is deprecated for removal since Queens: use www_authenticate_uri" in warnings
    assert "memcache_servers is a deprecated name" in warnings and "memcached_servers" in warnings


def test_prepare_masks_secret_values_in_errors(schema):
    plan = prepare({"DEFAULT": {"secret_number": "S3CRET", "transport_url": "rabbit://u:S3CRET2@h\nx",
                                "state_path": "http://u:S3CRET3@h/$nosuch"}}, schema=schema)
    errors = "\n".join(plan["errors"])
    assert len(plan["errors"]) == 3
    assert "[DEFAULT] secret_number = ********: expected an integer" in errors
    assert "line break" in errors and "http://u:********@h/$nosuch" in errors
    assert "S3CRET" not in errors


def test_prepare_validate_false_and_no_schema(schema):
    settings = {"made_up": {"opt": "v", "list": ["a", "b"]}, "vnc": {"novncproxy_port": "http"}}
    for kwargs in (dict(schema=schema, validate=False), dict(schema=None)):
        plan = prepare(settings, **kwargs)
        assert plan["errors"] == [] and plan["warnings"] == []
        assert ("made_up", "list", ["a", "b"]) in plan["edits"]
    assert ("DEFAULT", "debug", ["a", "b"]) in prepare({"DEFAULT": {"debug": ["a", "b"]}}, schema=schema,
                                                       validate=False)["edits"]


def test_prepare_literal_options_and_references(schema):
    plan = prepare({"DEFAULT": {"instance_name_template": "instance-$id", "state_path": "$my_ipp"}},
                   schema=schema, literal_options=["DEFAULT.instance_name_template"])
    assert plan["edits"][0] == ("DEFAULT", "instance_name_template", ["instance-$$id"])
    assert len(plan["errors"]) == 1 and "'$my_ipp' refers to no option" in plan["errors"][0]


def test_prepare_unknown_removal_is_a_warning(schema):
    plan = prepare({"libvirt": {"vif_driver": None}, "nosuch": {"x": None}}, schema=schema)
    assert plan["errors"] == []
    assert len(plan["warnings"]) == 2 and "removing" in plan["warnings"][0]
    assert plan["edits"] == [("libvirt", "vif_driver", None), ("nosuch", "x", None)]


def test_prepare_plugin_option_of_another_auth_type(schema):
    plan = prepare({"keystone_authtoken": {"password": "p"}}, schema=schema,
                   auth_types={"keystone_authtoken": "v3applicationcredential"})
    assert plan["errors"] == []
    assert "not of auth_type v3applicationcredential" in plan["warnings"][0]


@pytest.mark.parametrize("settings, message", [
    (["DEFAULT"], "must be a mapping"),
    ({"DEFAULT": "debug=true"}, "must be a mapping of option"),
    ({"DEFAULT": None}, "got null"),
    ({"a]b": {"x": 1}}, "section name"),
    ({"a\nb": {"x": 1}}, "section name"),
    ({"DEFAULT": {"a=b": 1}}, "option name"),
    ({"DEFAULT": {"debug\n": 1}}, "option name"),
])
def test_prepare_bad_input(schema, settings, message):
    plan = prepare(settings, schema=schema)
    assert plan["errors"] and message in plan["errors"][0]
    assert plan["edits"] == []


def test_prepare_bad_secret_options_names(schema):
    assert prepare({}, schema=schema, secret_options=["password"])["errors"]


def test_file_findings(schema):
    options = [("DEFAULT", "neutron_ovs_bridge", 3, "br-int"), ("libvirt", "virt_type", 5, "kvm"),
               ("DEFAULT", "novncproxy_base_url", 6, "http://x"), ("DEFAULT", "my_ip", 7, "x")]
    warnings = nova_options.file_findings(schema, options, managed={("DEFAULT", "my_ip")})
    assert len(warnings) == 2
    assert warnings[0].startswith("line 3: [DEFAULT] neutron_ovs_bridge is not an option of Nova 26.2.2")
    assert "use [vnc] novncproxy_base_url" in warnings[1]


# ---------------------------------------------------------------- enumeration helpers and the cache


class String:
    def __init__(self, choices=None):
        self.choices = choices
        self.regex = None
        self.max_length = None
        self.ignore_case = False


class Port:
    min, max, choices = 0, 65535, None


class List:
    item_type = String({"a": "doc a", "b": "doc b"})


class Opt:
    def __init__(self, otype, secret=False, multi=False):
        self.type, self.secret, self.multi = otype, secret, multi
        self.deprecated_for_removal = False


def test_type_info_from_oslo_like_objects():
    assert nova_options._opt_info(Opt(Port())) == dict(type="port", min=0, max=65535, choices=None,
                                                       multi=False, secret=False)
    info = nova_options._opt_info(Opt(List(), multi=False))
    assert info["type"] == "list" and info["item"]["choices"] == ["a", "b"]
    assert nova_options._opt_info(Opt(str, secret=True))["secret"] is True
    assert nova_options._type_info(int) == {"type": "integer"}


def test_load_schema_uses_and_refreshes_the_cache(tmp_path, monkeypatch):
    versions = {"nova": "26.2.2", "python": "3.11"}
    calls = []

    def fake_enumerate():
        calls.append(1)
        return dict(FAKE, versions=versions, errors=[], seconds=1.5)

    monkeypatch.setattr(nova_options, "schema_versions", lambda: dict(versions))
    monkeypatch.setattr(nova_options, "enumerate_schema", fake_enumerate)
    data, meta = nova_options.load_schema(str(tmp_path / "cache"))
    assert meta["source"] == "enumerated" and os.path.isfile(meta["cache"]) and len(calls) == 1
    assert os.stat(meta["cache"]).st_mode & 0o777 == 0o644 and os.listdir(str(tmp_path / "cache")) == [
        os.path.basename(meta["cache"])], "readable by all, no temporary file left"
    mtime = os.stat(meta["cache"]).st_mtime_ns
    data2, meta2 = nova_options.load_schema(str(tmp_path / "cache"))
    assert meta2["source"] == "cache" and data2["groups"] == data["groups"] and len(calls) == 1
    assert os.stat(meta["cache"]).st_mtime_ns == mtime
    # a corrupt cache is rebuilt, a new version gets a new file
    with open(meta["cache"], "w") as handle:
        handle.write("{not json")
    assert nova_options.load_schema(str(tmp_path / "cache"))[1]["source"] == "enumerated"
    versions["nova"] = "26.2.3"
    _data3, meta3 = nova_options.load_schema(str(tmp_path / "cache"))
    assert meta3["source"] == "enumerated" and meta3["cache"] != meta["cache"] and "26.2.3" in meta3["cache"]
    # an unwritable cache folder is reported, not fatal
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _data4, meta4 = nova_options.load_schema(str(blocker / "sub"))
    assert meta4["source"] == "enumerated" and meta4["cache"] is None and meta4["cache_error"]


def test_load_schema_without_nova(monkeypatch):
    monkeypatch.setattr(nova_options, "schema_versions", lambda: {"nova": None})
    with pytest.raises(nova_options.SchemaUnavailable, match="not installed"):
        nova_options.load_schema(None)


def test_a_namespace_only_some_releases_have_is_not_an_error(monkeypatch):
    """Epoxy's oslo.db 17 has no oslo.db.concurrency: without it the schema is complete (and cached); a missing
    namespace that every release has is still an error."""
    import sys
    import types

    class EntryPoint(object):
        def __init__(self, name):
            self.name = name

        def load(self):
            return lambda: []

    for name in ("nova", "oslo_config", "oslo_config.cfg"):
        monkeypatch.setitem(sys.modules, name, sys.modules.get(name) or types.ModuleType(name))
    monkeypatch.setattr(nova_options, "_add_auth_plugin_options", lambda groups, aliases: None)
    monkeypatch.setattr(nova_options, "schema_versions", lambda: {"nova": "31.0.0"})
    everything = [ns for ns in nova_options.NAMESPACES if ns != "oslo.db.concurrency"]
    monkeypatch.setattr(nova_options, "_oslo_entry_points", lambda metadata: dict((ns, EntryPoint(ns)) for ns in everything))
    assert nova_options.enumerate_schema()["errors"] == []
    monkeypatch.setattr(nova_options, "_oslo_entry_points",
                        lambda metadata: dict((ns, EntryPoint(ns)) for ns in everything if ns != "oslo.cache"))
    assert nova_options.enumerate_schema()["errors"] == ["oslo.cache: not installed"]


class FakeDist(object):
    def __init__(self, name, version):
        self.metadata = {"Name": name}
        self.version = version


class FakeEntryPoint(object):
    """An importlib.metadata entry point of the group oslo.config.opts whose list_opts gives one option."""

    def __init__(self, name, value, dist, group=None):
        self.name, self.value, self.dist, self.group = name, value, FakeDist(*dist), group

    def load(self):
        opt = Opt(str)
        opt.dest = "%s_opt" % (self.group or self.name).replace(".", "_")
        return lambda: [(self.group or self.name.replace(".", "_"), [opt])]


OSLO_CACHE = FakeEntryPoint("oslo.cache", "oslo_cache._opts:list_opts", ("oslo.cache", "4.3.0"), "cache")
OS_VIF_4 = FakeEntryPoint("os_vif", "os_vif.opts:list_plugins_opts", ("os_vif", "4.1.0"), "os_vif_ovs")
# os-vif 5.2.0 registers its options under the name of oslo.cache's own entry point
OS_VIF_5 = FakeEntryPoint("oslo.cache", "os_vif.opts:list_plugins_opts", ("os_vif", "5.2.0"), "os_vif_ovs")


@pytest.mark.parametrize("listing", [[OSLO_CACHE, OS_VIF_4], [OSLO_CACHE, OS_VIF_5], [OS_VIF_5, OSLO_CACHE]],
                         ids=["os-vif 4.1.0", "os-vif 5.2.0", "os-vif 5.2.0 listed first"])
def test_os_vif_is_found_by_the_value_of_its_entry_point(listing):
    found = nova_options.entry_points_by_namespace(listing)
    assert found["oslo.cache"] is OSLO_CACHE
    assert found["os_vif"].value == "os_vif.opts:list_plugins_opts"
    assert sorted(found) == ["os_vif", "oslo.cache"]


@pytest.mark.parametrize("os_vif", [OS_VIF_4, OS_VIF_5], ids=["os-vif 4.1.0", "os-vif 5.2.0"])
def test_a_source_install_without_osprofiler_gets_a_complete_cached_schema(tmp_path, monkeypatch, os_vif):
    """nova 34 in a venv from the 2026.2 constraints: no osprofiler (an extra of nova), os-vif 5.2.0 whose entry
    point is named oslo.cache. Both libraries' groups are in the schema, osprofiler is absent but not an error,
    the schema is cached, and the cache key has os_vif's version."""
    import sys
    import types
    from importlib import metadata

    others = [FakeEntryPoint(ns, "fake_%s:list_opts" % ns.replace(".", "_"), (ns, "1.0"))
              for ns in nova_options.NAMESPACES
              if ns not in ("oslo.cache", "os_vif", "osprofiler", "oslo.db.concurrency")]
    listing = [os_vif, OSLO_CACHE] + others  # os_vif first: a name clash must not lose oslo.cache either

    class FakeEntryPoints(object):
        def select(self, group):
            assert group == "oslo.config.opts"
            return listing

    for name in ("nova", "oslo_config", "oslo_config.cfg"):
        monkeypatch.setitem(sys.modules, name, sys.modules.get(name) or types.ModuleType(name))
    monkeypatch.setattr(metadata, "entry_points", FakeEntryPoints)
    monkeypatch.setattr(metadata, "version", lambda name: {"nova": "34.0.0"}.get(name, "9.9"))
    monkeypatch.setattr(nova_options, "_add_auth_plugin_options", lambda groups, aliases: None)
    data, meta = nova_options.load_schema(str(tmp_path))
    assert data["errors"] == []
    assert data["absent"] == ["oslo.db.concurrency", "osprofiler"]
    assert "os_vif" in data["namespaces"] and "oslo.cache" in data["namespaces"]
    assert data["groups"]["cache"] == {"cache_opt": nova_options._opt_info(Opt(str))}
    assert list(data["groups"]["os_vif_ovs"]) == ["os_vif_ovs_opt"]
    assert data["versions"]["os_vif"] == os_vif.dist.version and data["versions"]["oslo.cache"] == "4.3.0"
    assert meta["source"] == "enumerated" and meta["cache"] and os.path.isfile(meta["cache"])
    assert nova_options.load_schema(str(tmp_path))[1]["source"] == "cache"


def test_the_cache_key_changes_when_pyroute2_comes(monkeypatch):
    """os-vif 5.2.0's ovs plugin (the [os_vif_ovs] options) loads only with pyroute2, which os-vif does not require."""
    from importlib import metadata

    installed = {"nova": "34.0.0", "keystoneauth1": "5.16.0", "oslo.config": "10.7.0"}

    def version(name):
        if name not in installed:
            raise metadata.PackageNotFoundError(name)
        return installed[name]

    monkeypatch.setattr(metadata, "entry_points", lambda: {})
    monkeypatch.setattr(metadata, "version", version)
    without = nova_options.schema_versions()
    installed["pyroute2"] = "0.8.1"
    with_it = nova_options.schema_versions()
    assert without["pyroute2"] is None and with_it["pyroute2"] == "0.8.1"
    assert nova_options.cache_path("/c", without) != nova_options.cache_path("/c", with_it)
