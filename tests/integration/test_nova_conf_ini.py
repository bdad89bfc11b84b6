"""nova_conf_ini through Ansible, validated against the real option schema of Debian's Zed nova.

The module runs on the machine's /usr/bin/python3 with python3-nova 26.2.2, python3-oslo.config
and python3-keystoneauth1 (tools/apt-packages.txt). Files are copies in a temporary folder:
Debian's own sample nova.conf (/usr/share/nova-common/nova.conf, 8900 lines of comments) and the
nova-compute.conf that Debian's nova-compute-kvm installs. What Nova would read from a written
file is checked with oslo.config itself.
"""
import grp
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile

import pytest

from conftest import DEPRECATIONS_SHOWN, TARGET_PYTHON, assert_no_deprecation

from ansible_collections.osdeploy.nova.plugins.module_utils.credentials import build_url, db_url

DEBIAN_NOVA_CONF = "/usr/share/nova-common/nova.conf"
# /etc/nova/nova-compute.conf as Debian 12's nova-compute-kvm 26.2.2 ships it
DEBIAN_NOVA_COMPUTE_CONF = "\n".join([
    "[DEFAULT]",
    "compute_driver=libvirt.LibvirtDriver",
    "neutron_ovs_bridge=br-int",
    "[libvirt]",
    "virt_type=kvm",
    "vif_driver=nova.virt.libvirt.vif.LibvirtGenericVIFDriver",
    "use_virtio_for_bridges=true",
    "# This may be needed for ",  # sic, with the trailing space
    "#cpu_mode=host-passthrough",
    "",
])

NOVA_PASS = "N0va$PASS%@:/'\"x"        # a '$', URL delimiters and quotes
NOVA_DB_PASS = "db$pw@:/%x"
RABBIT_PASS = "rab$bit:@/pw"
PLACEMENT_PASS = "Pl4cement$"
SECRETS = (NOVA_PASS, NOVA_DB_PASS, RABBIT_PASS, PLACEMENT_PASS)


def controller_settings(my_ip="10.0.0.11"):
    """What the guides set in nova.conf on a controller (~40 settings)."""
    auth = dict(auth_url="http://controller:5000/v3", auth_type="password", project_domain_name="Default",
                user_domain_name="Default", project_name="service")
    return {
        "api_database": {"connection": db_url("nova", NOVA_DB_PASS, "controller", "nova_api")},
        "database": {"connection": db_url("nova", NOVA_DB_PASS, "controller", "nova")},
        "DEFAULT": {"transport_url": build_url("rabbit", "openstack", RABBIT_PASS, "controller", port=5672),
                    "my_ip": my_ip, "enabled_apis": ["osapi_compute", "metadata"]},
        "api": {"auth_strategy": "keystone"},
        "keystone_authtoken": dict(auth, www_authenticate_uri="http://controller:5000/",
                                   memcached_servers="controller:11211", username="nova", password=NOVA_PASS),
        "service_user": dict(auth, send_service_user_token=True, username="nova", password=NOVA_PASS),
        "vnc": {"enabled": True, "server_listen": "$my_ip", "server_proxyclient_address": "$my_ip",
                "novncproxy_base_url": "http://controller:6080/vnc_auto.html"},
        "glance": {"api_servers": "http://controller:9292"},
        "oslo_concurrency": {"lock_path": "/var/lib/nova/tmp"},
        "placement": dict(auth, region_name="RegionOne", username="placement", password=PLACEMENT_PASS),
        "neutron": {"region_name": "RegionOne"},
        "cinder": {"os_region_name": "RegionOne"},
        "scheduler": {"discover_hosts_in_cells_interval": 300},
    }


def count_settings(settings):
    return sum(len(options) for options in settings.values())


@pytest.fixture(scope="module")
def workdir():
    path = tempfile.mkdtemp(prefix="osdeploy-novaconf-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def cache_dir(workdir):
    return os.path.join(workdir, "schema-cache")


@pytest.fixture
def conf_file(workdir, request):
    """A fresh copy of Debian's sample nova.conf, root:root 0644 like a file just copied in place."""
    path = os.path.join(workdir, "%s.conf" % request.node.name)
    shutil.copyfile(DEBIAN_NOVA_CONF, path)
    os.chown(path, 0, 0)
    os.chmod(path, 0o644)
    return path


def call(ansible_module, cache_dir, path, settings, **kwargs):
    module_opts = dict(kwargs.pop("module_opts", {}))
    args = dict(path=path, settings=settings, schema_cache_dir=cache_dir)
    args.update(module_opts)
    return ansible_module("nova_conf_ini", args, **kwargs)


def digest(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def read(path):
    with open(path) as handle:
        return handle.read()


OSLO_READ = r"""
import json, sys
import nova.conf
from oslo_config import cfg
conf = nova.conf.CONF
conf.register_opts([cfg.StrOpt('transport_url', secret=True)])
for group in ('keystone_authtoken', 'placement', 'service_user'):
    try:
        conf.register_opts([cfg.StrOpt('password', secret=True), cfg.StrOpt('username')], group=group)
    except cfg.DuplicateOptError:
        pass
conf([], project='nova', default_config_files=sys.argv[1:])
out = {}
for name in json.loads(sys.stdin.read()):
    group, option = name.split('.')
    node = conf if group == 'DEFAULT' else getattr(conf, group)
    value = getattr(node, option)
    out[name] = value if isinstance(value, (str, bool, int, list, type(None))) else str(value)
print(json.dumps(out))
"""


def oslo_values(names, *files):
    """What Nova's own oslo.config reads from `files` (later files win, as with nova-compute.conf)."""
    proc = subprocess.run([TARGET_PYTHON, "-c", OSLO_READ] + list(files), input=json.dumps(names),
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


# ------------------------------------------------------------------ the controller's nova.conf


def test_controller_settings_written_as_nova_reads_them(ansible_module, cache_dir, conf_file):
    settings = controller_settings()
    assert count_settings(settings) >= 40
    original = read(conf_file).splitlines()
    res = call(ansible_module, cache_dir, conf_file, settings)
    assert not res.failed, res.output
    assert res["changed"] is True
    assert res["validated"] is True and "Nova 26.2.2" in res["validation"]
    assert res["schema"]["nova_version"] == "26.2.2"
    # every setting is reported, except those the Debian sample already has with the same value
    expected = set("%s.%s" % (s, o) for s, opts in settings.items() for o in opts)
    already = {"keystone_authtoken.auth_type", "keystone_authtoken.project_domain_name",
               "keystone_authtoken.user_domain_name", "keystone_authtoken.project_name",
               "keystone_authtoken.username", "placement.auth_type", "placement.project_name"}
    assert set(res["changed_options"]) == expected - already
    # nothing of the original got lost: its lines are still there, in order, except the replaced values
    new = read(conf_file).splitlines()
    replaced = {"connection = sqlite:////var/lib/nova/novadb",
                "auth_url = http://localhost:5000", "www_authenticate_uri = http://localhost:5000",
                "region_name = regionOne", "auth_url = http://localhost:5000/v3", "username = =",
                "os_region_name = regionOne", "project_domain_name = default", "user_domain_name = default",
                "lock_path = /var/lock/nova"}
    kept = [line for line in original if line not in replaced]
    it = iter(new)
    assert all(line in it for line in kept), "an original line is missing or out of order"
    assert sum(1 for line in original if line.startswith("#")) == sum(1 for line in new if line.startswith("#"))
    # the new option sits right after its commented default
    assert "#transport_url = rabbit://\ntransport_url = rabbit://" in read(conf_file)
    # what Nova reads: secrets literally ($ written as $$), $my_ip substituted, lists comma-joined
    values = oslo_values(["DEFAULT.transport_url", "database.connection", "api_database.connection",
                          "vnc.server_proxyclient_address", "vnc.server_listen", "DEFAULT.enabled_apis",
                          "keystone_authtoken.password", "placement.password", "placement.username",
                          "service_user.send_service_user_token"], conf_file)
    assert values == {
        "DEFAULT.transport_url": settings["DEFAULT"]["transport_url"],
        "database.connection": settings["database"]["connection"],
        "api_database.connection": settings["api_database"]["connection"],
        "vnc.server_proxyclient_address": "10.0.0.11",
        "vnc.server_listen": "10.0.0.11",
        "DEFAULT.enabled_apis": ["osapi_compute", "metadata"],
        "keystone_authtoken.password": NOVA_PASS,
        "placement.password": PLACEMENT_PASS,
        "placement.username": "placement",
        "service_user.send_service_user_token": True,
    }
    st = os.stat(conf_file)
    assert (pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name, oct(st.st_mode & 0o7777)) == (
        "root", "nova", "0o640")

    # idempotence: a second run, and a check-mode run, change nothing
    before = digest(conf_file)
    again = call(ansible_module, cache_dir, conf_file, settings)
    assert again["changed"] is False and again["changed_options"] == [], again.output
    assert again["schema"]["source"] == "cache"
    checked = call(ansible_module, cache_dir, conf_file, settings, check=True, diff=True)
    assert checked["changed"] is False
    assert digest(conf_file) == before


def test_check_mode_predicts_and_writes_nothing(ansible_module, cache_dir, conf_file):
    before, mtime = digest(conf_file), os.stat(conf_file).st_mtime_ns
    res = call(ansible_module, cache_dir, conf_file, {"DEFAULT": {"my_ip": "10.0.0.12"}}, check=True)
    assert res["changed"] is True and res["changed_options"] == ["DEFAULT.my_ip"]
    assert digest(conf_file) == before and os.stat(conf_file).st_mtime_ns == mtime
    st = os.stat(conf_file)
    assert (st.st_gid, st.st_mode & 0o777) == (0, 0o644)  # attributes untouched too


def test_owner_group_mode_alone_is_a_change(ansible_module, cache_dir, conf_file):
    settings = {"DEFAULT": {"state_path": "/var/lib/nova"}}  # what the sample already has
    res = call(ansible_module, cache_dir, conf_file, settings, diff=True)
    assert res["changed"] is True and res["changed_options"] == []
    st = os.stat(conf_file)
    assert (st.st_uid, grp.getgrgid(st.st_gid).gr_name, st.st_mode & 0o7777) == (0, "nova", 0o640)
    again = call(ansible_module, cache_dir, conf_file, settings)
    assert again["changed"] is False
    other = call(ansible_module, cache_dir, conf_file, settings, module_opts=dict(mode="0600", group="root"))
    assert other["changed"] is True and os.stat(conf_file).st_mode & 0o7777 == 0o600


# ------------------------------------------------------------------ the guides' mistakes


def test_guide_typos_fail_with_the_right_suggestion(ansible_module, cache_dir, conf_file):
    before = digest(conf_file)
    res = call(ansible_module, cache_dir, conf_file, {"keystone_authstoken": {"username": "nova"}})
    assert res.failed and res["changed"] is False
    assert "[keystone_authstoken] is not a section Nova 26.2.2 reads (did you mean [keystone_authtoken]?)" \
        in res["msg"]
    res = call(ansible_module, cache_dir, conf_file, {"vnc": {"vncserver_proxycient_address": "$my_ip"}})
    assert res.failed and res["changed"] is False
    assert "[vnc] vncserver_proxycient_address is not an option of Nova 26.2.2 " \
           "(did you mean [vnc] server_proxyclient_address?)" in res["msg"]
    assert digest(conf_file) == before


def test_options_gone_in_zed_fail(ansible_module, cache_dir, conf_file):
    before = digest(conf_file)
    res = call(ansible_module, cache_dir, conf_file, {
        "DEFAULT": {"use_neutron": True, "firewall_driver": "nova.virt.firewall.NoopFirewallDriver",
                    "vncserver_listen": "0.0.0.0", "rpc_backend": "rabbit", "auth_strategy": "keystone"},
        "vnc": {"vncserver_listen": "$my_ip"}})
    assert res.failed and res["changed"] is False
    errors = res["errors"]
    assert len(errors) == 6, errors
    assert any("[DEFAULT] use_neutron is not an option of Nova 26.2.2 (nova-network was removed" in e for e in errors)
    assert any("[DEFAULT] firewall_driver is not an option" in e for e in errors)
    assert any("[DEFAULT] rpc_backend is not an option" in e and "transport_url" in e for e in errors)
    assert "[DEFAULT] vncserver_listen is not an option of Nova 26.2.2 (did you mean [vnc] server_listen" \
        in res["msg"]
    assert "[vnc] vncserver_listen is not an option of Nova 26.2.2 (did you mean [vnc] server_listen?)" \
        in res["msg"]
    assert "[DEFAULT] auth_strategy is not an option of Nova 26.2.2 (did you mean [api] auth_strategy?)" \
        in res["msg"]
    assert digest(conf_file) == before


def test_deprecated_options_warn_naming_the_replacement(ansible_module, cache_dir, conf_file):
    res = call(ansible_module, cache_dir, conf_file, {
        "keystone_authtoken": {"auth_uri": "http://controller:5000/"},
        "DEFAULT": {"novncproxy_base_url": "http://controller:6080/vnc_auto.html"}})
    assert not res.failed and res["changed"] is True
    warnings = "\n".join(res["module_warnings"])
    assert "[keystone_authtoken] auth_uri is deprecated for removal" in warnings
    assert "www_authenticate_uri" in warnings
    assert "[DEFAULT] novncproxy_base_url is a deprecated name in Nova 26.2.2: use [vnc] novncproxy_base_url" \
        in warnings


def test_values_of_the_wrong_type_fail(ansible_module, cache_dir, conf_file):
    before = digest(conf_file)
    res = call(ansible_module, cache_dir, conf_file, {
        "DEFAULT": {"debug": "maybe", "enabled_apis": ["osapi_compute", "ec2"]},
        "vnc": {"novncproxy_port": "http", "novncproxy_base_url": "not a url", "server_listen": "10.0.0.300"},
        "libvirt": {"virt_type": "xen"},
        "placement": {"password": ["a", "b"]}})
    assert res.failed and res["changed"] is False
    msg = res["msg"]
    assert "[DEFAULT] debug = maybe: expected a boolean (true or false)" in msg
    assert "[DEFAULT] enabled_apis = osapi_compute,ec2: list item 'ec2': expected one of osapi_compute, metadata" \
        in msg
    assert "[vnc] server_listen = 10.0.0.300: expected an IP address or host name" in msg
    assert "[vnc] novncproxy_port = http: expected a port number (integer)" in msg
    assert "[vnc] novncproxy_base_url = not a url: expected a URI" in msg
    assert "[libvirt] virt_type = xen: expected one of kvm, lxc, qemu, parallels" in msg
    assert "[placement] password: got a list, but this option takes a single value" in msg
    assert len(res["errors"]) == 7
    assert digest(conf_file) == before


def test_validate_false_writes_what_it_is_given(ansible_module, cache_dir, conf_file):
    res = call(ansible_module, cache_dir, conf_file, {"keystone_authstoken": {"username": "nova"}},
               module_opts=dict(validate=False))
    assert not res.failed and res["changed"] is True and res["validated"] is False
    assert "validation disabled" in res["validation"]
    assert read(conf_file).endswith("\n[keystone_authstoken]\nusername = nova\n")


# ------------------------------------------------------------------ secrets


def test_secrets_masked_in_diff_and_verbose_output(ansible_module, cache_dir, conf_file):
    settings = controller_settings()
    settings["DEFAULT"]["state_path"] = "/var/lib/nova-CUSTOM-SECRET"
    res = call(ansible_module, cache_dir, conf_file, settings, diff=True, verbosity=3,
               module_opts=dict(secret_options=["DEFAULT.state_path"]))
    assert not res.failed and res["changed"] is True
    assert "password = ********\n" in res.output or "+password = ********" in res.output
    assert "transport_url = ********" in res.output
    assert "+my_ip = 10.0.0.11" in res.output  # the diff itself is there
    leaks = [s for s in SECRETS for form in (s, s.replace("$", "$$"), build_url("x", "u", s, "h")[9:-2])
             if form in res.output]
    assert leaks == []
    assert "CUSTOM-SECRET" not in res.output
    # a changed password shows as changed, still masked
    settings["keystone_authtoken"]["password"] = NOVA_PASS + "2"
    res = call(ansible_module, cache_dir, conf_file, settings, diff=True, verbosity=3,
               module_opts=dict(secret_options=["DEFAULT.state_path"]))
    assert res["changed"] is True and res["changed_options"] == ["keystone_authtoken.password"]
    assert "+password = ******** (changed)" in res.output
    assert all(s not in res.output for s in SECRETS + (NOVA_PASS + "2",))


def test_literal_options_and_references(ansible_module, cache_dir, conf_file):
    settings = {"DEFAULT": {"instance_name_template": "inst-$id", "my_ip": "10.1.1.1"},
                "vnc": {"server_listen": "$my_ip", "novncproxy_base_url": "http://${vnc.server_listen}:6080/"}}
    res = call(ansible_module, cache_dir, conf_file, settings,
               module_opts=dict(literal_options=["DEFAULT.instance_name_template"]))
    assert not res.failed and res["changed"] is True
    assert "instance_name_template = inst-$$id" in read(conf_file)
    values = oslo_values(["DEFAULT.instance_name_template", "vnc.server_listen", "vnc.novncproxy_base_url"],
                         conf_file)
    assert values == {"DEFAULT.instance_name_template": "inst-$id", "vnc.server_listen": "10.1.1.1",
                      "vnc.novncproxy_base_url": "http://10.1.1.1:6080/"}
    before = digest(conf_file)
    bad = call(ansible_module, cache_dir, conf_file, {"vnc": {"server_listen": "$my_ipp",
                                                              "server_proxyclient_address": "${DEFAULT.my_ip}"}})
    assert bad.failed and bad["changed"] is False
    assert "[vnc] server_listen = $my_ipp: '$my_ipp' refers to no option (did you mean $my_ip?)" in bad["msg"]
    assert "'${DEFAULT.my_ip}': oslo.config has no group named DEFAULT for references; write $my_ip" in bad["msg"]
    assert digest(conf_file) == before


# ------------------------------------------------------------------ nova-compute.conf, duplicates, failures


def test_nova_compute_conf(ansible_module, cache_dir, workdir):
    path = os.path.join(workdir, "nova-compute.conf")
    with open(path, "w") as handle:
        handle.write(DEBIAN_NOVA_COMPUTE_CONF)
    res = call(ansible_module, cache_dir, path, {"libvirt": {"virt_type": "qemu"}})
    assert not res.failed and res["changed"] is True and res["changed_options"] == ["libvirt.virt_type"]
    warnings = "\n".join(res["module_warnings"])
    assert "line 3: [DEFAULT] neutron_ovs_bridge is not an option of Nova 26.2.2" in warnings
    assert "line 6: [libvirt] vif_driver is not an option of Nova 26.2.2" in warnings
    assert read(path) == DEBIAN_NOVA_COMPUTE_CONF.replace("virt_type=kvm", "virt_type=qemu")
    res = call(ansible_module, cache_dir, path, {"libvirt": {"virt_type": "qemu", "vif_driver": None},
                                                 "DEFAULT": {"neutron_ovs_bridge": None}})
    assert res["changed"] is True
    assert sorted(res["changed_options"]) == ["DEFAULT.neutron_ovs_bridge", "libvirt.vif_driver"]
    assert not any("not an option" in w for w in res["module_warnings"] if "removing" not in w)
    # nova-compute reads nova.conf, then nova-compute.conf: the value here wins
    nova_conf = os.path.join(workdir, "nova-for-compute.conf")
    with open(nova_conf, "w") as handle:
        handle.write("[libvirt]\nvirt_type = kvm\n")
    assert oslo_values(["libvirt.virt_type"], nova_conf, path) == {"libvirt.virt_type": "qemu"}
    again = call(ansible_module, cache_dir, path, {"libvirt": {"virt_type": "qemu", "vif_driver": None},
                                                   "DEFAULT": {"neutron_ovs_bridge": None}})
    assert again["changed"] is False


def test_duplicates_are_collapsed_and_reported(ansible_module, cache_dir, workdir):
    path = os.path.join(workdir, "dups.conf")
    with open(path, "w") as handle:
        handle.write("[DEFAULT]\nmy_ip = 10.0.0.1\ndebug = true\nmy_ip = 10.0.0.2\ndebug = false\n")
    res = call(ansible_module, cache_dir, path, {"DEFAULT": {"my_ip": "10.0.0.2"}})
    assert res["changed"] is True and res["collapsed"] == ["DEFAULT.my_ip"]
    warnings = "\n".join(res["module_warnings"])
    assert "DEFAULT.my_ip appeared 2 times in its section; collapsed into one line" in warnings
    assert "[DEFAULT] debug is set 2 times" in warnings
    assert read(path) == "[DEFAULT]\nmy_ip = 10.0.0.2\ndebug = true\ndebug = false\n"


def test_new_file_and_backup(ansible_module, cache_dir, workdir):
    path = os.path.join(workdir, "new.conf")
    res = call(ansible_module, cache_dir, path, {"DEFAULT": {"debug": True}})
    assert res["changed"] is True and read(path) == "[DEFAULT]\ndebug = true\n"
    assert os.stat(path).st_mode & 0o777 == 0o640
    res = call(ansible_module, cache_dir, path, {"DEFAULT": {"debug": False}}, module_opts=dict(backup=True))
    assert res["changed"] is True and read(res["backup_file"]) == "[DEFAULT]\ndebug = true\n"


def test_failed_runs_leave_the_file_intact(ansible_module, cache_dir, conf_file, workdir):
    before = digest(conf_file)
    for settings, opts, message in (
        ({"DEFAULT": {"debug": "maybe"}}, {}, "expected a boolean"),
        ({"DEFA]ULT": {"debug": True}}, {}, "cannot appear in an INI section header"),
        ({"DEFAULT": {"debug\nx": True}}, {}, "contains '\\n'"),
        ({"DEFAULT": {"a=b": True}}, {}, "would end the option name"),
        ({"DEFAULT": "debug"}, {}, "must be a mapping of option"),
        ({"DEFAULT": {"host": "a\nb"}}, {}, "line break"),
        ({"DEFAULT": {"debug": True}}, {"group": "no-such-group-x"}, "group 'no-such-group-x' does not exist"),
    ):
        res = call(ansible_module, cache_dir, conf_file, settings, module_opts=opts)
        assert res.failed and res["changed"] is False, res.output
        assert message in res["msg"], res["msg"]
    assert digest(conf_file) == before
    broken = os.path.join(workdir, "broken.conf")
    with open(broken, "w") as handle:
        handle.write("[DEFAULT]\ndebug = true\nthis line is not an option\n")
    res = call(ansible_module, cache_dir, broken, {"DEFAULT": {"debug": False},
                                                   "placement": {"password": PLACEMENT_PASS}}, verbosity=3)
    assert res.failed and "line 3: no '=' or ':'" in res["msg"]
    assert PLACEMENT_PASS not in res.output and "module_args" in res.output
    assert read(broken).endswith("this line is not an option\n")


def test_without_nova_it_says_it_could_not_validate(ansible_module, cache_dir, workdir, monkeypatch):
    """The controller venv's Python has no nova: the module must still write, and say so."""
    import sys

    import conftest

    monkeypatch.setattr(conftest, "TARGET_PYTHON", sys.executable)
    path = os.path.join(workdir, "nonova.conf")
    res = call(ansible_module, cache_dir, path, {"keystone_authstoken": {"password": "s3cr3t-x"}})
    assert not res.failed and res["changed"] is True, res.output
    assert res["validated"] is False and "could not validate" in res["validation"]
    assert any("could not validate the settings against Nova's options" in w for w in res["module_warnings"])
    assert "s3cr3t-x" not in res.output
    assert read(path) == "[keystone_authstoken]\npassword = s3cr3t-x\n"


def test_nova_conf_ini_by_its_name_writes_as_service_conf_ini_with_no_deprecation_warning(
        ansible_module, cache_dir, conf_file):
    """osdeploy.nova.nova_conf_ini is a module of its own (no redirect, no warning). For settings Nova knows it
    writes what the plain service_conf_ini writes, and only it says that it checked them."""
    settings = {"DEFAULT": {"my_ip": "10.0.0.11"}, "keystone_authtoken": {"password": NOVA_PASS}}
    args = dict(path=conf_file, settings=settings, schema_cache_dir=cache_dir)
    plain_args = dict(path=conf_file, settings=settings, group="nova")
    nova = ansible_module("nova_conf_ini", args, check=True, diff=True, env=DEPRECATIONS_SHOWN)
    plain = ansible_module("service_conf_ini", plain_args, check=True, diff=True, env=DEPRECATIONS_SHOWN)
    assert not nova.failed and not plain.failed, nova.output + plain.output
    assert_no_deprecation(nova)
    assert_no_deprecation(plain)
    assert nova["validated"] is True and "Nova 26.2.2" in nova["validation"]
    assert "validated" not in plain and "validation" not in plain and "schema" not in plain
    strip = ("invocation", "deprecations", "warnings", "schema", "validated", "validation")

    def comparable(result):
        return dict((k, v) for k, v in result.items() if k not in strip)

    assert comparable(nova) == comparable(plain)
    assert nova["changed"] is True and sorted(nova["changed_options"]) == ["DEFAULT.my_ip", "keystone_authtoken.password"]
    before = digest(conf_file)
    real = ansible_module("nova_conf_ini", args, env=DEPRECATIONS_SHOWN)
    assert not real.failed and real["changed"] is True, real.output
    assert_no_deprecation(real)
    assert digest(conf_file) != before
    assert ansible_module("service_conf_ini", plain_args)["changed"] is False
    for text in (nova.output, plain.output, real.output):
        assert NOVA_PASS not in text
