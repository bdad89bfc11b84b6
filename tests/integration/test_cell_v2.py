"""cell_v2 against the real nova-manage (Debian's Zed) and a real MariaDB.

One module-scoped setup pays for the expensive part once (each nova-manage call costs
4-13 s here): it creates the three databases and a nova database user by plain SQL,
writes a nova.conf the nova user can read, predicts the fresh setup in check mode,
runs it (api_db_sync, map_cell0, cell1, db_sync), then runs every step again in
check mode and for real. The tests below assert on those recorded results and then
drift, duplicate and discover on that shared state, in file order, each leaving the
state as the next one expects. RabbitMQ does not run: none of these commands
connects to it (oslo.messaging only loads the driver).
"""
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from urllib.parse import unquote

import pytest

from conftest import free_port

from ansible_collections.osdeploy.nova.plugins.module_utils.credentials import db_url, transport_url

DB_USER = "c6_nova"
DB_PASSWORD = "n0va$pw@x/%y"  # '$' (oslo.config), '@', '/' and '%' (URLs): every trap at once
RABBIT_PASSWORD = "rabbit$pw:1"
DBS = ("c6_nova_api", "c6_nova", "c6_nova_cell0")
STEPS = ("api_db_sync", "map_cell0", "cell", "db_sync", "discover_hosts")
CELL0_UUID = "00000000-0000-0000-0000-000000000000"
SECRETS = (DB_PASSWORD, RABBIT_PASSWORD, "n0va%24pw%40x%2F%25y", "rabbit%24pw%3A1", "pw@x", "pw:1")


class Env(object):
    """The shared state: URLs, the config file, the recorded results of the setup."""

    def __init__(self, mariadb, run):
        self.db = mariadb
        self.run_module = run
        self.outputs = []
        self.dir = tempfile.mkdtemp(prefix="osdeploy-cell_v2-test-")
        self.api_url, self.main_url, self.cell0_url = (
            db_url(DB_USER, DB_PASSWORD, "127.0.0.1", name, port=mariadb.port) for name in DBS)
        self.rabbit_url = transport_url("openstack", RABBIT_PASSWORD, ["127.0.0.1"])
        self.conf = os.path.join(self.dir, "nova.conf")
        self.results = {}

    def write_conf(self, path=None, api_url=None, main_url=None):
        path = path or self.conf
        with open(path, "w") as f:
            f.write("[DEFAULT]\ntransport_url = %s\n\n[api_database]\nconnection = %s\n\n"
                    "[database]\nconnection = %s\n"
                    % (self.rabbit_url, api_url or self.api_url, main_url or self.main_url))
        shutil.chown(path, "root", "nova")
        os.chmod(path, 0o640)
        return path

    def args(self, step, **extra):
        args = dict(action=step, config_files=[self.conf])
        if step == "cell":
            args.update(name="cell1", transport_url=self.rabbit_url, database_connection=self.main_url)
        args.update(extra)
        return args

    def run(self, step, check=False, **extra):
        res = self.run_module("cell_v2", self.args(step, **extra), check=check, verbosity=3)
        self.outputs.append(res.output)
        return res

    def sql(self, statement, *args):
        return self.db.sql(statement, *args)

    def cells(self):
        return self.sql("SELECT uuid, name, transport_url, database_connection FROM %s.cell_mappings "
                        "ORDER BY id" % DBS[0])

    def nova_manage(self, *args):
        """nova-manage run directly, as an operator following a guide would."""
        cmd = ["setpriv", "--reuid=nova", "--regid=nova", "--init-groups", "--reset-env", "--",
               "nova-manage", "--config-file", self.conf] + list(args)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)

    def register_compute(self, host, node=True):
        """The rows a starting nova-compute writes into its cell database (Zed schema)."""
        svc_uuid = str(uuid.uuid4())
        self.sql("INSERT INTO %s.services (created_at, updated_at, host, `binary`, topic, report_count, "
                 "disabled, deleted, forced_down, version, uuid, last_seen_up) VALUES "
                 "(NOW(), NOW(), %%s, 'nova-compute', 'compute', 1, 0, 0, 0, 64, %%s, NOW())" % DBS[1],
                 host, svc_uuid)
        if not node:
            return
        service_id = self.sql("SELECT id FROM %s.services WHERE uuid = %%s" % DBS[1], svc_uuid)[0][0]
        self.sql("INSERT INTO %s.compute_nodes (created_at, updated_at, service_id, vcpus, memory_mb, "
                 "local_gb, vcpus_used, memory_mb_used, local_gb_used, hypervisor_type, hypervisor_version, "
                 "cpu_info, disk_available_least, free_ram_mb, free_disk_gb, current_workload, running_vms, "
                 "hypervisor_hostname, deleted, host_ip, supported_instances, stats, host, uuid, "
                 "ram_allocation_ratio, cpu_allocation_ratio, disk_allocation_ratio, mapped) VALUES "
                 "(NOW(), NOW(), %%s, 2, 2048, 20, 0, 512, 0, 'QEMU', 7002000, '{}', 20, 1536, 20, 0, 0, "
                 "%%s, 0, '127.0.0.1', '[]', '{}', %%s, %%s, 1.0, 4.0, 1.0, 0)" % DBS[1],
                 service_id, host, host, str(uuid.uuid4()))

    def host_mappings(self):
        return sorted(r[0] for r in self.sql("SELECT host FROM %s.host_mappings" % DBS[0]))


@pytest.fixture(scope="module")
def env(mariadb, ansible_module):
    e = Env(mariadb, ansible_module)
    for name in DBS:
        e.sql("DROP DATABASE IF EXISTS %s" % name)
        e.sql("CREATE DATABASE %s" % name)
    e.sql("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s", DB_USER, DB_PASSWORD)
    for name in DBS:
        e.sql("GRANT ALL PRIVILEGES ON %s.* TO %%s@'%%%%'" % name, DB_USER)
    shutil.chown(e.dir, "root", "nova")
    os.chmod(e.dir, 0o750)
    e.write_conf()
    r = e.results
    # fresh state, check mode: predicted, nothing created
    for step in STEPS:
        r["check_fresh", step] = e.run(step, check=True)
    r["tables_after_check"] = e.sql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema IN "
                                    "(%s, %s, %s)", *DBS)[0][0]
    # the guide's order, for real
    for step in STEPS:
        r["fresh", step] = e.run(step)
    r["cells_after_fresh"] = e.cells()
    for step in STEPS:
        r["check_converged", step] = e.run(step, check=True)
    for step in STEPS:
        r["second", step] = e.run(step)
    try:
        yield e
    finally:
        for name in DBS:
            e.sql("DROP DATABASE IF EXISTS %s" % name)
        e.sql("DROP USER IF EXISTS %s@'%%'", DB_USER)
        shutil.rmtree(e.dir, ignore_errors=True)


def twice_at_once(call):
    """Run call() in two threads at the same time, as two plays would; return both results."""
    results = [None, None]

    def one(i):
        results[i] = call()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def no_secret(res):
    text = res.output + json.dumps(dict(res))
    for secret in SECRETS:
        assert secret not in text, "secret %r leaked" % secret


def test_check_mode_on_fresh_state_predicts_and_creates_nothing(env):
    r = env.results
    for step in ("api_db_sync", "map_cell0", "cell", "db_sync"):
        res = r["check_fresh", step]
        assert not res.failed, res.get("msg")
        assert res["changed"] is True, step
        assert res["commands"] == [], step
    assert r["check_fresh", "api_db_sync"]["migrations_ran"][0]["database"] == "api"
    assert r["check_fresh", "api_db_sync"]["migrations_ran"][0]["from_version"] is None
    assert r["check_fresh", "cell"]["changes"] == ["create cell 'cell1'"]
    assert r["check_fresh", "discover_hosts"]["changed"] is False
    assert r["tables_after_check"] == 0


def test_fresh_setup_reports_each_change(env):
    r = env.results
    for step in ("api_db_sync", "map_cell0", "cell", "db_sync"):
        assert not r["fresh", step].failed, r["fresh", step].get("msg")
        assert r["fresh", step]["changed"] is True, step
    api = r["fresh", "api_db_sync"]
    assert [m["database"] for m in api["migrations_ran"]] == ["api"]
    assert api["migrations_ran"][0]["from_version"] is None
    assert api["migrations_ran"][0]["to_version"] == env.sql("SELECT version_num FROM %s.alembic_version" % DBS[0])[0][0]
    assert sorted(m["database"] for m in r["fresh", "db_sync"]["migrations_ran"]) == ["cell0", "main"]
    for db in DBS[1:]:
        assert env.sql("SELECT version_num FROM %s.alembic_version" % db)[0][0] == \
            r["fresh", "db_sync"]["migrations_ran"][0]["to_version"]
    cells = r["cells_after_fresh"]
    assert [(c[1], c[2], c[3]) for c in cells] == [
        ("cell0", "none:///", env.cell0_url), ("cell1", env.rabbit_url, env.main_url)]
    cell1 = r["fresh", "cell"]["cell"]
    assert cell1["name"] == "cell1" and cell1["uuid"] == cells[1][0]
    assert cell1["database_connection"].startswith("mysql+pymysql://%s:********@" % DB_USER)
    assert r["fresh", "discover_hosts"]["changed"] is False
    for step in STEPS:
        no_secret(r["fresh", step])
        # nova-manage's eventlet notice on stderr is noise, not a warning
        assert "monkey patching" not in r["fresh", step].output
        assert "wrote to stderr" not in r["fresh", step].output


def test_map_cell0_repairs_nova_manages_own_cell0_url(env):
    # nova-manage map_cell0 derives cell0's URL by unquoting [database] connection, which
    # breaks a percent-encoded password; the module saw it and fixed it with update_cell
    cmds = [c["cmd"] for c in env.results["fresh", "map_cell0"]["commands"]]
    assert cmds[0] == "nova-manage cell_v2 map_cell0"
    assert cmds[1].startswith("nova-manage cell_v2 update_cell --cell_uuid %s" % CELL0_UUID)
    assert env.cells()[0][3] == env.cell0_url


def test_second_run_changes_nothing_and_runs_nothing(env):
    for step in STEPS:
        res = env.results["second", step]
        assert not res.failed, res.get("msg")
        assert res["changed"] is False, step
        assert res["commands"] == [], step
        assert res["migrations_ran"] == [] and res["mapped_hosts"] == []
        no_secret(res)
    assert env.results["second", "db_sync"]["versions"]["cell0"] is not None


def test_check_mode_on_converged_state_predicts_no_change(env):
    for step in STEPS:
        res = env.results["check_converged", step]
        assert not res.failed, res.get("msg")
        assert res["changed"] is False, step
        assert res["changes"] == []


def test_cell1_transport_url_drift_is_updated_not_duplicated(env):
    before = env.cells()
    rotated = transport_url("openstack", RABBIT_PASSWORD + "-new", ["127.0.0.1"])
    check = env.run("cell", check=True, transport_url=rotated)
    assert check["changed"] is True
    assert env.cells() == before
    res = env.run("cell", transport_url=rotated)
    assert res["changed"] is True, res.get("msg")
    assert [c["cmd"].split()[2] for c in res["commands"]] == ["update_cell"]
    after = env.cells()
    assert len(after) == 2
    assert after[1][0] == before[1][0] and after[1][2] == rotated and after[1][3] == env.main_url
    again = env.run("cell", transport_url=rotated)
    assert again["changed"] is False and again["commands"] == []
    back = env.run("cell")
    assert back["changed"] is True and env.cells() == before
    no_secret(res)


def test_cell0_database_connection_drift_is_updated(env):
    old = db_url(DB_USER, "old-password", "127.0.0.1", DBS[2], port=env.db.port)
    env.sql("UPDATE %s.cell_mappings SET database_connection = %%s WHERE uuid = %%s" % DBS[0], old, CELL0_UUID)
    check = env.run("map_cell0", check=True)
    assert check["changed"] is True and env.cells()[0][3] == old
    res = env.run("map_cell0")
    assert res["changed"] is True, res.get("msg")
    assert [c["cmd"].split()[2] for c in res["commands"]] == ["update_cell"]
    cells = env.cells()
    assert len(cells) == 2 and cells[0][3] == env.cell0_url and cells[0][2] == "none:///"
    assert env.run("map_cell0")["changed"] is False
    no_secret(res)


def test_cell0_url_broken_by_nova_manage_is_reported_then_fixed(env):
    # what `nova-manage cell_v2 map_cell0` stores when [database] connection has a
    # percent-encoded password: unquoted, so SQLAlchemy reads part of the password as host
    broken = unquote(env.cell0_url)
    env.sql("UPDATE %s.cell_mappings SET database_connection = %%s WHERE uuid = %%s" % DBS[0], broken, CELL0_UUID)
    res = env.run("db_sync")
    assert res.failed
    assert "cell0's database" in res["msg"] and "action=map_cell0" in res["msg"]
    # refused before nova-manage ran (it would have retried the broken URL 10 x 10 s)
    assert "unencoded '@'" in res["msg"] and res["commands"] == []
    fixed = env.run("map_cell0")
    assert fixed["changed"] is True and env.cells()[0][3] == env.cell0_url
    assert env.run("db_sync")["changed"] is False
    no_secret(res)
    no_secret(fixed)


def test_existing_duplicate_cell_is_reported(env):
    # a second cell1 on another (reachable, empty) database and another broker
    env.sql("CREATE DATABASE IF NOT EXISTS c6_other")
    env.sql("GRANT ALL PRIVILEGES ON c6_other.* TO %s@'%%'", DB_USER)
    other_db = db_url(DB_USER, DB_PASSWORD, "127.0.0.1", "c6_other", port=env.db.port)
    other_mq = transport_url("openstack", RABBIT_PASSWORD, ["127.0.0.2"])
    proc = env.nova_manage("cell_v2", "create_cell", "--name", "cell1", "--transport-url", other_mq,
                           "--database_connection", other_db, "--verbose")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # nova-manage does not refuse a second cell1
    dup_uuid = proc.stdout.strip().splitlines()[-1]
    try:
        res = env.run("cell")
        assert res.failed and res["changed"] is False
        assert "2 cell mappings are named 'cell1'" in res["msg"] and dup_uuid in res["msg"]
        assert res["duplicate_cells"] == {"cell1": [env.cells()[1][0], dup_uuid]}
        assert len(env.cells()) == 3
        other = env.run("discover_hosts")
        assert not other.failed and other["changed"] is False
        assert "2 cell mappings are named 'cell1'" in " ".join(other.output.split())
        no_secret(res)
        no_secret(other)
    finally:
        env.sql("DELETE FROM %s.cell_mappings WHERE uuid = %%s" % DBS[0], dup_uuid)
        env.sql("DROP DATABASE c6_other")


def test_cell_absent(env):
    url = db_url(DB_USER, DB_PASSWORD, "127.0.0.1", "c6_cell2", port=env.db.port)
    mq = transport_url("openstack", RABBIT_PASSWORD, ["127.0.0.3"])
    created = env.run("cell", name="cell2", transport_url=mq, database_connection=url)
    assert created["changed"] is True and len(env.cells()) == 3
    check = env.run("cell", check=True, name="cell2", state="absent", transport_url=None, database_connection=None)
    assert check["changed"] is True and len(env.cells()) == 3
    gone = env.run("cell", name="cell2", state="absent", transport_url=None, database_connection=None)
    assert gone["changed"] is True and gone["cell"] is None
    assert [c[1] for c in env.cells()] == ["cell0", "cell1"]
    again = env.run("cell", name="cell2", state="absent", transport_url=None, database_connection=None)
    assert again["changed"] is False and again["commands"] == []


def test_two_plays_creating_the_same_cell_at_once_create_it_once(env):
    url = db_url(DB_USER, DB_PASSWORD, "127.0.0.1", "c6_cell3", port=env.db.port)
    mq = transport_url("openstack", RABBIT_PASSWORD, ["127.0.0.4"])
    results = twice_at_once(lambda: env.run("cell", name="cell3", transport_url=mq, database_connection=url))
    for res in results:
        assert not res.failed, res.get("msg")
    assert sorted(res["changed"] for res in results) == [False, True]
    assert [c[1] for c in env.cells()] == ["cell0", "cell1", "cell3"]
    gone = env.run("cell", name="cell3", state="absent", transport_url=None, database_connection=None)
    assert gone["changed"] is True and [c[1] for c in env.cells()] == ["cell0", "cell1"]


def test_discovery_with_nothing_to_map(env):
    res = env.run("discover_hosts")
    assert res["changed"] is False and res["mapped_hosts"] == [] and res["commands"] == []


def test_discovery_waits_for_a_host_then_maps_it_once(env):
    # the host registers 3 s after the module started waiting for it
    timer = threading.Timer(3, env.register_compute, args=("c6-compute1",))
    timer.start()
    try:
        start = time.time()
        res = env.run("discover_hosts", wait_for_hosts=["c6-compute1"], timeout=120, poll_interval=1)
    finally:
        timer.join()
    assert not res.failed, res.get("msg")
    assert time.time() - start > 3
    assert res["changed"] is True and res["mapped_hosts"] == ["c6-compute1"]
    assert env.host_mappings() == ["c6-compute1"]
    assert [h for c in res["cells"] for h in c["hosts"]] == ["c6-compute1"]
    again = env.run("discover_hosts", wait_for_hosts=["c6-compute1"], timeout=5)
    assert again["changed"] is False and again["mapped_hosts"] == [] and again["commands"] == []
    no_secret(res)


def test_discovery_fails_after_timeout_for_hosts_that_never_register(env):
    env.register_compute("c6-half", node=False)  # service up, no compute node record yet
    start = time.time()
    res = env.run("discover_hosts", wait_for_hosts=["c6-compute1", "c6-ghost", "c6-half"], timeout=4,
                  poll_interval=1)
    assert res.failed and res["changed"] is False
    assert time.time() - start >= 4    # it waited its timeout out (the message names that bound)
    assert "timed out after 4s" in res["msg"]
    assert "c6-ghost: no nova-compute service registered" in res["msg"]
    assert "c6-half: nova-compute service registered, but no compute node record yet" in res["msg"]
    assert "c6-compute1" not in res["msg"]
    assert env.host_mappings() == ["c6-compute1"]
    no_secret(res)


def test_concurrent_discoveries_map_once_and_neither_fails(env):
    env.register_compute("c6-compute2")
    env.register_compute("c6-compute3")
    results = twice_at_once(
        lambda: env.run("discover_hosts", wait_for_hosts=["c6-compute2", "c6-compute3"], timeout=60))
    for res in results:
        assert not res.failed, res.get("msg")
    assert sorted(res["changed"] for res in results) == [False, True]
    assert sorted(h for res in results for h in res["mapped_hosts"]) == ["c6-compute2", "c6-compute3"]
    assert env.host_mappings() == ["c6-compute1", "c6-compute2", "c6-compute3"]


def test_bad_input_gives_clear_errors(env):
    res = env.run_module("cell_v2", dict(action="cells_v3", config_files=[env.conf]))
    assert res.failed and "action" in res["msg"] and "api_db_sync" in res["msg"]
    res = env.run("cell", name="cell9", transport_url=None)
    assert res.failed and "cell 'cell9' does not exist yet: transport_url is required to create it" in res["msg"]
    res = env.run("cell", name="cell9", database_connection="not a url")
    assert res.failed and "database_connection must be a URL" in res["msg"]
    res = env.run("map_cell0", transport_url=env.rabbit_url)
    assert res.failed and "transport_url does not apply to action=map_cell0" in res["msg"]
    dead = db_url(DB_USER, DB_PASSWORD, "127.0.0.1", DBS[0], port=free_port())
    conf = env.write_conf(os.path.join(env.dir, "dead.conf"), api_url=dead)
    res = env.run("api_db_sync", config_files=[conf])
    assert res.failed
    assert "cannot use the API database ([api_database] connection)" in res["msg"]
    assert "cannot connect to MariaDB at 127.0.0.1:" in res["msg"]
    res = env.run("db_sync", config_files=[os.path.join(env.dir, "missing.conf")])
    assert res.failed and "missing.conf does not exist" in res["msg"]
    assert len(env.outputs) > 30
    for output in env.outputs:
        for secret in SECRETS:
            assert secret not in output


def test_ssl_parameters_of_the_config_urls_are_how_it_connects(env):
    """cell_v2 reaches the databases with the TLS settings of nova.conf's URLs, as Nova does.

    A database user that the server admits only with a client certificate of its CA
    (REQUIRE X509) reads the converged state through [api_database] and [database]
    URLs that carry ssl_ca, ssl_cert and ssl_key; the same URLs without them are
    refused. (cell0's URL in cell_mappings stays the plain one of the setup.)
    """
    pki = env.db.pki
    user = "c6_tls"
    env.sql("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s REQUIRE X509", user, DB_PASSWORD)
    try:
        for name in DBS[:2]:
            env.sql("GRANT ALL PRIVILEGES ON %s.* TO %%s@'%%%%'" % name, user)
        query = "ssl_ca=%s&ssl_cert=%s&ssl_key=%s" % (pki["ca"], pki["client_cert"], pki["client_key"])
        api, main = (db_url(user, DB_PASSWORD, "127.0.0.1", name, port=env.db.port, query=query)
                     for name in DBS[:2])
        conf = env.write_conf(os.path.join(env.dir, "tls.conf"), api_url=api, main_url=main)
        for step in ("api_db_sync", "db_sync"):
            res = env.run(step, check=True, config_files=[conf])
            assert not res.failed, res.get("msg")
            assert res["changed"] is False and res["commands"] == [], step
            no_secret(res)
        plain = env.write_conf(os.path.join(env.dir, "plain.conf"), api_url=api.split("?")[0],
                               main_url=main.split("?")[0])
        res = env.run("api_db_sync", check=True, config_files=[plain])
        assert res.failed
        assert "refused the login of user 'c6_tls'" in res["msg"]
        no_secret(res)
    finally:
        env.sql("DROP USER IF EXISTS %s@'%%'", user)
