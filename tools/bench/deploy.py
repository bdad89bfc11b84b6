"""The arithmetic of tools/bench/deploy: reads the JSON files of the osdeploy.nova.timing callback
(OSDEPLOY_TIMING_JSON) and prints the figures, the goals and the classification of the tasks.

  deploy.py converged RUN.json          exit 1, naming the changed tasks, when a result changed
  deploy.py report first=WALL:JSON rerun1=WALL:JSON add2=WALL:JSON rerun2=WALL:JSON

Irreducible work (the first deploy's floor) is what a deployment cannot do without, whatever the
tool: package downloads and installs, schema migrations and service starts. A task counts when
what it runs is one of them (see classify()); the rest is "other" (configuration files, checks,
API registrations, waits, the proof) and is what a faster playbook could shave.
On the critical path: in a play with strategy free (packages.yml: every host installs at once)
the longest host's sum of its irreducible tasks counts, not the sum over hosts; in a linear play
each irreducible task counts with its wall time (first host start to last host end, skipped hosts
left out), since the next task waits for it.
"""
import json
import re
import sys

GOAL_RERUN = 30.0         # seconds, converged re-run with 1 compute
GOAL_SCALE = 1.10         # 2-compute re-run / 1-compute re-run
GOAL_FIRST = 1.30         # first deploy / irreducible work

PACKAGE_ACTIONS = {"apt", "package"}
SERVICE_ACTIONS = {"systemd", "systemd_service", "service"}
SERVICE_STARTS = {"started", "restarted", "reloaded"}
COMMAND_ACTIONS = {"command", "shell"}
# a schema migration: `… db sync`, `keystone-manage db_sync` (not `--check`), `neutron-db-manage … upgrade`
MIGRATION = re.compile(r"\bdb[ _]sync\b(?!\s+--check)|\bneutron-db-manage\b.*\bupgrade\b")
CELL_V2_MIGRATIONS = {"api_db_sync", "db_sync"}   # osdeploy.nova.cell_v2's steps that run nova-manage … sync


def short(action):
    return (action or "").rsplit(".", 1)[-1]


def command_of(task):
    args = task.get("args") or {}
    argv = args.get("argv")
    if isinstance(argv, list):
        return " ".join(str(a) for a in argv)
    return str(args.get("cmd") or args.get("_raw_params") or "")


def classify(task):
    """'packages', 'schema', 'service start' or None (other work), from what the task runs."""
    action, args = short(task["action"]), task.get("args") or {}
    state = str(args.get("state", ""))
    if action in PACKAGE_ACTIONS and state not in ("absent", "purged"):
        return "packages"
    if action in COMMAND_ACTIONS and MIGRATION.search(command_of(task)):
        return "schema"
    if action == "cell_v2" and args.get("action") in CELL_V2_MIGRATIONS:
        return "schema"
    if action in SERVICE_ACTIONS and state in SERVICE_STARTS:
        return "service start"
    return None


def ran(task):
    """The hosts that ran the task (not skipped), with their start and end."""
    return {h: r for h, r in task["hosts"].items() if r.get("status") not in ("skipped", None) and r.get("end")}


def host_seconds(result):
    return result["end"] - result["start"]


def free(task):
    return short(task.get("strategy")) == "free"


def wall(task):
    """A task's time on the critical path: in a linear play from the first host's start to the last
    host's end; in a play with strategy free (hosts do not wait for each other) the longest host's."""
    hosts = ran(task)
    if not hosts:
        return 0.0
    if free(task):
        return max(host_seconds(r) for r in hosts.values())
    return max(r["end"] for r in hosts.values()) - min(r["start"] for r in hosts.values())


def irreducible(tasks):
    """(seconds on the critical path, [(class, seconds counted, task, note)])."""
    total, rows, free_plays = 0.0, [], {}
    for task in tasks:
        kind = classify(task)
        if kind is None or not ran(task):
            continue
        if free(task):
            per_host = free_plays.setdefault(task["play"], {})
            for host, result in ran(task).items():
                per_host[host] = per_host.get(host, 0.0) + host_seconds(result)
            rows.append((kind, None, task, ", ".join("%s %.1f" % (h, host_seconds(r)) for h, r in sorted(ran(task).items()))))
        else:
            total += wall(task)
            rows.append((kind, wall(task), task, ", ".join(sorted(ran(task)))))
    for play, per_host in free_plays.items():
        host = max(per_host, key=per_host.get)
        total += per_host[host]
        rows.append(("(free play)", per_host[host], {"name": "longest host of play %r: %s" % (play, host), "action": ""},
                     ", ".join("%s %.1f" % hs for hs in sorted(per_host.items()))))
    return total, rows


def load(path):
    with open(path) as f:
        return json.load(f)


def changed_results(data):
    return [(t["name"], h) for t in data["tasks"] for h, r in t["hosts"].items() if r.get("changed")]


def converged(path):
    data = load(path)
    changed = changed_results(data)
    if data["changed"] or changed:
        print("bench: the converged re-run changed %d results:" % max(data["changed"], len(changed)), file=sys.stderr)
        for name, host in changed:
            print("  %s: %s" % (host, name), file=sys.stderr)
        return 1
    return 0


def goal(value, limit, unit=""):
    return "met" if value <= limit else "missed by %.2f%s" % (value - limit, unit)


def what(task):
    args = task.get("args") or {}
    if short(task["action"]) in COMMAND_ACTIONS:
        return " ".join(command_of(task).split())
    return " ".join("%s=%s" % (k, args[k]) for k in sorted(args))


def per_host_counts(data):
    counts = {}
    for task in data["tasks"]:
        for host, result in task["hosts"].items():
            c = counts.setdefault(host, {"ran": 0, "skipped": 0})
            c["skipped" if result.get("status") == "skipped" else "ran"] += 1
    return counts


def plays(data):
    """[(play, wall from its first task's start to its last task's end, number of tasks)] in order."""
    out = []
    for task in data["tasks"]:
        if not out or out[-1][0] != task["play"]:
            out.append([task["play"], task["start"], task["end"], 0])
        out[-1][2] = max(out[-1][2], task["end"])
        out[-1][3] += 1
    return [(p, end - start, n) for p, start, end, n in out]


def report(runs):
    data = dict((name, load(run[1])) for name, run in runs.items())
    walls = dict((name, run[0]) for name, run in runs.items())
    first = data["first"]
    irr, rows = irreducible(first["tasks"])
    ratio_first = walls["first"] / irr if irr else float("inf")
    ratio_scale = walls["rerun2"] / walls["rerun1"]

    def row(label, value, run=None, limit="", result=""):
        counts = ("%6d %8d" % (len(run["tasks"]), run["changed"])) if run else "%15s" % ""
        print(("%-44s %9s %s   %-10s %s" % (label, value, counts, limit, result)).rstrip())

    print("%-44s %9s %6s %8s   %s" % ("", "seconds", "tasks", "changed", "goal"))
    row("first deploy, site.yml on a fresh lab", "%.1f" % walls["first"], first)
    row("  irreducible work on its critical path", "%.1f" % irr)
    row("  wall / irreducible", "%.2f" % ratio_first, None, "<= %.2f" % GOAL_FIRST, goal(ratio_first, GOAL_FIRST))
    row("converged re-run, 1 compute", "%.1f" % walls["rerun1"], data["rerun1"], "<= %.0f s" % GOAL_RERUN,
        goal(walls["rerun1"], GOAL_RERUN, " s"))
    row("site.yml adding compute2 (not a re-run)", "%.1f" % walls["add2"], data["add2"])
    row("converged re-run, 2 computes", "%.1f" % walls["rerun2"], data["rerun2"])
    row("  ratio to the 1-compute re-run", "%.2f" % ratio_scale, None, "<= %.2f" % GOAL_SCALE, goal(ratio_scale, GOAL_SCALE))

    print("\nIrreducible work of the first deploy (what each counted task runs; check the classification):")
    print("  %-13s %9s  %-25s %-44s %s" % ("class", "counted", "module", "runs", "task [hosts]"))
    for kind, seconds, task, note in rows:
        counted = "(in free)" if seconds is None else "%.1f" % seconds
        print("  %-13s %9s  %-25s %-44s %s [%s]" % (kind, counted, short(task["action"]), what(task)[:44], task["name"], note))
    others = sorted((t for t in first["tasks"] if classify(t) is None), key=wall, reverse=True)
    print("  not counted: %d other tasks, %.1f s of task wall in all; the slowest ten:" % (
        len(others), sum(wall(t) for t in others)))
    for task in others[:10]:
        print("  %-13s %9.1f  %-25s %-44s %s" % ("other", wall(task), short(task["action"]), what(task)[:44], task["name"]))

    rerun = data["rerun1"]
    print("\nTen slowest tasks of the converged re-run with 1 compute (wall: first host start to last host end;"
          " in the packages play, strategy free, the longest host):")
    for task in sorted(rerun["tasks"], key=wall, reverse=True)[:10]:
        print("  %6.1f s  %-25s %-22s %s" % (wall(task), short(task["action"]),
                                             ",".join(sorted(ran(task))) or "(skipped)", task["name"]))

    print("\nConverged re-runs, per play (wall from its first task's start to its last task's end):")
    print("  %-62s %14s %14s" % ("play", "1 compute", "2 computes"))
    two = dict((p, (w, n)) for p, w, n in plays(data["rerun2"]))
    for play, seconds, n in plays(rerun):
        w2, n2 = two.get(play, (0.0, 0))
        print("  %-62s %6.1f s %3d t %6.1f s %3d t" % (play[:62], seconds, n, w2, n2))
    for name in ("rerun1", "rerun2"):
        counts = per_host_counts(data[name])
        tasks = data[name]["tasks"]
        in_tasks = sum(wall(t) for t in tasks)
        print("  %s: %d tasks, %.1f s in tasks (%.2f s per task), %.1f s outside them; per host ran/skipped: %s" % (
            "1 compute " if name == "rerun1" else "2 computes", len(tasks), in_tasks, in_tasks / max(len(tasks), 1),
            walls[name] - in_tasks, ", ".join("%s %d/%d" % (h, c["ran"], c["skipped"]) for h, c in sorted(counts.items()))))


def main(argv):
    if len(argv) == 2 and argv[0] == "converged":
        return converged(argv[1])
    if argv and argv[0] == "report":
        runs = {}
        for arg in argv[1:]:
            name, value = arg.split("=", 1)
            seconds, path = value.split(":", 1)
            runs[name] = (float(seconds), path)
        report(runs)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
