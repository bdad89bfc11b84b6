"""service_conf_ini through Ansible: the settings of any OpenStack service's file, as plain INI.

No option schema is involved: what the baseline writes into keystone.conf, glance-api.conf,
placement.conf and Neutron's files is written as given, on the machine's /usr/bin/python3 and on
a Python without Nova alike. What the service would read from a written file is checked with
oslo.config itself. Nova's validated module is tests/integration/test_nova_conf_ini.py.
"""
import grp
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

import conftest
from conftest import DEPRECATIONS_SHOWN, assert_no_deprecation

from ansible_collections.osdeploy.nova.plugins.module_utils.credentials import db_url

# the start of Debian's keystone.conf, as the package lays it out: commented defaults
KEYSTONE_CONF = "\n".join([
    "[DEFAULT]",
    "",
    "#",
    "# From keystone",
    "#",
    "",
    "# Using this feature is *NOT* recommended. (string value)",
    "#admin_token = <None>",
    "log_dir = /var/log/keystone",
    "",
    "[cache]",
    "#enabled = false",
    "#backend = dogpile.cache.null",
    "",
    "[database]",
    "# The SQLAlchemy connection string to use to connect to the database. (string value)",
    "#connection = <None>",
    "connection = sqlite:////var/lib/keystone/keystone.db",
    "",
    "[token]",
    "#provider = fernet",
    "",
])
DB_PASS = "k$db@:/%pw"
DB_URL = db_url("keystone", DB_PASS, "controller", "keystone")

OSLO_READ = r"""
import json, sys
from oslo_config import cfg
conf = cfg.ConfigOpts()
conf.register_opts([cfg.StrOpt('connection', secret=True)], group='database')
conf.register_opts([cfg.StrOpt('provider')], group='token')
conf.register_opts([cfg.BoolOpt('enabled'), cfg.StrOpt('backend'), cfg.ListOpt('memcache_servers')], group='cache')
conf.register_opts([cfg.MultiStrOpt('alias')], group='pci')
conf([], project='keystone', default_config_files=sys.argv[1:])
print(json.dumps({'database.connection': conf.database.connection, 'token.provider': conf.token.provider,
                  'cache.enabled': conf.cache.enabled, 'cache.backend': conf.cache.backend,
                  'cache.memcache_servers': conf.cache.memcache_servers, 'pci.alias': conf.pci.alias}))
"""


@pytest.fixture
def conf_file(request):
    folder = tempfile.mkdtemp(prefix="osdeploy-serviceconf-")
    path = os.path.join(folder, "%s.conf" % request.node.name)
    with open(path, "w") as handle:
        handle.write(KEYSTONE_CONF)
    os.chmod(path, 0o644)
    yield path
    shutil.rmtree(folder, ignore_errors=True)


def call(ansible_module, path, settings, **kwargs):
    args = dict(path=path, settings=settings, group="keystone")
    args.update(kwargs.pop("module_opts", {}))
    return ansible_module("service_conf_ini", args, env=DEPRECATIONS_SHOWN, **kwargs)


def read(path):
    with open(path) as handle:
        return handle.read()


def oslo_values(path):
    proc = subprocess.run([conftest.TARGET_PYTHON, "-c", OSLO_READ, path], capture_output=True, text=True,
                          check=True)
    return json.loads(proc.stdout)


def assert_plain(res):
    """A plain INI run: no validation result, no warning, no deprecation."""
    assert not set(res) & {"validated", "validation", "schema"}, res
    assert res["module_warnings"] == [], res["module_warnings"]
    assert_no_deprecation(res)


def test_keystone_settings_written_as_keystone_reads_them(ansible_module, conf_file):
    """What the baseline's keystone task writes, the way keystone-manage and Keystone read it."""
    settings = {"database": {"connection": DB_URL}, "token": {"provider": "fernet"},
                "cache": {"enabled": True, "backend": "dogpile.cache.memcached",
                          "memcache_servers": "controller:11211"}}
    res = call(ansible_module, conf_file, settings, diff=True, verbosity=3,
               module_opts=dict(secret_options=["database.connection"]))
    assert not res.failed and res["changed"] is True, res.output
    assert_plain(res)
    assert sorted(res["changed_options"]) == ["cache.backend", "cache.enabled", "cache.memcache_servers",
                                              "database.connection", "token.provider"]
    assert DB_PASS not in res.output and "connection = ********" in res.output
    text = read(conf_file)
    # the existing line rewritten where it stands, new options after their commented defaults
    assert "#connection = <None>\nconnection = %s\n" % DB_URL.replace("$", "$$") in text
    assert "#provider = fernet\nprovider = fernet\n" in text
    assert "#enabled = false\nenabled = true\n" in text
    assert "sqlite" not in text and "log_dir = /var/log/keystone" in text
    values = oslo_values(conf_file)
    del values["pci.alias"]
    assert values == {
        "database.connection": DB_URL, "token.provider": "fernet", "cache.enabled": True,
        "cache.backend": "dogpile.cache.memcached", "cache.memcache_servers": ["controller:11211"]}
    st = os.stat(conf_file)
    assert (st.st_uid, grp.getgrgid(st.st_gid).gr_name, st.st_mode & 0o7777) == (0, "keystone", 0o640)
    # idempotence: a second run, and a check-mode run, change nothing
    again = call(ansible_module, conf_file, settings, module_opts=dict(secret_options=["database.connection"]))
    assert again["changed"] is False and again["changed_options"] == [], again.output
    checked = call(ansible_module, conf_file, settings, check=True, diff=True,
                   module_opts=dict(secret_options=["database.connection"]))
    assert checked["changed"] is False
    assert read(conf_file) == text


def test_nothing_is_checked_and_no_nova_is_needed(ansible_module, conf_file, monkeypatch):
    """On a Python without Nova (the controller venv's) typos and unknown options are written as given,
    without a warning: the module has no schema to ask."""
    monkeypatch.setattr(conftest, "TARGET_PYTHON", sys.executable)
    settings = {"tokne": {"provider": "fernet"}, "DEFAULT": {"no_such_option": "x", "api_token": "t0k$n"}}
    res = call(ansible_module, conf_file, settings)
    assert not res.failed and res["changed"] is True, res.output
    assert_plain(res)
    text = read(conf_file)
    assert text.endswith("\n[tokne]\nprovider = fernet\n")
    assert "no_such_option = x\n" in text
    # a name that ends in token is secret without a schema: written literally, never shown
    assert "api_token = t0k$$n\n" in text and "t0k$n" not in res.output


def test_a_list_is_written_as_repeated_lines(ansible_module, conf_file):
    aliases = ['{"name": "a1", "vendor_id": "8086"}', '{"name": "a2", "vendor_id": "8086"}']
    res = call(ansible_module, conf_file, {"pci": {"alias": aliases}})
    assert not res.failed and res["changed"] is True, res.output
    assert read(conf_file).endswith("\n[pci]\nalias = %s\nalias = %s\n" % tuple(aliases))
    assert oslo_values(conf_file)["pci.alias"] == aliases


def test_group_is_required_and_validate_is_no_option(ansible_module, conf_file):
    before = read(conf_file)
    res = ansible_module("service_conf_ini", dict(path=conf_file, settings={"token": {"provider": "fernet"}}))
    assert res.failed and "missing required arguments: group" in res["msg"], res.output
    res = call(ansible_module, conf_file, {"token": {"provider": "fernet"}}, module_opts=dict(validate=False))
    assert res.failed and "Unsupported parameters" in res["msg"] and "validate" in res["msg"], res.output
    assert read(conf_file) == before
