"""What an operator checks after site.yml, run from outside the lab hosts.

testinfra reaches the hosts over SSH with the lab's inventory; the HTTP checks
go to the controller's management address from this machine, as a client would
(or, when the lab's private network is not reachable from here, as on the VM
labs, from the host named by the inventory variable `lab_http_client`).
Shared by the scenarios (vm and vagrant link to this file); what differs comes
from the scenario: the compute hosts expected (OSDEPLOY_EXPECT_COMPUTES,
default compute1,compute2, as in the default scenario) and,
when the lab says its VMs run under emulation (inventory `lab_accel=tcg`), the
virt_type that hw_accel_fact must decide inside them (qemu).
"""
import json
import os
import ssl
import subprocess
import urllib.request

import pytest
import testinfra

from conftest import lab_openstack, lab_setting

LAB = os.environ["OSDEPLOY_LAB_DIR"]
INVENTORY = os.path.join(LAB, "inventory.ini")
CLOUD = "osdeploy-admin"


def read_inventory():
    out = subprocess.run(["ansible-inventory", "-i", INVENTORY, "--list"], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


INV = read_inventory()
CONTROLLER_VARS = INV["_meta"]["hostvars"]["controller"]
CONTROLLER_IP = CONTROLLER_VARS["osdeploy_management_ip"]
COMPUTES = sorted(INV["compute"]["hosts"])
EXPECTED_COMPUTES = os.environ.get("OSDEPLOY_EXPECT_COMPUTES", "compute1,compute2").split(",")
HTTP_CLIENT = CONTROLLER_VARS.get("lab_http_client")
# with osdeploy_tls every API is served over HTTPS, its certificate issued by the deployment's CA
SCHEME = "https" if lab_setting("osdeploy_tls") else "http"
CA_FILE = "/etc/osdeploy/tls/ca.crt"
LAB_ACCEL = CONTROLLER_VARS.get("lab_accel")


def host(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, INVENTORY))


@pytest.fixture(scope="module")
def controller():
    return host("controller")


def openstack(controller, *args):
    cmd = controller.run("openstack --os-cloud %s %s -f json" % (CLOUD, " ".join(args)))
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)


def test_the_expected_computes_are_in_the_inventory():
    assert COMPUTES == EXPECTED_COMPUTES


def test_admin_token(controller):
    token = openstack(controller, "token", "issue")
    assert token["id"] and token["project_id"]


def test_the_demo_user_is_a_member_of_its_project_with_credentials_beside_admins(controller):
    """The guide's demo project (baseline_demo, on in every lab): myuser gets a token on myproject from its
    clouds.yaml entry and from demo-openrc (the guide's own check), has the member role there, and is no admin."""
    for path in ("/root/.config/openstack/clouds.yaml", "/root/admin-openrc", "/root/demo-openrc"):
        f = controller.file(path)
        assert (f.user, f.group, f.mode) == ("root", "root", 0o600), path
    project = openstack(controller, "project", "show", "myproject")
    token = json.loads(controller.check_output("openstack --os-cloud osdeploy-demo token issue -f json"))
    assert token["project_id"] == project["id"]
    from_openrc = json.loads(controller.check_output(
        "env -u OS_CLOUD sh -c '. /root/demo-openrc && openstack token issue -f json'"))
    assert from_openrc["project_id"] == project["id"]
    roles = openstack(controller, "role", "assignment", "list", "--user", "myuser", "--project", "myproject", "--names")
    assert [r["Role"] for r in roles] == ["member"]
    # a member sees its project's servers only: every project's is admin's
    refused = controller.run("openstack --os-cloud osdeploy-demo server list --all-projects")
    assert refused.rc != 0 and "403" in refused.stderr, refused.stderr


def test_catalog_has_identity_placement_image_and_all_compute_interfaces(controller):
    catalog = {entry["Type"]: entry for entry in openstack(controller, "catalog", "list")}
    assert {"identity", "placement", "image", "compute"} <= set(catalog)
    endpoints = openstack(controller, "endpoint", "list", "--service", "compute")
    interfaces = sorted(e["Interface"] for e in endpoints)
    assert interfaces == ["admin", "internal", "public"]  # each once: no duplicates
    assert {e["Region"] for e in endpoints} == {"RegionOne"}
    assert {e["URL"] for e in endpoints} == {"%s://%s:8774/v2.1" % (SCHEME, CONTROLLER_IP)}
    # every API's endpoints (identity, compute, placement, image, network), in the scheme it is served with
    urls = sorted(e["URL"] for e in openstack(controller, "endpoint", "list"))
    assert len(urls) >= 12 and all(url.startswith(SCHEME + "://") for url in urls), urls


def http_get_json(url):
    """GET url as a client outside the controller: from here, or from lab_http_client; over HTTPS, trusting the
    deployment's CA only (read from the controller: this machine's trust store does not have it)."""
    if HTTP_CLIENT:
        body = host(HTTP_CLIENT).check_output(
            "python3 -c 'import ssl, sys, urllib.request; context = ssl.create_default_context(cafile=sys.argv[2]) "
            "if sys.argv[1].startswith(\"https:\") else None; "
            "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=30, context=context).read().decode())' "
            "%s %s" % (url, CA_FILE))
        return json.loads(body)
    context = None
    if url.startswith("https:"):
        context = ssl.create_default_context(cadata=host("controller").file(CA_FILE).content_string)
    with urllib.request.urlopen(url, timeout=30, context=context) as resp:
        return json.load(resp)


def test_placement_answers_with_its_version_document():
    doc = http_get_json("%s://%s:8778/" % (SCHEME, CONTROLLER_IP))
    assert doc["versions"][0]["id"] == "v1.0"


def test_image_list_works(controller):
    assert isinstance(openstack(controller, "image", "list"), list)


def test_compute_services_enabled_and_up(controller):
    services = openstack(controller, "compute", "service", "list")
    seen = {(s["Binary"], s["Host"]): (s["Status"], s["State"]) for s in services}
    expected = [("nova-scheduler", "controller"), ("nova-conductor", "controller")]
    expected += [("nova-compute", c) for c in COMPUTES]
    for key in expected:
        assert seen.get(key) == ("enabled", "up"), (key, seen)


def test_hypervisors_listed(controller):
    hypervisors = openstack(controller, "hypervisor", "list")
    assert sorted(h["Hypervisor Hostname"] for h in hypervisors) == COMPUTES
    assert all(h["State"] == "up" for h in hypervisors)


def test_every_compute_is_mapped_to_cell1(controller):
    out = controller.check_output("nova-manage cell_v2 list_hosts 2>/dev/null")
    for compute in COMPUTES:
        assert any(compute in line and "cell1" in line for line in out.splitlines()), out


def test_cells(controller):
    out = controller.check_output("nova-manage cell_v2 list_cells 2>/dev/null")
    names = [line.split("|")[1].strip() for line in out.splitlines() if line.startswith("|")][1:]
    assert sorted(names) == ["cell0", "cell1"]


def test_nova_status_upgrade_check(controller):
    cmd = controller.run("nova-status upgrade check")
    assert cmd.rc == 0, cmd.stdout + cmd.stderr


@pytest.mark.parametrize("service", [
    "mariadb", "rabbitmq-server", "memcached", "keystone", "placement-api", "glance-api",
    "nova-api", "nova-api-metadata", "nova-conductor", "nova-scheduler", "nova-novncproxy", "logrotate.timer",
])
def test_controller_services_enabled_and_active(controller, service):
    unit = controller.service(service)
    assert unit.is_enabled and unit.is_running


@pytest.mark.parametrize("port", [8774, 8775, 6080])
def test_nova_listens_on_the_management_address_only(controller, port):
    """API, metadata API (started on all interfaces by Debian's package) and noVNC proxy."""
    listening = [s for s in controller.socket.get_listening_sockets() if s.rsplit(":", 1)[-1] == str(port)]
    assert listening == ["tcp://%s:%d" % (CONTROLLER_IP, port)]


@pytest.mark.parametrize("service", ["nova-api", "nova-api-metadata"])
def test_the_nova_apis_run_one_thread_per_uwsgi_worker(controller, service):
    """Nova patches its processes with eventlet: two requests in two threads of one worker hang it (greenlet's
    "cannot switch to a different thread"), and Debian's metadata API ini asks for 32 threads. uWSGI says how
    it runs each time it starts; the last start counts."""
    modes = controller.check_output("grep -h 'Operational MODE' /var/log/nova/%s.log" % service).splitlines()
    assert modes[-1].strip() == "*** Operational MODE: preforking ***", modes[-1]


CLOSE_PROBE = """
import openstack, requests
conn = openstack.connect(cloud="%s")
url = conn.compute.get_endpoint().rstrip("/")
headers = {"X-Auth-Token": conn.auth_token, "OpenStack-API-Version": "compute 2.10"}
requests.post(url + "/os-keypairs", json={"keypair": {"name": "osdeploy-close-probe"}}, headers=headers).raise_for_status()
answer = requests.delete(url + "/os-keypairs/osdeploy-close-probe", headers=headers)
print(answer.status_code, answer.headers.get("Connection"))
""" % CLOUD


def test_the_compute_api_says_it_closes_each_connection(controller):
    """uWSGI's http-socket closes the connection after each answer. A 204 (no body) that does not say so lets
    a client send its next request on it and get "Connection reset by peer" (`openstack server delete --wait`;
    3 to 18 of 20-30 DELETE-then-GET rounds in the lab, a race, hence this test of the header)."""
    out = controller.check_output("python3 - <<'EOF'\n%s\nEOF" % CLOSE_PROBE)
    assert out.splitlines()[-1] == "204 close", out


@pytest.mark.parametrize("name", ["controller"] + EXPECTED_COMPUTES)
def test_nova_conf_is_root_nova_0640(name):
    conf = host(name).file("/etc/nova/nova.conf")
    assert (conf.user, conf.group, conf.mode) == ("root", "nova", 0o640)


@pytest.mark.parametrize("name", EXPECTED_COMPUTES)
def test_compute_services_and_virt_type(name):
    h = host(name)
    for service in ("libvirtd", "nova-compute"):
        assert h.service(service).is_enabled and h.service(service).is_running
    decided = h.ansible("osdeploy.nova.hw_accel_fact", check=False)["ansible_facts"]["hw_accel"]["virt_type"]
    # what nova-compute really uses: both files, in the order its unit passes them, read by the
    # installed Nova (Debian's, or the source environment's)
    effective = h.check_output(
        lab_openstack()["nova_python"] + " -c \"import nova.conf; c = nova.conf.CONF; "
        "c(['--config-file', '/etc/nova/nova.conf', '--config-file', '/etc/nova/nova-compute.conf'], "
        "project='nova'); print(c.libvirt.virt_type)\" 2>/dev/null")
    assert effective.strip() == decided
    if LAB_ACCEL == "tcg":
        # a VM under emulation: nested guests would crawl (or, with -cpu max,
        # find an emulated /dev/kvm), so hw_accel_fact must say qemu
        assert decided == "qemu"
