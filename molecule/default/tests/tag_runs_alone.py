"""Every documented tag run alone (ansible-playbook -t TAG) on the converged cloud, which test_operations.py checks:
each succeeds and changes nothing (but the drift's tags, which repair a drift there and run in its drift fixture).

Each run is its own ansible-playbook, busy with the machine's cores, while the member's operations (test_member.py)
and the proof (test_network.py) mostly wait for guests and services: CI's cores were more than half idle during
them. So the first test that calls start() sets the runs going in the background, RUNS_AT_ONCE at a time:
test_member.py, before the member's operations (the zed scenario has none: test_operations.py, when it needs
them). They meet none of those tests: on a converged cloud they change nothing, and the member's and the proof's
servers are none of theirs. A test that changes the cloud, or needs it still (a drift, a service restarted), first
calls wait().
"""
import concurrent.futures
import os
import re

from conftest import lab_openstack
from playbook_run import ROOT, Run

TAG_TABLE = os.path.join(ROOT, "docs", "operations.md")
# How many runs go at once. On a converged cloud none changes anything, so they cannot meet, and a run spends
# much of its time waiting for its hosts' answers.
RUNS_AT_ONCE = 3
# The tags of the steps that repair test_operations.py's drift, in the order they run there: the metadata API's
# file (a source install writes its uWSGI ini in the package step), nova.conf, the controller's services,
# Glance's password.
DRIFT_TAGS = (["nova-packages"] if lab_openstack()["method"] == "source" else []) + [
    "nova-config", "nova-services", "glance"]
# The tags that name a whole role (or every package step) select no task that one of their parts does not
# (each part runs alone): a run of the whole is the runs of its parts in one, and the side effect's run
# ran every task.
UNION_TAGS = {
    # every host's packages at once: the play that both package tags select
    "packages": ["baseline-packages", "nova-packages"],
    "baseline": ["baseline-packages", "mariadb", "rabbitmq", "memcached", "keystone", "placement", "glance",
                 "neutron", "demo-project"],
    "nova": ["nova-packages", "nova-firewall", "nova-db", "nova-keystone", "nova-storage", "nova-migration",
             "nova-config", "nova-cells", "nova-services", "nova-verify", "nova-discover"],
}
# The proof's tag runs in test_network.py (test_the_proof_boots_reaches_and_deletes_a_server_on_every_compute:
# site.yml -t verify-server, nothing changed).
PROVEN_IN_TEST_NETWORK = ["verify-server"]


def documented_tags():
    """The tags of the tag table in docs/operations.md (first column, in backquotes)."""
    with open(TAG_TABLE) as f:
        text = f.read()
    table = text.split("<!-- tags -->")[1]
    return re.findall(r"^\| `([\w-]+)` \|", table, re.M)


def tags_run_alone():
    return [t for t in documented_tags() if t not in UNION_TAGS and t not in PROVEN_IN_TEST_NETWORK]


_started = {}    # {tag: Future}, from the pytest process's one thread


def start():
    """Set the runs of every tag alone but the drift's going in the background (once)."""
    if _started:
        return
    pool = concurrent.futures.ThreadPoolExecutor(RUNS_AT_ONCE)
    _started.update({tag: pool.submit(Run, "-t", tag) for tag in tags_run_alone() if tag not in DRIFT_TAGS})
    pool.shutdown(wait=False)


def wait():
    """Wait for the runs, if they were started."""
    concurrent.futures.wait(_started.values())


def results():
    """{tag: Run} of every tag alone but the drift's, started if they were not."""
    start()
    return {tag: future.result() for tag, future in _started.items()}
