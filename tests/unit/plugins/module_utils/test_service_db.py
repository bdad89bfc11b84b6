"""service_db decision logic: validation, quoting, reading, planning, statements, results and diff."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils import service_db as n
from ansible_collections.osdeploy.nova.plugins.module_utils import service_db_module

DB_PRIVS = ["Select", "Insert", "Update", "Delete", "Create", "Drop", "Grant", "References", "Index", "Alter",
            "Create_tmp_table", "Lock_tables", "Create_view", "Show_view", "Create_routine", "Alter_routine",
            "Execute", "Event", "Trigger", "Delete_history"]
ALL_DB = frozenset(p for p in DB_PRIVS if p != "Grant")
USER_PRIVS = ["Select", "Insert", "Update", "Delete", "Create", "Drop", "Reload", "Shutdown", "Process", "File",
              "Grant", "Super"]
PASSWORD = "p'a\"s\\s @:/%$#w ord"


class FakeCursor(object):
    """Answers the reads of read_state/resolve_charset from canned tables; records every statement."""

    def __init__(self, schemata=(), users=(), db_rows=(), charsets=None, collations=None, fail_on=None,
                 have_ssl="YES"):
        self.schemata = list(schemata)
        self.have_ssl = have_ssl
        self.users = list(users)
        self.db_rows = list(db_rows)
        self.charsets = charsets if charsets is not None else {"utf8mb4": "utf8mb4_general_ci",
                                                               "utf8mb3": "utf8mb3_general_ci",
                                                               "latin1": "latin1_swedish_ci"}
        self.collations = collations if collations is not None else {
            "utf8mb4_general_ci": "utf8mb4", "utf8mb4_unicode_ci": "utf8mb4", "utf8mb3_general_ci": "utf8mb3",
            "latin1_swedish_ci": "latin1"}
        self.fail_on = fail_on
        self.executed = []
        self.description = None
        self._rows = []

    def execute(self, sql, args=None):
        self.executed.append((sql, args))
        assert args is not None, "statements always get a parameter tuple"
        rendered = sql % tuple("<%d>" % i for i in range(len(args)))  # the placeholders must match
        assert "<" not in sql
        if self.fail_on and sql.startswith(self.fail_on):
            raise RuntimeError("boom near '%s'" % (args[-1] if args else ""))
        self.description, self._rows = None, []
        if "information_schema.SCHEMATA" in sql:
            self._table(["SCHEMA_NAME", "DEFAULT_CHARACTER_SET_NAME", "DEFAULT_COLLATION_NAME"],
                        [r for r in self.schemata if r[0] in args])
        elif "FROM mysql.user" in sql:
            password, user, hosts = args[0], args[1], args[2:]
            cols = ["Host", "User"] + ["%s_priv" % p for p in USER_PRIVS] + [
                "ssl_type", "ssl_cipher", "x509_issuer", "x509_subject",
                "plugin", "authentication_string", "password_hash_matches"]
            rows = []
            for u in self.users:
                if u["User"] == user and u["Host"] in hosts:
                    # the module sends the hash of the candidate; the fake stores plain passwords
                    match = None if password is None else int(n.native_password_hash(u.get("password") or "")
                                                              == password)
                    rows.append([u["Host"], u["User"]] + [("Y" if p in u.get("privs", ()) else "N")
                                                          for p in USER_PRIVS]
                                + [u.get("ssl_type", ""), u.get("ssl_cipher", ""), u.get("x509_issuer", ""),
                                   u.get("x509_subject", "")]
                                + ["mysql_native_password", "*HASH", match])
            self._table(cols, rows)
        elif "FROM mysql.db" in sql:
            user, hosts = args[0], args[1:]
            cols = ["Host", "Db", "User"] + ["%s_priv" % p for p in DB_PRIVS]
            rows = [[r["Host"], r["Db"], r["User"]] + [("Y" if p in r["privs"] else "N") for p in DB_PRIVS]
                    for r in self.db_rows if r["User"] == user and r["Host"] in hosts]
            self._table(cols, rows)
        elif "information_schema.CHARACTER_SETS" in sql:
            name = args[0]
            self._table(["CHARACTER_SET_NAME", "DEFAULT_COLLATE_NAME"],
                        [(name, self.charsets[name])] if name in self.charsets else [])
        elif "information_schema.COLLATIONS" in sql:
            name = args[0]
            self._table(["COLLATION_NAME", "CHARACTER_SET_NAME"],
                        [(name, self.collations[name])] if name in self.collations else [])
        elif sql == "SELECT CURRENT_USER()":
            self._table(["CURRENT_USER()"], [("root@localhost",)])
        elif "information_schema.GLOBAL_VARIABLES" in sql:
            assert args == ("HAVE_SSL",)
            self._table(["VARIABLE_VALUE"], [(self.have_ssl,)] if self.have_ssl else [])
        return rendered

    def _table(self, cols, rows):
        self.description = [(c,) for c in cols]
        self._rows = [tuple(r) for r in rows]

    def fetchall(self):
        return self._rows

    def writes(self):
        return [(s, a) for s, a in self.executed if not s.startswith("SELECT")]


def want(**kw):
    params = dict(password=PASSWORD, user="nova")
    params.update(kw)
    return n.validate(params)


def full(db, host="%", user="nova", grant=False):
    privs = set(ALL_DB) | ({"Grant"} if grant else set())
    return dict(Host=host, Db=n.grant_pattern(db), User=user, privs=privs)


def converged(user="nova", password=PASSWORD, hosts=("localhost", "%"), dbs=tuple(n.DEFAULT_DATABASES),
              charset=("utf8mb4", "utf8mb4_general_ci"), ssl_type=""):
    return FakeCursor(schemata=[(db,) + charset for db in dbs],
                      users=[dict(User=user, Host=h, password=password, ssl_type=ssl_type) for h in hosts],
                      db_rows=[full(db, h, user) for h in hosts for db in dbs])


def run_plan(cursor, w):
    charset, collation = n.resolve_charset(cursor, w["charset"], w["collation"])
    compare = w["password"] if w["update_password"] == "always" else None
    state = n.read_state(cursor, w["user"], w["host_patterns"], w["databases"], compare)
    plan = n.plan_present(w, state, charset, collation) if w["state"] == "present" else n.plan_absent(w, state)
    return state, plan, n.build_steps(plan, w, state)


# ------------------------------------------------------------------ validation

def test_validate_defaults():
    w = want()
    assert w["databases"] == ["nova_api", "nova", "nova_cell0"]
    assert w["host_patterns"] == ["localhost", "%"]
    assert w["charset"] == "utf8mb4" and w["collation"] is None
    assert w["revoke_other_grants"] is True and w["drop_databases"] is False
    assert w["require_tls"] is None
    assert w["password"] == PASSWORD


def test_validate_dedupes_and_lowercases_hosts():
    w = want(databases=["a", "a", "b"], host_patterns=["Controller.Example", "controller.example", "%"])
    assert w["databases"] == ["a", "b"]
    assert w["host_patterns"] == ["controller.example", "%"]


@pytest.mark.parametrize("params, param", [
    (dict(databases=[""]), "databases"),
    (dict(databases=[]), "databases"),
    (dict(databases=["x" * 65]), "databases"),
    (dict(databases=["nova`; DROP"]), "databases"),
    (dict(databases=["nova api"]), "databases"),
    (dict(databases=["no/va"]), "databases"),
    (dict(databases=["MySQL"]), "databases"),
    (dict(databases=["information_schema"]), "databases"),
    (dict(user=""), "user"),
    (dict(user="no'va"), "user"),
    (dict(user="nova@x"), "user"),
    (dict(user="u" * 81), "user"),
    (dict(host_patterns=["local'host"]), "host_patterns"),
    (dict(host_patterns=[""]), "host_patterns"),
    (dict(host_patterns=["h" * 256]), "host_patterns"),
    (dict(password=""), "password"),
    (dict(password=None), "password"),
    (dict(password="caf\u00e9"), "password"),
    (dict(password="tab\there"), "password"),
    (dict(charset="utf8mb4; DROP"), "charset"),
    (dict(collation="x-y"), "collation"),
    (dict(require_tls="yes"), "require_tls"),
])
def test_validate_rejects(params, param):
    with pytest.raises(n.ValidationError) as e:
        want(**params)
    assert str(e.value).startswith(param + ":")


def test_password_error_never_shows_the_password():
    with pytest.raises(n.ValidationError) as e:
        want(password="s3cr\u00e9t")
    assert "s3cr" not in str(e.value)


def test_absent_needs_no_password():
    w = n.validate(dict(state="absent", user="nova", password=None))
    assert w["password"] is None


def test_every_printable_ascii_character_is_a_valid_password():
    pw = "".join(chr(c) for c in range(0x20, 0x7F))
    assert want(password=pw)["password"] == pw


# ------------------------------------------------------------------ quoting

def test_quote_identifier_doubles_backticks():
    assert n.quote_identifier("nova") == "`nova`"
    assert n.quote_identifier("a`b") == "`a``b`"
    with pytest.raises(ValueError):
        n.quote_identifier("a\x00b")


def test_grant_pattern_escapes_wildcards():
    assert n.grant_pattern("nova_api") == "nova\\_api"
    assert n.grant_pattern("a%b\\c") == "a\\%b\\\\c"
    assert n.grant_pattern("nova") == "nova"


def test_parse_version_and_check_server():
    assert n.parse_version("10.11.19-MariaDB-0+deb12u1") == ("mariadb", (10, 11, 19))
    assert n.parse_version("5.5.5-10.5.23-MariaDB-0+deb11u1") == ("mariadb", (10, 5, 23))
    assert n.parse_version("8.0.36") == ("mysql", (8, 0, 36))
    n.check_server("10.4.0-MariaDB")
    with pytest.raises(n.ValidationError, match="MySQL"):
        n.check_server("8.0.36")
    with pytest.raises(n.ValidationError, match="10.4 or later"):
        n.check_server("10.3.39-MariaDB")


def test_login_account_is_refused():
    with pytest.raises(n.ValidationError, match="^user:"):
        n.check_not_login_account(("admin", "%"), "admin", ["localhost", "%"])
    n.check_not_login_account(("root", "localhost"), "nova", ["localhost", "%"])
    n.check_not_login_account(("nova", "10.0.0.1"), "nova", ["localhost", "%"])


# ------------------------------------------------------------------ charset

def test_resolve_charset_default_collation_and_alias():
    cur = FakeCursor()
    assert n.resolve_charset(cur, "utf8mb4", None) == ("utf8mb4", "utf8mb4_general_ci")
    assert n.resolve_charset(cur, "utf8", None) == ("utf8mb3", "utf8mb3_general_ci")
    assert n.resolve_charset(cur, "utf8", "utf8_general_ci") == ("utf8mb3", "utf8mb3_general_ci")
    assert n.resolve_charset(cur, "utf8mb4", "utf8mb4_unicode_ci") == ("utf8mb4", "utf8mb4_unicode_ci")
    # names are parameters of the lookups
    assert all(args for _sql, args in cur.executed)


@pytest.mark.parametrize("charset, collation, param", [
    ("klingon", None, "charset"),
    ("utf8mb4", "nope_ci", "collation"),
    ("utf8mb4", "latin1_swedish_ci", "collation"),
])
def test_resolve_charset_rejects(charset, collation, param):
    with pytest.raises(n.ValidationError) as e:
        n.resolve_charset(FakeCursor(), charset, collation)
    assert str(e.value).startswith(param + ":")


# ------------------------------------------------------------------ planning

def test_fresh_server_creates_everything_in_order():
    cur = FakeCursor()
    w = want()
    state, plan, steps = run_plan(cur, w)
    assert plan.changed
    assert plan.create_databases == ["nova_api", "nova", "nova_cell0"]
    assert plan.create_users == ["localhost", "%"]
    assert plan.change_password == []
    assert len(plan.grant_all) == 6
    sqls = [s.sql for s in steps]
    assert sqls[0] == "CREATE DATABASE `nova_api` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
    assert sqls[3] == "CREATE USER %s@%s IDENTIFIED BY PASSWORD %s"
    assert steps[3].args == ("nova", "localhost", n.native_password_hash(PASSWORD))
    assert "GRANT ALL PRIVILEGES ON `nova\\_api`.* TO %s@%s" in sqls
    # the plain password is in no statement and no parameter: only its hash is sent
    assert not any(PASSWORD in s.sql or PASSWORD in s.args for s in steps)
    assert PASSWORD not in repr(steps)
    res = n.results(steps)
    assert res["changed"] is True
    assert res["databases_created"] == ["nova_api", "nova", "nova_cell0"]
    assert res["users_created"] == ["nova@localhost", "nova@%"]
    assert res["password_changed"] is False and res["grants_changed"] is True
    assert "nova@%: ALL PRIVILEGES ON `nova\\_api`.*" in res["grants_added"]


def test_reads_pass_password_and_names_as_parameters():
    cur = FakeCursor()
    run_plan(cur, want())
    for sql, args in cur.executed:
        assert PASSWORD not in sql and "nova" not in sql.replace("password_hash_matches", "")
        assert PASSWORD not in args
    user_read = [a for s, a in cur.executed if "FROM mysql.user" in s][0]
    assert user_read == (n.native_password_hash(PASSWORD), "nova", "localhost", "%")


@pytest.mark.parametrize("password, expected", [
    # SELECT PASSWORD('...') on MariaDB 10.11
    ("password", "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"),
    ("Nova-pw-1", None),
])
def test_native_password_hash_is_what_the_server_computes(password, expected):
    import hashlib

    value = n.native_password_hash(password)
    assert value == "*" + hashlib.sha1(hashlib.sha1(password.encode()).digest()).hexdigest().upper()
    assert len(value) == 41 and value == value.upper()
    if expected:
        assert value == expected


def test_converged_changes_nothing():
    cur = converged()
    state, plan, steps = run_plan(cur, want())
    assert not plan.changed and steps == []
    res = n.results(steps)
    assert res["changed"] is False and res["grants_changed"] is False and res["password_changed"] is False
    d = n.diff(want(), state, plan)
    assert d["before"] == d["after"]


def test_rotation_changes_only_the_password():
    cur = converged(password="old")
    _state, plan, steps = run_plan(cur, want())
    assert plan.change_password == ["localhost", "%"]
    assert [s.sql for s in steps] == ["ALTER USER %s@%s IDENTIFIED BY PASSWORD %s"] * 2
    res = n.results(steps)
    assert res["password_changed"] is True and res["grants_changed"] is False
    assert res["password_changed_for"] == ["nova@localhost", "nova@%"]


def test_update_password_on_create_does_not_compare():
    cur = converged(password="old")
    _state, plan, steps = run_plan(cur, want(update_password="on_create"))
    assert steps == []
    user_read = [a for s, a in cur.executed if "FROM mysql.user" in s][0]
    assert user_read[0] is None


def test_missing_and_partial_grants_are_repaired():
    cur = converged()
    cur.db_rows = [r for r in cur.db_rows if not (r["Host"] == "%" and r["Db"] == "nova")]
    for r in cur.db_rows:
        if r["Host"] == "localhost" and r["Db"] == "nova\\_api":
            r["privs"] = {"Select", "Insert"}
    _state, plan, steps = run_plan(cur, want())
    assert sorted(plan.grant_all) == [("%", "nova"), ("localhost", "nova_api")]
    assert sorted(n.results(steps)["grants_added"]) == ["nova@%: ALL PRIVILEGES ON `nova`.*",
                                                        "nova@localhost: ALL PRIVILEGES ON `nova\\_api`.*"]
    assert n.results(steps)["password_changed"] is False


def test_extra_grants_are_revoked_exactly():
    cur = converged()
    cur.db_rows.append(dict(Host="%", Db="nova_api", User="nova", privs=set(ALL_DB)))  # the guide's wildcard
    cur.db_rows.append(dict(Host="%", Db="other%", User="nova", privs={"Select", "Grant"}))
    for r in cur.db_rows:
        if r["Host"] == "localhost" and r["Db"] == "nova":
            r["privs"] = set(ALL_DB) | {"Grant"}
    cur.users[1]["privs"] = {"Select", "Grant"}
    state, plan, steps = run_plan(cur, want())
    sqls = [(s.sql, s.args) for s in steps]
    assert ("REVOKE GRANT OPTION ON *.* FROM %s@%s", ("nova", "%")) in sqls
    assert ("REVOKE ALL PRIVILEGES ON *.* FROM %s@%s", ("nova", "%")) in sqls
    assert ("REVOKE ALL PRIVILEGES ON `nova_api`.* FROM %s@%s", ("nova", "%")) in sqls
    # a % in a spliced identifier is doubled for the driver's formatting
    assert ("REVOKE ALL PRIVILEGES ON `other%%`.* FROM %s@%s", ("nova", "%")) in sqls
    assert ("REVOKE GRANT OPTION ON `nova`.* FROM %s@%s", ("nova", "localhost")) in sqls
    assert not plan.grant_all
    res = n.results(steps)
    assert res["grants_changed"] is True and res["grants_added"] == []
    assert "nova@%: SELECT ON *.* WITH GRANT OPTION" in res["grants_revoked"]
    assert "nova@%: ALL PRIVILEGES ON `nova_api`.*" in res["grants_revoked"]
    assert "nova@localhost: GRANT OPTION ON `nova`.*" in res["grants_revoked"]
    d = n.diff(want(), state, plan)
    assert "nova@%: SELECT ON *.* WITH GRANT OPTION" in d["before"]["grants"]
    assert not any("other" in g or "*.*" in g for g in d["after"]["grants"])
    assert "nova@localhost: ALL PRIVILEGES ON `nova`.* WITH GRANT OPTION" in d["before"]["grants"]
    assert "nova@localhost: ALL PRIVILEGES ON `nova`.*" in d["after"]["grants"]


def test_extra_grants_kept_when_not_exclusive():
    cur = converged()
    cur.db_rows.append(dict(Host="%", Db="other", User="nova", privs={"Select"}))
    state, plan, steps = run_plan(cur, want(revoke_other_grants=False))
    assert steps == []
    d = n.diff(want(revoke_other_grants=False), state, plan)
    assert "nova@%: SELECT ON `other`.*" in d["after"]["grants"]


def test_other_users_and_hosts_rows_are_ignored():
    cur = converged()
    cur.db_rows.append(dict(Host="%", Db="other", User="glance", privs={"Select"}))
    cur.users.append(dict(User="nova", Host="10.0.0.1", password="x", privs={"Select"}))
    _state, plan, steps = run_plan(cur, want())
    assert steps == []


def test_new_host_pattern():
    cur = converged()
    _state, plan, steps = run_plan(cur, want(host_patterns=["localhost", "%", "10.0.0.%"]))
    assert plan.create_users == ["10.0.0.%"]
    assert [h for h, _db in plan.grant_all] == ["10.0.0.%"] * 3
    assert n.results(steps)["password_changed"] is False


def test_wrong_charset_is_altered():
    cur = converged()
    cur.schemata[1] = ("nova", "latin1", "latin1_swedish_ci")
    state, plan, steps = run_plan(cur, want())
    assert plan.alter_databases == [("nova", ("latin1", "latin1_swedish_ci"))]
    assert [s.sql for s in steps] == ["ALTER DATABASE `nova` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"]
    assert n.results(steps)["databases_altered"] == ["nova"]
    d = n.diff(want(), state, plan)
    assert d["before"]["databases"]["nova"] == "latin1/latin1_swedish_ci"
    assert d["after"]["databases"]["nova"] == "utf8mb4/utf8mb4_general_ci"


def test_wrong_collation_only_is_altered():
    cur = converged()
    _state, plan, _steps = run_plan(cur, want(collation="utf8mb4_unicode_ci"))
    assert [db for db, _b in plan.alter_databases] == ["nova_api", "nova", "nova_cell0"]


def test_absent_keeps_databases_by_default():
    cur = converged()
    w = want(state="absent")
    state, plan, steps = run_plan(cur, w)
    assert [(s.sql, s.args) for s in steps] == [("DROP USER %s@%s", ("nova", "localhost")),
                                                ("DROP USER %s@%s", ("nova", "%"))]
    res = n.results(steps)
    assert res["users_removed"] == ["nova@localhost", "nova@%"] and res["databases_dropped"] == []
    d = n.diff(w, state, plan)
    assert d["after"] == dict(databases=d["before"]["databases"], users=[], tls_requirement={}, grants=[])


def test_absent_drop_databases_and_idempotence():
    cur = converged()
    w = want(state="absent", drop_databases=True)
    _state, plan, steps = run_plan(cur, w)
    assert [s.sql for s in steps][-3:] == ["DROP DATABASE `nova_api`", "DROP DATABASE `nova`",
                                           "DROP DATABASE `nova_cell0`"]
    _state, plan, steps = run_plan(FakeCursor(), w)
    assert steps == [] and not plan.changed


def test_rotation_diff_has_no_password():
    cur = converged(password="old")
    state, plan, _steps = run_plan(cur, want())
    d = n.diff(want(), state, plan)
    assert d["after"]["password"] == {"nova@localhost": "(changed, not shown)", "nova@%": "(changed, not shown)"}
    assert PASSWORD not in repr(d) and "old" not in repr(d).replace("(changed", "")


def test_run_steps_reports_what_was_done_before_a_failure():
    cur = FakeCursor(fail_on="CREATE USER")
    _state, _plan, steps = run_plan(cur, want())
    with pytest.raises(n.StepError) as e:
        n.run_steps(cur, steps)
    assert [s.record[1] for s in e.value.done] == ["nova_api", "nova", "nova_cell0"]
    assert "creating user nova@localhost failed" in str(e.value)
    res = n.results(e.value.done)
    assert res["databases_created"] == ["nova_api", "nova", "nova_cell0"] and res["users_created"] == []


# ------------------------------------------------------------------ require_tls (REQUIRE SSL)

def ssl_types(cur):
    return dict((u["Host"], u.get("ssl_type", "")) for u in cur.users)


def test_require_tls_creates_accounts_with_require_ssl():
    cur = FakeCursor()
    w = want(require_tls=True)
    state, plan, steps = run_plan(cur, w)
    assert plan.create_users == ["localhost", "%"]
    assert plan.require_ssl == [] and plan.require_none == []  # CREATE USER says it already
    creates = [s for s in steps if s.sql.startswith("CREATE USER")]
    assert [s.sql for s in creates] == ["CREATE USER %s@%s IDENTIFIED BY PASSWORD %s REQUIRE SSL"] * 2
    assert [s.description for s in creates] == ["creating user nova@localhost with REQUIRE SSL",
                                                "creating user nova@% with REQUIRE SSL"]
    assert not any(PASSWORD in s.sql or PASSWORD in s.args or PASSWORD in s.description for s in steps)
    res = n.results(steps)
    assert res["users_created"] == ["nova@localhost", "nova@%"]
    assert res["tls_requirement_changed"] is False and res["tls_requirement_changed_for"] == []
    d = n.diff(w, state, plan)
    assert d["before"]["tls_requirement"] == {}
    assert d["after"]["tls_requirement"] == {"nova@localhost": "REQUIRE SSL", "nova@%": "REQUIRE SSL"}


def test_create_without_require_tls_is_require_none():
    state, plan, steps = run_plan(FakeCursor(), want())
    assert [s.sql for s in steps if s.sql.startswith("CREATE USER")] == [
        "CREATE USER %s@%s IDENTIFIED BY PASSWORD %s"] * 2
    d = n.diff(want(), state, plan)
    assert d["after"]["tls_requirement"] == {"nova@localhost": "REQUIRE NONE", "nova@%": "REQUIRE NONE"}


def test_require_tls_off_to_on_is_its_own_step():
    cur = converged()
    w = want(require_tls=True)
    state, plan, steps = run_plan(cur, w)
    assert plan.changed and plan.require_ssl == ["localhost", "%"] and plan.require_none == []
    assert [(s.sql, s.args) for s in steps] == [("ALTER USER %s@%s REQUIRE SSL", ("nova", "localhost")),
                                                ("ALTER USER %s@%s REQUIRE SSL", ("nova", "%"))]
    assert [s.description for s in steps] == ["requiring TLS of nova@localhost (REQUIRE SSL)",
                                              "requiring TLS of nova@% (REQUIRE SSL)"]
    res = n.results(steps)
    assert res["changed"] is True
    assert res["tls_requirement_changed"] is True
    assert res["tls_requirement_changed_for"] == ["nova@localhost", "nova@%"]
    assert res["password_changed"] is False and res["grants_changed"] is False and res["users_created"] == []
    d = n.diff(w, state, plan)
    assert d["before"]["tls_requirement"] == {"nova@localhost": "REQUIRE NONE", "nova@%": "REQUIRE NONE"}
    assert d["after"]["tls_requirement"] == {"nova@localhost": "REQUIRE SSL", "nova@%": "REQUIRE SSL"}
    assert dict(d["before"], tls_requirement=None) == dict(d["after"], tls_requirement=None)  # nothing else
    # check mode: the plan is the prediction; nothing was written while planning
    assert cur.writes() == []
    # applied, the next plan is empty
    n.run_steps(cur, steps)
    assert cur.writes() == [(s.sql, s.args) for s in steps]
    for u in cur.users:
        u["ssl_type"] = "ANY"
    _state, plan, steps = run_plan(cur, w)
    assert not plan.changed and steps == []


def test_require_tls_on_to_on_changes_nothing():
    cur = converged(ssl_type="ANY")
    w = want(require_tls=True)
    state, plan, steps = run_plan(cur, w)
    assert not plan.changed and steps == []
    res = n.results(steps)
    assert res["changed"] is False and res["tls_requirement_changed"] is False
    d = n.diff(w, state, plan)
    assert d["before"] == d["after"]
    assert d["after"]["tls_requirement"] == {"nova@localhost": "REQUIRE SSL", "nova@%": "REQUIRE SSL"}


def test_require_tls_on_to_off_sets_require_none():
    cur = converged(ssl_type="ANY")
    w = want(require_tls=False)
    state, plan, steps = run_plan(cur, w)
    assert plan.require_none == ["localhost", "%"] and plan.require_ssl == []
    assert [(s.sql, s.args) for s in steps] == [("ALTER USER %s@%s REQUIRE NONE", ("nova", "localhost")),
                                                ("ALTER USER %s@%s REQUIRE NONE", ("nova", "%"))]
    assert steps[1].description == "no longer requiring TLS of nova@% (REQUIRE NONE)"
    res = n.results(steps)
    assert res["tls_requirement_changed_for"] == ["nova@localhost", "nova@%"] and res["changed"] is True
    d = n.diff(w, state, plan)
    assert d["before"]["tls_requirement"]["nova@%"] == "REQUIRE SSL"
    assert d["after"]["tls_requirement"]["nova@%"] == "REQUIRE NONE"
    # off -> off: nothing
    _state, plan, steps = run_plan(converged(), w)
    assert steps == []


@pytest.mark.parametrize("ssl_type", ["", "ANY", "X509"])
def test_require_tls_unset_leaves_every_requirement_as_it_is(ssl_type):
    cur = converged(ssl_type=ssl_type)
    w = want()
    state, plan, steps = run_plan(cur, w)
    assert not plan.changed and steps == []
    d = n.diff(w, state, plan)
    assert d["before"] == d["after"]


@pytest.mark.parametrize("require_tls", [True, False])
@pytest.mark.parametrize("ssl_type, extra, shown", [
    ("X509", {}, "REQUIRE X509"),
    ("SPECIFIED", dict(x509_issuer="/CN=Deployment CA", x509_subject="/CN=nova"), "REQUIRE ISSUER AND SUBJECT"),
    ("SPECIFIED", dict(ssl_cipher="AES256-SHA"), "REQUIRE CIPHER"),
])
def test_stricter_requirement_is_kept(require_tls, ssl_type, extra, shown):
    cur = converged()
    cur.users[1].update(extra, ssl_type=ssl_type)  # nova@% is the operator's stricter account
    w = want(require_tls=require_tls)
    state, plan, steps = run_plan(cur, w)
    assert "%" not in plan.require_ssl and "%" not in plan.require_none
    assert not any(s.args[:2] == ("nova", "%") and "REQUIRE" in s.sql for s in steps)
    assert plan.require_ssl == (["localhost"] if require_tls else [])
    d = n.diff(w, state, plan)
    assert d["before"]["tls_requirement"]["nova@%"] == shown == d["after"]["tls_requirement"]["nova@%"]
    # the values of ISSUER, SUBJECT and CIPHER are not shown, only what is checked
    assert "CN=" not in repr(d) and "AES256" not in repr(d)


def test_tls_requirement_and_rotation_in_one_run():
    cur = converged(password="old")
    _state, plan, steps = run_plan(cur, want(require_tls=True))
    assert [s.sql for s in steps] == ["ALTER USER %s@%s IDENTIFIED BY PASSWORD %s"] * 2 + [
        "ALTER USER %s@%s REQUIRE SSL"] * 2
    # the requirement's statement does not carry the password hash
    assert [s.args for s in steps[2:]] == [("nova", "localhost"), ("nova", "%")]
    res = n.results(steps)
    assert res["password_changed_for"] == res["tls_requirement_changed_for"] == ["nova@localhost", "nova@%"]


def test_new_host_pattern_with_require_tls():
    cur = converged(ssl_type="ANY")
    w = want(host_patterns=["localhost", "%", "10.0.0.%"], require_tls=True)
    state, plan, steps = run_plan(cur, w)
    assert plan.create_users == ["10.0.0.%"] and plan.require_ssl == []
    assert steps[0].sql.endswith("REQUIRE SSL")
    assert n.diff(w, state, plan)["after"]["tls_requirement"]["nova@10.0.0.%"] == "REQUIRE SSL"


def test_require_tls_is_ignored_when_absent():
    cur = converged(ssl_type="ANY")
    w = want(state="absent", require_tls=True)
    state, plan, steps = run_plan(cur, w)
    assert [s.sql for s in steps] == ["DROP USER %s@%s"] * 2
    d = n.diff(w, state, plan)
    assert d["before"]["tls_requirement"] == {"nova@localhost": "REQUIRE SSL", "nova@%": "REQUIRE SSL"}
    assert d["after"]["tls_requirement"] == {}


def test_read_state_reads_the_requirement_as_bytes_too():
    cur = converged()
    cur.users[0]["ssl_type"] = b"ANY"
    cur.users[1].update(ssl_type="SPECIFIED", x509_subject=b"/CN=nova")
    state = n.read_state(cur, "nova", ["localhost", "%"], n.DEFAULT_DATABASES)
    assert state.accounts["localhost"].ssl_type == "ANY"
    assert (state.accounts["%"].ssl_type, state.accounts["%"].ssl_specified) == ("SPECIFIED", ("SUBJECT",))


@pytest.mark.parametrize("have_ssl, refused", [("YES", False), ("DISABLED", True), ("NO", True), (None, False)])
def test_require_tls_needs_a_server_that_offers_tls(have_ssl, refused):
    cur = FakeCursor(have_ssl=have_ssl)
    value = n.read_have_ssl(cur)
    assert value == have_ssl
    if refused:
        with pytest.raises(n.ValidationError) as e:
            n.check_tls_offered(value, "nova", "socket /run/mysqld/mysqld.sock")
        assert str(e.value).startswith("require_tls:")
        assert "have_ssl is %s" % have_ssl in str(e.value) and "socket /run/mysqld/mysqld.sock" in str(e.value)
    else:
        n.check_tls_offered(value, "nova", "localhost:3306")
    assert cur.writes() == []


class TlsCheckModule(object):
    """Just what ServiceDbModule.check_tls_offered uses of a module."""

    check_tls_offered = service_db_module.ServiceDbModule.check_tls_offered

    def __init__(self, check_mode):
        self.check_mode = check_mode
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)

    def place(self):
        return "127.0.0.1:3306"


def test_module_refuses_require_tls_without_tls_but_only_warns_in_check_mode():
    w = want(require_tls=True)
    module = TlsCheckModule(check_mode=False)
    with pytest.raises(n.ValidationError, match="^require_tls: MariaDB at 127.0.0.1:3306 does not offer TLS"):
        module.check_tls_offered(FakeCursor(have_ssl="DISABLED"), w)
    module = TlsCheckModule(check_mode=True)
    module.check_tls_offered(FakeCursor(have_ssl="DISABLED"), w)
    assert len(module.warnings) == 1 and module.warnings[0].startswith("require_tls: ")
    assert "check mode" in module.warnings[0]
    module = TlsCheckModule(check_mode=False)
    module.check_tls_offered(FakeCursor(have_ssl="YES"), w)
    assert module.warnings == []


def test_require_tls_option_is_the_same_in_both_modules():
    spec = service_db_module.argument_spec()
    assert spec["require_tls"] == dict(type="bool")
