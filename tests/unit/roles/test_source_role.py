"""The source role's files as Ansible renders them from the role's data (roles/source/vars/main.yml) and the release
data: the systemd units, the uWSGI inis, the wheelhouse's unit, sudoers, logrotate and the constraints the hosts
get; and the paths the osdeploy role derives for the other roles (osdeploy_host's services and wheelhouse_url).

The play loads the vars files the role runs with and renders its templates, as the template module wrote them
before service.yml became one source_service call and as service.yml and environment.yml now pass them to that
module (they must be the same to the byte: a deployed host converges without a rewrite), into a temporary folder;
nothing is installed. What restarts is the module's (tests/unit/plugins/modules/test_source_service.py).
"""
import configparser
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
ROLE = os.path.join(ROOT, "roles", "source")
RELEASE = "2026.2"
NOVA_VENV = "/opt/osdeploy/venvs/nova-34.0.0"
PLACEMENT_VENV = "/opt/osdeploy/venvs/placement-16.0.0"
CONTROLLER_UNITS = ["nova-api", "nova-api-metadata", "nova-conductor", "nova-scheduler", "nova-novncproxy"]
PLAY = """
- hosts: all
  connection: local
  gather_facts: false
  # the roles' vars (their defaults are the inventory's group_vars/all, below the hosts' variables)
  vars_files:
    - %(root)s/roles/osdeploy/vars/main.yml
    - %(root)s/roles/osdeploy/vars/releases.yml
    - %(root)s/roles/osdeploy/vars/platforms/Debian-13.yml
    - %(root)s/roles/source/vars/main.yml
  vars:
    # what Ansible sets for the role's tasks
    role_path: %(root)s/roles/source
    templates: %(root)s/roles/source/templates
    out: "%(out)s/{{ inventory_hostname }}"
  tasks:
    - name: The release, as the platform step resolves it, on hosts that run nothing yet
      ansible.builtin.set_fact:
        __osdeploy_release: "{{ __osdeploy_releases['%(release)s'] | combine({'name': '%(release)s'}) }}"
        __osdeploy_deployed: {units: {}, releases: []}

    - name: The fact the platform step sets for the other roles, as it sets it
      ansible.builtin.set_fact:
        osdeploy_host: "{{ __osdeploy_host }}"

    - name: A folder per host
      ansible.builtin.file:
        path: "{{ out }}"
        state: directory
        mode: "0755"

    - name: The derived paths and data
      ansible.builtin.copy:
        dest: "{{ out }}/paths.json"
        mode: "0644"
        content: >-
          {{ {'services': osdeploy_host.services,
              'url': osdeploy_host.wheelhouse_url, 'wheelhouse_requirements': __source_wheelhouse_requirements,
              'nova_packages': __source_packages, 'nova_requirements': __source_requirements,
              'nova_links_libvirt': __source_links_libvirt, 'nova_wsgi_units': __source_wsgi_units}
             | to_json }}
      vars:
        source_service: nova

    - name: The units and inis of nova
      ansible.builtin.include_tasks: "%(out)s/render.yml"
      vars:
        source_service: nova

    - name: The units and inis of placement
      ansible.builtin.include_tasks: "%(out)s/render.yml"
      vars:
        source_service: placement
        source_units: [placement-api]

    - name: The wheelhouse's unit and the constraints
      ansible.builtin.template:
        src: "{{ templates }}/{{ item }}.j2"
        dest: "{{ out }}/{{ item }}"
        mode: "0644"
      loop: [osdeploy-wheelhouse.service, constraints.txt]

    - name: The constraints as environment.yml passes them to the source_service module
      ansible.builtin.copy:
        dest: "{{ out }}/constraints.txt-lookup"
        mode: "0644"
        content: "{{ lookup('ansible.builtin.template', 'constraints.txt.j2') }}"
"""
RENDER = """
- name: Units of {{ source_service }}
  ansible.builtin.template:
    src: "{{ templates }}/unit.service.j2"
    dest: "{{ out }}/{{ item }}.service"
    mode: "0644"
  loop: "{{ source_units }}"

- name: uWSGI inis of {{ source_service }}
  ansible.builtin.template:
    src: "{{ templates }}/uwsgi.ini.j2"
    dest: "{{ out }}/{{ __source_uwsgi_ini | basename }}"
    mode: "0644"
  loop: "{{ __source_wsgi_units }}"

- name: sudoers and logrotate of {{ source_service }}
  ansible.builtin.template:
    src: "{{ templates }}/{{ item }}.j2"
    dest: "{{ out }}/{{ item }}-{{ source_service }}"
    mode: "0644"
  loop: [sudoers, logrotate]

- name: The folders and files service.yml passes to the source_service module, of {{ source_service }}
  ansible.builtin.copy:
    dest: "{{ out }}/module-{{ source_service }}.json"
    mode: "0644"
    content: "{{ {'files': __source_service_files, 'directories': __source_service_directories} | to_json }}"
"""
# what the controller and compute roles pass as the role's parameters: host variables here, above the defaults
INVENTORY = """
[controller]
ctl osdeploy_management_ip=10.0.0.11 ansible_python_interpreter={python} source_units='{controller_units}' source_ports='{{"nova-api": 8774}}'
[compute]
cmp osdeploy_management_ip=10.0.0.21 ansible_python_interpreter={python} source_units='["nova-compute"]'
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("source")
    (out / "play.yml").write_text(PLAY % {"root": ROOT, "out": out, "release": RELEASE})
    (out / "render.yml").write_text(RENDER)
    # the play's own templates folder, where the role's lookups (relative names) find them
    os.symlink(os.path.join(ROLE, "templates"), str(out / "templates"))
    inventory = out / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "hosts.ini").write_text(INVENTORY.format(python=sys.executable,
                                                          controller_units=json.dumps(CONTROLLER_UNITS)))
    for role in ("osdeploy", "source"):
        shutil.copy(os.path.join(ROOT, "roles", role, "defaults", "main.yml"),
                    str(inventory / "group_vars" / "all" / (role + ".yml")))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(inventory),
           str(out / "play.yml"), "-e", "osdeploy_install_method=source"]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    return out


def read(rendered, host, name):
    return (rendered / host / name).read_text()


def unit(rendered, host, name):
    """A unit file as {section: {key: [values]}} (systemd allows a key more than once)."""
    sections, current = {}, None
    for line in read(rendered, host, name + ".service").splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, value = line.split("=", 1)
        current.setdefault(key, []).append(value)
    return sections


def ini(rendered, host, name):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(read(rendered, host, name))
    return dict(parser["uwsgi"])


def test_the_derived_paths_name_each_services_versioned_environment(rendered):
    paths = json.loads(read(rendered, "ctl", "paths.json"))
    assert paths["services"] == {
        "nova": {"distribution": "nova", "venv": NOVA_VENV, "bin": NOVA_VENV + "/bin",
                 "python": NOVA_VENV + "/bin/python", "site_packages": NOVA_VENV + "/lib/python3.13/site-packages"},
        "placement": {"distribution": "openstack-placement", "venv": PLACEMENT_VENV, "bin": PLACEMENT_VENV + "/bin",
                      "python": PLACEMENT_VENV + "/bin/python",
                      "site_packages": PLACEMENT_VENV + "/lib/python3.13/site-packages"}}
    # every host installs from the controller's address, the release's folder
    assert paths["url"] == "http://10.0.0.11:8780/2026.2/"
    assert json.loads(read(rendered, "cmp", "paths.json"))["url"] == paths["url"]


def test_the_wheelhouse_holds_every_services_requirements_and_each_venv_its_own(rendered):
    paths = json.loads(read(rendered, "ctl", "paths.json"))
    assert sorted(paths["wheelhouse_requirements"]) == sorted(
        ["nova==34.0.0", "openstack-placement==16.0.0", "PyMySQL", "python-memcached", "pyroute2"])
    assert paths["nova_requirements"] == ["nova==34.0.0", "PyMySQL", "python-memcached", "pyroute2"]


def test_debians_libvirt_binding_and_each_units_packages_go_where_they_are_used(rendered):
    controller = json.loads(read(rendered, "ctl", "paths.json"))
    compute = json.loads(read(rendered, "cmp", "paths.json"))
    assert controller["nova_links_libvirt"] is False and compute["nova_links_libvirt"] is True
    assert controller["nova_packages"] == ["python3-venv", "sudo", "uwsgi-core", "uwsgi-plugin-python3", "novnc"]
    assert compute["nova_packages"] == ["python3-venv", "sudo", "python3-libvirt", "qemu-utils", "genisoimage",
                                        "openssh-client"]
    assert controller["nova_wsgi_units"] == ["nova-api", "nova-api-metadata"] and compute["nova_wsgi_units"] == []


@pytest.mark.parametrize("name, command", [
    ("nova-conductor", NOVA_VENV + "/bin/nova-conductor --config-file=/etc/nova/nova.conf "
                                   "--log-file=/var/log/nova/nova-conductor.log"),
    ("nova-scheduler", NOVA_VENV + "/bin/nova-scheduler --config-file=/etc/nova/nova.conf "
                                   "--log-file=/var/log/nova/nova-scheduler.log"),
])
def test_the_controllers_rpc_services_run_from_the_environment_and_notify(rendered, name, command):
    service = unit(rendered, "ctl", name)["Service"]
    assert service["ExecStart"] == [command]
    assert service["Type"] == ["notify"] and service["NotifyAccess"] == ["all"]
    assert service["User"] == ["nova"] and service["Group"] == ["nova"]
    # above nova 34's graceful_shutdown_timeout (180)
    assert int(service["TimeoutStopSec"][0]) > 180
    assert service["Environment"] == ["OS_OSLO_MESSAGING_RABBIT__PROCESSNAME=" + name]


def test_nova_compute_reads_both_files_waits_for_libvirtd_and_does_not_wait_for_a_notification(rendered):
    sections = unit(rendered, "cmp", "nova-compute")
    assert sections["Service"]["ExecStart"] == [
        NOVA_VENV + "/bin/nova-compute --config-file=/etc/nova/nova.conf --config-file=/etc/nova/nova-compute.conf "
        "--log-file=/var/log/nova/nova-compute.log"]
    # nova-compute 34 never says READY=1 (its service runs in the main process): not a notify unit
    assert sections["Service"]["Type"] == ["simple"] and "NotifyAccess" not in sections["Service"]
    assert int(sections["Service"]["TimeoutStopSec"][0]) > 180
    assert sections["Unit"]["After"] == ["network-online.target libvirtd.service"]
    assert sections["Unit"]["Wants"] == ["network-online.target libvirtd.service"]
    assert sections["Install"]["WantedBy"] == ["multi-user.target"]


def test_the_novnc_proxy_serves_debians_novnc_files(rendered):
    service = unit(rendered, "ctl", "nova-novncproxy")["Service"]
    assert service["ExecStart"] == [NOVA_VENV + "/bin/nova-novncproxy --config-file=/etc/nova/nova.conf "
                                    "--log-file=/var/log/nova/nova-novncproxy.log --web /usr/share/novnc"]
    assert service["Type"] == ["simple"] and "NotifyAccess" not in service


@pytest.mark.parametrize("host, name, service, venv, module, port", [
    ("ctl", "nova-api", "nova", "/opt/osdeploy/venvs/nova", "nova.wsgi.osapi_compute:application", 8774),
    ("ctl", "nova-api-metadata", "nova", "/opt/osdeploy/venvs/nova", "nova.wsgi.metadata:application", 8775),
    ("ctl", "placement-api", "placement", "/opt/osdeploy/venvs/placement", "placement.wsgi.api:application", 8778),
])
def test_the_apis_are_served_by_debians_uwsgi_from_the_environment_by_its_link(rendered, host, name, service, venv,
                                                                               module, port):
    path = "/etc/%s/%s-uwsgi.ini" % (service, name)
    sections = unit(rendered, host, name)
    assert sections["Service"]["ExecStart"] == ["/usr/bin/uwsgi --ini " + path]
    assert sections["Service"]["Type"] == ["simple"] and sections["Service"]["User"] == [service]
    settings = ini(rendered, host, os.path.basename(path))
    # neither the ini nor the unit names a version (not even in a comment): another release moves the link and
    # leaves both as they are, so that the API reloads worker by worker instead of restarting
    for name_of_file in (os.path.basename(path), name + ".service"):
        assert not re.search(r"venvs/%s-[0-9]" % os.path.basename(venv), read(rendered, host, name_of_file))
    # the plugin first: uWSGI knows virtualenv and module once it is loaded
    assert list(settings)[:3] == ["plugins", "virtualenv", "module"]
    assert settings["plugins"] == "python3" and settings["virtualenv"] == venv and settings["module"] == module
    # TLS is on by default: uWSGI serves HTTPS with the host's certificate and key
    assert settings["https-socket"] == "10.0.0.11:%d,/etc/osdeploy/tls/host.crt,/etc/osdeploy/tls/host.key" % port
    assert "http-socket" not in settings
    assert (settings["processes"], settings["threads"]) == ("2", "1")
    for key in ("master", "lazy-apps", "die-on-term", "enable-threads"):
        assert settings[key] == "true", key
    assert settings["uid"] == settings["gid"] == service and settings["chdir"] == "/var/lib/" + service
    assert settings["logto"] == "/var/log/%s/%s.log" % (service, name)
    assert settings["add-header"] == "Connection: close" and settings["buffer-size"] == "65535"


def test_the_wheelhouse_is_served_read_only_on_the_management_address_by_a_user_of_its_own(rendered):
    service = unit(rendered, "ctl", "osdeploy-wheelhouse")["Service"]
    assert service["ExecStart"] == ["/usr/bin/python3 -I -m http.server --bind 10.0.0.11 "
                                    "--directory /var/cache/osdeploy/wheelhouse 8780"]
    assert service["DynamicUser"] == ["yes"] and service["ProtectSystem"] == ["strict"]
    assert service["CapabilityBoundingSet"] == [""] and service["NoNewPrivileges"] == ["yes"]


def test_the_hosts_constraints_are_upstreams_with_the_release_pins_appended(rendered):
    text = read(rendered, "ctl", "constraints.txt")
    with open(os.path.join(ROOT, "roles", "osdeploy", "files", "constraints", RELEASE + ".txt")) as f:
        upstream = f.read()
    assert text.startswith(upstream.rstrip("\n") + "\n")
    pins = yaml.safe_load(open(os.path.join(ROOT, "roles", "osdeploy", "vars", "releases.yml")))[
        "__osdeploy_releases"][RELEASE]["source"]["pins"]
    added = [line for line in text[len(upstream):].splitlines() if line and not line.startswith("#")]
    assert added == ["%s===%s" % item for item in pins.items()]


def test_sudo_finds_rootwrap_and_privsep_in_the_environment(rendered):
    text = read(rendered, "ctl", "sudoers-nova")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines == [
        'Defaults:nova secure_path="%s/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"' % NOVA_VENV,
        "nova ALL = (root) NOPASSWD: %s/bin/nova-rootwrap /etc/nova/rootwrap.conf *" % NOVA_VENV,
        "nova ALL = (root) NOPASSWD: %s/bin/privsep-helper *" % NOVA_VENV,
    ]
    visudo = shutil.which("visudo") or ("/usr/sbin/visudo" if os.path.exists("/usr/sbin/visudo") else None)
    if visudo:
        check = subprocess.run([visudo, "-cf", str(rendered / "ctl" / "sudoers-nova")], capture_output=True, text=True,
                               check=False)
        assert check.returncode == 0, check.stdout + check.stderr


def test_logrotate_as_debians_common_packages(rendered):
    nova = read(rendered, "ctl", "logrotate-nova")
    placement = read(rendered, "ctl", "logrotate-placement")
    assert "/var/log/nova/*.log {" in nova and "copytruncate" in nova and "notifempty" not in nova
    assert "/var/log/placement/*.log {" in placement and "notifempty" in placement


def test_every_unit_has_its_data():
    data = yaml.safe_load(open(os.path.join(ROLE, "vars", "main.yml")))["__source_unit_data"]
    assert set(data) == {"nova-api", "nova-api-metadata", "nova-conductor", "nova-scheduler", "nova-novncproxy",
                         "nova-compute", "placement-api"}
    for name, entry in data.items():
        assert entry["service"] in ("nova", "placement") and name.startswith(entry["service"])
        assert ("wsgi" in entry) != ("command" in entry), name
        assert isinstance(entry["stop_timeout"], int), name


@pytest.mark.parametrize("host, service", [("ctl", "nova"), ("ctl", "placement"), ("cmp", "nova")])
def test_the_module_gets_byte_for_byte_what_the_template_module_wrote(rendered, host, service):
    """A deployed host converges: the files service.yml passes to source_service are what the template tasks it
    replaces wrote, to the byte (each template rendered with its unit as item), with their owners and modes."""
    data = json.loads(read(rendered, host, "module-%s.json" % service))
    units = {"ctl": {"nova": CONTROLLER_UNITS, "placement": ["placement-api"]}, "cmp": {"nova": ["nova-compute"]}}
    wanted = {}
    for name in units[host][service]:
        wanted["/etc/systemd/system/%s.service" % name] = (name + ".service", "root", "0644", name)
        if name in ("nova-api", "nova-api-metadata", "placement-api"):
            wanted["/etc/%s/%s-uwsgi.ini" % (service, name)] = (name + "-uwsgi.ini", service, "0640", name)
    if service == "nova":
        wanted["/etc/sudoers.d/nova"] = ("sudoers-nova", "root", "0440", None)
    wanted["/etc/logrotate.d/" + service] = ("logrotate-" + service, "root", "0644", None)
    assert sorted(entry["path"] for entry in data["files"]) == sorted(wanted)
    for entry in data["files"]:
        name, group, mode, unit = wanted[entry["path"]]
        assert entry["content"] == read(rendered, host, name), entry["path"]
        assert (entry["owner"], entry["group"], entry["mode"], entry.get("unit")) == ("root", group, mode, unit)
    assert [entry.get("validate") for entry in data["files"] if entry["path"] == "/etc/sudoers.d/nova"] == (
        ["/usr/sbin/visudo -cf %s"] if service == "nova" else [])
    assert data["directories"] == ([{"path": "/etc/nova/rootwrap.d", "owner": "root", "group": "root",
                                     "mode": "0755"}] if service == "nova" else [])


def test_the_constraints_as_the_module_gets_them_are_what_the_template_wrote(rendered):
    assert read(rendered, "ctl", "constraints.txt-lookup") == read(rendered, "ctl", "constraints.txt")
