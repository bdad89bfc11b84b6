"""The arithmetic of tools/bench/deploy: reads the JSON files of the osdeploy.nova.timing callback
(OSDEPLOY_TIMING_JSON) and prints the figures, the goals and the classification of the tasks.

  deploy.py converged RUN.json          exit 1, naming the changed tasks, when a result changed
  deploy.py report first=WALL:JSON rerun1=WALL:JSON add2=WALL:JSON rerun2=WALL:JSON
  deploy.py model DIR [--forks N]       the scale model alone, on DIR/rerun1.json and DIR/rerun2.json
  deploy.py model RERUN1.json RERUN2.json [--forks N]

Irreducible work (the first deploy's floor) is what a deployment cannot do without, whatever the
tool: package downloads and installs, schema migrations and service starts. A task counts when
what it runs is one of them (see classify()); the rest is "other" (configuration files, checks,
API registrations, waits, the proof) and is what a faster playbook could shave.
On the critical path: in a play with strategy free (packages.yml: every host installs at once)
the longest host's sum of its irreducible tasks counts, not the sum over hosts; in a linear play
each irreducible task counts with its wall time (first host start to last host end, skipped hosts
left out), since the next task waits for it.

The scale model (issue #17, "scale on paper"; scale_model(), printed after the report and by
`deploy.py model`): what a converged re-run costs with N compute hosts (1, 2, 10, 100), from the
two measured re-runs (1 and 2 computes, paired task by task), play by play, in two estimates, high
and low; with 1 compute both are the measured run (their base), with 2 their error shows.
- Fixed tasks: those that gain no host from the first run to the second (the controller's, the
  localhost's, run_once or delegated ones such as cell_v2 discover_hosts, run once on the
  controller) cost what they took in the 1-compute run, whatever N.
- Per-compute tasks (linear strategy): Ansible runs a task on up to `forks` hosts at once (forks
  from ANSIBLE_FORKS, else the checkout's ansible.cfg, else Ansible's 5) and the next task waits for
  the slowest, so every further wave of `forks` hosts adds the task's slowest host time of the
  1-compute run; and every further compute host adds the Ansible control node's work per host and
  task (Python, a worker process, the SSH exchange). High: that work is the task's growth per added
  compute from the first run to the second, averaged over the tasks the added host ran and,
  apart, over those it skipped (a skipped host costs no SSH exchange); it includes this lab's CPU
  contention, so it is high, and being fitted on the 2-compute run it matches that run by
  construction. Low: the mean gap between consecutive hosts' starts of a task in the 2-compute run,
  the control node's serial dispatch alone (never more than high's). Both add the waves and the
  per-host work; Ansible overlaps them in part (it dispatches the next host while the others run).
- A play with strategy free (packages.yml) as a whole: its 1-compute wall, plus per further wave
  the longest compute host's chain of tasks, plus the per-host work of each compute task.
- The proof (osdeploy.nova.server_check, one server per compute host): the module creates every
  server before waiting for any, so the guests boot in parallel, each on its own compute host; its
  API calls come from one process, one after the other, so what it does per server in turn grows
  with N (before 9b269e6 the module deleted each server and waited for it before the next: one
  delete per server, 6.3 s on the lab; it now asks for every delete first). High: the measured
  growth from 1 to 2 computes per added compute. Low: that growth less the growth of the boot
  (the latest "seconds from create" of a server in the module's summary, read from the run's .log
  next to its JSON when there is one), which on the lab comes from guests sharing its CPUs, not from
  their number.
- CPU contention: on the lab the controller, the computes and Ansible share the machine's CPUs;
  real hosts have their own. Host times (the slowest host, the fixed tasks, the free play's chain)
  therefore come from the 1-compute run, the least contended; the growths from the difference of
  the runs, with the contention (high) or without it (low).
- What lies between tasks and plays (the callback's run wall less the plays' walls) is fixed.
No play of site.yml sets `serial` (the model checks playbooks/*.yml and says so), so every compute
host runs each task in the same pass. Not modelled: the controller's services under N concurrent
boots, facts and files that grow with N (the computes' known_hosts), Ansible's variable handling
that grows with the inventory.
"""
import configparser
import json
import math
import os
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
    """A host's time in a task: the callback's `seconds` (its runs of the task, without the time between
    two runs of a handler), or in a JSON written before the callback had them its first start to its last end."""
    return result["seconds"] if "seconds" in result else result["end"] - result["start"]


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


def play_groups(tasks):
    """[(play, [indices of its tasks])] in the order of the run."""
    groups = []
    for i, task in enumerate(tasks):
        if not groups or groups[-1][0] != task["play"]:
            groups.append((task["play"], []))
        groups[-1][1].append(i)
    return groups


def tasks_wall(tasks, ix):
    """From the first start to the last end of the tasks at indices ix."""
    return max(tasks[i]["end"] for i in ix) - min(tasks[i]["start"] for i in ix)


def plays(data):
    """[(play, wall from its first task's start to its last task's end, number of tasks)] in order."""
    tasks = data["tasks"]
    return [(play, tasks_wall(tasks, ix), len(ix)) for play, ix in play_groups(tasks)]


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


# -- the scale model (issue #17: what a converged re-run costs with 10 and 100 computes) ----------

SCALE_COMPUTES = (1, 2, 10, 100)
ANSIBLE_DEFAULT_FORKS = 5
PROOF_ACTION = "server_check"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERIAL = re.compile(r"^\s*serial\s*:", re.M)
BOOT_SUMMARY = re.compile(r"seconds from create: ([^;\"]*)")


def forks_setting(root=ROOT, environ=None):
    """(forks, where the figure comes from): ANSIBLE_FORKS, else the checkout's ansible.cfg, else Ansible's 5."""
    environ = os.environ if environ is None else environ
    if environ.get("ANSIBLE_FORKS"):
        return int(environ["ANSIBLE_FORKS"]), "ANSIBLE_FORKS"
    path = os.path.join(root, "ansible.cfg")
    cfg = configparser.ConfigParser(inline_comment_prefixes=("#", ";"))
    if cfg.read(path) and cfg.has_option("defaults", "forks"):
        return cfg.getint("defaults", "forks"), "ansible.cfg [defaults] forks"
    return ANSIBLE_DEFAULT_FORKS, "Ansible's default: ansible.cfg sets none"


def serial_playbooks(root=ROOT):
    """The playbooks of site.yml (site.yml, playbooks/*.yml) that set `serial` somewhere."""
    paths = [os.path.join(root, "site.yml")]
    folder = os.path.join(root, "playbooks")
    if os.path.isdir(folder):
        paths += sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith((".yml", ".yaml")))
    found = []
    for path in paths:
        if os.path.isfile(path):
            with open(path) as f:
                if SERIAL.search(f.read()):
                    found.append(os.path.relpath(path, root))
    return found


def boot_seconds(log_path):
    """The latest "seconds from create" of any server in the proof's summary, as the run's log shows it
    ("compute1: ACTIVE at …; seconds from create: active 12.5, DHCP 15.5, …, ping 15.5; deleted in 6.3"),
    or None without a log or a summary."""
    try:
        with open(log_path) as f:
            text = f.read()
    except (IOError, OSError):
        return None
    values = []
    for match in BOOT_SUMMARY.finditer(text):
        for stage in match.group(1).split(","):
            try:
                values.append(float(stage.split()[-1]))
            except (IndexError, ValueError):
                pass
    return max(values) if values else None


def span(task):
    """A task's wall as the callback saw it: from its start (before any host) to its last result."""
    return task["end"] - task["start"]


def records(task):
    """Each host's record of the task that has a start and an end, ran or skipped (a skipped host costs too)."""
    return dict((h, r) for h, r in task["hosts"].items() if r.get("start") is not None and r.get("end") is not None)


def waves(hosts, forks):
    """How many rounds of at most `forks` hosts a task on `hosts` hosts takes."""
    return int(math.ceil(hosts / float(forks)))


def mean(values):
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def scale_model(run1, run2, forks, boot=(None, None), computes=SCALE_COMPUTES):
    """A converged re-run's wall modelled for each number of compute hosts in `computes`, from two measured
    re-runs (the callback's JSON, loaded), the second with more compute hosts than the first (the bench:
    1 and 2). boot: the latest "seconds from create" of the proof's servers in each run (boot_seconds()),
    or None. The model is the module docstring's. Returns a dict: the figures it derived from the runs,
    per play (in order) its measured walls and its modelled ones ("high" and "low" per N), the totals."""
    if forks < 1:
        raise ValueError("forks must be 1 or more, not %s" % forks)
    t1, t2 = run1["tasks"], run2["tasks"]
    if [(t["play"], t["name"]) for t in t1] != [(t["play"], t["name"]) for t in t2]:
        raise ValueError("the two re-runs did not run the same tasks in the same order: the model pairs them")
    added = set(h for t in t2 for h in t["hosts"]) - set(h for t in t1 for h in t["hosts"])
    proof = set(i for i, t in enumerate(t1) if short(t["action"]) == PROOF_ACTION)
    grown = set(i for i, t in enumerate(t2) if i not in proof and added & set(t["hosts"]))
    hosts = [set(t1[i]["hosts"]) for i in sorted(grown)]
    first = set.intersection(*hosts) if hosts else set()   # the first run's compute hosts
    if not added or not first:
        raise ValueError("the second re-run has no host that the first lacks, or no host of the first run is in every "
                         "task that gains one: the model needs two re-runs, the second with more compute hosts")
    n1, n2 = len(first), len(first) + len(added)

    def ran_on_added(i):  # the added compute hosts ran the task (else they skipped it)
        return any(t2[i]["hosts"][h].get("status") != "skipped" for h in added if h in t2[i]["hosts"])

    linear = [i for i in sorted(grown) if not free(t1[i])]
    growth_ran = max(0.0, mean((span(t2[i]) - span(t1[i])) / (n2 - n1) for i in linear if ran_on_added(i)))
    growth_skipped = max(0.0, mean((span(t2[i]) - span(t1[i])) / (n2 - n1) for i in linear if not ran_on_added(i)))
    gaps = []
    for i in linear:
        starts = sorted(r["start"] for r in records(t2[i]).values())
        if len(starts) > 1:
            gaps.append((starts[-1] - starts[0]) / (len(starts) - 1))
    dispatch = mean(gaps)
    per_host = dict(high=dict((i, growth_ran if ran_on_added(i) else growth_skipped) for i in grown))
    per_host["low"] = dict((i, min(dispatch, high)) for i, high in per_host["high"].items())
    boot_growth = None
    if boot[0] is not None and boot[1] is not None:
        boot_growth = max(0.0, (boot[1] - boot[0]) / (n2 - n1))
    proof_growth = dict(high=dict((i, max(0.0, (span(t2[i]) - span(t1[i])) / (n2 - n1))) for i in proof))
    proof_growth["low"] = dict((i, max(0.0, g - (boot_growth or 0.0))) for i, g in proof_growth["high"].items())

    plays = [dict(name=name, free=free(t1[ix[0]]), ix=ix) for name, ix in play_groups(t1)]

    def slowest(i):
        return max([host_seconds(r) for r in records(t1[i]).values()] or [0.0])

    def play_wall(play, n, estimate):
        w = play["measured"][0]
        ix = [i for i in play["ix"] if i in grown]
        w += sum((n - n1) * per_host[estimate][i] for i in ix)
        if play["free"] and ix:
            # hosts do not wait for each other: a further wave of hosts adds a compute host's chain of tasks
            others = len(set(h for i in play["ix"] for h in t1[i]["hosts"]) - first)
            chain = max(sum(host_seconds(r) for i in play["ix"] for name, r in records(t1[i]).items()
                            if name == h) for h in first)
            w += (waves(others + n, forks) - waves(others + n1, forks)) * chain
        else:
            for i in ix:
                others = len(set(t1[i]["hosts"]) - first)
                w += (waves(others + n, forks) - waves(others + n1, forks)) * slowest(i)
        w += sum((n - n1) * proof_growth[estimate][i] for i in play["ix"] if i in proof)
        return w

    walls = (run1["end"] - run1["start"], run2["end"] - run2["start"])
    for play in plays:
        play["measured"] = (tasks_wall(t1, play["ix"]), tasks_wall(t2, play["ix"]))
        play["tasks"] = (len(play["ix"]), len([i for i in play["ix"] if i in grown]))
    outside = walls[0] - sum(p["measured"][0] for p in plays)
    for play in plays:
        for estimate in ("high", "low"):
            play[estimate] = dict((n, play_wall(play, n, estimate)) for n in computes)
    fixed = [i for i in range(len(t1)) if i not in grown and i not in proof]
    discover = [(t1[i]["name"], span(t1[i])) for i in fixed if short(t1[i]["action"]) == "cell_v2"
                and (t1[i].get("args") or {}).get("action") == "discover_hosts"]
    return dict(
        n1=n1, n2=n2, first=sorted(first), added=sorted(added), forks=forks, walls=walls, outside=outside,
        growth_ran=growth_ran, growth_skipped=growth_skipped, dispatch=dispatch,
        linear=(len([i for i in linear if ran_on_added(i)]), len([i for i in linear if not ran_on_added(i)])),
        grown=len(grown), fixed=len(fixed), fixed_seconds=sum(span(t1[i]) for i in fixed), discover=discover,
        proof=[(t1[i]["name"], span(t1[i]), span(t2[i]), proof_growth["high"][i], proof_growth["low"][i])
               for i in sorted(proof)],
        boot=tuple(boot), boot_growth=boot_growth, plays=plays, computes=tuple(computes),
        high=dict((n, outside + sum(p["high"][n] for p in plays)) for n in computes),
        low=dict((n, outside + sum(p["low"][n] for p in plays)) for n in computes))


def print_scale(m, sources, forks_from, serial):
    """Print the scale model m (scale_model()): its assumptions and inputs, then the table."""
    n1, n2, forks, added = m["n1"], m["n2"], m["forks"], ", ".join(m["added"])
    print("Scale on paper: a converged re-run with N compute hosts, modelled on the re-runs with %d and %d "
          "(deploy.py scale_model(); its docstring says more)" % (n1, n2))
    print("  inputs: %s" % "; ".join(sources))
    print("          forks %d (%s); serial: %s" % (forks, forks_from, ("set in %s: the model leaves it out" % ", ".join(
        serial)) if serial else "set by no play of site.yml, so every compute host runs each task in the same pass"))
    print("  walls: the timing callback's (the bench's figures above also count ansible-playbook's start-up)")
    print("  - fixed: %d tasks that gain no host with %s (the controller's, localhost's, run_once or delegated) cost "
          "their %d-compute time whatever N: %.1f s%s" % (m["fixed"], added, n1, m["fixed_seconds"], "".join(
              ", among them, once on the controller, '%s' %.1f s" % d for d in m["discover"])))
    print("  - per compute: %d tasks. Ansible's linear strategy runs a task on up to forks=%d hosts at once and waits "
          "for the slowest: each further wave of %d hosts adds the task's slowest host time with %d compute" % (
              m["grown"], forks, forks, n1))
    print("    and each further compute host adds the Ansible control node's work per host (Python, a worker, SSH):"
          " high: its growth per added compute, mean of %d tasks the added host ran %.3f s, of %d it skipped %.3f s"
          % (m["linear"][0], m["growth_ran"], m["linear"][1], m["growth_skipped"]))
    print("    (contention included); low: %.3f s, the mean gap between consecutive hosts' starts of these tasks with "
          "%d computes (the serial dispatch alone, at most high's). Both add waves and per-host work: Ansible overlaps them in "
          "part" % (m["dispatch"], n2))
    print("  - strategy free (the packages play): its %d-compute wall, plus per further wave the longest compute "
          "host's chain, plus the per-host work of each of its compute tasks per further compute" % n1)
    for name, p1, p2, high, low in m["proof"]:
        print("  - the proof (%s): %.1f s with %d, %.1f s with %d computes. server_check creates every server before "
              "waiting for any:" % (name.split(" : ")[-1], p1, n1, p2, n2))
        print("    the guests boot in parallel, each on its own compute host; its API calls come from one process, one "
              "after the other: what it does per server in turn grows with N")
        if m["boot_growth"] is None:
            low_text = "low: the same (no servers' summary in the runs' logs to tell the boot apart)"
        else:
            boot = m["boot"]
            low_text = ("low + %.1f s: that less the later boot (the latest server's seconds from create, %.1f s "
                        "with %d, %.1f s with %d, in the logs), slowed by guests sharing the lab's CPUs" % (
                            low, boot[0], n1, boot[1], n2))
        print("    high + %.1f s per further compute (the measured growth); %s" % (high, low_text))
    print("  - CPU contention: the lab's hosts and Ansible share this machine's CPUs, real hosts have their own: host "
          "times (slowest host, fixed tasks, free chain) are the %d-compute run's, the least contended;" % n1)
    print("    the growths come from the difference of the runs, with the contention (high) or without it (low)")
    print("  - fixed too: what lies between tasks and plays, %.1f s. Not modelled: the controller's services under N "
          "concurrent boots, facts and files that grow with N (the computes' known_hosts)" % m["outside"])
    ns = [n for n in m["computes"] if n not in (n1, n2)]
    head = ["measured %d" % n1, "high", "measured %d" % n2, "high", "low"] + ["high %d" % n for n in ns]
    head += ["low %d" % n for n in ns]
    print("  %-46s %5s %11s" % ("play (seconds)", "tasks", "per compute") + "".join("%11s" % h for h in head))

    def row(label, tasks, per_compute, w1, w2, high, low):
        cells = [w1, high[n1], w2, high[n2], low[n2]] + [high[n] for n in ns] + [low[n] for n in ns]
        print("  %-46s %5s %11s" % (label[:46], tasks, per_compute) + "".join("%11.1f" % c for c in cells))

    for play in m["plays"]:
        row(play["name"], play["tasks"][0], play["tasks"][1], play["measured"][0], play["measured"][1],
            play["high"], play["low"])
    same = dict((n, m["outside"]) for n in m["computes"])
    row("between tasks and plays", "", "", m["outside"], m["walls"][1] - sum(p["measured"][1] for p in m["plays"]),
        same, same)
    row("run wall", sum(p["tasks"][0] for p in m["plays"]), m["grown"], m["walls"][0], m["walls"][1], m["high"],
        m["low"])
    print("  error with %d computes: %+.1f s high, %+.1f s low (with %d the model is its base, exact by construction; "
          "high's growths are fitted on the %d-compute run, so its error there is what the fixed tasks and the free play "
          "varied; low's is the contention it leaves out)" % (
              n2, m["high"][n2] - m["walls"][1], m["low"][n2] - m["walls"][1], n1, n2))
    print("  " + "; ".join("%d computes: %.0f to %.0f s" % (n, m["low"][n], m["high"][n]) for n in ns))
    if ns:
        big = max(ns)
        play = max(m["plays"], key=lambda p: p["high"][big])
        print("  its largest play with %d computes: '%s', %.0f to %.0f s" % (
            big, play["name"], play["low"][big], play["high"][big]))


def scale(rerun1_path, rerun2_path, forks=None):
    """Load the two re-runs (and the .log next to each, for the proof's boot times) and print the model."""
    if forks is None:
        forks, forks_from = forks_setting()
    else:
        forks_from = "--forks"
    boot = tuple(boot_seconds(re.sub(r"\.json$", "", path) + ".log") for path in (rerun1_path, rerun2_path))
    m = scale_model(load(rerun1_path), load(rerun2_path), forks, boot)
    sources = ["%s (%d compute%s, %.1f s)" % (path, n, "" if n == 1 else "s", wall)
               for path, n, wall in zip((rerun1_path, rerun2_path), (m["n1"], m["n2"]), m["walls"])]
    print_scale(m, sources, forks_from, serial_playbooks())
    return m


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
        print()
        scale(runs["rerun1"][1], runs["rerun2"][1])
        return 0
    if argv and argv[0] == "model":
        args, forks = list(argv[1:]), None
        if "--forks" in args:
            at = args.index("--forks")
            if at + 1 == len(args) or not args[at + 1].isdigit():
                print("deploy.py model: --forks needs a number", file=sys.stderr)
                return 2
            forks = int(args[at + 1])
            del args[at:at + 2]
        if len(args) == 1:
            args = [os.path.join(args[0], "rerun1.json"), os.path.join(args[0], "rerun2.json")]
        if len(args) == 2:
            scale(args[0], args[1], forks)
            return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
