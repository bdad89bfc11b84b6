"""nova_conf_ini and service_conf_ini as modules: Nova's schema, or plain INI.

Nova is not importable here: nova_conf_ini gets a small schema instead, and
service_conf_ini must not ask for one at all. The real schema of Debian's nova is
the integration tier's (tests/integration/test_nova_conf_ini.py).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import json
import os
import pwd

import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils import conf_ini_module, nova_options
from ansible_collections.osdeploy.nova.plugins.modules import nova_conf_ini, service_conf_ini

PASSWORD = "s3cr3t$pw"
OPT = {"type": "string", "multi": False, "secret": False}
SCHEMA = {
    "format": nova_options.SCHEMA_FORMAT,
    "versions": {"nova": "31.0.0"},
    "groups": {"DEFAULT": {"my_ip": dict(OPT, type="hostaddress")},
               "keystone_authtoken": {"username": OPT, "password": dict(OPT, secret=True)}},
    "aliases": {},
}
SETTINGS_WITH_A_TYPO = {"keystone_authstoken": {"username": "nova", "password": PASSWORD}}


@pytest.fixture
def conf(tmp_path):
    path = tmp_path / "service.conf"
    path.write_text("[DEFAULT]\n#my_ip = <None>\n")
    return path


@pytest.fixture
def schema_loads(monkeypatch):
    """Nova's schema as the module would load it; counts the loads."""
    loads = []

    def load_schema(cache_dir=None):
        loads.append(cache_dir)
        return json.loads(json.dumps(SCHEMA)), dict(source="enumerated", seconds=0.01, cache=None, cache_error=None)

    monkeypatch.setattr(nova_options, "load_schema", load_schema)
    return loads


@pytest.fixture
def run(run_main):
    """run_main, the file owned by whoever runs the tests."""
    def run_as_me(module, args, check=False):
        mine = dict(owner=pwd.getpwuid(os.getuid()).pw_name, group=grp.getgrgid(os.getgid()).gr_name)
        return run_main(module, dict(args, **mine), check=check)
    return run_as_me


def test_the_options_of_each_module():
    nova = nova_conf_ini.NovaConfIni.argument_spec
    plain = service_conf_ini.ServiceConfIni.argument_spec
    assert nova["validate"]["default"] is True and "schema_cache_dir" in nova
    assert nova["group"]["default"] == "nova"
    assert "validate" not in plain and "schema_cache_dir" not in plain
    assert plain["group"].get("required") is True and "default" not in plain["group"]
    same = set(plain) - {"group"}
    assert dict((k, plain[k]) for k in same) == dict((k, nova[k]) for k in same)


def test_service_conf_ini_writes_what_it_is_given_without_nova(conf, schema_loads, run):
    rc, out = run(service_conf_ini, dict(path=str(conf), settings=SETTINGS_WITH_A_TYPO))
    assert rc == 0, out
    assert schema_loads == [], "service_conf_ini asked for Nova's schema"
    assert out["changed"] is True
    assert sorted(out["changed_options"]) == ["keystone_authstoken.password", "keystone_authstoken.username"]
    assert not set(out) & {"validated", "validation", "schema"}
    assert out["module_warnings"] == []
    # the password by its name: masked, and written literally ($ doubled)
    assert PASSWORD not in json.dumps(out)
    assert conf.read_text().endswith("[keystone_authstoken]\nusername = nova\npassword = s3cr3t$$pw\n")


def test_a_new_file_gets_its_mode_and_a_converged_run_leaves_the_file_untouched(tmp_path, schema_loads, run):
    """Services restart by the mtime of their configuration: a run that changes nothing must not rewrite it."""
    path = tmp_path / "new.conf"
    settings = {"DEFAULT": {"debug": "true"}}
    rc, out = run(service_conf_ini, dict(path=str(path), settings=settings, mode="0640"))
    assert rc == 0 and out["changed"] is True, out
    assert path.read_text() == "[DEFAULT]\ndebug = true\n" and os.stat(str(path)).st_mode & 0o7777 == 0o640
    os.utime(str(path), (1000000000, 1000000000))
    rc, out = run(service_conf_ini, dict(path=str(path), settings=settings, mode="0640"))
    assert rc == 0 and out["changed"] is False, out
    assert os.stat(str(path)).st_mtime == 1000000000
    rc, out = run(service_conf_ini, dict(path=str(path), settings=settings, mode="u=rw,g=,o="))
    assert rc == 0 and out["changed"] is True and os.stat(str(path)).st_mode & 0o7777 == 0o600
    assert os.stat(str(path)).st_mtime == 1000000000, "a mode alone is set in place"


def test_service_conf_ini_has_no_validate_option(conf, schema_loads, run):
    rc, out = run(service_conf_ini, dict(path=str(conf), settings={}, validate=True))
    assert rc == 1 and "Unsupported parameters" in out["msg"] and "validate" in out["msg"]
    rc, out = run(service_conf_ini, dict(path=str(conf), settings={}, validate=False))
    assert rc == 1 and "Unsupported parameters" in out["msg"]


def test_nova_conf_ini_refuses_a_typo_and_writes_nothing(conf, schema_loads, run):
    before = conf.read_text()
    rc, out = run(nova_conf_ini, dict(path=str(conf), settings=SETTINGS_WITH_A_TYPO))
    assert rc == 1 and out["failed"] is True
    assert len(schema_loads) == 1
    assert "[keystone_authstoken] is not a section Nova 31.0.0 reads (did you mean [keystone_authtoken]?)" \
        in out["msg"]
    assert out["validated"] is True and not out.get("changed")
    assert PASSWORD not in json.dumps(out)
    assert conf.read_text() == before


def test_nova_conf_ini_writes_valid_settings_as_service_conf_ini_does(conf, tmp_path, schema_loads, run):
    """For settings Nova knows, the two modules write the same bytes; only nova_conf_ini says it checked them."""
    settings = {"DEFAULT": {"my_ip": "10.0.0.11"}, "keystone_authtoken": {"username": "nova", "password": PASSWORD}}
    plain = tmp_path / "plain.conf"
    plain.write_text(conf.read_text())
    rc, nova = run(nova_conf_ini, dict(path=str(conf), settings=settings))
    assert rc == 0, nova
    assert nova["validated"] is True and nova["validation"].startswith("checked against Nova 31.0.0")
    rc, out = run(service_conf_ini, dict(path=str(plain), settings=settings))
    assert rc == 0, out
    assert out["changed_options"] == nova["changed_options"] and out["changes"] == nova["changes"]
    assert plain.read_text() == conf.read_text()
    assert "my_ip = <None>\nmy_ip = 10.0.0.11\n" in conf.read_text()


def test_nova_conf_ini_names_the_optional_namespaces_it_did_not_find(conf, monkeypatch, run):
    """A venv without osprofiler (an extra of nova): validated all the same, and the sentence says what was absent."""
    def load_schema(cache_dir=None):
        meta = dict(source="cache", seconds=0.01, cache=None, cache_error=None)
        return dict(SCHEMA, errors=[], absent=["osprofiler"]), meta

    monkeypatch.setattr(nova_options, "load_schema", load_schema)
    rc, out = run(nova_conf_ini, dict(path=str(conf), settings={"DEFAULT": {"my_ip": "10.0.0.11"}}))
    assert rc == 0, out
    assert out["validated"] is True and out["validation"].endswith("; not installed (optional): osprofiler")


def test_nova_conf_ini_without_nova_still_writes_and_says_so(conf, monkeypatch, run):
    def unavailable(cache_dir=None):
        raise nova_options.SchemaUnavailable("the nova Python package is not installed")

    monkeypatch.setattr(nova_options, "load_schema", unavailable)
    rc, out = run(nova_conf_ini, dict(path=str(conf), settings={"DEFAULT": {"my_ip": "10.0.0.11"}}))
    assert rc == 0, out
    assert out["validated"] is False and "could not validate" in out["validation"]
    assert any("could not validate the settings against Nova's options" in w for w in out["module_warnings"])


def test_one_class_serves_both():
    assert issubclass(nova_conf_ini.NovaConfIni, conf_ini_module.ConfIniModule)
    assert issubclass(service_conf_ini.ServiceConfIni, conf_ini_module.ConfIniModule)
    assert "run" not in vars(nova_conf_ini.NovaConfIni) and "run" not in vars(service_conf_ini.ServiceConfIni)
