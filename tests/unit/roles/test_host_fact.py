"""osdeploy_host, the fact the platform step sets for the other roles, holds what the osdeploy role's private
variables it replaced hold, to the value: a source install with TLS, and Debian's packages without.

The play loads the osdeploy role's vars and the platform's data as the platform step does, sets the release and
what the host runs as it does, then the fact from __osdeploy_host; nothing is installed."""
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PLAY = """
- hosts: all
  connection: local
  gather_facts: false
  vars_files:
    - %(root)s/roles/osdeploy/vars/main.yml
    - %(root)s/roles/osdeploy/vars/releases.yml
    - %(root)s/roles/osdeploy/vars/platforms/Debian-13.yml
  tasks:
    - name: The release and what the host runs, as the platform step reads them
      ansible.builtin.set_fact:
        __osdeploy_release: "{{ __osdeploy_releases[release] | combine({'name': release}) }}"
        __osdeploy_deployed: {units: {}, releases: []}

    - name: The fact, as the platform step sets it
      ansible.builtin.set_fact:
        osdeploy_host: "{{ __osdeploy_host }}"

    - name: The fact and the variables it replaced
      ansible.builtin.copy:
        dest: "%(out)s/{{ inventory_hostname }}.json"
        mode: "0644"
        content: >-
          {{ {'fact': osdeploy_host,
              'private': {'platform': __osdeploy_platform, 'platform_data': __osdeploy_platform_data,
                          'release': __osdeploy_release, 'releases': __osdeploy_releases,
                          'deployed': __osdeploy_deployed, 'services': __osdeploy_source_services,
                          'venv': __osdeploy_venv, 'bin': __osdeploy_bin, 'python': __osdeploy_python,
                          'site_packages': __osdeploy_site_packages, 'wheelhouse_url': __osdeploy_wheelhouse_url,
                          'tls': osdeploy_tls | bool, 'ca_file': __osdeploy_tls_ca_file,
                          'cert_file': __osdeploy_tls_cert_file, 'key_file': __osdeploy_tls_key_file,
                          'group': __osdeploy_tls_group, 'scheme': __osdeploy_api_scheme,
                          'cafile': __osdeploy_api_cafile, 'urls': __osdeploy_api_urls,
                          'db_query': __osdeploy_db_query, 'messaging_tls': __osdeploy_messaging_tls,
                          'option': __osdeploy_uwsgi_socket_option, 'suffix': __osdeploy_uwsgi_socket_suffix,
                          'migration_address': __osdeploy_migration_address}} | to_json }}
"""
INVENTORY = """
[controller]
ctl osdeploy_management_ip=10.0.0.11 osdeploy_install_method=source osdeploy_tls=true {python} osdeploy_rabbitmq_password=mq-S3cret
[compute]
cmp osdeploy_management_ip=10.0.0.21 osdeploy_install_method=distro osdeploy_tls=false {python}
"""


@pytest.fixture(scope="module")
def hosts(tmp_path_factory):
    out = tmp_path_factory.mktemp("host_fact")
    (out / "play.yml").write_text(PLAY % {"root": ROOT, "out": out})
    inventory = out / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "hosts.ini").write_text(INVENTORY.format(python="ansible_python_interpreter=" + sys.executable))
    # YAML: the release's name is a string ("2025.1"), which an ini value is not
    (inventory / "host_vars").mkdir()
    (inventory / "host_vars" / "ctl.yml").write_text('release: "2026.2"\n')
    (inventory / "host_vars" / "cmp.yml").write_text('release: "2025.1"\n')
    shutil.copy(os.path.join(ROOT, "roles", "osdeploy", "defaults", "main.yml"),
                str(inventory / "group_vars" / "all" / "osdeploy.yml"))
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(inventory), str(out / "play.yml")]
    r = subprocess.run(cmd, cwd=ROOT, env=dict(os.environ, ANSIBLE_NOCOLOR="1"), capture_output=True, text=True,
                       timeout=300, check=False)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    return {host: json.loads((out / (host + ".json")).read_text()) for host in ("ctl", "cmp")}


@pytest.mark.parametrize("host", ["ctl", "cmp"])
def test_the_fact_holds_what_the_private_variables_hold(hosts, host):
    fact, private = hosts[host]["fact"], hosts[host]["private"]
    assert sorted(fact) == sorted([
        "platform", "platform_data", "release", "releases", "deployed", "services", "wheelhouse_url", "tls", "api",
        "db_query", "messaging_tls", "uwsgi_socket", "migration_address"])
    for key in ("platform", "platform_data", "release", "releases", "deployed", "wheelhouse_url", "db_query",
                "messaging_tls", "migration_address"):
        assert fact[key] == private[key], key
    assert fact["services"] == {
        service: {"distribution": distribution, "venv": private["venv"].get(service), "bin": private["bin"][service],
                  "python": private["python"][service], "site_packages": private["site_packages"][service]}
        for service, distribution in private["services"].items()}
    assert fact["tls"] == {"enabled": private["tls"], "ca_file": private["ca_file"], "cert_file": private["cert_file"],
                           "key_file": private["key_file"], "group": private["group"]}
    assert fact["api"] == {"scheme": private["scheme"], "cafile": private["cafile"], "urls": private["urls"]}
    assert fact["uwsgi_socket"] == {"option": private["option"], "suffix": private["suffix"]}


def test_a_source_install_with_tls_and_debians_packages_without(hosts):
    source, distro = hosts["ctl"]["fact"], hosts["cmp"]["fact"]
    assert source["services"]["nova"]["venv"] == "/opt/osdeploy/venvs/nova-34.0.0"
    assert source["services"]["placement"]["python"] == "/opt/osdeploy/venvs/placement-16.0.0/bin/python"
    assert source["api"]["cafile"] == "/etc/osdeploy/tls/ca.crt" and source["messaging_tls"]["ssl"] is True
    assert source["uwsgi_socket"]["suffix"] == ",/etc/osdeploy/tls/host.crt,/etc/osdeploy/tls/host.key"
    assert distro["services"]["nova"] == {"distribution": "nova", "venv": None, "bin": "/usr/bin",
                                          "python": "/usr/bin/python3",
                                          "site_packages": "/usr/lib/python3/dist-packages"}
    assert distro["api"] == {"scheme": "http", "cafile": None, "urls": {
        "placement": "http://10.0.0.11:8778", "glance": "http://10.0.0.11:9292", "neutron": "http://10.0.0.11:9696"}}
    assert distro["tls"]["enabled"] is False and distro["db_query"] == "" and distro["messaging_tls"]["ssl"] is False
    # no secret: the RabbitMQ password is nowhere in the fact
    assert "mq-S3cret" not in json.dumps(source)
