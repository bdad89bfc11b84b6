"""nova_db and service_db as modules: the same step, with Nova's defaults or none.

The server is the fake cursor of the logic's unit tests (module_utils/test_service_db.py):
what each module plans from its defaults, without a MariaDB.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils import service_db_module
from ansible_collections.osdeploy.nova.plugins.modules import nova_db, service_db
from ansible_collections.osdeploy.nova.tests.unit.plugins.module_utils.test_service_db import (
    PASSWORD, FakeCursor, converged)

NOVA_DATABASES = ["nova_api", "nova", "nova_cell0"]


class FakeConnection(object):
    def __init__(self, cursor):
        self._cursor = cursor
        self.closed = False

    def cursor(self):
        return self._cursor

    def close(self):
        self.closed = True


@pytest.fixture
def server(monkeypatch):
    """The fake server every module run of a test talks to: set ``server.cursor`` first."""
    state = type("Server", (), {"cursor": FakeCursor(), "connections": []})()

    def connect_login(module, database=None):
        conn = FakeConnection(state.cursor)
        state.connections.append(conn)
        return conn

    monkeypatch.setattr(service_db_module.ServiceDbModule, "connect_login", connect_login)
    monkeypatch.setattr(service_db_module, "server_version", lambda conn: "10.11.19-MariaDB-0+deb12u1")
    return state


def test_nova_db_defaults_are_novas_databases_user_and_utf8mb3():
    spec = nova_db.NovaDb.argument_spec
    assert spec["databases"]["default"] == NOVA_DATABASES
    assert spec["user"]["default"] == "nova"
    assert spec["charset"]["default"] == "utf8mb3"
    assert "default" not in spec["collation"]  # the server's default collation of utf8mb3
    assert spec["password"]["no_log"] is True and nova_db.NovaDb.shared_spec["login_password"]["no_log"] is True


def test_service_db_assumes_no_service():
    spec = service_db.ServiceDb.argument_spec
    assert spec["databases"].get("required") is True and "default" not in spec["databases"]
    assert spec["user"].get("required") is True and "default" not in spec["user"]
    assert spec["charset"]["default"] == "utf8mb4"
    assert spec["password"]["no_log"] is True
    # every other option is the same in both modules
    same = set(spec) - {"databases", "user", "charset"}
    assert dict((k, spec[k]) for k in same) == dict((k, nova_db.NovaDb.argument_spec[k]) for k in same)


def test_nova_db_with_only_a_password_plans_novas_databases_in_utf8mb3(server, run_main):
    rc, out = run_main(nova_db, {"password": PASSWORD}, check=True)
    assert rc == 0, out
    assert out["changed"] is True
    assert out["databases_created"] == NOVA_DATABASES
    assert out["users_created"] == ["nova@localhost", "nova@%"]
    assert (out["charset"], out["collation"]) == ("utf8mb3", "utf8mb3_general_ci")
    assert server.cursor.writes() == [], "check mode wrote to the server"
    assert PASSWORD not in json.dumps(out)
    assert all(conn.closed for conn in server.connections)


def test_nova_db_creates_the_databases_in_utf8mb3(server, run_main):
    rc, out = run_main(nova_db, {"password": PASSWORD})
    assert rc == 0, out
    creates = [sql for sql, _args in server.cursor.writes() if sql.startswith("CREATE DATABASE")]
    assert creates == ["CREATE DATABASE `%s` CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci" % db
                       for db in NOVA_DATABASES]


def test_nova_db_leaves_databases_as_novas_migration_left_them(server, run_main):
    """Nova's first migration sets utf8 (utf8mb3): nova_db's defaults find nothing to change there."""
    server.cursor = converged(charset=("utf8mb3", "utf8mb3_general_ci"))
    rc, out = run_main(nova_db, {"password": PASSWORD})
    assert rc == 0, out
    assert out["changed"] is False and out["databases_altered"] == []
    assert server.cursor.writes() == []


def test_service_db_on_novas_databases_would_change_the_charset_back(server, run_main):
    """What the role's override used to prevent: the generic default is utf8mb4."""
    server.cursor = converged(charset=("utf8mb3", "utf8mb3_general_ci"))
    rc, out = run_main(service_db, {"password": PASSWORD, "user": "nova", "databases": NOVA_DATABASES},
                       check=True)
    assert rc == 0, out
    assert out["databases_altered"] == NOVA_DATABASES and out["charset"] == "utf8mb4"


def test_service_db_needs_the_databases_and_the_user(server, run_main):
    rc, out = run_main(service_db, {"password": PASSWORD})
    assert rc == 1 and out["failed"] is True
    assert "missing required arguments: databases, user" in out["msg"]
    assert server.connections == []
