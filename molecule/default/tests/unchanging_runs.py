"""The runs of site.yml that change nothing on the converged cloud, which test_operations.py checks: every
documented tag run alone (but the drift's, which repair a drift there) and every refused input.

Each is its own ansible-playbook, busy with the machine's cores, while the member's operations (test_member.py)
and the proof (test_network.py) mostly wait for guests and services: CI's cores were more than half idle during
them. So the first test that calls start() sets these runs going in the background, RUNS_AT_ONCE at a time:
test_member.py, before the member's operations (the zed scenario has none: test_operations.py, when it needs
them). They meet none of those tests: on a converged cloud they change nothing, and the member's and the
proof's servers are none of theirs. A test that changes the cloud, or needs it still (a drift, a service
restarted), first calls wait().
"""
import concurrent.futures
import json
import os
import re
import subprocess
import threading

import testinfra

from conftest import lab_openstack
from playbook_run import INVENTORY, ROOT, Run

TAG_TABLE = os.path.join(ROOT, "docs", "operations.md")
# How many runs go at once. On a converged cloud none changes anything, so they cannot meet, and a run spends
# much of its time waiting for its hosts' answers.
RUNS_AT_ONCE = 3
# How the metadata API is started, a file the controller role owns: Debian's defaults file of the
# package's init script, or the uWSGI ini of the source install's unit.
METADATA_API_FILE = {"distro": "/etc/default/nova-api-metadata",
                     "source": "/etc/nova/nova-api-metadata-uwsgi.ini"}[lab_openstack()["method"]]
# The files a refused input must leave as they were, per host.
CONFIG_FILES = {
    "controller": ["/etc/nova/nova.conf", "/etc/keystone/keystone.conf", "/etc/glance/glance-api.conf",
                   "/etc/placement/placement.conf", "/etc/rabbitmq/rabbitmq.conf", METADATA_API_FILE],
    "compute": ["/etc/nova/nova.conf", "/etc/nova/nova-compute.conf", "/etc/libvirt/qemu.conf"],
}
# The tags of the steps that repair test_operations.py's drift, in the order they run there: the metadata API's
# file (a source install writes its uWSGI ini in the package step), nova.conf, the controller's services,
# Glance's password.
DRIFT_TAGS = (["nova-packages"] if lab_openstack()["method"] == "source" else []) + [
    "nova-config", "nova-services", "glance"]
# The tags that name a whole role (or every package step) select no task that one of their parts does not
# (each part runs alone): a run of the whole is the runs of its parts in one, and the side effect's run
# ran every task.
UNION_TAGS = {
    # every host's packages at once: the play that both package tags select
    "packages": ["baseline-packages", "nova-packages"],
    "baseline": ["baseline-packages", "mariadb", "rabbitmq", "memcached", "keystone", "placement", "glance",
                 "neutron", "demo-project"],
    "nova": ["nova-packages", "nova-firewall", "nova-db", "nova-keystone", "nova-storage", "nova-migration",
             "nova-config", "nova-cells", "nova-services", "nova-verify", "nova-discover"],
}
# The proof's tag runs in test_network.py (test_the_proof_boots_reaches_and_deletes_a_server_on_every_compute:
# site.yml -t verify-server, nothing changed).
PROVEN_IN_TEST_NETWORK = ["verify-server"]


def host(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, INVENTORY))


def inventory_hosts():
    out = subprocess.run(["ansible-inventory", "-i", INVENTORY, "--list"], capture_output=True, text=True,
                         check=True).stdout
    return ["controller"] + sorted(json.loads(out)["compute"]["hosts"])


HOSTS = inventory_hosts()


def lab_network():
    out = subprocess.run(["ansible-inventory", "-i", INVENTORY, "--host", "controller"], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)["lab_network"]


def fingerprint():
    """Checksums of the configuration files of every host, and the database accounts."""
    state = {}
    for name in HOSTS:
        h = host(name)
        for path in CONFIG_FILES["controller" if name == "controller" else "compute"]:
            state[(name, path)] = h.check_output("sha256sum %s 2>/dev/null || echo missing" % path)
    state["db users"] = host("controller").check_output(
        "mariadb -N -e 'SELECT user, host, authentication_string FROM mysql.user ORDER BY user, host'")
    return state


def documented_tags():
    """The tags of the tag table in docs/operations.md (first column, in backquotes)."""
    with open(TAG_TABLE) as f:
        text = f.read()
    table = text.split("<!-- tags -->")[1]
    return re.findall(r"^\| `([\w-]+)` \|", table, re.M)


def tags_run_alone():
    return [t for t in documented_tags() if t not in UNION_TAGS and t not in PROVEN_IN_TEST_NETWORK]


def change_of_release():
    """(extra vars, what the refusal says) of a run that would change the lab's release: back from 2026.2 to
    2026.1 (a downgrade), else forward to 2026.2 from source (Epoxy: two hops; Zed: no supported path)."""
    installed = lab_openstack()
    target = "2026.1" if installed["release"] == "2026.2" else "2026.2"
    how = "source" if installed["method"] == "source" else "Debian's packages"
    return ({"osdeploy_install_method": "source", "osdeploy_openstack_release": target},
            ["Refused before any change: controller runs OpenStack %s from %s (nova-api %s"
             % (installed["release"], how, installed["nova"]),
             "and the inventory asks for OpenStack %s by osdeploy_install_method source" % target,
             "Set osdeploy_openstack_release %s and osdeploy_install_method %s to keep this cloud as it is"
             % (installed["release"], installed["method"])])


# Each refused input: (extra vars, what the refusal says). Every run stops in the preflight, before any change.
REFUSED = [
    ({"nova_conf_extra": {"DEFAULT": {"my_ipp": "192.0.2.1"}}}, "my_ipp"),
    ({"nova_db_password": "pässwort-1"}, "nova_db_password must hold printable ASCII characters only"),
    ({"osdeploy_rabbitmq_password": "pass/word-2"}, "osdeploy_rabbitmq_password must not contain '/'"),
    ({"osdeploy_management_ip": "192.0.2.99"}, "which is not an address of this host"),
    ({"baseline_keystone_db_password": "a%b-3"}, "baseline_keystone_db_password must consist of letters"),
    # the networking's inputs (#14)
    ({"baseline_provider_cidr": lab_network()}, "a network of this host's own addresses (the management network)"),
    ({"osdeploy_metadata_secret": ""}, "osdeploy_metadata_secret is not set"),
    ({"baseline_provider_interface": "eth9"}, "baseline_provider_interface is 'eth9', which is not a network "
                                              "interface of this host"),
    # the demo project's (#30)
    ({"baseline_demo_password": ""}, "baseline_demo_password is not set"),
    # self-service networks' (#32), all refused at once, each named
    ({"baseline_vxlan_vni_ranges": "1000:1", "baseline_overlay_ip": "192.0.2.98",
      "baseline_floating_range": {"start": "198.51.100.10", "end": "198.51.100.20"}},
     ["baseline_vxlan_vni_ranges must be MIN:MAX", "baseline_overlay_ip is 192.0.2.98, which is not an address",
      "baseline_floating_range", "198.51.100.10"]),
    ({"baseline_floating_range": {"start": "203.0.113.50", "end": "203.0.113.60"},
      "baseline_provider_reserved_ranges": [{"start": "203.0.113.55", "end": "203.0.113.70"}]},
     ["baseline_floating_range", "baseline_provider_reserved_ranges"]),
    # the userspace datapath carries tunnels only from an interface of its own
    ({"baseline_overlay_interface": ""}, "which carries VXLAN only from an address on a bridge of its own"),
    # a change of the running cloud's release outside Nova's upgrade order (#33)
    change_of_release(),
]
REFUSED_IDS = ["conf-typo", "non-ascii-db-password", "slash-in-rabbitmq-password", "foreign-address",
               "keystone-db-password", "provider-overlaps-management", "no-metadata-secret", "no-such-interface",
               "no-demo-password", "vni-overlay-floating", "floating-overlaps-reserved", "no-overlay-interface",
               "change-of-release"]

_lock = threading.Lock()
_started = {}    # tags, refused: {name: Future}; before: the fingerprint when they started
_finished = {}   # tags, refused: {name: Run}; before, after: the fingerprints around them


def start():
    """Set the runs going in the background (once)."""
    with _lock:
        if _started:
            return
        _started["before"] = fingerprint()
        pool = concurrent.futures.ThreadPoolExecutor(RUNS_AT_ONCE)
        _started["tags"] = {tag: pool.submit(Run, "-t", tag) for tag in tags_run_alone() if tag not in DRIFT_TAGS}
        _started["refused"] = {name: pool.submit(Run, extra=refused[0]) for name, refused in zip(REFUSED_IDS, REFUSED)}
        pool.shutdown(wait=False)


def wait():
    """Wait for the runs, if they were started, and take the fingerprint after them."""
    with _lock:
        if _started and not _finished:
            _finished.update({kind: {name: future.result() for name, future in _started[kind].items()}
                              for kind in ("tags", "refused")})
            _finished.update(before=_started["before"], after=fingerprint())


def results():
    """{tags: {tag: Run}, refused: {id: Run}, before, after: the fingerprints around them}, started if they were
    not."""
    start()
    wait()
    return _finished
