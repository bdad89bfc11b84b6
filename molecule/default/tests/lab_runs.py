"""What the scenario's runs of site.yml from outside the lab share: the Run of one ansible-playbook, the
fingerprint of the hosts' configuration, the drift that the side effect repairs, the services' main PIDs.
Used by test_operations.py and by second_run.py (the side effect's drift and preview)."""
import json
import os
import re
import subprocess

import testinfra
import yaml

from conftest import lab_openstack

LAB = os.environ["OSDEPLOY_LAB_DIR"]
INVENTORY = os.path.join(LAB, "inventory.ini")
ROOT = os.environ.get("MOLECULE_PROJECT_DIRECTORY") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", ".."))
SITE = os.path.join(ROOT, "site.yml")
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
    "source": {("controller", "Write the uWSGI configuration of this host's APIs of nova"),
               ("controller", "Restart at the next handler flush the units that ran with what changed"),
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


class Run:
    """One ansible-playbook run of site.yml: rc, output, and what it changed per host."""

    TASK = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(?:[\w.]+ : )?(?P<name>.*?)\] \*+$")
    CHANGED = re.compile(r"^changed: \[(?P<host>[^\]]+?)(?: -> [^\]]+)?\]")
    RECAP = re.compile(r"^(?P<host>\S+)\s+: ok=\d+\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unr>\d+)\s+"
                       r"failed=(?P<failed>\d+)")

    def __init__(self, *args, extra=None):
        cmd = ["ansible-playbook", "-i", INVENTORY, SITE] + list(args)
        if extra:
            cmd += ["-e", json.dumps(extra)]
        # (and no timing JSON: the side effect's, which test_migration.py reads, is its own run's)
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                   ANSIBLE_DISPLAY_SKIPPED_HOSTS="0", OSDEPLOY_TIMING_JSON="")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800, check=False)
        self.cmd = " ".join(cmd)
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr
        self.changes = set()   # (host, task name)
        self.recap = {}
        task = None
        for line in proc.stdout.splitlines():
            m = self.TASK.match(line)
            if m:
                task = m.group("name")
                continue
            m = self.CHANGED.match(line)
            if m and task:
                self.changes.add((m.group("host"), task))
            m = self.RECAP.match(line)
            if m:
                self.recap[m.group("host")] = int(m.group("changed"))

    def changed(self):
        return sum(self.recap.values())

    def why(self):
        return "%s\nrc %s, changed %s\n%s" % (self.cmd, self.rc, sorted(self.changes), self.output[-4000:])


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


def short(task):
    """A task's name without its role's (the timing callback's names carry it, a Run's do not)."""
    return task.split(" : ", 1)[-1]


FIRST_COMPUTE = HOSTS[1]

# What the side effect's site.yml run (compute2 added) may change on the hosts that were there: their trust
# in the new compute host (keys, host keys, libvirt's migration key, the controller's firewall) and its
# mapping into the cell. That run is the second one on controller and compute1, in place of Molecule's
# idempotence step: anything else it changes there is a step that does not converge in one run.
CHANGED_FOR_A_NEW_COMPUTE = {
    (FIRST_COMPUTE, "Accept the other compute hosts' nova keys, from their addresses only"),
    (FIRST_COMPUTE, "Pin the compute hosts' host keys for every user of this host"),
    (FIRST_COMPUTE, "Let libvirtd (root) open live migrations as nova, with nova's key"),
    (FIRST_COMPUTE, "Map every compute of this play into its cell, once, on the controller"),
    ("controller", "Open the controller's firewall to the compute hosts"),
    # and VXLAN from its tunnel endpoint (the controller's firewall drops what it does not know)
    ("controller", "Let VXLAN in from the other hosts' tunnel endpoints (where a firewall drops)"),
}


# The converge's run leaves the proof out (molecule/default/converge.yml): the side effect's run is the proof's
# first, which makes what it keeps once (the image in Glance, from a copy it removes again; its SSH key; its
# project networks and router; and server_check's flavor, security group and keypair, which make the boot itself
# a change). test_network.py's run of the proof alone then proves that it makes them once.
MADE_BY_THE_FIRST_PROOF = {
    ("controller", "Boot, reach and delete a server on every compute host"),
    ("controller", "Copy the image to the controller"),
    ("controller", "Upload the image to Glance"),
    ("controller", "Remove the controller's copy of the image"),
    ("controller", "The proof's SSH key on the controller (made once, kept)"),
    ("controller", "The proof's project networks and router"),
}


# The side effect's drift (second_run.py), and what its run of site.yml changes to repair it: an option
# edited by hand, a service stopped, a defaults file edited, and a password rotated in the inventory (it
# stays: the later runs use it).
ROTATED_PASSWORD = ("baseline_glance_password", "Rotated-glance-pw-7")
DRIFT_REPAIRS = {("compute1", "Write nova.conf and nova-compute.conf (validated against the installed Nova)"),
                 ("compute1", "Restart nova-compute"),
                 ("controller", "Start the controller's Nova services at boot and now"),
                 ("controller", "Register Glance in Keystone (user, role, service, endpoints)"),
                 ("controller", "Configure Glance"),
                 ("controller", "Restart glance-api")} | METADATA_API_CHANGES
# The services of the controller the drift's run restarts: the one whose file changed, and the stopped one.
DRIFT_RESTARTS = ["nova-api-metadata", "nova-scheduler"]


def drift():
    host("compute1").check_output("sed -i 's|^lock_path = .*|lock_path = /tmp/drifted|' /etc/nova/nova.conf")
    controller = host("controller")
    controller.check_output("systemctl stop nova-scheduler")
    controller.check_output("echo '# edited by hand' >> %s" % METADATA_API_FILE)
    rotate_lab_secret(*ROTATED_PASSWORD)
