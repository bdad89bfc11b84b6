# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cell_v2 module's steps: ``CellV2Module``, one action of nova-manage done only where needed.

One run: check the options, read nova.conf (``read_config``), connect to the API
database and find nova-manage and the user it runs as; then the action
(``do_<action>``): read the real state (cell mappings, schema versions, the cell
databases' computes), plan with the plain functions of module_utils/cells.py,
take the per-API-database lock and run nova-manage (module_utils/nova_manage.py)
only where something has to change, then read again to verify. ``cleanup()``
releases the lock. The module file is this class with its options.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pwd
import time
import traceback

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


class CellV2Module(mysql.MariaDBModule):
    """The steps of each action (the options: the cell_v2 module's)."""

    # URLs: their passwords (registered in setup()) are the secrets, so results can show them masked
    partly_secret_options = ("transport_url", "database_connection")
    required_libraries = mysql.MariaDBModule.required_libraries + (
        (HAS_OSLO, "oslo.config (Debian: python3-oslo.config)", OSLO_ERROR),)

    def __init__(self):
        super(CellV2Module, self).__init__()
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

        def run(argv, cwd):  # NovaManage checks the exit code
            return self.run_command(argv, allowed=None, cwd=cwd)

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
        rc, out, dummy = self.run_command(
            interpreter + ["-c", "import nova, os; print(os.path.dirname(nova.__file__))"], allowed=None)
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
