"""The lab of the Molecule scenario `vagrant` (backend vagrant): its inventory, host keys and secrets.

    vagrant ssh-config | tools/vagrant.d/inventory --lab-dir DIR --name NAME \\
        --subnet CIDR --accel tcg|kvm [--netns NS]

Vagrant starts and removes the VMs (the scenario's create.yml and destroy.yml,
with tools/vagrant.d/libvirt); this reads `vagrant ssh-config` of the VMs on
stdin and writes, in DIR (the scenario's OSDEPLOY_LAB_DIR, the layout of every
lab backend):
  inventory.ini         groups controller and compute; per host ansible_host/port/
                        user/key from Vagrant and osdeploy_management_ip (the private
                        network's address, .10 controller, .10+N computeN);
                        lab_accel; lab_http_client when this machine cannot reach
                        the private network (the VMs live in the network namespace NS)
  ssh/known_hosts       the VMs' ed25519 host keys, scanned now (then checked strictly)
  group_vars/all/secrets.yml  (0600) the random passwords the roles need, made
                        once by the collection's generator (base.py) and kept until destroy
Prints what it changed; never prints a secret.
"""

import argparse
import os
import shlex
import subprocess
import sys

from .base import Lab
from .common import HOST_RE, LabError, accel_inventory_vars, write_file


class VagrantLab(Lab):
    """VMs that Vagrant runs: reached as `vagrant ssh-config` says, through the network
    namespace `netns` when there is one; `accel` is what they run with (tcg, kvm)."""
    TOOL = "tools/vagrant.d/inventory"
    DEFAULT_NAME = "osdvag"
    DEFAULT_SUBNET = "192.168.61.0/24"

    def __init__(self, name, subnet, ssh_config, netns, accel):
        super().__init__(name, subnet)
        self.ssh_config = ssh_config
        self.netns = netns
        self.accel = accel

    def inventory_header(self):
        return ["# Ansible inventory of the Molecule scenario vagrant (%s), written by its create.yml" % self.name,
                "# from `vagrant ssh-config`; removed by its destroy.yml."]

    def inventory_host_vars(self, host):
        c = self.ssh_config[host]
        out = "ansible_host=%s ansible_port=%s ansible_user=%s ansible_ssh_private_key_file=%s osdeploy_management_ip=%s" % (
            c["hostname"], c.get("port", "22"), c.get("user", "root"), shlex.quote(c["identityfile"]), self.ip(host))
        if host == "controller" and self.netns:
            # the private network is not reachable from this machine: HTTP
            # clients of the controller run on a compute VM
            out += " lab_http_client=%s" % min((h for h in self.ssh_config if h != "controller"), key=self.index)
        return out

    def inventory_connection_vars(self):
        # each host's user and key are Vagrant's (inventory_host_vars); a user other than root becomes root
        users = {c.get("user", "root") for c in self.ssh_config.values()}
        return [] if users == {"root"} else ["ansible_become=true"]

    def ssh_common_args(self):
        if not self.netns:
            return super().ssh_common_args()
        # the VMs live in the network namespace: SSH goes through it
        return ['-o ProxyCommand="ip netns exec %s nc %%h %%p"' % self.netns] + super().ssh_common_args()

    def inventory_lab_vars(self, hosts):
        return super().inventory_lab_vars(hosts) + accel_inventory_vars(self.accel)

    def write_known_hosts(self, hosts):
        known = []
        for h in hosts:
            c = self.ssh_config[h]
            known += scan_host_key(c["hostname"], c.get("port", "22"), self.netns)
        if write_file(self.known_hosts, "\n".join(known) + "\n", 0o600):
            self.changes.append("known_hosts")


def parse_ssh_config(text):
    """{host: {option (lower case): value}} of `vagrant ssh-config` output."""
    hosts, cur = {}, None
    for line in text.splitlines():
        parts = line.strip().split(None, 1)
        if len(parts) != 2:
            continue
        key, value = parts[0].lower(), parts[1].strip().strip('"')
        if key == "host":
            cur = hosts.setdefault(value, {})
        elif cur is not None:
            cur.setdefault(key, value)
    return hosts


def scan_host_key(host, port, netns, attempts=10):
    cmd = ["ssh-keyscan", "-T", "20", "-t", "ed25519", "-p", str(port), host]
    if netns:
        cmd = ["ip", "netns", "exec", netns] + cmd
    for dummy in range(attempts):
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False).stdout
        keys = [ln for ln in out.splitlines() if ln and not ln.startswith("#")]
        if keys:
            return keys
    raise SystemExit("inventory: no SSH host key from %s:%s" % (host, port))


def main(argv=None):
    p = argparse.ArgumentParser(prog=VagrantLab.TOOL, description=__doc__.splitlines()[0])
    p.add_argument("--lab-dir", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--subnet", required=True)
    p.add_argument("--accel", choices=("tcg", "kvm"), required=True)
    p.add_argument("--netns", default="")
    args = p.parse_args(argv)

    ssh_config = parse_ssh_config(sys.stdin.read())
    bad = [h for h in ssh_config if not HOST_RE.match(h)]
    if bad or "controller" not in ssh_config or len(ssh_config) < 2:
        raise SystemExit("inventory: expected controller and computeN in `vagrant ssh-config`, got %s"
                         % sorted(ssh_config))
    lab_dir = os.path.abspath(args.lab_dir)
    os.environ["OSDEPLOY_LAB_DIR"] = lab_dir
    try:
        vlab = VagrantLab(args.name, args.subnet, ssh_config, args.netns, args.accel)
    except LabError as exc:
        raise SystemExit("inventory: %s" % exc)
    os.makedirs(os.path.join(lab_dir, "ssh"), mode=0o700, exist_ok=True)
    os.chmod(lab_dir, 0o700)
    hosts = sorted(ssh_config, key=vlab.index)
    vlab.write_known_hosts(hosts)
    if write_file(vlab.inventory, vlab.inventory_text(hosts), 0o600):
        vlab.changes.append("inventory")
    vlab.ensure_group_vars()
    print("inventory: %s" % (", ".join(vlab.changes) if vlab.changes else "no change"))
    print(vlab.inventory)


if __name__ == "__main__":
    main()
