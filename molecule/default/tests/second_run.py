"""The side effect's drift and preview: molecule/default/side_effect.yml runs `second_run.py before` once
compute2 is up (a fresh host) and before its run of site.yml, and `second_run.py after` after that run;
test_operations.py checks what they recorded.

before  drifts controller and compute1 (lab_runs.drift), then previews site.yml as the side effect then
        runs it (--check --diff, with -vvv: every module's arguments, results and loop items printed),
        taking every host's fingerprint before and after the preview, and the main PIDs of the
        controller's Nova services after it;
after   takes those PIDs again.
The record is LAB/second-run.json; the preview's output is LAB/second-run-preview.txt (mode 0600, like
the lab's secrets: it is checked for them, which it must not hold). A failed preview fails nothing here:
the run goes on, and the verify step says what the preview did.
"""
import json
import os
import sys

from lab_runs import CONTROLLER_SERVICES, LAB, Run, drift, fingerprint, host, main_pids

RECORD = os.path.join(LAB, "second-run.json")
PREVIEW_OUTPUT = os.path.join(LAB, "second-run-preview.txt")
# What the side effect's run sets (side_effect.yml): the proof moves a server between the compute hosts.
SIDE_EFFECT_VARS = {"osdeploy_verify_migration": True}


def write(path, text):
    fd = os.open(path + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(path + ".new", path)


def before():
    drift()
    was = fingerprint()
    preview = Run("--check", "--diff", "-vvv", extra=SIDE_EFFECT_VARS)
    now = fingerprint()
    controller = host("controller")
    record = {
        "preview": {"cmd": preview.cmd, "rc": preview.rc, "recap": preview.recap,
                    "changes": sorted(preview.changes)},
        # names only: a database account's line holds its password's hash
        "changed by the preview": sorted(str(key) for key in was if now.get(key) != was[key]),
        "nova-scheduler after the preview": controller.check_output("systemctl is-active nova-scheduler || true"),
        "pids before the run": main_pids(controller, CONTROLLER_SERVICES),
    }
    write(PREVIEW_OUTPUT, preview.output)
    write(RECORD, json.dumps(record, indent=1) + "\n")
    print("preview: rc %s, %d changes predicted, recap %s (output: %s)" % (
        preview.rc, len(preview.changes), preview.recap, PREVIEW_OUTPUT))


def after():
    with open(RECORD) as f:
        record = json.load(f)
    record["pids after the run"] = main_pids(host("controller"), CONTROLLER_SERVICES)
    write(RECORD, json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    {"before": before, "after": after}[sys.argv[1]]()
