#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cell_v2
short_description: Nova's schema syncs, cell0, cells and host discovery, idempotent and honest
version_added: 0.1.0
description:
  - Performs one of the C(nova-manage) steps of a Nova controller, but reads the real state first
    and acts only where something has to change, so that C(changed) means that something changed.
  - The state is read directly from the databases named in O(config_files) (with PyMySQL),
    C(nova_api.cell_mappings) and C(host_mappings), the schema versions (C(alembic_version), or
    C(migrate_version) for a database still under sqlalchemy-migrate) compared with the migration
    scripts of the installed nova, and the C(services) and C(compute_nodes) of each cell database.
  - C(nova-manage) runs as O(nova_user) with exactly O(config_files). URLs that it has to store
    are handed over in a private temporary config file, never on its command line (where any
    local user could read them with C(ps)). Its harmless stderr noise (eventlet's monkey-patching
    notice, Python warnings) is dropped; other stderr output of a successful run becomes a warning;
    a failure is reported with its output. Every password and URL in results, warnings and errors
    is masked.
  - Changes are serialized per API database with a MariaDB user lock (C(GET_LOCK)), so two plays
    running the module at the same time neither duplicate a cell nor collide in discovery.
  - The databases are reached with the TLS settings of their URLs, as Nova reaches them. The C(ssl_ca),
    C(ssl_capath), C(ssl_cert), C(ssl_key), C(ssl_cipher) and C(ssl_check_hostname) query parameters of
    a C(mysql+pymysql://) URL are handed to PyMySQL as SQLAlchemy hands them. The TLS options of this
    module (O(ca_cert), ...) apply to the URLs without C(ssl_*) parameters.
author:
  - osdeploy.nova developers (@osdeploy)
extends_documentation_fragment:
  - osdeploy.nova.mysql.tls
options:
  action:
    description:
      - C(api_db_sync) runs C(nova-manage api_db sync) when the API database is not at the newest
        migration of the installed nova.
      - C(db_sync) runs C(nova-manage db sync) when cell0's database or the database of
        C([database] connection) is behind. Like nova-manage, it does not migrate other cells.
      - C(map_cell0) maps cell0 to O(database_connection) (C(cell_v2 map_cell0)), or fixes the URL
        of an existing cell0 (C(cell_v2 update_cell)), which C(map_cell0) alone never does.
      - C(cell) makes the cell called O(name) present with O(transport_url) and
        O(database_connection) (C(create_cell), or C(update_cell) when its URLs drifted; never a
        second cell of the same name), or absent (C(delete_cell)).
      - C(discover_hosts) waits until the hosts of O(wait_for_hosts) have registered, then runs
        C(cell_v2 discover_hosts) once if any host is left to map.
    type: str
    required: true
    choices: [api_db_sync, db_sync, map_cell0, cell, discover_hosts]
  name:
    description:
      - Name of the cell, for O(action=cell). Required there.
      - When several cells already carry this name (nova-manage does not prevent it), O(state=present)
        fails and lists their uuids instead of guessing which one to manage; O(state=absent)
        deletes all of them.
    type: str
  state:
    description:
      - For O(action=cell), whether the cell should exist.
      - O(state=absent) refuses (fails) while hosts are still mapped to the cell.
    type: str
    choices: [present, absent]
    default: present
  transport_url:
    description:
      - Message queue URL of the cell (O(action=cell)). Required to create a cell; when omitted for
        an existing cell its transport_url is left as it is. User and password must be
        percent-encoded.
    type: str
  database_connection:
    description:
      - Database URL of the cell (O(action=cell), required to create one) or of cell0
        (O(action=map_cell0)). User and password must be percent-encoded.
      - For O(action=map_cell0) the default is C([database] connection) of O(config_files) with
        C(_cell0) appended to the database name, credentials kept as written (nova-manage's own
        default unquotes the URL and so breaks a percent-encoded password; this module fixes such a
        cell0).
      - When omitted for an existing cell (O(action=cell)) its database_connection is left as it is.
    type: str
  wait_for_hosts:
    description:
      - For O(action=discover_hosts), compute hosts (as nova-compute names them, its C(host)
        option, by default the hostname) to wait for before discovering. A host is ready when it
        is already mapped, or when a cell database has its nova-compute service and its compute
        node record (only the service with O(by_service=true)).
      - The module fails after O(timeout) seconds with the hosts still missing and what each lacks.
      - Check mode waits too (it only reads), so that its prediction is exact.
    type: list
    elements: str
    default: []
  by_service:
    description:
      - For O(action=discover_hosts), discover by nova-compute service instead of compute node
        record (C(discover_hosts --by-service), for ironic).
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for O(wait_for_hosts).
    type: int
    default: 300
  poll_interval:
    description:
      - Seconds between two reads of the cell databases while waiting for O(wait_for_hosts).
    type: int
    default: 5
  lock_timeout:
    description:
      - Seconds to wait for another run of this module that is changing the same API database.
    type: int
    default: 600
  config_files:
    description:
      - Nova config files, in order (a later one overrides an earlier one), passed to nova-manage
        as C(--config-file) and read by the module for C([api_database] connection),
        C([database] connection) and C([DEFAULT] transport_url).
    type: list
    elements: path
    default: [/etc/nova/nova.conf]
  nova_user:
    description:
      - The user nova-manage runs as. The module itself runs as root (or already as this user).
    type: str
    default: nova
  nova_manage:
    description:
      - Path of the nova-manage command. Searched in C(PATH) when not given.
    type: path
attributes:
  check_mode:
    support: full
    description:
      - Reads the same state and reports what would change (C(changes), C(migrations_ran),
        C(mapped_hosts)) without running nova-manage.
  diff_mode:
    support: none
    description: The results already list every change; URLs could only be shown masked.
requirements:
  - PyMySQL (Debian C(python3-pymysql)) and oslo.config (C(python3-oslo.config)) on the target.
  - nova-manage (Debian C(nova-common)) and C(setpriv) (util-linux).
notes:
  - Only MariaDB/MySQL databases (C(mysql+pymysql://...)) can be read.
  - Cell database URLs stored as templates (C({username}), C({password})...) are expanded with
    C([database] connection) and C([DEFAULT] transport_url), as Nova does.
seealso:
  - name: nova-manage
    description: The cell_v2, api_db and db commands of nova-manage.
    link: https://docs.openstack.org/nova/latest/cli/nova-manage.html
"""

EXAMPLES = r"""
- name: Migrate the API database
  osdeploy.nova.cell_v2:
    action: api_db_sync

- name: Map cell0
  osdeploy.nova.cell_v2:
    action: map_cell0
    database_connection: "mysql+pymysql://nova:{{ nova_db_password | urlencode }}@controller/nova_cell0"

- name: Create (or fix the URLs of) cell1
  osdeploy.nova.cell_v2:
    action: cell
    name: cell1
    transport_url: "rabbit://openstack:{{ rabbit_password | urlencode }}@controller:5672/"
    database_connection: "mysql+pymysql://nova:{{ nova_db_password | urlencode }}@controller/nova"

- name: Migrate cell0 and the cell database
  osdeploy.nova.cell_v2:
    action: db_sync

- name: Map the new compute hosts once they have registered
  osdeploy.nova.cell_v2:
    action: discover_hosts
    wait_for_hosts: "{{ groups['compute'] | map('extract', hostvars, 'ansible_hostname') | list }}"
    timeout: 300
  register: discovery

- name: Remove a cell that has no hosts
  osdeploy.nova.cell_v2:
    action: cell
    name: cell2
    state: absent
"""

RETURN = r"""
action:
  description: The action performed.
  returned: always
  type: str
  sample: cell
changes:
  description: What was changed, or in check mode what would be; empty when nothing.
  returned: always
  type: list
  elements: str
  sample: ["update transport_url of cell 'cell1' (8e5b7c9e-...)"]
cells:
  description: The cell mappings after the action (in check mode, as found), URLs masked.
  returned: always
  type: list
  elements: dict
  contains:
    uuid:
      description: Cell uuid.
      type: str
      sample: 00000000-0000-0000-0000-000000000000
    name:
      description: Cell name (null when it has none).
      type: str
      sample: cell0
    transport_url:
      description: Transport URL with its password masked.
      type: str
      sample: none:///
    database_connection:
      description: Database URL with its password masked.
      type: str
      sample: "mysql+pymysql://nova:********@controller/nova_cell0"
    disabled:
      description: Whether the cell is disabled.
      type: bool
    hosts:
      description: Hosts mapped to the cell.
      type: list
      elements: str
cell:
  description: For O(action=cell) and O(action=map_cell0), the cell managed (masked), null when absent.
  returned: when action is cell or map_cell0
  type: dict
mapped_hosts:
  description: Hosts this run mapped (in check mode, would map). Empty for other actions.
  returned: always
  type: list
  elements: str
  sample: [compute1]
migrations_ran:
  description: Schema migrations that ran (in check mode, would run), one entry per database.
  returned: always
  type: list
  elements: dict
  contains:
    database:
      description: C(api), C(cell0) or C(main) (the database of C([database] connection)).
      type: str
    from_version:
      description: Alembic revision before (null for an empty database).
      type: str
    to_version:
      description: Alembic revision after (in check mode, the head of the installed nova).
      type: str
versions:
  description: Schema version of each database the action looked at, after the action.
  returned: when action is api_db_sync or db_sync
  type: dict
  sample: {api: b30f573d3377}
duplicate_cells:
  description: Names carried by more than one cell mapping, with their uuids (also warned about).
  returned: always
  type: dict
commands:
  description: The nova-manage commands run, with rc and masked stdout.
  returned: always
  type: list
  elements: dict
"""

import os
import pwd
import time
import traceback

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils import cells as C
from ansible_collections.osdeploy.nova.plugins.module_utils import mysql
from ansible_collections.osdeploy.nova.plugins.module_utils.nova_manage import (
    NovaManage, NovaManageError, read_config, user_prefix)
from ansible_collections.osdeploy.nova.plugins.module_utils.credentials import mask_url, parse_db_url

try:
    import oslo_config  # noqa: F401  pylint: disable=unused-import

    HAS_OSLO = True
    OSLO_ERROR = None
except ImportError:
    HAS_OSLO = False
    OSLO_ERROR = traceback.format_exc()

ACTIONS = ("api_db_sync", "db_sync", "map_cell0", "cell", "discover_hosts")
APPLIES = {
    "name": ("cell",),
    "transport_url": ("cell",),
    "database_connection": ("cell", "map_cell0"),
}


class CellV2(mysql.MariaDBModule):
    argument_spec = dict(
        action=dict(type="str", required=True, choices=list(ACTIONS)),
        name=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        transport_url=dict(type="str", no_log=True),
        database_connection=dict(type="str", no_log=True),
        wait_for_hosts=dict(type="list", elements="str", default=[]),
        by_service=dict(type="bool", default=False),
        timeout=dict(type="int", default=300),
        poll_interval=dict(type="int", default=5),
        lock_timeout=dict(type="int", default=600),
        config_files=dict(type="list", elements="path", default=["/etc/nova/nova.conf"]),
        nova_user=dict(type="str", default="nova"),
        nova_manage=dict(type="path"),
    )
    module_kwargs = dict(supports_check_mode=True)
    # URLs: their passwords (registered in setup()) are the secrets, so results can show them masked
    partly_secret_options = ("transport_url", "database_connection")
    required_libraries = mysql.MariaDBModule.required_libraries + (
        (HAS_OSLO, "oslo.config (Debian: python3-oslo.config)", OSLO_ERROR),)

    def __init__(self):
        super(CellV2, self).__init__()
        self.commands = []
        self.changes = []
        self.result = dict(changed=False, action=self.params["action"], changes=self.changes, cells=[],
                           mapped_hosts=[], migrations_ran=[], duplicate_cells={}, commands=self.commands)
        self.conf = None
        self.api = None
        self.api_database = None
        self.nm = None
        self.locked = None
        self.cell_conns = {}

    # ------------------------------------------------------------ plumbing
    def validate(self):
        p = self.params
        self.add_secrets(C.url_secrets([p["transport_url"], p["database_connection"]]))
        for option, actions in APPLIES.items():
            if p[option] and p["action"] not in actions:
                self.fail("%s does not apply to action=%s (only to %s)"
                          % (option, p["action"], ", ".join(actions)))
        if p["wait_for_hosts"] and p["action"] != "discover_hosts":
            self.fail("wait_for_hosts applies only to action=discover_hosts")
        if p["action"] == "cell" and not p["name"]:
            self.fail("action=cell needs name (the cell's name, e.g. cell1)")
        if p["state"] == "absent" and p["action"] != "cell":
            self.fail("state=absent applies only to action=cell")
        for option in ("transport_url", "database_connection"):
            value = p[option]
            if value is not None and ("://" not in value or any(c in value for c in "\r\n")):
                self.fail("%s must be a URL such as scheme://user:password@host/path, got %s"
                          % (option, mask_url(value)))
        if p["timeout"] < 0 or p["poll_interval"] < 1 or p["lock_timeout"] < 0:
            self.fail("timeout and lock_timeout must be >= 0 and poll_interval >= 1")

    def setup(self):
        p = self.params
        try:
            self.conf = read_config(p["config_files"])
        except ValueError as e:
            self.fail(str(e))
        self.add_secrets(C.url_secrets(list(self.conf.values())))
        api_url = self.conf["api_database_connection"]
        if not api_url:
            self.fail("[api_database] connection is not set in %s: the module reads the cell mappings "
                      "from the API database (config_files)" % ", ".join(p["config_files"]))
        self.api = self.connect_url(api_url, "the API database ([api_database] connection)")
        self.api_database = parse_db_url(api_url)["database"]
        # nova-manage and the user it runs as
        executable = p["nova_manage"] or self.module.get_bin_path("nova-manage")
        if not executable or not os.path.exists(executable):
            self.fail("nova-manage not found%s: install nova-common or set nova_manage"
                      % (" at %s" % executable if executable else " in PATH"))
        try:
            user = pwd.getpwnam(p["nova_user"])
        except KeyError:
            self.fail("user %r does not exist (nova_user): install nova-common first" % p["nova_user"])
        try:
            prefix = user_prefix(os.getuid(), user, self.module.get_bin_path("setpriv"))
        except ValueError as e:
            self.fail(str(e))

        def run(argv, cwd):
            return self.module.run_command(argv, cwd=cwd)

        self.nm = NovaManage(run, executable, p["config_files"], prefix=prefix, user=user, secrets=self.secrets())

    def connect_url(self, url, what):
        """Connect as a URL of nova.conf or cell_mappings says, its ssl_* parameters included."""
        if not url:
            self.fail("no URL for %s" % what)
        try:
            kwargs = parse_db_url(url)
        except ValueError as e:
            self.fail("%s %s cannot be read by this module: %s" % (what, url, e))
        self.add_secrets(C.url_secrets([url]))
        if self.nm is not None:
            self.nm.secrets = self.secrets()
        problem = C.url_problem(url)
        if problem:
            self.fail("%s %s: %s" % (what, url, problem))
        return self.connect_db(what="%s %s" % (what, url), host=kwargs["host"], port=kwargs["port"],
                               user=kwargs["user"], password=kwargs["password"],
                               unix_socket=kwargs.get("unix_socket"), database=kwargs["database"],
                               connect_timeout=10, ssl=kwargs.get("ssl"))

    def nova_manage(self, args, overrides=None, ok_rcs=(0,)):
        try:
            res = self.nm.run(args, overrides=overrides, ok_rcs=ok_rcs)
        except NovaManageError as e:
            self.commands.append(dict(cmd=e.cmd, rc=e.rc, stdout=self.mask(e.stdout), stderr=self.mask(e.stderr)))
            self.fail(e.msg)
        self.commands.append(dict(cmd=res["cmd"], rc=res["rc"], stdout=self.mask(res["stdout"]),
                                  stderr=self.mask(res["stderr"])))
        if res["stderr"] and res["rc"] == 0:
            self.warn("%s wrote to stderr: %s" % (res["cmd"], res["stderr"]))
        return res

    def lock(self):
        if self.check_mode or self.locked:
            return
        name = C.lock_name(self.api_database)
        if not C.get_lock(self.api, name, self.params["lock_timeout"]):
            self.fail("another run holds the lock %r on the API database for more than %ss "
                      "(lock_timeout)" % (name, self.params["lock_timeout"]))
        self.locked = name

    def cleanup(self):
        self.unlock()

    def unlock(self):
        if self.locked:
            try:
                C.release_lock(self.api, self.locked)
            except Exception:  # pylint: disable=broad-except
                pass
            self.locked = None

    def read_cells(self, required=True):
        cells = C.read_cells(self.api)
        if cells is None:
            if required and not self.check_mode:
                self.fail("the API database %r has no cell_mappings table yet: run action=api_db_sync "
                          "first" % self.api_database)
            return None
        self.result["duplicate_cells"] = C.duplicate_names(cells)
        self.result["cells"] = C.masked_cells(cells, self.secrets())
        return cells

    def finish_cells(self, cells):
        if cells is not None:
            self.result["cells"] = C.masked_cells(cells, self.secrets())
        for name, uuids in sorted(self.result["duplicate_cells"].items()):
            self.warn("%d cell mappings are named %r (%s); delete the wrong one with `nova-manage "
                      "cell_v2 delete_cell --cell_uuid UUID`" % (len(uuids), name, ", ".join(uuids)))

    # ------------------------------------------------------------ schema
    def heads(self):
        if getattr(self, "_heads", None) is not None:
            return self._heads
        nova_dir = None
        try:
            import importlib.util

            spec = importlib.util.find_spec("nova")
            if spec and spec.submodule_search_locations:
                nova_dir = list(spec.submodule_search_locations)[0]
        except ImportError:
            nova_dir = None
        if nova_dir is None:
            nova_dir = self.nova_dir_of_executable()
        dirs = C.nova_migration_dirs(nova_dir) if nova_dir else {}
        self._heads = dict((k, C.migration_heads(v)) for k, v in dirs.items())
        return self._heads

    def nova_dir_of_executable(self):
        try:
            with open(self.nm.executable) as f:
                first = f.readline()
        except (IOError, OSError, UnicodeDecodeError):
            return None
        if not first.startswith("#!"):
            return None
        interpreter = first[2:].strip().split()
        rc, out, dummy = self.module.run_command(
            interpreter + ["-c", "import nova, os; print(os.path.dirname(nova.__file__))"])
        return out.strip() if rc == 0 and out.strip() else None

    def version_of(self, conn):
        return C.read_schema_version(conn)

    def sync(self, targets, kind, args):
        """targets: [(label, conn)]; kind: 'api' or 'main'."""
        heads = self.heads().get(kind) or frozenset()
        head_label = ",".join(sorted(heads)) or None
        before = dict((label, self.version_of(conn)) for label, conn in targets)
        need = dict((label, C.sync_needed(v, heads)) for label, v in before.items())
        unknown = [label for label, n in need.items() if n is None]
        if unknown:
            self.warn("the migration scripts of the installed nova were not found: cannot tell whether "
                      "%s is at the newest version" % ", ".join(unknown))
        versions = dict((label, C.version_label(v)) for label, v in before.items())
        self.result["versions"] = versions
        if self.check_mode:
            for label, n in sorted(need.items()):
                if n:
                    self.result["migrations_ran"].append(
                        dict(database=label, from_version=versions[label], to_version=head_label))
                    self.changes.append("migrate the %s database to %s" % (label, head_label))
            self.result["changed"] = bool(self.changes)
            return
        if not any(n is not False for n in need.values()):
            return
        self.lock()
        before = dict((label, self.version_of(conn)) for label, conn in targets)
        need = dict((label, C.sync_needed(v, heads)) for label, v in before.items())
        if not any(n is not False for n in need.values()):
            return  # another run migrated meanwhile
        self.nova_manage(args)
        after = dict((label, self.version_of(conn)) for label, conn in targets)
        for label, dummy in targets:
            b, a = C.version_label(before[label]), C.version_label(after[label])
            versions[label] = a
            if b != a:
                self.result["migrations_ran"].append(dict(database=label, from_version=b, to_version=a))
                self.changes.append("migrated the %s database from %s to %s" % (label, b, a))
            if heads and set(after[label].get("alembic") or ()) != set(heads):
                self.warn("after %s the %s database is at %s, not at %s" % (" ".join(args), label, a, head_label))
        self.result["changed"] = bool(self.changes)

    def do_api_db_sync(self):
        self.sync([("api", self.api)], "api", ["api_db", "sync"])
        self.finish_cells(self.read_cells(required=False))

    def do_db_sync(self):
        cells = self.read_cells(required=False) or []
        targets = []
        cell0 = [c for c in cells if c["uuid"] == C.CELL0_UUID]
        main_url = self.conf["database_connection"]
        if not main_url:
            self.fail("[database] connection is not set in %s: db_sync migrates that database"
                      % ", ".join(self.params["config_files"]))
        if cell0:
            url = C.format_url(cell0[0]["database_connection"], main_url)
            conn = self.connect_url(url, "cell0's database (database_connection in cell_mappings; fix it with "
                                    "action=map_cell0)")
            targets.append(("cell0", conn))
        else:
            self.warn("cell0 is not mapped, so db_sync migrates only [database] connection: run "
                      "action=map_cell0 before db_sync")
        if not cell0 or C.format_url(cell0[0]["database_connection"], main_url) != main_url:
            targets.append(("main", self.connect_url(main_url, "the database of [database] connection")))
        self.sync(targets, "main", ["db", "sync"])
        self.finish_cells(self.read_cells(required=False))

    # ------------------------------------------------------------ cells
    def overrides(self, transport_url, database_connection):
        """(extra CLI args, config overrides): secrets go to the config file only."""
        args, values = [], {}
        if transport_url:
            if transport_url.split(":", 1)[0] == "none":
                args += ["--transport-url", transport_url]  # not a secret; oslo.messaging cannot load it
            else:
                values[("DEFAULT", "transport_url")] = transport_url
        if database_connection:
            values[("database", "connection")] = database_connection
        return args, values

    def apply_update(self, plan):
        cell = plan.cell
        args, values = self.overrides(plan.transport_url, plan.database_connection)
        self.nova_manage(["cell_v2", "update_cell", "--cell_uuid", cell["uuid"]] + args, overrides=values)

    def verify(self, cells, uuid, transport_url, database_connection, what):
        found = [c for c in cells if c["uuid"] == uuid]
        if not found:
            self.fail("after %s the cell %s is missing" % (what, uuid))
        cell = found[0]
        for key, want in (("transport_url", transport_url), ("database_connection", database_connection)):
            if want and cell[key] != want:
                self.fail("after %s cell %s has %s %s, not the one given: is a config directory "
                          "(nova.conf.d) overriding it?" % (what, C.describe(cell), key, self.mask(cell[key])))
        return cell

    def do_map_cell0(self):
        desired = self.params["database_connection"] or C.derive_cell0_connection(self.conf["database_connection"])
        if not self.check_mode:
            self.lock()
        cells = self.read_cells()
        plan = C.plan_cell0(cells or [], desired)
        if plan.error:
            self.fail(plan.error)
        self.changes.extend(plan.changes)
        if self.check_mode or not plan.changed:
            self.result["changed"] = plan.changed
            self.result["cell"] = C.masked_cell(plan.cell, self.secrets()) if plan.cell else None
            self.finish_cells(cells)
            return
        if plan.op == "create":
            values = {}
            if not self.conf["database_connection"]:
                values[("database", "connection")] = desired  # nova-manage derives from it; fixed below
            self.nova_manage(["cell_v2", "map_cell0"], overrides=values)
            cells = self.read_cells()
            second = C.plan_cell0(cells, desired)
            if second.op == "update":  # nova-manage's own derivation differs (or broke the password)
                self.apply_update(second)
                cells = self.read_cells()
        else:
            self.apply_update(plan)
            cells = self.read_cells()
        cell = self.verify(cells, C.CELL0_UUID, None, desired, "map_cell0")
        self.result["changed"] = True
        self.result["cell"] = C.masked_cell(cell, self.secrets())
        self.finish_cells(cells)

    def do_cell(self):
        p = self.params
        if not self.check_mode:
            self.lock()
        cells = self.read_cells()
        plan = C.plan_cell(cells or [], p["name"], p["state"], p["transport_url"], p["database_connection"])
        if plan.error:
            self.finish_cells(cells)
            self.fail(plan.error)
        self.changes.extend(plan.changes)
        if self.check_mode or not plan.changed:
            self.result["changed"] = plan.changed
            current = [c for c in cells or [] if c["name"] == p["name"]]
            self.result["cell"] = C.masked_cell(current[0], self.secrets()) if len(current) == 1 else None
            self.finish_cells(cells)
            return
        if plan.op == "create":
            args, values = self.overrides(plan.transport_url, plan.database_connection)
            res = self.nova_manage(["cell_v2", "create_cell", "--name", p["name"], "--verbose"] + args,
                                   overrides=values)
            cells = self.read_cells()
            new = [c for c in cells if c["name"] == p["name"] and c["uuid"] in res["stdout"]]
            if not new:
                self.fail("create_cell said rc 0 but no cell %r is mapped" % p["name"])
            cell = self.verify(cells, new[0]["uuid"], plan.transport_url, plan.database_connection, "create_cell")
        elif plan.op == "update":
            self.apply_update(plan)
            cells = self.read_cells()
            cell = self.verify(cells, plan.cell["uuid"], plan.transport_url, plan.database_connection, "update_cell")
        else:  # delete
            for target in plan.targets:
                self.nova_manage(["cell_v2", "delete_cell", "--cell_uuid", target["uuid"]])
            cells = self.read_cells()
            cell = None
        self.result["changed"] = True
        self.result["cell"] = C.masked_cell(cell, self.secrets()) if cell else None
        self.finish_cells(cells)

    # ------------------------------------------------------------ discovery
    def read_computes(self, cells):
        data = {}
        for cell in cells:
            if cell["uuid"] == C.CELL0_UUID:
                continue
            url = C.format_url(cell["database_connection"], self.conf["database_connection"])
            conn = self.cell_conns.get(cell["uuid"])
            if conn is None:
                conn = self.connect_url(url, "the database of cell %s" % C.describe(cell))
                self.cell_conns[cell["uuid"]] = conn
            data[cell["uuid"]] = C.read_computes(conn)
        return data

    def do_discover_hosts(self):
        p = self.params
        expected = [h for h in p["wait_for_hosts"] if h]
        deadline = time.time() + p["timeout"]
        while True:
            cells = self.read_cells(required=not self.check_mode)
            if cells is None:  # check mode before api_db sync
                self.warn("the API database has no cell mappings yet: nothing to discover")
                self.finish_cells(cells)
                return
            computes = self.read_computes(cells)
            mapped = C.mapped_hosts_of(cells)
            missing = C.waiting_for(expected, computes, mapped, p["by_service"])
            if not missing:
                break
            if time.time() >= deadline:
                self.finish_cells(cells)
                self.fail("timed out after %ss waiting for compute hosts to register in the cell "
                          "databases: %s. Is nova-compute running there, with the right [database]/"
                          "transport_url and host name?"
                          % (p["timeout"], "; ".join("%s: %s" % (h, why) for h, why in sorted(missing.items()))))
            time.sleep(max(1, min(p["poll_interval"], deadline - time.time())))
        todo = C.discoverable_hosts(computes, mapped, p["by_service"])
        if self.check_mode or not todo:
            self.result["mapped_hosts"] = todo
            self.result["changed"] = bool(todo)
            self.changes.extend("map host %s" % h for h in todo)
            self.finish_cells(cells)
            return
        self.lock()
        cells = self.read_cells()
        before = C.mapped_hosts_of(cells)
        created, collisions = [], 0
        args = ["cell_v2", "discover_hosts", "--verbose"] + (["--by-service"] if p["by_service"] else [])
        for _attempt in range(3):
            todo = C.discoverable_hosts(self.read_computes(cells), C.mapped_hosts_of(cells), p["by_service"])
            if not todo:
                break
            res = self.nova_manage(args, ok_rcs=(0, 2))
            created.extend(C.created_hosts(res["stdout"]))
            cells = self.read_cells()
            if res["rc"] == 2:
                if not C.collided(res["stdout"]):
                    self.fail("`%s` failed with rc 2: %s" % (res["cmd"], res["stdout"][-500:]))
                collisions += 1
                continue  # another (unlocked) discovery mapped a host meanwhile: read again
            break
        new = C.mapped_hosts_of(cells) - before
        mapped_now = sorted(new & set(created)) if collisions else sorted(new)
        if collisions:
            self.warn("discover_hosts collided %d time(s) with another discovery run not using this "
                      "module's lock; hosts it mapped are not counted here" % collisions)
        self.result["mapped_hosts"] = mapped_now
        self.result["changed"] = bool(mapped_now)
        self.changes.extend("mapped host %s" % h for h in mapped_now)
        self.finish_cells(cells)

    def run(self):
        self.validate()
        self.setup()
        getattr(self, "do_" + self.params["action"])()
        return self.result


def main():
    base.main(CellV2)


if __name__ == "__main__":
    main()
