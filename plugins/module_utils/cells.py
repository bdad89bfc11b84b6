# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova cells v2: reading the real state and deciding what has to change.

The state lives in the API database (``cell_mappings``, ``host_mappings``), in the
schema versions of each database (``alembic_version``, or ``migrate_version`` for a
database still under sqlalchemy-migrate) and in each cell database (``services``,
``compute_nodes``). The readers take a PyMySQL connection; the decisions
(``plan_*``, ``sync_needed``, ``discoverable_hosts``, ``waiting_for``...) are plain
functions over plain data, unit-tested without a server. Every URL that leaves this
module for a person to read goes through ``mask_url``. The cell_v2 module's steps that use them are
module_utils/cell_v2_module.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

try:
    from urllib.parse import unquote, urlsplit, urlunsplit
except ImportError:  # pragma: no cover - Python 2 targets are not supported
    from urllib import unquote  # type: ignore
    from urlparse import urlsplit, urlunsplit  # type: ignore

from ansible_collections.osdeploy.nova.plugins.module_utils.credentials import mask_text, mask_url

CELL0_UUID = "00000000-0000-0000-0000-000000000000"
CELL0_TRANSPORT_URL = "none:///"

# --------------------------------------------------------------------------- schema


_REVISION = re.compile(r"^revision\s*=\s*['\"](?P<rev>[0-9A-Za-z_]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(?P<value>.+)$", re.M)
_QUOTED = re.compile(r"['\"]([0-9A-Za-z_]+)['\"]")


def parse_revision_file(text):
    """Return (revision, (down revisions...)) of an alembic migration script, or None."""
    rev = _REVISION.search(text)
    if not rev:
        return None
    down = _DOWN.search(text)
    downs = tuple(_QUOTED.findall(down.group("value"))) if down else ()
    return rev.group("rev"), downs


def heads_of(revisions):
    """The head revisions of a graph given as (revision, downs) pairs."""
    known = set(pair[0] for pair in revisions)
    referenced = set()
    for pair in revisions:
        referenced.update(pair[1])
    return frozenset(known - referenced)


def migration_heads(versions_dir):
    """Head revisions of the alembic scripts in versions_dir; empty set when none found."""
    pairs = []
    try:
        names = sorted(os.listdir(versions_dir))
    except OSError:
        return frozenset()
    for name in names:
        if not name.endswith(".py") or name.startswith("__"):
            continue
        with open(os.path.join(versions_dir, name)) as f:
            parsed = parse_revision_file(f.read())
        if parsed:
            pairs.append(parsed)
    return heads_of(pairs)


def nova_migration_dirs(nova_dir):
    """{'api': ..., 'main': ...}: where the installed nova keeps its alembic scripts."""
    return {
        "api": os.path.join(nova_dir, "db", "api", "migrations", "versions"),
        "main": os.path.join(nova_dir, "db", "main", "migrations", "versions"),
    }


def _table_exists(cur, table):
    cur.execute("SELECT COUNT(*) FROM information_schema.tables "
                "WHERE table_schema = DATABASE() AND table_name = %s", (table,))
    return cur.fetchone()[0] > 0


def read_schema_version(conn):
    """Where a database's schema stands.

    Returns dict(alembic=[revisions] or None, legacy=<sqlalchemy-migrate version> or None,
    tables=<number of tables>).
    """
    with conn.cursor() as cur:
        alembic = legacy = None
        if _table_exists(cur, "alembic_version"):
            cur.execute("SELECT version_num FROM alembic_version")
            alembic = sorted(row[0] for row in cur.fetchall())
        if _table_exists(cur, "migrate_version"):
            cur.execute("SELECT version FROM migrate_version")
            row = cur.fetchone()
            legacy = row[0] if row else None
        cur.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()")
        tables = cur.fetchone()[0]
    return dict(alembic=alembic, legacy=legacy, tables=tables)


def version_label(version):
    """One short string for a schema version (None for an empty database)."""
    if version.get("alembic"):
        return ",".join(version["alembic"])
    if version.get("legacy") is not None:
        return "legacy %s" % version["legacy"]
    return None


def sync_needed(version, heads):
    """Would `nova-manage (api_)db sync` run a migration on a database at `version`?

    True when the database is not at every head (empty, under sqlalchemy-migrate only,
    or behind); None when the heads are unknown (nova not found), so that nothing can be
    predicted.
    """
    current = set(version.get("alembic") or ())
    if not current:
        return True
    if not heads:
        return None
    return current != set(heads)


# --------------------------------------------------------------------------- URLs


def _parse_netloc(netloc):
    userpass, hostport = netloc.rpartition("@")[::2]
    these = dict(username=None, password=None, hostname=None, port=None)
    if hostport.startswith("["):
        end = hostport.find("]")
        these["hostname"], these["port"] = hostport[1:end], hostport[end + 1:]
    elif ":" in hostport:
        these["hostname"], these["port"] = hostport.split(":", 1)
    else:
        these["hostname"] = hostport
    if ":" in userpass:
        these["username"], these["password"] = userpass.split(":", 1)
    else:
        these["username"] = userpass
    return these


def format_url(url, default):
    """Expand a cell mapping template URL (``{username}``, ``{password}``...) as Nova does.

    The values come from `default` ([database] connection or [DEFAULT] transport_url);
    a URL without ``{`` or without a default is returned as it is.
    """
    if not url or "{" not in url or not default:
        return url
    parts = urlsplit(default)
    subs = dict(username=parts.username, password=parts.password, hostname=parts.hostname,
                port=parts.port, scheme=parts.scheme, query=parts.query,
                fragment=parts.fragment, path=parts.path.lstrip("/"))
    if "," in parts.netloc:
        for index, netloc in enumerate(parts.netloc.split(","), 1):
            for key, value in _parse_netloc(netloc).items():
                subs["%s%i" % (key, index)] = value
    return url.format(**subs)


def derive_cell0_connection(database_connection):
    """cell0's database URL made from [database] connection: same server, name + ``_cell0``.

    Unlike nova-manage's own default (which unquotes the whole URL and so breaks a
    percent-encoded password), the credentials are kept exactly as written.
    """
    if not database_connection:
        return None
    parts = urlsplit(database_connection)
    path = parts.path
    if not path.strip("/"):
        return None
    return urlunsplit((parts.scheme, parts.netloc, path.rstrip("/") + "_cell0", parts.query, parts.fragment))


def url_problem(url):
    """Why SQLAlchemy (so nova) could not use this URL although urlsplit can; None when fine.

    An unencoded '@' in the password (what nova-manage's own map_cell0 default writes when
    the password was percent-encoded) makes SQLAlchemy take part of it for the host.
    """
    try:
        urlsplit(url)
    except ValueError as e:
        return "not a valid URL (%s)" % e
    if url.partition("://")[2].count("@") > 1:
        return ("its user or password contains an unencoded '@', so nova cannot use it: percent-encode "
                "the credentials (%40)")
    return None


def url_secrets(urls):
    """The passwords inside URLs (as written and unquoted), for mask_text."""
    found = set()
    for url in urls:
        if not url:
            continue
        try:
            parts = urlsplit(url)
            netlocs = parts.netloc.split(",")
        except ValueError:
            continue
        for netloc in netlocs:
            password = _parse_netloc(netloc).get("password")
            if password:
                found.add(password)
                found.add(unquote(password))
        # a broken URL (unencoded '@' or '/' in the password): everything between
        # "user:" and the last '@' is the password as SQLAlchemy's users wrote it
        rest = url.partition("://")[2]
        if rest.count("@") > 1 and "," not in rest:
            userinfo = rest.rpartition("@")[0]
            if ":" in userinfo:
                found.add(userinfo.split(":", 1)[1])
    return sorted(found)


# --------------------------------------------------------------------------- API DB


def read_cells(conn):
    """The cell mappings, each with the hosts mapped to it; None before api_db sync."""
    with conn.cursor() as cur:
        if not _table_exists(cur, "cell_mappings"):
            return None
        cur.execute("SELECT id, uuid, name, transport_url, database_connection, disabled "
                    "FROM cell_mappings ORDER BY id")
        cells = [dict(id=r[0], uuid=r[1], name=r[2], transport_url=r[3], database_connection=r[4],
                      disabled=bool(r[5]), hosts=[]) for r in cur.fetchall()]
        by_id = dict((c["id"], c) for c in cells)
        if _table_exists(cur, "host_mappings"):
            cur.execute("SELECT host, cell_id FROM host_mappings ORDER BY host")
            for host, cell_id in cur.fetchall():
                if cell_id in by_id:
                    by_id[cell_id]["hosts"].append(host)
    return cells


def mapped_hosts_of(cells):
    """Every host of every cell's host mappings."""
    return set(h for c in cells or () for h in c["hosts"])


def masked_cell(cell, secrets=()):
    """A cell mapping as the module returns it: URLs masked, no internal id."""
    secrets = list(secrets) + url_secrets([cell["transport_url"], cell["database_connection"]])
    return dict(uuid=cell["uuid"], name=cell["name"],
                transport_url=mask_text(cell["transport_url"], secrets),
                database_connection=mask_text(cell["database_connection"], secrets),
                disabled=cell["disabled"], hosts=list(cell["hosts"]))


def masked_cells(cells, secrets=()):
    return [masked_cell(c, secrets) for c in cells or ()]


def duplicate_names(cells):
    """{name: [uuids]} for every name that more than one cell mapping carries."""
    seen = {}
    for cell in cells or ():
        if cell["name"]:
            seen.setdefault(cell["name"], []).append(cell["uuid"])
    return dict((n, u) for n, u in seen.items() if len(u) > 1)


def describe(cell):
    return "%r (%s)" % (cell["name"], cell["uuid"])


def url_conflicts(cells, transport_url, database_connection, exclude_uuid=None):
    """Sentences for every other cell that already uses one of these URLs.

    nova-manage refuses such a create_cell (rc 2) or update_cell (rc 3); saying so
    before running it gives a clearer error.
    """
    problems = []
    for cell in cells or ():
        if cell["uuid"] == exclude_uuid:
            continue
        if transport_url and cell["transport_url"] == transport_url:
            problems.append("transport_url %s is already the transport_url of cell %s"
                            % (mask_url(transport_url), describe(cell)))
        if database_connection and cell["database_connection"] == database_connection:
            problems.append("database_connection %s is already the database_connection of cell %s"
                            % (mask_url(database_connection), describe(cell)))
    return problems


class Plan(object):
    """What one action has to do: op is 'none', 'create', 'update' or 'delete'."""

    def __init__(self, op="none", cell=None, targets=None, transport_url=None,
                 database_connection=None, changes=None, error=None):
        self.op = op
        self.cell = cell
        self.targets = targets or []
        self.transport_url = transport_url
        self.database_connection = database_connection
        self.changes = changes or []
        self.error = error

    @property
    def changed(self):
        return self.op != "none" and not self.error


def plan_cell(cells, name, state, transport_url=None, database_connection=None):
    """Decide what the action ``cell`` has to do for the cell called `name`.

    present: create it when missing (both URLs needed), update the URLs that differ
    (update_cell, never a second create), fail when several cells carry the name.
    absent: delete every cell mapping of that name; not one that still has hosts.
    A URL left out (None) is not managed for an existing cell.
    """
    cells = cells or []
    matching = [c for c in cells if c["name"] == name and c["uuid"] != CELL0_UUID]
    if name == "cell0" or any(c["uuid"] == CELL0_UUID and c["name"] == name for c in cells):
        return Plan(error="cell %r is cell0, which action=map_cell0 manages" % name)
    if state == "absent":
        if not matching:
            return Plan()
        busy = [c for c in matching if c["hosts"]]
        if busy:
            return Plan(error="cell %s still has hosts mapped (%s): nova-manage cell_v2 delete_cell "
                              "refuses to delete it; move or delete those compute services first"
                        % (", ".join(describe(c) for c in busy),
                           ", ".join(sorted(h for c in busy for h in c["hosts"]))))
        return Plan("delete", targets=matching,
                    changes=["delete cell %s" % describe(c) for c in matching])
    if len(matching) > 1:
        return Plan(error="%d cell mappings are named %r (%s): the module cannot know which one to "
                          "manage. Delete the wrong one with `nova-manage cell_v2 delete_cell "
                          "--cell_uuid UUID` (list them with `nova-manage cell_v2 list_cells`)"
                    % (len(matching), name, ", ".join(c["uuid"] for c in matching)))
    if not matching:
        missing = [p for p, v in (("transport_url", transport_url),
                                  ("database_connection", database_connection)) if not v]
        if missing:
            return Plan(error="cell %r does not exist yet: %s required to create it"
                        % (name, " and ".join(missing) + (" are" if len(missing) > 1 else " is")))
        conflicts = url_conflicts(cells, transport_url, database_connection)
        if conflicts:
            return Plan(error="cannot create cell %r: %s (nova-manage requires them to be unique)"
                        % (name, "; ".join(conflicts)))
        return Plan("create", transport_url=transport_url, database_connection=database_connection,
                    changes=["create cell %r" % name])
    cell = matching[0]
    return _plan_update(cells, cell, transport_url, database_connection)


def _plan_update(cells, cell, transport_url, database_connection):
    changes = []
    if transport_url and transport_url != cell["transport_url"]:
        changes.append("update transport_url of cell %s" % describe(cell))
    if database_connection and database_connection != cell["database_connection"]:
        changes.append("update database_connection of cell %s" % describe(cell))
    if not changes:
        return Plan(cell=cell)
    new_transport = transport_url or cell["transport_url"]
    new_db = database_connection or cell["database_connection"]
    conflicts = url_conflicts(cells, new_transport if transport_url else None,
                              new_db if database_connection else None, exclude_uuid=cell["uuid"])
    if conflicts:
        return Plan(cell=cell, error="cannot update cell %s: %s (nova-manage requires them to be unique)"
                    % (describe(cell), "; ".join(conflicts)))
    return Plan("update", cell=cell, targets=[cell], transport_url=new_transport,
                database_connection=new_db, changes=changes)


def plan_cell0(cells, database_connection):
    """Decide what map_cell0 has to do so that cell0 points at `database_connection`."""
    if not database_connection:
        return Plan(error="no database_connection for cell0: set database_connection, or "
                          "[database] connection in the config files to derive it from")
    cell0 = [c for c in cells or () if c["uuid"] == CELL0_UUID]
    if not cell0:
        return Plan("create", database_connection=database_connection,
                    transport_url=CELL0_TRANSPORT_URL, changes=["map cell0"])
    return _plan_update(cells, cell0[0], None, database_connection)


# --------------------------------------------------------------------------- cell DBs


def read_computes(conn):
    """What a cell database knows about compute hosts.

    Returns dict(nodes={host: mapped(bool)}, services=set(hosts with a nova-compute
    service)), both without deleted rows; empty before db sync.
    """
    nodes = {}
    services = set()
    with conn.cursor() as cur:
        if _table_exists(cur, "compute_nodes"):
            cur.execute("SELECT host, mapped FROM compute_nodes WHERE deleted = 0 AND host IS NOT NULL")
            for host, mapped in cur.fetchall():
                nodes[host] = bool(nodes.get(host)) or bool(mapped)
        if _table_exists(cur, "services"):
            cur.execute("SELECT host FROM services WHERE `binary` = 'nova-compute' AND deleted = 0 "
                        "AND host IS NOT NULL")
            services.update(r[0] for r in cur.fetchall())
    return dict(nodes=nodes, services=services)


def discoverable_hosts(computes, mapped, by_service=False):
    """Hosts `nova-manage cell_v2 discover_hosts` would map now.

    `computes` is {cell uuid: read_computes() result} of the cells that are not cell0,
    `mapped` the hosts that already have a host mapping. By default nova maps hosts
    with a compute node record not flagged mapped; with by_service, every host with a
    nova-compute service.
    """
    found = set()
    for data in computes.values():
        if by_service:
            found.update(data["services"])
        else:
            found.update(h for h, flag in data["nodes"].items() if not flag)
    return sorted(found - set(mapped))


def waiting_for(expected, computes, mapped, by_service=False):
    """{host: why it is not ready} for each expected host discovery cannot map yet."""
    services = set()
    nodes = set()
    for data in computes.values():
        services.update(data["services"])
        nodes.update(data["nodes"])
    missing = {}
    for host in expected:
        if host in mapped:
            continue
        if host not in services:
            missing[host] = "no nova-compute service registered"
        elif not by_service and host not in nodes:
            missing[host] = "nova-compute service registered, but no compute node record yet"
    return missing


_CREATED = re.compile(r"Creating host mapping for (?:compute host|service) '?([^':\s]+)'?")
_COLLIDED = re.compile(r"Host '([^']+)' mapping already exists")


def created_hosts(stdout):
    """Hosts `discover_hosts --verbose` says it mapped (one that collided excluded)."""
    created = _CREATED.findall(stdout or "")
    collided = set(_COLLIDED.findall(stdout or ""))
    return [h for h in created if h not in collided]


def collided(stdout):
    """Whether discover_hosts stopped on a host mapping another run created meanwhile."""
    return bool(_COLLIDED.search(stdout or "")) or "Duplicate host mapping" in (stdout or "")


# --------------------------------------------------------------------------- locking


def lock_name(api_database):
    """The MariaDB user-level lock that serializes cell_v2 changes of one API database."""
    return ("osdeploy.nova.cell_v2." + (api_database or ""))[:64]


def get_lock(conn, name, timeout):
    """GET_LOCK; True when taken, False after `timeout` seconds."""
    with conn.cursor() as cur:
        cur.execute("SELECT GET_LOCK(%s, %s)", (name, int(max(timeout, 0))))
        return cur.fetchone()[0] == 1


def release_lock(conn, name):
    with conn.cursor() as cur:
        cur.execute("SELECT RELEASE_LOCK(%s)", (name,))
