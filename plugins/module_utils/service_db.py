# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A service's databases, user and grants on MariaDB: the SQL decisions as plain functions.

The modules ``nova_db`` and ``service_db`` (one class, module_utils/service_db_module.py)
are a thin shell around these steps:

1. ``validate`` the parameters (no server needed) -> a normalized dict;
2. ``resolve_charset`` and ``read_state`` (reads only) -> a ``State``;
3. ``plan_present`` / ``plan_absent`` (pure) -> a ``Plan``: what to create, alter,
   grant, revoke or drop;
4. ``build_steps`` (pure) -> the SQL statements, each with its parameters and what it
   records in the result; ``run_steps`` executes them (not in check mode);
5. ``results`` and ``diff`` (pure) describe what was (or would be) done.

``require_tls`` (true) makes every account of the user ``REQUIRE SSL``: a new account is created
with it, an existing one without any requirement gets ``ALTER USER ... REQUIRE SSL``. False
sets an account that is exactly ``REQUIRE SSL`` back to ``REQUIRE NONE``; None (unset) leaves
every account's requirement as it is. Stricter
requirements (``X509``, ``ISSUER``, ``SUBJECT``, ``CIPHER``: ssl_type X509 or SPECIFIED) are
an operator's and are kept either way: they already require TLS. So the two values converge,
back and forth, and a second run with either changes nothing.

Rules kept everywhere: the plain password never reaches the server. Its
mysql_native_password hash is computed here (``native_password_hash``) and is
only ever a parameter of a statement (``IDENTIFIED BY PASSWORD %s``, and the
comparison with the stored hash in SQL), so that neither the password nor a
statement with it appears in the server's general log, slow log or process
list (PyMySQL substitutes parameters on the client: a parameter is part of the
statement text the server logs). The password is never in a result, a diff or
an error either. User names and host patterns are parameters too, and
database names are validated and quoted as identifiers with backticks. The
stored hash is never read: the comparison happens in SQL.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re

DEFAULT_DATABASES = ["nova_api", "nova", "nova_cell0"]
DEFAULT_HOST_PATTERNS = ["localhost", "%"]

DATABASE_MAX = 64
USER_MAX = 80  # MariaDB before 10.6 (Debian 11); 10.6+ accepts 128
HOST_MAX = 255

DATABASE_RE = re.compile(r"^[A-Za-z0-9_$-]+$")
USER_RE = re.compile(r"^[A-Za-z0-9_.$-]+$")
HOST_RE = re.compile(r"^[A-Za-z0-9_.%:/-]+$")
CHARSET_RE = re.compile(r"^[A-Za-z0-9_]+$")
SYSTEM_DATABASES = ("mysql", "information_schema", "performance_schema", "sys")

# names MariaDB 10.6+ lists under their utf8mb3 spelling in information_schema
CHARSET_ALIASES = {"utf8": "utf8mb3"}

MIN_MARIADB = (10, 4)

# mysql.user.ssl_type (MariaDB 10.4+: the view over mysql.global_priv's JSON ssl_type 0-3)
SSL_NONE = ""            # REQUIRE NONE
SSL_ANY = "ANY"          # REQUIRE SSL: what require_tls sets and, when false, takes back
SSL_X509 = "X509"        # REQUIRE X509: stricter, kept
SSL_SPECIFIED = "SPECIFIED"  # REQUIRE ISSUER/SUBJECT/CIPHER: stricter, kept

# how the *_priv columns of the grant tables read as SQL privilege names
_PRIV_NAMES = {
    "Create_tmp_table": "CREATE TEMPORARY TABLES",
    "Repl_slave": "REPLICATION SLAVE",
    "Repl_client": "REPLICATION CLIENT",
    "Show_db": "SHOW DATABASES",
}


class ValidationError(ValueError):
    """Bad input; the message names the parameter and is safe to show."""


class StepError(Exception):
    """A statement failed; ``done`` holds the steps that had succeeded before it."""

    def __init__(self, step, error, done):
        Exception.__init__(self, "%s failed: %s" % (step.description, error))
        self.step = step
        self.error = error
        self.done = done


# ---------------------------------------------------------------- the password hash

def native_password_hash(password):
    """MariaDB's mysql_native_password hash: '*' + upper(hex(sha1(sha1(password)))).

    The same value PASSWORD('...') gives on the server, computed here so that the
    plain password is never sent. Validated passwords are printable ASCII, which
    every client character set encodes alike.
    """
    inner = hashlib.sha1(password.encode("utf-8")).digest()
    return "*" + hashlib.sha1(inner).hexdigest().upper()


# ---------------------------------------------------------------- quoting

def quote_identifier(name):
    """Quote a database (or other) name as a MariaDB identifier: backticks, doubled inside."""
    if "\x00" in name:
        raise ValueError("identifier contains NUL")
    return "`%s`" % name.replace("`", "``")


def grant_pattern(database):
    """The GRANT ... ON `pattern`.* that matches exactly ``database``.

    In database-level grants ``_`` and ``%`` are wildcards (``nova_api`` also matches
    ``novaXapi``); escaped with a backslash they match only themselves.
    """
    return re.sub(r"([\\_%])", r"\\\1", database)


def account(user, host):
    """How an account is named in results and diffs: nova@%."""
    return "%s@%s" % (user, host)


def _spliced(text):
    """Identifier text spliced into a statement that also has %s parameters."""
    return text.replace("%", "%%")


# ---------------------------------------------------------------- validation

def _unique(values):
    seen = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def _bool(value, param, default=False):
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ValidationError("%s: must be true or false (got %r)" % (param, value))
    return value


def _check_name(value, param, what, maximum, pattern, allowed):
    """A non-empty string of at most ``maximum`` characters matching ``pattern``."""
    if not isinstance(value, str) or not value:
        raise ValidationError("%s: a %s must be a non-empty string (got %r)" % (param, what, value))
    if len(value) > maximum:
        raise ValidationError("%s: %s %r is longer than %d characters" % (param, what, value, maximum))
    if not pattern.match(value):
        raise ValidationError("%s: %s %r may only contain %s" % (param, what, value, allowed))
    return value


def validate_database(name, param="databases"):
    _check_name(name, param, "database name", DATABASE_MAX, DATABASE_RE, "letters, digits, '_', '$' and '-'")
    if name.lower() in SYSTEM_DATABASES:
        raise ValidationError("%s: %r is a system database of the server; it cannot be managed here"
                              % (param, name))
    return name


def validate_user(name, param="user"):
    return _check_name(name, param, "user name", USER_MAX, USER_RE, "letters, digits, '_', '.', '$' and '-'")


def validate_host(pattern, param="host_patterns"):
    _check_name(pattern, param, "host pattern", HOST_MAX, HOST_RE,
                "letters, digits and '.', '-', '_', '%', ':', '/' (a host name, an address, a netmask or a "
                "wildcard)")
    # MariaDB stores host names in lower case
    return pattern.lower()


def validate_password(password, param="password"):
    """Printable ASCII only, never shown in the message."""
    if password is None or password == "":
        raise ValidationError("%s: must not be empty when state=present" % param)
    for ch in password:
        if not " " <= ch <= "~":
            raise ValidationError(
                "%s: only printable ASCII characters (space to '~') are allowed: PyMySQL, the database driver of "
                "the OpenStack services, sends the password as latin-1 and could not log in with other characters"
                % param)
    return password


def validate_charset_name(value, param):
    if value is None:
        return None
    if not isinstance(value, str) or not value or not CHARSET_RE.match(value) or len(value) > 64:
        raise ValidationError("%s: %r is not a valid name (letters, digits and '_')" % (param, value))
    return value.lower()


def _list(value, param, default=None):
    if value is None:
        value = default
    if isinstance(value, str):
        value = [value]
    if not value:
        raise ValidationError("%s: must list at least one item" % param)
    return value


def validate(params):
    """Check every parameter that needs no server; return a normalized copy."""
    state = params.get("state") or "present"
    databases = _list(params.get("databases"), "databases", DEFAULT_DATABASES)
    hosts = _list(params.get("host_patterns"), "host_patterns", DEFAULT_HOST_PATTERNS)
    out = dict(
        state=state,
        databases=_unique([validate_database(d) for d in databases]),
        user=validate_user(params.get("user")),
        host_patterns=_unique([validate_host(h) for h in hosts]),
        charset=validate_charset_name(params.get("charset") or "utf8mb4", "charset"),
        collation=validate_charset_name(params.get("collation"), "collation"),
        password=None,
        update_password=params.get("update_password") or "always",
        revoke_other_grants=bool(params.get("revoke_other_grants", True)),
        drop_databases=bool(params.get("drop_databases", False)),
        # ignored with state=absent: the accounts are dropped whatever they required
        require_tls=_bool(params.get("require_tls"), "require_tls", default=None),
    )
    if state == "present":
        out["password"] = validate_password(params.get("password"))
    return out


# ---------------------------------------------------------------- reads

def _rows(cursor, sql, args=()):
    cursor.execute(sql, args)
    names = [d[0] for d in cursor.description or ()]
    return names, [dict(zip(names, row)) for row in cursor.fetchall()]


def _in(values):
    return ", ".join(["%s"] * len(values))


def parse_version(text):
    """'10.11.19-MariaDB-0+deb12u1' -> ('mariadb', (10, 11, 19))."""
    flavor = "mariadb" if "mariadb" in text.lower() else "mysql"
    if text.startswith("5.5.5-") and flavor == "mariadb":
        text = text[len("5.5.5-"):]
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    if not m:
        return flavor, ()
    return flavor, tuple(int(x or 0) for x in m.groups())


def check_server(version_text):
    """Raise ValidationError unless the server is a MariaDB this module understands."""
    flavor, version = parse_version(version_text)
    if flavor != "mariadb":
        raise ValidationError("login_host: the server is MySQL %s; this module supports MariaDB %d.%d or later "
                              "(Debian's default server)" % (version_text, MIN_MARIADB[0], MIN_MARIADB[1]))
    if version[:2] < MIN_MARIADB:
        raise ValidationError("login_host: the server is MariaDB %s; this module needs MariaDB %d.%d or later"
                              % (version_text, MIN_MARIADB[0], MIN_MARIADB[1]))
    return flavor, version


def current_account(cursor):
    """The account the session is authenticated as: (user, host)."""
    cursor.execute("SELECT CURRENT_USER()", ())
    text = cursor.fetchall()[0][0]
    user, _sep, host = text.rpartition("@")
    return user, host


def check_not_login_account(login, user, hosts):
    login_user, login_host = login
    if login_user == user and login_host.lower() in hosts:
        raise ValidationError("user: %s is the account this module logs in with; managing it would change or "
                              "drop the login itself (log in as another administrator)" % account(user, login_host))


def resolve_charset(cursor, charset, collation):
    """Check charset and collation against information_schema; return the pair to use.

    Without a collation, the server's default collation of the character set is used.
    """
    def lookup_charset(name):
        cursor.execute("SELECT CHARACTER_SET_NAME, DEFAULT_COLLATE_NAME FROM information_schema.CHARACTER_SETS "
                       "WHERE CHARACTER_SET_NAME = %s", (name,))
        return cursor.fetchall()

    rows = lookup_charset(charset)
    if not rows and charset in CHARSET_ALIASES:
        rows = lookup_charset(CHARSET_ALIASES[charset])
    if not rows:
        raise ValidationError("charset: %r is not a character set of this server (see SHOW CHARACTER SET)"
                              % charset)
    charset, default_collation = rows[0][0], rows[0][1]
    if collation is None:
        return charset, default_collation

    def lookup_collation(name):
        cursor.execute("SELECT COLLATION_NAME, CHARACTER_SET_NAME FROM information_schema.COLLATIONS "
                       "WHERE COLLATION_NAME = %s", (name,))
        return cursor.fetchall()

    rows = lookup_collation(collation)
    if not rows:
        for alias, real in CHARSET_ALIASES.items():
            if collation.startswith(alias + "_"):
                rows = lookup_collation(real + collation[len(alias):])
                break
    if not rows:
        raise ValidationError("collation: %r is not a collation of this server (see SHOW COLLATION)" % collation)
    collation, owner = rows[0][0], rows[0][1]
    if owner != charset:
        raise ValidationError("collation: %r belongs to character set %r, not to charset %r; set charset: %s"
                              % (collation, owner, charset, owner))
    return charset, collation


class Account(object):
    """One existing user@host: whether the password matches, its global privileges, its TLS requirement.

    ``ssl_type`` is mysql.user's: '' (REQUIRE NONE), ANY (REQUIRE SSL), X509 or SPECIFIED;
    ``ssl_specified`` names what a SPECIFIED requirement checks (CIPHER, ISSUER, SUBJECT),
    never the values.
    """

    def __init__(self, host, password_matches=None, global_privs=(), global_grant_option=False,
                 all_global_privs=(), ssl_type=SSL_NONE, ssl_specified=()):
        self.host = host
        self.password_matches = password_matches
        self.global_privs = frozenset(global_privs)
        self.global_grant_option = bool(global_grant_option)
        self.all_global_privs = frozenset(all_global_privs)
        self.ssl_type = ssl_type
        self.ssl_specified = tuple(ssl_specified)


class Grant(object):
    """One database-level grant row (mysql.db) of an account."""

    def __init__(self, pattern, privs, grant_option=False):
        self.pattern = pattern
        self.privs = frozenset(privs)
        self.grant_option = bool(grant_option)


class State(object):
    def __init__(self, databases=None, accounts=None, grants=None, all_db_privs=()):
        self.databases = databases or {}   # name -> (charset, collation)
        self.accounts = accounts or {}     # host -> Account
        self.grants = grants or {}         # host -> {pattern: Grant}
        self.all_db_privs = frozenset(all_db_privs)


def _privs(row, names):
    """(privileges set to Y other than GRANT OPTION, GRANT OPTION, all privilege columns)."""
    cols = [n for n in names if n.endswith("_priv")]
    have = set(n[:-5] for n in cols if n != "Grant_priv" and _yes(row.get(n)))
    return have, _yes(row.get("Grant_priv")), set(n[:-5] for n in cols if n != "Grant_priv")


def _yes(value):
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value == "Y"


def _text(value):
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value


def _ssl(row):
    """(ssl_type, what a SPECIFIED requirement checks) of a mysql.user row."""
    ssl_type = _text(row.get("ssl_type")).upper()
    specified = tuple(name for name, column in (("CIPHER", "ssl_cipher"), ("ISSUER", "x509_issuer"),
                                                ("SUBJECT", "x509_subject")) if _text(row.get(column)))
    return ssl_type, specified


def read_have_ssl(cursor):
    """The server's have_ssl: YES when it offers TLS, DISABLED or NO when not, None if it has no such variable."""
    cursor.execute("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = %s",
                   ("HAVE_SSL",))
    rows = cursor.fetchall()
    return _text(rows[0][0]).upper() if rows else None


def check_tls_offered(have_ssl, user, place):
    """require_tls against a server that does not offer TLS: the accounts could not log in at all."""
    if have_ssl is not None and have_ssl != "YES":
        raise ValidationError(
            "require_tls: MariaDB at %s does not offer TLS (have_ssl is %s), so requiring TLS of %s's accounts "
            "would lock them out; give the server a certificate and key (ssl_cert, ssl_key) and restart it first"
            % (place, have_ssl, user))


def read_state(cursor, user, hosts, databases, password=None):
    """Read what exists for these databases and user@hosts. Reads only.

    ``password`` (may be None) is compared in SQL with each account's stored
    mysql_native_password hash: only its hash, computed here, is sent, as a parameter.
    """
    state = State()
    _names, rows = _rows(cursor,
                         "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME "
                         "FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (%s)" % _in(databases),
                         tuple(databases))
    for r in rows:
        if r["SCHEMA_NAME"] in databases:  # the comparison in SQL may ignore case
            state.databases[r["SCHEMA_NAME"]] = (r["DEFAULT_CHARACTER_SET_NAME"], r["DEFAULT_COLLATION_NAME"])

    names, rows = _rows(cursor,
                        "SELECT u.*, (u.plugin IN ('mysql_native_password', '') AND u.authentication_string = "
                        "%%s) AS password_hash_matches "
                        "FROM mysql.user u WHERE u.User = %%s AND u.Host IN (%s)" % _in(hosts),
                        (None if password is None else native_password_hash(password), user) + tuple(hosts))
    for r in rows:
        if r["User"] != user or r["Host"] not in hosts:
            continue
        have, grant_option, all_global = _privs(r, names)
        matches = r.get("password_hash_matches")
        ssl_type, specified = _ssl(r)
        state.accounts[r["Host"]] = Account(r["Host"], None if matches is None else bool(matches),
                                            have, grant_option, all_global, ssl_type, specified)

    names, rows = _rows(cursor, "SELECT * FROM mysql.db WHERE User = %%s AND Host IN (%s)" % _in(hosts),
                        (user,) + tuple(hosts))
    state.all_db_privs = frozenset(n[:-5] for n in names if n.endswith("_priv") and n != "Grant_priv")
    for r in rows:
        if r["User"] != user or r["Host"] not in hosts:
            continue
        have, grant_option, _all = _privs(r, names)
        state.grants.setdefault(r["Host"], {})[r["Db"]] = Grant(r["Db"], have, grant_option)
    return state


# ---------------------------------------------------------------- describing grants

def priv_name(column):
    return _PRIV_NAMES.get(column, column.replace("_", " ").upper())


def describe_privs(privs, all_privs, grant_option, on):
    if privs and privs >= all_privs:
        text = "ALL PRIVILEGES"
    elif privs:
        text = ", ".join(sorted(priv_name(p) for p in privs))
    else:
        text = "USAGE"
    text += " ON %s" % on
    if grant_option:
        text += " WITH GRANT OPTION"
    return text


def db_on(pattern):
    return "%s.*" % quote_identifier(pattern)


def describe_grant(user, host, grant, all_db_privs):
    return "%s: %s" % (account(user, host), describe_privs(grant.privs, all_db_privs, grant.grant_option,
                                                           db_on(grant.pattern)))


def describe_global(user, acct):
    return "%s: %s" % (account(user, acct.host), describe_privs(acct.global_privs, acct.all_global_privs,
                                                                acct.global_grant_option, "*.*"))


def all_on(user, host, database):
    return "%s: ALL PRIVILEGES ON %s" % (account(user, host), db_on(grant_pattern(database)))


def describe_requirement(ssl_type, specified=()):
    """An account's TLS requirement as the REQUIRE clause of SHOW CREATE USER (values left out)."""
    if ssl_type == SSL_NONE:
        return "REQUIRE NONE"
    if ssl_type == SSL_ANY:
        return "REQUIRE SSL"
    if ssl_type == SSL_SPECIFIED and specified:
        return "REQUIRE " + " AND ".join(specified)
    return "REQUIRE %s" % ssl_type


def wanted_requirement(want, acct):
    """The ssl_type an account has after a present run: require_tls sets ANY on NONE, unsets exactly ANY.

    Unset (None), an existing account keeps its requirement and a new one has none.
    """
    if acct is None:
        return SSL_ANY if want["require_tls"] else SSL_NONE
    if want["require_tls"] and acct.ssl_type == SSL_NONE:
        return SSL_ANY
    if want["require_tls"] is False and acct.ssl_type == SSL_ANY:
        return SSL_NONE
    return acct.ssl_type


def account_grants(user, host, state):
    """Every grant of one existing account that this module sees, as text."""
    out = []
    acct = state.accounts.get(host)
    if acct is not None and (acct.global_privs or acct.global_grant_option):
        out.append(describe_global(user, acct))
    for pattern in sorted(state.grants.get(host, {})):
        out.append(describe_grant(user, host, state.grants[host][pattern], state.all_db_privs))
    return out


# ---------------------------------------------------------------- planning

class Plan(object):
    """What a run does. Each list holds plain values; nothing here touches the server."""

    def __init__(self):
        self.create_databases = []   # name
        self.alter_databases = []    # (name, (charset, collation) before)
        self.drop_databases = []     # name
        self.create_users = []       # host
        self.drop_users = []         # host
        self.change_password = []    # host
        self.require_ssl = []        # host: ALTER USER ... REQUIRE SSL (require_tls, no requirement yet)
        self.require_none = []       # host: ALTER USER ... REQUIRE NONE (not require_tls, exactly REQUIRE SSL)
        self.grant_all = []          # (host, database)
        self.revoke_grant_option = []  # (host, pattern) on a managed database
        self.revoke_other = []       # (host, pattern or None for *.*, privs?, grant_option?)
        self.charset = None
        self.collation = None

    @property
    def changed(self):
        return any((self.create_databases, self.alter_databases, self.drop_databases, self.create_users,
                    self.drop_users, self.change_password, self.require_ssl, self.require_none, self.grant_all,
                    self.revoke_grant_option, self.revoke_other))


def plan_present(want, state, charset, collation):
    """Compare the wanted state with what exists; return the Plan of a present run."""
    plan = Plan()
    plan.charset, plan.collation = charset, collation
    for db in want["databases"]:
        have = state.databases.get(db)
        if have is None:
            plan.create_databases.append(db)
        elif (have[0], have[1]) != (charset, collation):
            plan.alter_databases.append((db, have))
    patterns = [grant_pattern(db) for db in want["databases"]]
    for host in want["host_patterns"]:
        acct = state.accounts.get(host)
        if acct is None:
            plan.create_users.append(host)
        elif want["update_password"] == "always" and not acct.password_matches:
            plan.change_password.append(host)
        if acct is not None and wanted_requirement(want, acct) != acct.ssl_type:
            (plan.require_ssl if want["require_tls"] else plan.require_none).append(host)
        rows = state.grants.get(host, {})
        for db, pattern in zip(want["databases"], patterns):
            row = rows.get(pattern)
            if row is None or not row.privs >= state.all_db_privs:
                plan.grant_all.append((host, db))
            if row is not None and row.grant_option:
                plan.revoke_grant_option.append((host, pattern))
        if want["revoke_other_grants"] and acct is not None:
            if acct.global_privs or acct.global_grant_option:
                plan.revoke_other.append((host, None, bool(acct.global_privs), acct.global_grant_option))
            for pattern in sorted(rows):
                if pattern not in patterns:
                    row = rows[pattern]
                    plan.revoke_other.append((host, pattern, bool(row.privs), row.grant_option))
    return plan


def plan_absent(want, state):
    plan = Plan()
    for host in want["host_patterns"]:
        if host in state.accounts:
            plan.drop_users.append(host)
    if want["drop_databases"]:
        plan.drop_databases = [db for db in want["databases"] if db in state.databases]
    return plan


# ---------------------------------------------------------------- statements

class Step(object):
    """One statement: SQL with %s placeholders, its parameters, what it records when done."""

    def __init__(self, description, sql, args, record):
        self.description = description
        self.sql = sql
        self.args = tuple(args)
        self.record = record  # (result key, value)

    def __repr__(self):  # never shows the parameters: one of them may be the password
        return "Step(%r)" % self.sql


def build_steps(plan, want, state):
    user = want["user"]
    steps = []
    for db in plan.create_databases:
        steps.append(Step("creating database %s" % db,
                          "CREATE DATABASE %s CHARACTER SET %s COLLATE %s"
                          % (_spliced(quote_identifier(db)), plan.charset, plan.collation), (),
                          ("databases_created", db)))
    for db, _before in plan.alter_databases:
        steps.append(Step("changing the character set of database %s" % db,
                          "ALTER DATABASE %s CHARACTER SET %s COLLATE %s"
                          % (_spliced(quote_identifier(db)), plan.charset, plan.collation), (),
                          ("databases_altered", db)))
    require = " REQUIRE SSL" if want["require_tls"] else ""
    for host in plan.create_users:
        steps.append(Step("creating user %s%s" % (account(user, host), require and " with" + require),
                          "CREATE USER %s@%s IDENTIFIED BY PASSWORD %s" + require,
                          (user, host, native_password_hash(want["password"])),
                          ("users_created", account(user, host))))
    for host in plan.change_password:
        steps.append(Step("changing the password of %s" % account(user, host),
                          "ALTER USER %s@%s IDENTIFIED BY PASSWORD %s",
                          (user, host, native_password_hash(want["password"])),
                          ("password_changed_for", account(user, host))))
    for host in plan.require_ssl:
        steps.append(Step("requiring TLS of %s (REQUIRE SSL)" % account(user, host),
                          "ALTER USER %s@%s REQUIRE SSL", (user, host),
                          ("tls_requirement_changed_for", account(user, host))))
    for host in plan.require_none:
        steps.append(Step("no longer requiring TLS of %s (REQUIRE NONE)" % account(user, host),
                          "ALTER USER %s@%s REQUIRE NONE", (user, host),
                          ("tls_requirement_changed_for", account(user, host))))
    for host, pattern, privs, grant_option in plan.revoke_other:
        on = "*.*" if pattern is None else db_on(pattern)
        text = (describe_global(user, state.accounts[host]) if pattern is None
                else describe_grant(user, host, state.grants[host][pattern], state.all_db_privs))
        if grant_option:
            steps.append(Step("revoking GRANT OPTION ON %s from %s" % (on, account(user, host)),
                              "REVOKE GRANT OPTION ON %s FROM %%s@%%s" % _spliced(on), (user, host),
                              ("grants_revoked", text) if not privs else None))
        if privs:
            steps.append(Step("revoking privileges ON %s from %s" % (on, account(user, host)),
                              "REVOKE ALL PRIVILEGES ON %s FROM %%s@%%s" % _spliced(on), (user, host),
                              ("grants_revoked", text)))
    for host, pattern in plan.revoke_grant_option:
        on = db_on(pattern)
        steps.append(Step("revoking GRANT OPTION ON %s from %s" % (on, account(user, host)),
                          "REVOKE GRANT OPTION ON %s FROM %%s@%%s" % _spliced(on), (user, host),
                          ("grants_revoked", "%s: GRANT OPTION ON %s" % (account(user, host), on))))
    for host, db in plan.grant_all:
        on = db_on(grant_pattern(db))
        steps.append(Step("granting ALL PRIVILEGES ON %s to %s" % (on, account(user, host)),
                          "GRANT ALL PRIVILEGES ON %s TO %%s@%%s" % _spliced(on), (user, host),
                          ("grants_added", all_on(user, host, db))))
    for host in plan.drop_users:
        steps.append(Step("dropping user %s" % account(user, host), "DROP USER %s@%s", (user, host),
                          ("users_removed", account(user, host))))
    for db in plan.drop_databases:
        steps.append(Step("dropping database %s" % db, "DROP DATABASE %s" % _spliced(quote_identifier(db)), (),
                          ("databases_dropped", db)))
    return steps


def run_steps(cursor, steps):
    """Execute the steps in order; on an error raise StepError with the ones already done."""
    done = []
    for step in steps:
        try:
            cursor.execute(step.sql, step.args)
        except Exception as e:  # the driver's errors; the caller masks the text
            raise StepError(step, e, done)
        done.append(step)
    return done


# ---------------------------------------------------------------- reporting

RESULT_LISTS = ("databases_created", "databases_altered", "databases_dropped", "users_created", "users_removed",
                "password_changed_for", "tls_requirement_changed_for", "grants_added", "grants_revoked")


def results(steps):
    """Result values of a run from the steps done (or, in check mode, planned)."""
    out = dict((key, []) for key in RESULT_LISTS)
    for step in steps:
        if step.record is not None:
            key, value = step.record
            if value not in out[key]:
                out[key].append(value)
    out["password_changed"] = bool(out["password_changed_for"])
    out["tls_requirement_changed"] = bool(out["tls_requirement_changed_for"])
    out["grants_changed"] = bool(out["grants_added"] or out["grants_revoked"])
    out["changed"] = bool(steps)
    return out


def snapshot(want, state):
    """What exists for the managed databases and accounts, for diff's before."""
    user = want["user"]
    dbs = dict((db, "%s/%s" % state.databases[db]) for db in want["databases"] if db in state.databases)
    users = [account(user, h) for h in want["host_patterns"] if h in state.accounts]
    tls = {}
    for h in want["host_patterns"]:
        acct = state.accounts.get(h)
        if acct is not None:
            tls[account(user, h)] = describe_requirement(acct.ssl_type, acct.ssl_specified)
    grants = []
    for h in want["host_patterns"]:
        grants.extend(account_grants(user, h, state))
    return dict(databases=dbs, users=users, tls_requirement=tls, grants=sorted(grants))


def diff(want, state, plan):
    """before/after of databases, users@host, their TLS requirement and grants. No password, ever."""
    before = snapshot(want, state)
    user = want["user"]
    if want["state"] == "absent":
        after = dict(databases=dict(before["databases"]), users=[], tls_requirement={}, grants=[])
        for db in plan.drop_databases:
            after["databases"].pop(db, None)
        dropped = set(account(user, h) for h in plan.drop_users)
        after["users"] = [u for u in before["users"] if u not in dropped]
        after["tls_requirement"] = dict((u, r) for u, r in before["tls_requirement"].items() if u not in dropped)
        after["grants"] = [g for g in before["grants"] if g.split(": ", 1)[0] not in dropped]
    else:
        target = "%s/%s" % (plan.charset, plan.collation)
        after = dict(databases=dict((db, target) for db in want["databases"]),
                     users=[account(user, h) for h in want["host_patterns"]], tls_requirement={}, grants=[])
        for h in want["host_patterns"]:
            acct = state.accounts.get(h)
            after["tls_requirement"][account(user, h)] = describe_requirement(
                wanted_requirement(want, acct), acct.ssl_specified if acct is not None else ())
        patterns = set(grant_pattern(db) for db in want["databases"])
        grants = []
        for h in want["host_patterns"]:
            grants.extend(all_on(user, h, db) for db in want["databases"])
            if not want["revoke_other_grants"]:
                acct = state.accounts.get(h)
                if acct is not None and (acct.global_privs or acct.global_grant_option):
                    grants.append(describe_global(user, acct))
                for pattern, row in state.grants.get(h, {}).items():
                    if pattern not in patterns:
                        grants.append(describe_grant(user, h, row, state.all_db_privs))
        after["grants"] = sorted(grants)
        if plan.change_password:
            before["password"] = dict((account(user, h), "(current, not shown)") for h in plan.change_password)
            after["password"] = dict((account(user, h), "(changed, not shown)") for h in plan.change_password)
    return dict(before=before, after=after)
