"""The upgrade, hop by hop: what the side effect's hops did (upgrade_hop.py, one report per hop in the lab's
folder; OSDEPLOY_LAB_UPGRADE_TO names them), and the upgraded cloud.

For each hop: site.yml refused it before any change and named the upgrade command; the upgrade command, interrupted
once its second batch of compute hosts had begun, then run while the last compute host did not answer (it stopped
before any change, naming the host), was run again and completed; its watch lost no ping of a canary
(one member's server per compute host, kept across both runs) and the compute API went unanswered 10 s at most in
all (from Debian's packages, only in the controller's phase, where the APIs restart once onto the collection's
uWSGI); the canaries were still ACTIVE on their hosts, answered, one moved cold and live and back; and no run showed a
secret; the run again changed nothing that the interrupted run had done. Then, on the upgraded cloud: an
unsupported hop is refused before any change, and no online data migration is left. The other test files check
the rest of the upgraded cloud as they check a fresh one (test_release.py: every unit on the new release's
environment; test_operations.py: site.yml's preview after a drift predicts changes only where it drifted, and
every tag run alone changes nothing else: site.yml run again after the upgrade changes nothing).
"""
import json
import os
import re

import pytest
import testinfra

from conftest import lab_openstack
from playbook_run import INVENTORY, UPGRADE, Run, recap

LAB = os.environ["OSDEPLOY_LAB_DIR"]
HOPS = os.environ.get("OSDEPLOY_LAB_UPGRADE_TO", "").split()
COMPUTES = os.environ.get("OSDEPLOY_EXPECT_COMPUTES", "compute1,compute2").split(",")
HOSTS = ["controller"] + COMPUTES
BATCH_MARK = "TASK [Mark the phase of the watch, this batch of compute hosts]"
# the watch's last lines (upgrade_report.yml)
IN_ALL = re.compile(r'"in all \((?P<seconds>[\d.]+) s\): pings lost (?P<lost>\d+) of (?P<pings>\d+); '
                    r'API unanswered (?P<down>[\d.]+) s \((?P<failed>\d+) of (?P<polls>\d+) polls\)"')
GOAL = '"goal (no ping lost, the API unanswered 10 s at most): met"'
# each phase's line of the watch, and the phase where the APIs move from Debian's uWSGI to the collection's: a hop
# from Debian's packages (OSDEPLOY_LAB_OPENSTACK=distro, make molecule-upgrade-epoxy: its first hop) restarts them
# there once, as docs/upgrades.md says; the 10 s goal is the hops' between source releases
PHASE = re.compile(r'"(?P<phase>[^"(]+?) \([\d.]+ s\): pings lost \d+ of \d+[^"]*?; API unanswered (?P<down>[\d.]+) s')
APIS_RESTART_IN = "the controller's databases and services"
FROM_DEBIAN = os.environ.get("OSDEPLOY_LAB_OPENSTACK", "source") == "distro"


def hop_report(index, run=None):
    """The hop's report (upgrade_hop.py), or with run (site, interrupted, completed) that run's timing JSON."""
    path = os.path.join(LAB, "upgrade-%d.json" % index)
    with open(path if run is None else "%s.%s-timing.json" % (path, run)) as f:
        return json.load(f)


def tail(run):
    return "%s: rc %s\n%s" % (run["cmd"], run["rc"], run["output"][-4000:])


@pytest.mark.parametrize("index", range(len(HOPS)))
def test_site_yml_refused_the_hop_before_any_change_naming_the_upgrade_command(index):
    run = hop_report(index)["site"]
    assert run["rc"] != 0, tail(run)
    assert "Refused before any change" in run["output"] and "run the upgrade command" in run["output"], tail(run)
    assert all(host["changed"] == 0 for host in recap(run["output"]).values()), tail(run)


@pytest.mark.parametrize("index", range(len(HOPS)))
def test_the_upgrade_interrupted_in_its_compute_batches_completed_when_run_again(index):
    report = hop_report(index)
    stopped, completed = report["interrupted"], report["completed"]
    # interrupted in the second batch: the first compute host had its new code, the others not
    assert stopped["interrupted"] and stopped["output"].count(BATCH_MARK) == 2, tail(stopped)
    assert stopped["rc"] != 0, tail(stopped)
    assert completed["rc"] == 0, tail(completed)
    assert set(recap(completed["output"])) >= set(HOSTS), tail(completed)
    assert all(host["unreachable"] == 0 and host["failed"] == 0 for host in recap(completed["output"]).values())


# The plays of the upgrade command that the interrupted run had finished on every host before it was stopped in
# the second batch of compute hosts (the first batch too, on its host).
DONE_BEFORE_THE_INTERRUPTION = ("The new release's code", "Back up the databases", "The controller's Nova")


@pytest.mark.parametrize("index", range(len(HOPS)))
def test_the_run_again_changed_nothing_that_the_interrupted_run_had_done(index):
    """The upgrade command's re-run: what the interrupted run had done (the new code everywhere, the backup,
    Placement, the controller, the first compute host) it found done, and changed nothing there; it upgraded
    the compute host whose batch had been stopped."""
    tasks = hop_report(index, "completed")["tasks"]
    changed = [(task["play"], task["name"], name) for task in tasks for name, result in task["hosts"].items()
               if result.get("changed")]
    # (the phases' marks for the watch excepted: each run marks where its phases begin)
    redone = [change for change in changed if not change[1].startswith("Mark the phase of the watch") and (
        change[0].startswith(DONE_BEFORE_THE_INTERRUPTION) or (
            change[0].startswith("The compute hosts") and change[2] == COMPUTES[0]))]
    assert redone == [], redone
    # the batch killed on its way: nova-compute restarted on the new code at least (its handler never ran)
    assert any(play.startswith("The compute hosts") and name == COMPUTES[1] and not task.startswith("Mark the phase")
               for play, task, name in changed), changed


@pytest.mark.parametrize("index", range(len(HOPS)))
def test_a_compute_host_that_stopped_answering_mid_upgrade_stopped_the_run_naming_it(index):
    """Between the interrupted run and the one that completed, the last compute host (still on the old release,
    its canary running) stopped answering: the upgrade command stopped before any change, naming it; the other
    hosts stayed as they were (the canaries' watch spans it: test_the_canaries_lost_no_ping...), and the run once
    it answered again completed (test_the_upgrade_interrupted...)."""
    run = hop_report(index)["cut"]
    assert run["host"] == COMPUTES[-1]
    assert run["rc"] != 0, tail(run)
    assert "Refused before any change: %s did not answer" % run["host"] in " ".join(run["output"].split()), tail(run)
    assert all(host["changed"] == 0 for host in recap(run["output"]).values()), tail(run)


@pytest.mark.parametrize("index", range(len(HOPS)))
def test_the_canaries_lost_no_ping_and_the_api_answered_through_the_hop(index):
    """The watch started by the interrupted run and stopped by the completing one: the whole hop."""
    output = hop_report(index)["completed"]["output"]
    figures = IN_ALL.search(output)
    assert figures, output[-4000:]
    print("hop %s: %s" % (HOPS[index], figures.group(0)))
    assert int(figures.group("pings")) > 0 and int(figures.group("polls")) > 0, figures.group(0)
    assert int(figures.group("lost")) == 0, figures.group(0)
    if index == 0 and FROM_DEBIAN:
        down = dict((m.group("phase"), m.group("down")) for m in PHASE.finditer(output)
                    if float(m.group("down")) and m.group("phase") != "in all")
        assert set(down) <= {APIS_RESTART_IN}, down
    else:
        assert float(figures.group("down")) <= 10, figures.group(0)
        assert GOAL in output
    # a canary on every compute host, each watched
    for name in COMPUTES:
        assert re.search(r'"%s: ACTIVE at \S+ .*ping ok, logged in over SSH \(hostname osdeploy-canary-member-\d+\); '
                         r'seconds from this check \(kept since an earlier run\)' % name, output), (name, output[-4000:])
    assert re.search(r'"%s: ACTIVE .* moved cold to %s in [\d.]+ \(ping [\d.]+ later\), live to %s in [\d.]+'
                     % (COMPUTES[0], COMPUTES[1], COMPUTES[0]), output), output[-4000:]


@pytest.mark.parametrize("index", range(len(HOPS)))
def test_no_run_of_the_hop_shows_a_secret(index, secret_forms):
    report = hop_report(index)
    for run in ("site", "interrupted", "cut", "completed"):
        shown = [name for name, form in secret_forms if form in report[run]["output"]]
        assert shown == [], "%s run shows %s" % (run, shown)


def test_a_hop_back_is_refused_before_any_change():
    installed = lab_openstack()
    run = Run(extra={"osdeploy_openstack_release": "2026.1"}, playbook=UPGRADE)
    assert installed["release"] == "2026.2", installed
    assert run.rc != 0, run.why()
    assert "Refused before any change: controller runs OpenStack 2026.2" in run.output, run.why()
    assert "Nova migrates its databases forward only" in run.output, run.why()
    assert run.changed() == 0, run.why()


def test_no_online_data_migration_is_left():
    controller = testinfra.get_host("ansible://controller?ansible_inventory=%s" % INVENTORY, sudo=True)
    nova_manage = os.path.join(lab_openstack()["environments"]["nova"], "bin", "nova-manage")
    result = controller.run("runuser -u nova -- %s db online_data_migrations", nova_manage)
    assert result.rc == 0, result.stdout + result.stderr
