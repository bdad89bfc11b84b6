"""service_db and nova_db through Ansible against the private MariaDB of the session (fixture `mariadb`).

The step is one class for both modules (module_utils/service_db_module.py): most tests run it as
service_db with their own names; the last ones run nova_db with Nova's defaults.

Each test works on its own user and databases (prefix from the test), so the tests
are independent of their order and of other modules' tests on the same server.
Every run is checked for leaked passwords (plain and percent-encoded) in all of the
output Ansible printed.
"""
import json
import os
import subprocess
import zlib
from urllib.parse import quote

import pymysql
import pytest

from conftest import DEPRECATIONS_SHOWN, TARGET_PYTHON, assert_no_deprecation, free_port

SPECIAL = "p'a\"s\\s @:/%$#w ord"
ALL_DB_GRANT = "ALL PRIVILEGES ON `%s`.* TO `%s`@`%s`"


def pat(db):
    """The exact (escaped) grant pattern of a database."""
    return db.replace("_", "\\_")


class Case:
    """One test's user, databases and password, and helpers to look at the server."""

    def __init__(self, mariadb, ansible_module, prefix, password="Nova-pw-1"):
        self.db = mariadb
        self.run_module = ansible_module
        self.user = "%s_u" % prefix
        self.databases = ["%s_api" % prefix, "%s_main" % prefix, "%s_cell0" % prefix]
        self.password = password
        self.secrets = {password, mariadb.admin_password}

    def args(self, tcp=False, **kw):
        a = dict(self.db.login_args(tcp=tcp), user=self.user, databases=self.databases, password=self.password)
        a.update(kw)
        return a

    def run(self, check=False, diff=False, verbosity=0, tcp=False, module="service_db", env=None, **kw):
        args = self.args(tcp=tcp, **kw)
        if args.get("password"):
            self.secrets.add(args["password"])
        res = self.run_module(module, args, check=check, diff=diff, verbosity=verbosity, env=env)
        self.assert_no_secret(res.output)
        return res

    def assert_no_secret(self, text):
        for s in self.secrets:
            for form in (s, quote(s, safe=""), json.dumps(s)[1:-1]):
                assert form not in text, "a password leaked into Ansible's output"

    def sql(self, stmt, *args):
        return self.db.sql(stmt, *args)

    def server_state(self):
        """Everything the module could touch for this case, as read by root."""
        dbs = self.sql("SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME "
                       "FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE %s ORDER BY 1",
                       self.user[:-2].replace("_", "\\_") + "\\_%")
        users = self.sql("SELECT Host, authentication_string, plugin, ssl_type FROM mysql.user WHERE User = %s "
                         "ORDER BY 1", self.user)
        grants = self.sql("SELECT * FROM mysql.db WHERE User = %s ORDER BY Host, Db", self.user)
        return dbs, users, grants

    def grants(self, host):
        rows = self.sql("SHOW GRANTS FOR %s@%s", self.user, host)
        return sorted(r[0] for r in rows if not r[0].startswith("GRANT USAGE ON *.*"))

    def expected_grants(self, host):
        return sorted("GRANT " + ALL_DB_GRANT % (pat(db), self.user, host)
                      for db in self.databases)

    def login(self, password, database=None, host=None):
        """A real login over TCP as this user; True when the server accepts it."""
        try:
            conn = pymysql.connect(host=host or self.db.host, port=self.db.port, user=self.user,
                                   password=password, database=database or self.databases[0],
                                   connect_timeout=5)
        except pymysql.err.OperationalError as e:
            assert e.args[0] in (1044, 1045, 1698), e
            return False
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE TABLE IF NOT EXISTS probe (id INT)")
                cur.execute("DROP TABLE probe")
        finally:
            conn.close()
        return True

    def requirements(self):
        """{host: mysql.user's ssl_type} of this user's accounts ('' is REQUIRE NONE, ANY is REQUIRE SSL)."""
        return dict(self.sql("SELECT Host, ssl_type FROM mysql.user WHERE User = %s", self.user))

    def tls_login(self, tls, host=None):
        """A login over TCP, with TLS verified against the server's CA or in plaintext: True when admitted.

        From 127.0.0.1 the server picks the account at localhost when there is one (it resolves the address).

        From 127.0.0.1 the server picks the account at localhost when there is one (it resolves the address).

        PyMySQL 1.1+ tries TLS by itself when not told: ssl_disabled makes the plaintext attempt plaintext.
        """
        kwargs = dict(ssl={"ca": self.db.pki["ca"]}) if tls else dict(ssl_disabled=True)
        try:
            conn = pymysql.connect(host=host or self.db.host, port=self.db.port, user=self.user,
                                   password=self.password, database=self.databases[0], connect_timeout=5, **kwargs)
        except pymysql.err.OperationalError as e:
            assert e.args[0] == 1045, e  # the server's answer to an account that requires TLS
            return False
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
                cipher = cur.fetchall()[0][1]
        finally:
            conn.close()
        assert bool(cipher) == tls, "the connection was %s TLS" % ("not over" if tls else "over")
        return True


@pytest.fixture
def case(request, mariadb, ansible_module):
    prefix = "t3%06d" % (zlib.crc32(request.node.name.encode()) % 10 ** 6)
    c = Case(mariadb, ansible_module, prefix)
    user = c.user  # a test may point c.user at the admin account: never drop that one
    yield c
    for host in ("localhost", "%", "127.0.0.1"):
        mariadb.sql("DROP USER IF EXISTS %s@%s", user, host)
    for db in c.databases:
        mariadb.sql("DROP DATABASE IF EXISTS `%s`" % db)


@pytest.fixture
def converged(case):
    res = case.run()
    assert not res.failed, res.output
    assert res["changed"] is True
    return case


def assert_nothing(res):
    assert res["changed"] is False
    for key in ("databases_created", "databases_altered", "databases_dropped", "users_created", "users_removed",
                "grants_added", "grants_revoked", "password_changed_for", "tls_requirement_changed_for"):
        assert res[key] == [], key
    assert res["grants_changed"] is False and res["password_changed"] is False
    assert res["tls_requirement_changed"] is False


# ------------------------------------------------------------------ create, idempotence, check mode

def test_check_then_create_then_unchanged(case):
    before = case.server_state()
    assert before == ((), (), ())
    res = case.run(check=True, diff=True)
    assert not res.failed, res.output
    assert res["changed"] is True
    assert res["databases_created"] == case.databases
    assert res["users_created"] == ["%s@localhost" % case.user, "%s@%%" % case.user]
    assert len(res["grants_added"]) == 6 and res["grants_changed"] is True
    assert res["password_changed"] is False
    assert case.server_state() == before, "check mode touched the server"
    predicted = {k: res[k] for k in ("databases_created", "users_created", "grants_added")}

    res = case.run(diff=True)
    assert not res.failed, res.output
    assert res["changed"] is True
    assert {k: res[k] for k in predicted} == predicted, "check mode predicted something else"
    assert res["charset"] == "utf8mb4" and res["collation"] == "utf8mb4_general_ci"
    dbs, users, _grants = case.server_state()
    assert sorted(d[0] for d in dbs) == sorted(case.databases)
    assert {(d[1], d[2]) for d in dbs} == {("utf8mb4", "utf8mb4_general_ci")}
    assert [u[0] for u in users] == ["%", "localhost"]
    assert {u[2] for u in users} == {"mysql_native_password"}
    for host in ("localhost", "%"):
        assert case.grants(host) == case.expected_grants(host)
    assert case.login(case.password)
    assert not case.login("wrong")

    after = case.server_state()
    res = case.run(diff=True)
    assert not res.failed, res.output
    assert_nothing(res)
    res = case.run(check=True, diff=True)
    assert not res.failed, res.output
    assert_nothing(res)
    assert case.server_state() == after


def test_verbose_run_and_diff_show_no_password(case):
    case.password = SPECIAL
    res = case.run(diff=True, verbosity=3, tcp=True)
    assert not res.failed, res.output
    assert res["changed"] is True
    assert "--- before" in res.output and "ALL PRIVILEGES" in res.output  # the diff was printed
    # the run() helper asserted that neither password nor admin password appears in the output


# ------------------------------------------------------------------ rotation

def test_rotation(converged):
    case = converged
    old = case.password
    new = "Rotated/pw:2@x"
    res = case.run(password=new, check=True, diff=True)
    assert not res.failed, res.output
    assert res["changed"] is True and res["password_changed"] is True
    assert case.login(old) and not case.login(new), "check mode changed the password"

    res = case.run(password=new, diff=True, verbosity=3)
    assert not res.failed, res.output
    assert res["changed"] is True
    assert res["password_changed"] is True
    assert res["password_changed_for"] == ["%s@localhost" % case.user, "%s@%%" % case.user]
    assert res["grants_changed"] is False and res["users_created"] == [] and res["databases_created"] == []
    assert "(changed, not shown)" in res.output
    assert case.login(new)
    assert not case.login(old)

    res = case.run(password=new)
    assert_nothing(res)
    # on_create leaves an existing password alone
    res = case.run(password=old, update_password="on_create")
    assert not res.failed, res.output
    assert_nothing(res)
    assert case.login(new)


# ------------------------------------------------------------------ grant repair

def test_grant_repair(converged):
    case = converged
    api, main = case.databases[0], case.databases[1]
    case.sql("REVOKE ALL PRIVILEGES ON `%s`.* FROM %%s@'%%%%'" % pat(api), case.user)
    case.sql("REVOKE DELETE, DROP ON `%s`.* FROM %%s@'localhost'" % pat(main), case.user)
    case.sql("GRANT SELECT ON `%s`.* TO %%s@'%%%%' WITH GRANT OPTION" % pat(main), case.user)
    case.sql("GRANT ALL PRIVILEGES ON `%s`.* TO %%s@'%%%%'" % api, case.user)  # the guide's wildcard form
    case.sql("GRANT PROCESS ON *.* TO %s@'%%'", case.user)
    broken = case.server_state()

    res = case.run(check=True, diff=True)
    assert not res.failed, res.output
    assert res["changed"] is True and res["grants_changed"] is True
    assert case.server_state() == broken, "check mode touched the server"
    predicted = (sorted(res["grants_added"]), sorted(res["grants_revoked"]))

    res = case.run(diff=True)
    assert not res.failed, res.output
    assert res["changed"] is True and res["grants_changed"] is True
    assert res["password_changed"] is False and res["users_created"] == []
    assert (sorted(res["grants_added"]), sorted(res["grants_revoked"])) == predicted
    u = case.user
    assert sorted(res["grants_added"]) == sorted([
        "%s@%%: ALL PRIVILEGES ON `%s`.*" % (u, pat(api)),
        "%s@localhost: ALL PRIVILEGES ON `%s`.*" % (u, pat(main))])
    assert sorted(res["grants_revoked"]) == sorted([
        "%s@%%: PROCESS ON *.*" % u,
        "%s@%%: ALL PRIVILEGES ON `%s`.*" % (u, api),
        "%s@%%: GRANT OPTION ON `%s`.*" % (u, pat(main))])
    for host in ("localhost", "%"):
        assert case.grants(host) == case.expected_grants(host)
    assert_nothing(case.run())


def test_other_grants_kept_when_not_exclusive(converged):
    case = converged
    case.sql("GRANT SELECT ON `%s_other`.* TO %%s@'%%%%'" % case.user, case.user)
    res = case.run(revoke_other_grants=False, diff=True)
    assert not res.failed, res.output
    assert_nothing(res)
    res = case.run()
    assert res["changed"] is True and res["grants_changed"] is True
    assert res["grants_revoked"] == ["%s@%%: SELECT ON `%s_other`.*" % (case.user, case.user)]
    assert case.grants("%") == case.expected_grants("%")


# ------------------------------------------------------------------ new host pattern, charset

def test_new_host_pattern(converged):
    case = converged
    res = case.run(host_patterns=["localhost", "%", "127.0.0.1"], diff=True)
    assert not res.failed, res.output
    assert res["changed"] is True
    assert res["users_created"] == ["%s@127.0.0.1" % case.user]
    assert len(res["grants_added"]) == 3 and all(g.startswith(case.user + "@127.0.0.1: ") for g in res["grants_added"])
    assert res["password_changed"] is False and res["databases_created"] == []
    assert case.grants("127.0.0.1") == case.expected_grants("127.0.0.1")
    assert case.login(case.password, host="127.0.0.1")
    assert_nothing(case.run(host_patterns=["localhost", "%", "127.0.0.1"]))


def test_wrong_charset_is_repaired(converged):
    case = converged
    main = case.databases[1]
    case.sql("ALTER DATABASE `%s` CHARACTER SET latin1 COLLATE latin1_swedish_ci" % main)
    res = case.run(check=True, diff=True)
    assert res["changed"] is True and res["databases_altered"] == [main]
    assert case.sql("SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
                    main)[0][0] == "latin1"
    res = case.run(diff=True)
    assert not res.failed, res.output
    assert res["changed"] is True
    assert res["databases_altered"] == [main] and res["databases_created"] == [] and res["grants_changed"] is False
    assert "latin1/latin1_swedish_ci" in res.output and "utf8mb4/utf8mb4_general_ci" in res.output
    assert case.sql("SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA "
                    "WHERE SCHEMA_NAME = %s", main) == (("utf8mb4", "utf8mb4_general_ci"),)
    assert_nothing(case.run())
    # another collation (and the utf8 alias) is applied to every database
    res = case.run(charset="utf8", collation="utf8_unicode_ci")
    assert not res.failed, res.output
    assert res["changed"] is True and res["databases_altered"] == case.databases
    assert res["charset"] == "utf8mb3" and res["collation"] == "utf8mb3_unicode_ci"
    assert_nothing(case.run(charset="utf8", collation="utf8_unicode_ci"))


# ------------------------------------------------------------------ absent

def test_absent(converged):
    case = converged
    converged_state = case.server_state()
    res = case.run(state="absent", password=None, check=True, diff=True)
    assert not res.failed, res.output
    assert res["changed"] is True and res["users_removed"] == ["%s@localhost" % case.user, "%s@%%" % case.user]
    assert case.server_state() == converged_state, "check mode touched the server"

    res = case.run(state="absent", password=None, diff=True)
    assert not res.failed, res.output
    assert res["changed"] is True
    assert res["users_removed"] == ["%s@localhost" % case.user, "%s@%%" % case.user]
    assert res["databases_dropped"] == []
    dbs, users, grants = case.server_state()
    assert len(dbs) == 3 and users == () and grants == ()
    assert not case.login(case.password)
    assert_nothing(case.run(state="absent", password=None))

    res = case.run(state="absent", password=None, drop_databases=True, check=True)
    assert res["changed"] is True and res["databases_dropped"] == case.databases
    assert len(case.server_state()[0]) == 3
    res = case.run(state="absent", password=None, drop_databases=True)
    assert not res.failed, res.output
    assert res["changed"] is True and res["databases_dropped"] == case.databases and res["users_removed"] == []
    assert case.server_state() == ((), (), ())
    assert_nothing(case.run(state="absent", password=None, drop_databases=True))


# ------------------------------------------------------------------ special characters, db_url

def test_special_character_password_and_db_url(case):
    case.password = SPECIAL
    res = case.run(tcp=True, diff=True)
    assert not res.failed, res.output
    assert res["changed"] is True
    assert case.login(SPECIAL)
    assert_nothing(case.run(tcp=True))

    # the filter builds a URL that a client can log in with (through real Ansible templating)
    from ansible_collections.osdeploy.nova.plugins.module_utils.credentials import parse_db_url

    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.minimal", ANSIBLE_NOCOLOR="1")
    expr = "{{ t_user | osdeploy.nova.db_url(t_pw, '127.0.0.1', t_db, port=t_port) }}"
    proc = subprocess.run(
        ["ansible", "localhost", "-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=%s" % TARGET_PYTHON,
         "-e", json.dumps(dict(t_user=case.user, t_pw=SPECIAL, t_db=case.databases[1], t_port=case.db.port)),
         "-m", "ansible.builtin.debug", "-a", json.dumps({"msg": expr})],
        capture_output=True, text=True, env=env, check=False, timeout=300)
    assert proc.returncode == 0 and "SUCCESS => {" in proc.stdout, proc.stdout + proc.stderr
    out, _end = json.JSONDecoder().raw_decode(proc.stdout, proc.stdout.index("SUCCESS => {") + len("SUCCESS => "))
    url = out["msg"]
    assert url.startswith("mysql+pymysql://%s:" % case.user) and url.endswith("/" + case.databases[1])
    assert SPECIAL not in url
    params = parse_db_url(url)
    conn = pymysql.connect(host=params["host"], port=params["port"], user=params["user"],
                           password=params["password"], database=params["database"])
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT DATABASE()")
            assert cur.fetchall()[0][0] == case.databases[1]
    finally:
        conn.close()


# ------------------------------------------------------------------ bad input, login guard, server down

@pytest.mark.parametrize("override, param", [
    (dict(databases=["bad name"]), "databases"),
    (dict(databases=["x`y"]), "databases"),
    (dict(databases=["d" * 65]), "databases"),
    (dict(databases=["mysql"]), "databases"),
    (dict(user="no'va"), "user"),
    (dict(user="u" * 81), "user"),
    (dict(host_patterns=["host'; DROP"]), "host_patterns"),
    (dict(password=""), "password"),
    (dict(password="caf\u00e9-secret"), "password"),
    (dict(charset="klingon"), "charset"),
    (dict(collation="klingon_ci"), "collation"),
    (dict(collation="latin1_swedish_ci"), "collation"),
], ids=["db-space", "db-backtick", "db-too-long", "db-system", "user-quote", "user-too-long", "host-quote",
        "password-empty", "password-non-ascii", "charset-unknown", "collation-unknown", "collation-other-charset"])
def test_bad_input(case, override, param):
    res = case.run(**override)
    assert res.failed, res
    assert res["msg"].startswith(param + ":"), res["msg"]
    assert case.server_state() == ((), (), ())


def test_password_required_for_present(case):
    res = case.run(password=None)
    assert res.failed and "password" in res["msg"]


def test_login_account_is_refused(case, mariadb):
    case.user = mariadb.admin_user
    res = case.run(tcp=True, host_patterns=["%"], state="absent")
    assert res.failed and res["msg"].startswith("user:"), res["msg"]
    assert mariadb.sql("SELECT COUNT(*) FROM mysql.user WHERE User = %s", mariadb.admin_user)[0][0] == 1


def test_server_down(case):
    port = free_port()
    res = case.run(tcp=True, login_host="127.0.0.1", login_port=port, connect_timeout=3)
    assert res.failed
    assert "127.0.0.1:%d" % port in res["msg"]
    assert res["msg"].count(". ") == 0 and "\n" not in res["msg"]
    assert "changed" not in res or res["changed"] is False


def test_access_denied(case, mariadb):
    res = case.run(tcp=True, login_password="not-the-admin-password")
    assert res.failed
    assert "127.0.0.1:%d" % mariadb.port in res["msg"] and "refused" in res["msg"]
    assert case.server_state() == ((), (), ())


def test_failure_midway_reports_what_was_done(case, mariadb):
    """A login that may create databases but not users: the task fails and says what it did."""
    login_user, login_pw = case.user + "_lim", "Lim'ited pw\\1"
    case.secrets.add(login_pw)
    mariadb.sql("CREATE USER %s@'%%' IDENTIFIED BY %s", login_user, login_pw)
    try:
        mariadb.sql("GRANT SELECT ON mysql.* TO %s@'%%'", login_user)
        mariadb.sql("GRANT CREATE ON *.* TO %s@'%%'", login_user)
        res = case.run(tcp=True, login_user=login_user, login_password=login_pw)
        assert res.failed
        assert res["changed"] is True
        assert res["databases_created"] == case.databases and res["users_created"] == []
        assert "creating user %s@localhost failed" % case.user in res["msg"]
        assert "creating database %s" % case.databases[0] in res["msg"]
        dbs, users, _grants = case.server_state()
        assert len(dbs) == 3 and users == ()
    finally:
        mariadb.sql("DROP USER IF EXISTS %s@'%%'", login_user)


def test_backslash_password_under_no_backslash_escapes(case, mariadb):
    """With sql_mode NO_BACKSLASH_ESCAPES quoting by backslash would break; parameters do not."""
    old_mode = mariadb.sql("SELECT @@GLOBAL.sql_mode")[0][0]
    mariadb.sql("SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES')")
    try:
        case.password = "a\\'b\"c\\"
        res = case.run()
        assert not res.failed, res.output
        assert res["changed"] is True
        assert_nothing(case.run())
        assert case.login(case.password)
    finally:
        mariadb.sql("SET GLOBAL sql_mode = %s", old_mode)
    assert mariadb.sql("SELECT @@GLOBAL.sql_mode")[0][0] == old_mode


# ------------------------------------------------------------------ the password never reaches the server

def test_password_is_in_no_server_log(case, mariadb):
    """With the general log on, create, no-op and rotation runs leave no password in it.

    PyMySQL substitutes parameters on the client, so a password sent as a parameter
    would be in the statement text the server logs (and shows in its process list).
    """
    log = os.path.join(mariadb.dir, "general-%s.log" % case.user)
    rotated = "R0tated-" + SPECIAL
    mariadb.sql("SET GLOBAL general_log_file = %s", log)
    mariadb.sql("SET GLOBAL log_output = 'FILE'")
    mariadb.sql("SET GLOBAL general_log = 1")
    try:
        case.password = SPECIAL
        created = case.run(tcp=True)
        assert not created.failed, created.output
        assert created["users_created"] == ["%s@localhost" % case.user, "%s@%%" % case.user]
        assert_nothing(case.run(tcp=True))  # the no-op run compares the password
        case.password = rotated
        res = case.run(tcp=True)
        assert not res.failed, res.output
        assert res["password_changed"] is True
        assert_nothing(case.run(tcp=True))
    finally:
        mariadb.sql("SET GLOBAL general_log = 0")
    assert case.login(rotated) and not case.login(SPECIAL)
    with open(log, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    # the log did record the module's statements: CREATE, the comparison, ALTER
    assert "CREATE USER '%s'@'localhost' IDENTIFIED BY PASSWORD '*" % case.user in text
    assert "ALTER USER '%s'@'%%' IDENTIFIED BY PASSWORD '*" % case.user in text
    assert "password_hash_matches" in text
    for password in (SPECIAL, rotated, mariadb.admin_password):
        for form in (password, quote(password, safe=""), pymysql.converters.escape_string(password)):
            assert form not in text, "a password (%r form) is in the server's general log" % form


# ------------------------------------------------------------------ TLS to the server

def test_tls_options_log_in_with_a_client_certificate(case, mariadb):
    """ca_cert, client_cert, client_key, verify_server_cert against a server that requires them.

    The administrator the module logs in as is admitted only with a client
    certificate of the server's CA (REQUIRE X509), so a login that works went over
    TLS with the module's certificate.
    """
    pki = mariadb.pki
    admin = case.user[:-2] + "_tls"
    mariadb.sql("CREATE USER %s@'%%' IDENTIFIED BY %s REQUIRE X509", admin, mariadb.admin_password)
    mariadb.sql("GRANT ALL PRIVILEGES ON *.* TO %s@'%%' WITH GRANT OPTION", admin)
    tls = dict(login_user=admin, ca_cert=pki["ca"], client_cert=pki["client_cert"], client_key=pki["client_key"])
    try:
        res = case.run(tcp=True, check=True, **tls)
        assert not res.failed, res.output
        assert res["users_created"] == ["%s@localhost" % case.user, "%s@%%" % case.user]
        res = case.run(tcp=True, **tls)
        assert not res.failed and res["changed"] is True, res.output
        assert case.login(case.password)
        # the server's certificate unchecked (no CA given): still TLS, still the client certificate
        unverified = dict(tls, verify_server_cert=False)
        del unverified["ca_cert"]
        assert_nothing(case.run(tcp=True, **unverified))
        # without the client certificate the server refuses the administrator
        res = case.run(tcp=True, login_user=admin, ca_cert=pki["ca"])
        assert res.failed and "refused the login of user %r" % admin in res["msg"], res.output
        # a server certificate that does not verify against the system's CAs fails, saying TLS
        res = case.run(tcp=True, login_user=admin, client_cert=pki["client_cert"], client_key=pki["client_key"])
        assert res.failed and "with TLS" in res["msg"] and "CERTIFICATE_VERIFY_FAILED" in res["msg"], res.output
        # a key without its certificate is refused before connecting
        res = case.run(tcp=True, login_user=admin, client_key=pki["client_key"])
        assert res.failed and "client_key needs client_cert" in res["msg"], res.output
    finally:
        mariadb.sql("DROP USER IF EXISTS %s@'%%'", admin)


# ------------------------------------------------------------------ require_tls: the service's accounts REQUIRE SSL

def test_require_tls_on_and_off_converges(converged):
    case = converged
    u = case.user
    accounts = ["%s@localhost" % u, "%s@%%" % u]
    assert case.requirements() == {"localhost": "", "%": ""}
    assert case.tls_login(tls=False) and case.tls_login(tls=True)

    # on: check mode predicts, changes nothing
    before = case.server_state()
    res = case.run(require_tls=True, check=True, diff=True)
    assert not res.failed, res.output
    assert res["changed"] is True and res["tls_requirement_changed"] is True
    assert res["tls_requirement_changed_for"] == accounts
    assert res["grants_changed"] is False and res["password_changed"] is False and res["users_created"] == []
    assert case.server_state() == before, "check mode touched the server"
    assert case.tls_login(tls=False)

    res = case.run(require_tls=True, diff=True)
    assert not res.failed, res.output
    assert res["changed"] is True and res["tls_requirement_changed_for"] == accounts
    assert res["grants_changed"] is False and res["password_changed"] is False
    assert "REQUIRE NONE" in res.output and "REQUIRE SSL" in res.output  # the diff shows the requirement
    assert case.requirements() == {"localhost": "ANY", "%": "ANY"}
    assert case.sql("SHOW CREATE USER %s@'%%'", u)[0][0].endswith(" REQUIRE SSL")
    assert not case.tls_login(tls=False), "the server let the user in without TLS"
    assert case.tls_login(tls=True)
    for host in ("localhost", "%"):
        assert case.grants(host) == case.expected_grants(host)

    # on again: nothing, in check mode too
    after = case.server_state()
    assert_nothing(case.run(require_tls=True, diff=True))
    assert_nothing(case.run(require_tls=True, check=True, diff=True))
    assert case.server_state() == after

    # a rotation and a grant repair keep the requirement
    case.sql("REVOKE ALL PRIVILEGES ON `%s`.* FROM %%s@'%%%%'" % pat(case.databases[0]), u)
    case.password = "Rotated-tls-pw-2"
    res = case.run(require_tls=True)
    assert not res.failed, res.output
    assert res["password_changed_for"] == accounts and res["grants_changed"] is True
    assert res["tls_requirement_changed_for"] == []
    assert case.requirements() == {"localhost": "ANY", "%": "ANY"}
    assert not case.tls_login(tls=False) and case.tls_login(tls=True)

    # unset: the requirement stays as it is
    assert_nothing(case.run())
    assert case.requirements() == {"localhost": "ANY", "%": "ANY"}

    # off: predicted, then back to REQUIRE NONE, then nothing
    res = case.run(require_tls=False, check=True)
    assert res["changed"] is True and res["tls_requirement_changed_for"] == accounts
    assert case.requirements() == {"localhost": "ANY", "%": "ANY"}
    res = case.run(require_tls=False, diff=True)
    assert not res.failed, res.output
    assert res["changed"] is True and res["tls_requirement_changed_for"] == accounts
    assert res["grants_changed"] is False and res["password_changed"] is False
    assert case.requirements() == {"localhost": "", "%": ""}
    assert case.tls_login(tls=False) and case.tls_login(tls=True)
    assert_nothing(case.run(require_tls=False))


def test_require_tls_creates_the_accounts_with_require_ssl(case):
    res = case.run(require_tls=True, check=True, diff=True)
    assert not res.failed, res.output
    assert res["users_created"] == ["%s@localhost" % case.user, "%s@%%" % case.user]
    assert res["tls_requirement_changed_for"] == []
    assert case.server_state() == ((), (), ()), "check mode touched the server"
    res = case.run(require_tls=True, diff=True)
    assert not res.failed and res["changed"] is True, res.output
    assert res["users_created"] == ["%s@localhost" % case.user, "%s@%%" % case.user]
    assert res["tls_requirement_changed_for"] == []
    assert case.requirements() == {"localhost": "ANY", "%": "ANY"}
    assert not case.tls_login(tls=False)
    assert case.tls_login(tls=True)
    assert_nothing(case.run(require_tls=True))


def test_require_tls_keeps_a_stricter_requirement(converged):
    """An account an operator made REQUIRE X509 keeps it, with require_tls true and false."""
    case = converged
    case.sql("ALTER USER %s@'%%' REQUIRE X509", case.user)
    res = case.run(require_tls=True, diff=True)
    assert not res.failed, res.output
    assert res["tls_requirement_changed_for"] == ["%s@localhost" % case.user]
    assert "REQUIRE X509" in res.output
    assert case.requirements() == {"localhost": "ANY", "%": "X509"}
    assert_nothing(case.run(require_tls=True))
    res = case.run(require_tls=False)
    assert res["tls_requirement_changed_for"] == ["%s@localhost" % case.user]
    assert case.requirements() == {"localhost": "", "%": "X509"}
    assert_nothing(case.run(require_tls=False))


def test_require_tls_is_ignored_with_state_absent(converged):
    case = converged
    res = case.run(require_tls=True, state="absent", password=None)
    assert not res.failed, res.output
    assert res["users_removed"] == ["%s@localhost" % case.user, "%s@%%" % case.user]
    assert res["tls_requirement_changed_for"] == []
    assert case.requirements() == {}


# ------------------------------------------------------------------ nova_db: the same step with Nova's defaults

def test_nova_db_is_service_db_with_novas_charset_and_no_deprecation_warning(case):
    """osdeploy.nova.nova_db is a module of its own: no redirect, no warning, the same step as service_db."""
    nova = case.run(module="nova_db", check=True, env=DEPRECATIONS_SHOWN)
    generic = case.run(check=True, env=DEPRECATIONS_SHOWN, charset="utf8mb3")
    assert not nova.failed and not generic.failed, nova.output + generic.output
    assert_no_deprecation(nova)
    assert_no_deprecation(generic)
    strip = ("invocation", "deprecations", "warnings")
    assert dict((k, v) for k, v in nova.items() if k not in strip) == \
        dict((k, v) for k, v in generic.items() if k not in strip)
    assert nova["users_created"] == ["%s@localhost" % case.user, "%s@%%" % case.user]
    assert (nova["charset"], nova["collation"]) == ("utf8mb3", "utf8mb3_general_ci")
    real = case.run(module="nova_db", env=DEPRECATIONS_SHOWN)
    assert not real.failed and real["changed"] is True, real.output
    assert_no_deprecation(real)
    assert case.login(case.password)
    dbs, _users, _grants = case.server_state()
    assert {(d[1], d[2]) for d in dbs} == {("utf8mb3", "utf8mb3_general_ci")}
    assert_nothing(case.run(module="nova_db"))
    # service_db's own default would change Nova's character set back
    assert case.run(check=True)["databases_altered"] == case.databases


def test_nova_db_with_only_a_password_makes_novas_databases(mariadb, ansible_module):
    """What the controller role asks for: Nova's three databases, user nova, utf8 as Nova's migration sets it."""
    dbs = ["nova_api", "nova", "nova_cell0"]
    password = "Nova'db pw$1"
    args = dict(mariadb.login_args(), password=password)
    taken = mariadb.sql("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN "
                        "('nova_api', 'nova', 'nova_cell0')")
    assert taken == (), "another test left Nova's databases on the server"
    try:
        res = ansible_module("nova_db", args, diff=True, env=DEPRECATIONS_SHOWN)
        assert not res.failed and res["changed"] is True, res.output
        assert_no_deprecation(res)
        assert res["databases_created"] == dbs
        assert res["users_created"] == ["nova@localhost", "nova@%"]
        assert (res["charset"], res["collation"]) == ("utf8mb3", "utf8mb3_general_ci")
        assert mariadb.sql("SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA "
                           "WHERE SCHEMA_NAME IN ('nova_api', 'nova', 'nova_cell0') ORDER BY 1") == (
            ("nova", "utf8mb3"), ("nova_api", "utf8mb3"), ("nova_cell0", "utf8mb3"))
        # Nova's first migration: ALTER DATABASE ... DEFAULT CHARACTER SET utf8 on nova and nova_cell0
        for db in ("nova", "nova_cell0"):
            mariadb.sql("ALTER DATABASE `%s` DEFAULT CHARACTER SET utf8" % db)
        again = ansible_module("nova_db", args)
        assert not again.failed, again.output
        assert_nothing(again)
        assert password not in res.output + again.output
    finally:
        for host in ("localhost", "%"):
            mariadb.sql("DROP USER IF EXISTS 'nova'@%s", host)
        for db in dbs:
            mariadb.sql("DROP DATABASE IF EXISTS `%s`" % db)


def test_service_db_needs_the_databases_and_the_user(mariadb, ansible_module):
    res = ansible_module("service_db", dict(mariadb.login_args(), password="x-pw-1"))
    assert res.failed and "missing required arguments: databases, user" in res["msg"], res.output
