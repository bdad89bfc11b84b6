"""One upgrade hop of the scenario's lab, run as an operator runs it, with the faults the upgrade must survive.

    upgrade_hop.py SPEC REPORT

SPEC is the release the hop goes to, as tools/lab names it (source:2026.2); REPORT the JSON file the verify
step reads (tests/test_upgrade.py). In order:
  1. the lab's inventory names the new release (`tools/lab openstack SPEC`, what an operator edits);
  2. site.yml is run as an operator would first run it: it must stop before any change, naming the upgrade
     command (kept: rc and output);
  3. the upgrade command (playbooks/upgrade.yml) is run and killed (SIGKILL to all its processes, as when the
     operator's machine or session dies) in the second batch of compute hosts, as it begins writing that host's
     nova.conf: the first compute host runs the new release; the second has the new release's environment and
     units but still runs the old code, its restart pending (a handler that never ran);
  4. the last compute host stops answering (this machine's SSH to it is cut; the host and its servers run on)
     and the upgrade command is run: it must stop before any change, naming that host;
  5. the host answers again, and the upgrade command is run again and must complete: it finds the canaries
     booted by the first run, and its watch, started then, reports what the whole hop cost them (pings lost,
     the API's unanswered seconds), phase by phase.
The upgrade command's runs leave out its closing proof (osdeploy_upgrade_proof: false): the verify step runs
that proof on the upgraded cloud (test_network.py). Each run's rc, duration and output go to REPORT, its per-task
timing beside it (REPORT.<run>-timing.json), and where each run's time went is printed play by play; this script
fails only when it cannot run them (the verify step judges what they did). Environment: MOLECULE_PROJECT_DIRECTORY (the collection's checkout),
OSDEPLOY_LAB_DIR (the lab whose inventory.ini the runs use).
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

PROJECT = os.environ["MOLECULE_PROJECT_DIRECTORY"]
INVENTORY = os.path.join(os.environ["OSDEPLOY_LAB_DIR"], "inventory.ini")
BATCH_MARK = "TASK [Mark the phase of the watch, this batch of compute hosts]"
# the task of the second batch at whose start the run is killed (step 3)
KILL_AT = "TASK [osdeploy.nova.compute : Write nova.conf and nova-compute.conf"
# The rule that cuts this machine's SSH to a lab host (and the connections open to it): step 4.
CUT = "-d {address} -p tcp --dport 22 -m comment --comment osdeploy-upgrade-hop -j REJECT --reject-with tcp-reset"
ENV = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")


def playbook(path, timing, *args, interrupt_at_batch=None):
    """Run a playbook of the checkout on the lab, its per-task timing written to `timing`; with
    interrupt_at_batch=N, kill it as its N-th batch of compute hosts begins the task KILL_AT.
    {cmd, rc, seconds, output, interrupted (the line it was interrupted at, or None)}."""
    cmd = ["ansible-playbook", "-i", INVENTORY, os.path.join(PROJECT, path)] + list(args)
    begun = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(ENV, OSDEPLOY_TIMING_JSON=timing), start_new_session=True)
    lines, batches, interrupted = [], 0, None
    for line in proc.stdout:
        lines.append(line)
        if interrupt_at_batch and interrupted is None and line.startswith(BATCH_MARK):
            batches += 1
        elif interrupt_at_batch and interrupted is None and batches >= interrupt_at_batch and \
                line.startswith(KILL_AT):
            interrupted = line.strip()
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return {"cmd": " ".join(cmd), "rc": proc.returncode, "seconds": round(time.monotonic() - begun, 1),
            "interrupted": interrupted, "output": "".join(lines)}


def last_compute():
    """(name, address) of the inventory's last compute host, as Ansible reads the inventory."""
    inventory = json.loads(subprocess.run(["ansible-inventory", "-i", INVENTORY, "--list"], capture_output=True,
                                          text=True, check=True, env=ENV).stdout)
    name = inventory["compute"]["hosts"][-1]
    return name, inventory["_meta"]["hostvars"].get(name, {}).get("ansible_host", name)


def cut_off(address, cut):
    """Insert (cut) or delete this machine's rule that refuses SSH to address."""
    subprocess.run(["iptables", "-I" if cut else "-D", "OUTPUT"] + CUT.format(address=address).split(), check=True)


def plays(timing):
    """[(seconds, play)] of a run's timing JSON (the timing callback's), in the order the plays ran."""
    if not os.path.exists(timing):
        return []
    with open(timing) as f:
        tasks = json.load(f)["tasks"]
    spans = {}
    for task in tasks:
        span = spans.setdefault(task["play"], [task["start"], task["end"]])
        span[0], span[1] = min(span[0], task["start"]), max(span[1], task["end"])
    return [(round(end - start, 1), play) for play, (start, end) in spans.items()]


def main(argv):
    spec, report = argv[1], argv[2]
    subprocess.run([os.path.join(PROJECT, "tools", "lab"), "openstack", spec], check=True, env=ENV)
    hop = {"to": spec}
    hop["site"] = playbook("site.yml", report + ".site-timing.json")
    no_proof = ["-e", json.dumps({"osdeploy_upgrade_proof": False})]
    hop["interrupted"] = playbook("playbooks/upgrade.yml", report + ".interrupted-timing.json", *no_proof,
                                  interrupt_at_batch=2)
    name, address = last_compute()
    cut_off(address, True)
    try:
        hop["cut"] = playbook("playbooks/upgrade.yml", report + ".cut-timing.json", *no_proof)
    finally:
        cut_off(address, False)
    hop["cut"]["host"] = name
    hop["completed"] = playbook("playbooks/upgrade.yml", report + ".completed-timing.json", *no_proof)
    with open(report + ".new", "w") as f:
        os.fchmod(f.fileno(), 0o600)
        json.dump(hop, f, indent=1)
    os.replace(report + ".new", report)
    print("%s: site.yml rc %s (%.0f s); upgrade interrupted at %r rc %s (%.0f s); with %s cut off rc %s (%.0f s); "
          "again rc %s (%.0f s)" % (
              spec, hop["site"]["rc"], hop["site"]["seconds"], hop["interrupted"]["interrupted"],
              hop["interrupted"]["rc"], hop["interrupted"]["seconds"], name, hop["cut"]["rc"], hop["cut"]["seconds"],
              hop["completed"]["rc"], hop["completed"]["seconds"]))
    for run in ("site", "interrupted", "cut", "completed"):
        for seconds, play in plays("%s.%s-timing.json" % (report, run)):
            print("  %s: %7.1f s  %s" % (run, seconds, play))
    # what the watch printed, phase by phase (upgrade_report.yml's lines)
    for line in hop["completed"]["output"].splitlines():
        if re.match(r'^\s+"(the |in all |goal )', line):
            print(line.strip().strip('",'))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
