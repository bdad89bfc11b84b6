"""Write the Ansible inventory of the Molecule scenario `vagrant` (called by its create.yml).

    vagrant ssh-config | python3 tools/vagrant.d/inventory.py --lab-dir DIR --name NAME \\
        --subnet CIDR --accel tcg|kvm [--netns NS]

Reads `vagrant ssh-config` of the VMs on stdin and writes, in DIR (the
scenario's OSDEPLOY_LAB_DIR, the layout of tools/lab):
  inventory.ini         groups controller and compute; per host ansible_host/port/
                        user/key from Vagrant and osdeploy_management_ip (the private
                        network's address, .10 controller, .10+N computeN);
                        lab_accel; lab_http_client when this machine cannot reach
                        the private network (the VMs live in the network namespace NS)
  ssh/known_hosts       the VMs' ed25519 host keys, scanned now (then checked strictly)
  group_vars/all/secrets.yml  (0600) the random passwords the roles need, made
                        once by tools/lab.d/lab.py's own code and kept until destroy
Prints what it changed; never prints a secret.
"""

import argparse
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.realpath(__file__))    # tools/vagrant.d
sys.path.insert(0, os.path.join(HERE, "..", "lab.d"))

import lab  # noqa: E402  (tools/lab.d/lab.py: the secrets and their writer are shared)


class VagrantLab(lab.Lab):
    """The nspawn lab's bookkeeping of secrets, for VMs that need no platform settings."""

    def platform_group_vars(self):
        return {"all": "# Written by the lab tool: a VM is a real machine and the roles' defaults fit,\n"
                       "# but no provider network is wired between the VMs yet, so no server is booted.\n"
                       "osdeploy_verify_server: false\n"}


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


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lab-dir", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--subnet", required=True)
    p.add_argument("--accel", choices=("tcg", "kvm"), required=True)
    p.add_argument("--netns", default="")
    args = p.parse_args()

    hosts = parse_ssh_config(sys.stdin.read())
    bad = [h for h in hosts if not lab.HOST_RE.match(h)]
    if bad or "controller" not in hosts or len(hosts) < 2:
        raise SystemExit("inventory: expected controller and computeN in `vagrant ssh-config`, got %s" % sorted(hosts))
    lab_dir = os.path.abspath(args.lab_dir)
    os.environ["OSDEPLOY_LAB_DIR"] = lab_dir
    try:
        vlab = VagrantLab(name=args.name, subnet=args.subnet)
    except lab.LabError as exc:
        raise SystemExit("inventory: %s" % exc)
    os.makedirs(os.path.join(lab_dir, "ssh"), mode=0o700, exist_ok=True)
    os.chmod(lab_dir, 0o700)
    changes = []

    known = []
    for h in sorted(hosts, key=vlab.index):
        c = hosts[h]
        for line in scan_host_key(c["hostname"], c.get("port", "22"), args.netns):
            known.append(line)
    if lab.write_file(os.path.join(lab_dir, "ssh", "known_hosts"), "\n".join(known) + "\n", 0o600):
        changes.append("known_hosts")

    users = {hosts[h].get("user", "root") for h in hosts}
    computes = sorted((h for h in hosts if h != "controller"), key=vlab.index)
    ssh_args = []
    if args.netns:
        # the VMs live in the network namespace: SSH goes through it
        ssh_args.append('-o ProxyCommand="ip netns exec %s nc %%h %%p"' % args.netns)
    ssh_args += ["-o UserKnownHostsFile=%s" % os.path.join(lab_dir, "ssh", "known_hosts"),
                 "-o StrictHostKeyChecking=yes", "-o IdentitiesOnly=yes"]
    out = ["# Ansible inventory of the Molecule scenario vagrant (%s), written by its create.yml" % args.name,
           "# from `vagrant ssh-config`; removed by its destroy.yml.", ""]
    for group, members in (("controller", ["controller"]), ("compute", computes)):
        out.append("[%s]" % group)
        for h in members:
            c = hosts[h]
            line = "%s ansible_host=%s ansible_port=%s ansible_user=%s ansible_ssh_private_key_file=%s osdeploy_management_ip=%s" % (
                h, c["hostname"], c.get("port", "22"), c.get("user", "root"), shlex.quote(c["identityfile"]),
                vlab.ip(h))
            if h == "controller" and args.netns:
                # the private network is not reachable from this machine: HTTP
                # clients of the controller run on a compute VM
                line += " lab_http_client=%s" % computes[0]
            out.append(line)
        out.append("")
    out += ["[all:vars]",
            "ansible_ssh_common_args='%s'" % " ".join(ssh_args),
            "ansible_python_interpreter=/usr/bin/python3"]
    if users != {"root"}:
        out.append("ansible_become=true")
    out += ["lab_name=%s" % args.name, "lab_network=%s" % vlab.net] + lab.accel_inventory_vars(args.accel)
    if lab.write_file(os.path.join(lab_dir, "inventory.ini"), "\n".join(out) + "\n", 0o600):
        changes.append("inventory")

    vlab.ensure_group_vars()
    changes += vlab.changes
    print("inventory: %s" % (", ".join(changes) if changes else "no change"))
    print(os.path.join(lab_dir, "inventory.ini"))


if __name__ == "__main__":
    main()
