"""The baseline's demo project (#30): its password is a required secret only with baseline_demo, and its
credentials go beside admin's (clouds.yaml, demo-openrc) exactly, whatever characters the password holds."""
import json
import os
import shlex
import subprocess
import sys

import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
TEMPLATES = os.path.abspath(os.path.join(ROOT, "roles", "baseline", "templates"))
PLAY = """
- hosts: controller
  connection: local
  gather_facts: false
  tasks:
    - name: The baseline's input checks
      ansible.builtin.import_role:
        name: osdeploy.nova.baseline
        tasks_from: validate.yml
    - name: Render the credentials files
      ansible.builtin.template:
        src: "%(templates)s/{{ item }}.j2"
        dest: "%(out)s/{{ item }}"
        mode: "0600"
      loop: "{{ ['clouds.yaml'] + (['demo-openrc'] if baseline_demo | bool else []) }}"
"""
SECRETS = {"baseline_admin_password": "adm'in pw$1", "baseline_keystone_db_password": "ks-db-pw",
           "baseline_placement_db_password": "pl-db", "baseline_glance_db_password": "gl-db",
           "baseline_placement_password": "pl-pw", "baseline_glance_password": "gl-pw",
           "osdeploy_rabbitmq_password": "mq-pw", "baseline_neutron": False, "osdeploy_verify_server": False}
DEMO_PW = "d\"e'm o$(x)`y`:%@#"


def run(tmp_path, **extra):
    play = tmp_path / "play.yml"
    play.write_text(PLAY % {"templates": TEMPLATES, "out": tmp_path})
    inventory = tmp_path / "inventory.ini"
    # distro: the Nova the integration tier leaves on this machine is Debian's, and the osdeploy role reads what
    # runs here (it would refuse the default source install over it)
    inventory.write_text("[controller]\nlocalhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3 "
                         "osdeploy_management_ip=127.0.0.1 osdeploy_install_method=distro\n[compute]\ncompute9\n")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(inventory), str(play),
           "-e", json.dumps(dict(SECRETS, **extra))]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    return r.returncode, r.stdout + r.stderr


def test_without_the_demo_its_password_is_not_asked_and_clouds_yaml_holds_admin_alone(tmp_path):
    rc, out = run(tmp_path, baseline_demo=False)
    assert rc == 0, out[-3000:]
    clouds = yaml.safe_load((tmp_path / "clouds.yaml").read_text())["clouds"]
    assert list(clouds) == ["osdeploy-admin"]


def test_with_the_demo_a_missing_password_is_refused_by_name(tmp_path):
    rc, out = run(tmp_path)             # the demo is on by default
    assert rc != 0
    assert "baseline_demo_password is not set" in " ".join(out.split()), out[-3000:]
    assert not (tmp_path / "clouds.yaml").exists()


def test_the_demo_users_credentials_go_beside_admins(tmp_path):
    rc, out = run(tmp_path, baseline_demo=True, baseline_demo_password=DEMO_PW, baseline_demo_project="proj 1",
                  osdeploy_demo_cloud="my-demo")
    assert rc == 0, out[-3000:]
    clouds = yaml.safe_load((tmp_path / "clouds.yaml").read_text())["clouds"]
    assert list(clouds) == ["osdeploy-admin", "my-demo"]
    # TLS is on by default: Keystone's URL is HTTPS
    assert clouds["my-demo"]["auth"] == dict(auth_url="https://127.0.0.1:5000/v3", username="myuser", password=DEMO_PW,
                                             project_name="proj 1", user_domain_name="Default",
                                             project_domain_name="Default")
    assert clouds["my-demo"]["region_name"] == "RegionOne"
    # what a shell that sources demo-openrc sees
    env = subprocess.run(["sh", "-c", ". %s && env" % shlex.quote(str(tmp_path / "demo-openrc"))],
                         capture_output=True, text=True, check=True, env={}).stdout.splitlines()
    assert "OS_PASSWORD=%s" % DEMO_PW in env and "OS_PROJECT_NAME=proj 1" in env and "OS_USERNAME=myuser" in env
    assert oct((tmp_path / "demo-openrc").stat().st_mode & 0o777) == "0o600"
