"""What an operator does with site.yml on a converged cloud, run from outside the lab hosts:
preview a change (check mode), run one tag alone, feed it a bad input, set a libvirt option.

Runs after test_default.py (file order) on the lab as the scenario left it: converged, with
compute2 added. Every test leaves the lab converged again. Only the default scenario runs
these (they run site.yml several times, which takes too long on emulated VMs).
"""
import collections
import concurrent.futures
import json
import os
import re
import subprocess

import pytest
import testinfra
import yaml

import tag_runs_alone
from conftest import lab_openstack
from playbook_run import INVENTORY, ROOT, SITE, Run
from tag_runs_alone import DRIFT_TAGS, UNION_TAGS, documented_tags, tags_run_alone

LAB = os.environ["OSDEPLOY_LAB_DIR"]
CONTROLLER_SERVICES = ["nova-api", "nova-api-metadata", "nova-conductor", "nova-scheduler", "nova-novncproxy"]
# The proof's server boot is what test_network.py and the tag verify-server prove; the runs that
# prove something else leave it out.
NO_PROOF = {"osdeploy_verify_server": False}
# How the metadata API is started, a file the controller role owns: Debian's defaults file of the
# package's init script, or the uWSGI ini of the source install's unit.
METADATA_API_FILE = {"distro": "/etc/default/nova-api-metadata",
                     "source": "/etc/nova/nova-api-metadata-uwsgi.ini"}[lab_openstack()["method"]]
# What site.yml changes to repair that file, and the restart it causes.
METADATA_API_CHANGES = {
    "distro": {("controller", "Serve the Nova APIs on the management address only, with a lab-sized uWSGI"),
               ("controller", "Restart the controller's nova services")},
    "source": {("controller", "Write the service's links, files and systemd units and hold Debian's packages of it, of "
                              "nova"),
               ("controller", "Restart at the next handler flush the units that ran with what changed, and reload "
                              "the APIs on new code"),
               ("controller", "Restart the source units whose code or configuration changed")},
}[lab_openstack()["method"]]
# The files a refused input must leave as they were, per host.
CONFIG_FILES = {
    "controller": ["/etc/nova/nova.conf", "/etc/keystone/keystone.conf", "/etc/glance/glance-api.conf",
                   "/etc/placement/placement.conf", "/etc/rabbitmq/rabbitmq.conf", METADATA_API_FILE],
    "compute": ["/etc/nova/nova.conf", "/etc/nova/nova-compute.conf", "/etc/libvirt/qemu.conf"],
}


def host(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, INVENTORY))


def inventory_hosts():
    out = subprocess.run(["ansible-inventory", "-i", INVENTORY, "--list"], capture_output=True, text=True,
                         check=True).stdout
    inv = json.loads(out)
    return ["controller"] + sorted(inv["compute"]["hosts"])


HOSTS = inventory_hosts()


def lab_network():
    out = subprocess.run(["ansible-inventory", "-i", INVENTORY, "--host", "controller"], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)["lab_network"]


LAB_NETWORK = lab_network()


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


def main_pids(h, services):
    return {s: h.check_output("systemctl show -p MainPID --value %s" % s) for s in services}


def rotate_lab_secret(name, value):
    """Change a secret in the lab's inventory (group_vars/all/secrets.yml), as an operator rotates one."""
    path = os.path.join(LAB, "group_vars", "all", "secrets.yml")
    with open(path) as f:
        secrets = yaml.safe_load(f)
    secrets[name] = value
    with open(path + ".new", "w") as f:
        os.fchmod(f.fileno(), os.stat(path).st_mode & 0o777)
        yaml.safe_dump(secrets, f, default_flow_style=False)
    os.replace(path + ".new", path)


def test_a_preview_of_fresh_hosts_says_where_it_stops_and_changes_nothing(secret_forms):
    """The create step ran `site.yml --check --diff` on the lab's fresh hosts (create.yml): each host's preview
    says how many packages it would install and that it stops there, the run succeeds, no host's packages,
    Nova folders or units changed, and no secret is shown."""
    with open(os.path.join(LAB, "fresh-preview.json")) as f:
        preview = json.load(f)
    output = " ".join(preview["output"].split())
    assert preview["rc"] == 0, preview["output"][-3000:]
    for name in ("controller", "compute1"):
        assert re.search(r"Check mode: the preview of %s stops after its package installs, because packages "
                         r"\(\d+ to install\)" % name, output), preview["output"][-3000:]
    assert preview["before"] == preview["after"]
    shown = [name for name, form in secret_forms if form in preview["output"]]
    assert shown == [], "the preview shows the secrets %s" % shown


# The drift of test_check_mode_predicts_exactly_what_the_tag_runs_then_change...: what site.yml's steps then
# change to repair it (the tags of DRIFT_TAGS, each run alone).
DRIFT_REPAIR = {("compute1", "Write nova.conf and nova-compute.conf (validated against the installed Nova)"),
                ("compute1", "Restart nova-compute"),
                ("controller", "Start the controller's Nova services at boot and now"),
                ("controller", "Register Glance in Keystone (user, role, service, endpoints)"),
                ("controller", "Configure Glance"),
                ("controller", "Restart glance-api")} | METADATA_API_CHANGES


@pytest.fixture(name="drift", scope="module")
def fixture_drift():
    """Drift the converged lab, preview the whole site.yml (check mode, -vvv), then repair the drift by running
    the tags of what drifted, each alone, Nova's one after the other (they meet: nova-config and nova-services
    both restart services). {before, after: fingerprints around the preview, scheduler: its state after the
    preview, preview: Run, repairs: {tag: Run}, pids, pids_after: the controller's services' main PIDs}.
    Glance's tag runs beside the chain of Nova's tags. The tags run alone in the background end first: they need
    the cloud as it converged. The refused inputs run beside the preview (refused: {id: Run}): neither changes
    anything, and the fingerprints around the preview are theirs too."""
    tag_runs_alone.wait()
    controller, compute1 = host("controller"), host("compute1")
    # drift: an option edited by hand, a service stopped, a defaults file edited, and a password
    # rotated in the inventory (it stays: the later tests run with it)
    compute1.check_output("sed -i 's|^lock_path = .*|lock_path = /tmp/drifted|' /etc/nova/nova.conf")
    controller.check_output("systemctl stop nova-scheduler")
    controller.check_output("echo '# edited by hand' >> %s" % METADATA_API_FILE)
    rotate_lab_secret("baseline_glance_password", "Rotated-glance-pw-7")
    drift = {"before": fingerprint()}
    with concurrent.futures.ThreadPoolExecutor(REFUSED_RUNS_AT_ONCE) as pool:
        refused = {name: pool.submit(Run, extra=item[0]) for name, item in zip(REFUSED_IDS, REFUSED)}
        drift["preview"] = Run("--check", "--diff", "-vvv", extra=NO_PROOF)
        drift["refused"] = {name: future.result() for name, future in refused.items()}
    drift["after"] = fingerprint()
    drift["scheduler"] = controller.check_output("systemctl is-active nova-scheduler || true")
    drift["pids"] = main_pids(controller, CONTROLLER_SERVICES)
    # Glance's repair meets none of Nova's: it runs beside their chain
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        glance = pool.submit(Run, "-t", "glance")
        drift["repairs"] = {tag: Run("-t", tag) for tag in DRIFT_TAGS if tag != "glance"}
        drift["repairs"]["glance"] = glance.result()
    drift["pids_after"] = main_pids(controller, CONTROLLER_SERVICES)
    return drift


def test_check_mode_predicts_exactly_what_the_tag_runs_then_change_and_shows_no_secret(drift, secret_forms):
    """A preview of the whole site.yml (-vvv: every module's arguments, results and loop items printed) after a
    drift predicts exactly the changes that the tags of what drifted then make, each run alone, on every host,
    with no secret in its output; and those runs change exactly what drifted. The preview is also part of the
    scenario's idempotence proof (it has no separate idempotence step): on all three hosts every task that did
    not meet a drift (all of compute2, every other step) would change nothing; the other tags then run every
    other tagged task for real, each alone, and change nothing (below)."""
    preview = drift["preview"]
    assert preview.rc == 0, preview.why()
    assert drift["after"] == drift["before"], "check mode changed a file or a database account"
    assert drift["scheduler"] != "active"
    assert set(preview.recap) - {"localhost"} == set(HOSTS), preview.why()
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in preview.output    # the output does hold the masked arguments
    for name, form in secret_forms:     # the rotated password among them
        assert form not in preview.output, "%s appears in the -vvv output (raw or percent-encoded)" % name

    for tag, run in drift["repairs"].items():
        assert run.rc == 0, run.why()
        assert "Rotated-glance-pw-7" not in run.output, tag
    made = set().union(*(run.changes for run in drift["repairs"].values()))
    assert preview.changes == made, "predicted %s, made %s" % (
        sorted(preview.changes - made), sorted(made - preview.changes))
    assert made == DRIFT_REPAIR, "changed beyond the drift %s, drift not repaired %s" % (
        sorted(made - DRIFT_REPAIR), sorted(DRIFT_REPAIR - made))
    # only the service whose file changed was restarted (and the stopped one started)
    pids, after = drift["pids"], drift["pids_after"]
    restarted = sorted(s for s in CONTROLLER_SERVICES if after[s] != pids[s])
    assert restarted == ["nova-api-metadata", "nova-scheduler"], (pids, after)
    # Glance works with the rotated password (its token for Keystone's checks)
    assert "osdeploy-test-image" in host("controller").check_output(
        "openstack --os-cloud osdeploy-admin image list -f value -c Name")


def test_the_docs_document_tags():
    assert len(documented_tags()) >= 10


def listed_tasks(tags):
    """Counter of (play, task) that ansible-playbook --list-tasks -t TAGS names (tags left out)."""
    out = subprocess.run(["ansible-playbook", "-i", INVENTORY, SITE, "--list-tasks", "-t", tags],
                         capture_output=True, text=True, check=True,
                         env=dict(os.environ, ANSIBLE_NOCOLOR="1")).stdout
    tasks, play = collections.Counter(), None
    for line in out.splitlines():
        name = line.split("\tTAGS:")[0].strip()
        if line.startswith("  play #"):
            play = name.split(": ", 1)[1]
        elif play and name and name != "tasks:":
            tasks[(play, name)] += 1
    return tasks


@pytest.mark.parametrize("tag", sorted(UNION_TAGS))
def test_a_whole_role_tag_selects_only_what_its_parts_run_alone(tag):
    parts = UNION_TAGS[tag]
    assert set(parts) <= set(tags_run_alone()), "each part is a documented tag that runs alone"
    whole = listed_tasks(tag)
    assert sum((whole - listed_tasks("always")).values()) > 10, whole   # more than the input checks
    assert not whole - listed_tasks(",".join(parts)), "only the whole runs these"


@pytest.fixture(name="tag_runs", scope="module")
def fixture_tag_runs(drift):
    """{tag: Run} of the documented tags, each run alone (ansible-playbook -t TAG): those of the drift's repair
    ran in the drift fixture, the others in the background (tag_runs_alone.py)."""
    return dict(tag_runs_alone.results(), **drift["repairs"])


@pytest.mark.parametrize("tag", tags_run_alone())
def test_every_documented_tag_runs_alone_and_changes_nothing_but_a_drift(tag, tag_runs):
    """Each tag alone succeeds and changes nothing; a tag of the drift's repair changes only what drifted."""
    run = tag_runs[tag]
    assert run.rc == 0, run.why()
    if tag in DRIFT_TAGS:
        assert run.changes <= DRIFT_REPAIR, run.why()
    else:
        assert run.changed() == 0, run.why()


def test_the_drifts_tags_are_documented_tags_that_run_alone():
    assert set(DRIFT_TAGS) <= set(tags_run_alone())


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


# Each refused input: (extra vars, what the refusal says). Every run stops in the preflight, before any
# change, so the runs cannot meet: they go REFUSED_RUNS_AT_ONCE at a time beside the drift's preview, which
# changes nothing either and keeps one core busy (one after the other they took 200 s of the scenario).
REFUSED = [
    ({"nova_conf_extra": {"DEFAULT": {"my_ipp": "192.0.2.1"}}}, "my_ipp"),
    ({"nova_db_password": "pässwort-1"}, "nova_db_password must hold printable ASCII characters only"),
    ({"osdeploy_rabbitmq_password": "pass/word-2"}, "osdeploy_rabbitmq_password must not contain '/'"),
    ({"osdeploy_management_ip": "192.0.2.99"}, "which is not an address of this host"),
    ({"baseline_keystone_db_password": "a%b-3"}, "baseline_keystone_db_password must consist of letters"),
    # the networking's inputs (#14)
    ({"baseline_provider_cidr": LAB_NETWORK}, "a network of this host's own addresses (the management network)"),
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
REFUSED_RUNS_AT_ONCE = 2


@pytest.fixture(name="refused_runs", scope="module")
def fixture_refused_runs(drift):
    """({id: Run} of every refused input, the fingerprint before them, the fingerprint after them all): they
    ran beside the drift's preview (fixture_drift)."""
    return drift["refused"], drift["before"], drift["after"]


@pytest.mark.parametrize("extra,says", REFUSED, ids=REFUSED_IDS)
def test_a_refused_input_changes_nothing(extra, says, refused_runs, request):
    runs, before, after = refused_runs
    run = runs[request.node.callspec.id]
    assert run.rc != 0, run.why()
    for text in [says] if isinstance(says, str) else says:
        assert text in " ".join(run.output.split()), run.why()
    assert run.changed() == 0, run.why()
    # it stopped in the checks, before the package installs
    assert "Install the packages of every host" not in run.output, run.why()
    for name, value in extra.items():
        if "password" in name and value:
            assert value not in run.output
    # no refused run changed a file or a database account
    assert after == before


def running_libvirt_options(h):
    """[libvirt] cpu_mode and cpu_models as the running nova-compute read them: its own
    --config-file list, parsed by oslo.config with Nova's options, from files not newer
    than the process."""
    pid = h.check_output("systemctl show -p MainPID --value nova-compute")
    script = (
        "import os, sys, time\n"
        "pid = sys.argv[1]\n"
        "argv = open('/proc/%s/cmdline' % pid, 'rb').read().decode().split('\\0')\n"
        "files = [a.split('=', 1)[1] if '=' in a else argv[i + 1]\n"
        "         for i, a in enumerate(argv) if a.startswith('--config-file')]\n"
        "ticks = int(open('/proc/%s/stat' % pid).read().rsplit(')', 1)[1].split()[19])\n"
        "btime = int([l.split()[1] for l in open('/proc/stat') if l.startswith('btime')][0])\n"
        "started = btime + ticks / os.sysconf('SC_CLK_TCK')\n"
        "assert all(os.stat(f).st_mtime <= started for f in files), 'a config file is newer than the process'\n"
        "import nova.conf\n"
        "conf = nova.conf.CONF\n"
        "conf([a for f in files for a in ('--config-file', f)], project='nova')\n"
        "print(conf.libvirt.cpu_mode, ','.join(conf.libvirt.cpu_models))\n")
    return h.check_output("%s -c %s %s 2>/dev/null" % (lab_openstack()["nova_python"], _quote(script), pid)).strip()


def _quote(text):
    return "'" + text.replace("'", "'\"'\"'") + "'"


# The operator's own playbook of docs/inclusion.md: their group names, the services Nova needs deployed by plays of
# their own (here the collection's baseline), then the controller and compute roles with osdeploy_baseline: false.
EXAMPLE = os.path.join(ROOT, "docs", "examples", "nova-in-my-playbook.yml")
OWN_GROUPS = {"all": {"children": {"nova_control": {"children": {"controller": None}},
                                   "hypervisors": {"children": {"compute": None}}},
                      "vars": {"osdeploy_controller_group": "nova_control", "osdeploy_compute_group": "hypervisors"}}}


def test_a_user_libvirt_setting_in_an_own_playbook_reaches_the_running_nova_compute_and_changes_nothing_else(
        tmp_path):
    """The cloud site.yml made, run by the inclusion example under the operator's own group names with a libvirt
    setting in their inventory's group of hypervisors: every role composes to the same cloud (nothing changes but
    that setting and the restart it needs on each compute host), and the setting reaches the running
    nova-compute."""
    inventory = json.loads(subprocess.run(["ansible-inventory", "-i", INVENTORY, "--list"], capture_output=True,
                                          text=True, check=True).stdout)
    names = sorted(inventory["compute"]["hosts"])
    computes = [host(name) for name in names]
    assert all(running_libvirt_options(h) == "none" for h in computes)
    # the operator's setting for their hypervisors, in their inventory's group
    own = json.loads(json.dumps(OWN_GROUPS))
    own["all"]["children"]["hypervisors"]["vars"] = {
        "nova_conf_extra": {"libvirt": {"cpu_mode": "custom", "cpu_models": "qemu64"}}}
    groups = tmp_path / "groups.yml"
    groups.write_text(yaml.safe_dump(own))
    run = Run("-i", str(groups), playbook=EXAMPLE)
    assert run.rc == 0, run.why()
    assert set(run.recap) >= {"controller"} | set(names), run.why()
    assert {change[0] for change in run.changes} == set(names), "only the compute hosts change: %s" % run.why()
    for name in names:
        assert (name, "Restart nova-compute") in run.changes, run.why()
        assert {task for host, task in run.changes if host == name} <= {
            "Write nova.conf and nova-compute.conf (validated against the installed Nova)",
            "Restart nova-compute"}, run.why()
    assert "Read the compute services, the hypervisors, the cell mappings and nova-status" in run.output
    for h in computes:
        assert running_libvirt_options(h) == "custom qemu64"
        assert "cpu_mode" not in h.check_output("grep -A20 '^\\[libvirt\\]' /etc/nova/nova.conf || true")
    # as documented, null removes an option: without it cpu_models would stay, and
    # Nova refuses cpu_models with another cpu_mode than custom
    back = Run("--limit", ",".join(names), "-t", "nova-config,nova-services",
               extra={"nova_conf_extra": {"libvirt": {"cpu_models": None}}})
    assert back.rc == 0, back.why()
    assert all(running_libvirt_options(h) == "none" for h in computes)
