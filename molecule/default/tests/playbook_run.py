"""One ansible-playbook run of a playbook of the checkout on the scenario's lab, as the test files make them."""
import json
import os
import re
import subprocess

INVENTORY = os.path.join(os.environ["OSDEPLOY_LAB_DIR"], "inventory.ini")
ROOT = os.environ.get("MOLECULE_PROJECT_DIRECTORY") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", ".."))
SITE = os.path.join(ROOT, "site.yml")
UPGRADE = os.path.join(ROOT, "playbooks", "upgrade.yml")
# A host's line of the PLAY RECAP.
RECAP = re.compile(r"^(?P<host>\S+)\s+: ok=\d+\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+"
                   r"failed=(?P<failed>\d+)", re.M)


def recap(output):
    """{host: {changed, unreachable, failed}} of a run's PLAY RECAP."""
    return {m.group("host"): {key: int(m.group(key)) for key in ("changed", "unreachable", "failed")}
            for m in RECAP.finditer(output)}


class Run:
    """One ansible-playbook run (site.yml unless playbook says otherwise): rc, output, the PLAY RECAP, and the
    tasks it changed per host. Skipped tasks are not printed unless show_skipped."""

    TASK = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(?:[\w.]+ : )?(?P<name>.*?)\] \*+$")
    CHANGED = re.compile(r"^changed: \[(?P<host>[^\]]+?)(?: -> [^\]]+)?\]")

    def __init__(self, *args, extra=None, playbook=SITE, show_skipped=False):
        cmd = ["ansible-playbook", "-i", INVENTORY, playbook] + list(args)
        if extra:
            cmd += ["-e", json.dumps(extra)]
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                   ANSIBLE_DISPLAY_SKIPPED_HOSTS="1" if show_skipped else "0")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800, check=False)
        self.cmd = " ".join(cmd)
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr
        self.recap = recap(proc.stdout)
        self.changes = set()   # (host, task name)
        task = None
        for line in proc.stdout.splitlines():
            m = self.TASK.match(line)
            if m:
                task = m.group("name")
                continue
            m = self.CHANGED.match(line)
            if m and task:
                self.changes.add((m.group("host"), task))

    def changed(self):
        """How many changes the run made on all hosts."""
        return sum(host["changed"] for host in self.recap.values())

    def why(self):
        return "%s\nrc %s, changed %s\n%s" % (self.cmd, self.rc, sorted(self.changes), self.output[-4000:])
