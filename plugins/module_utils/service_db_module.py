# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database step as a module, shared by ``nova_db`` and ``service_db``.

The two modules differ only in their defaults: ``nova_db`` knows Nova's
databases, user and character set, ``service_db`` asks for the databases and
the user of any other service. Each module file is ``ServiceDbModule`` with the
options ``argument_spec()`` builds for its defaults; the decisions are in
module_utils/service_db.py, the connection in module_utils/mysql.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible_collections.osdeploy.nova.plugins.module_utils import service_db as logic
from ansible_collections.osdeploy.nova.plugins.module_utils.base import default_or_required
from ansible_collections.osdeploy.nova.plugins.module_utils.mysql import MariaDBLoginModule, server_version, where


def argument_spec(databases=None, user=None, charset="utf8mb4"):
    """The options of a database module. ``databases`` or ``user`` None: required, no default."""
    return dict(
        databases=default_or_required(dict(type="list", elements="str"),
                                      None if databases is None else list(databases)),
        user=default_or_required(dict(type="str"), user),
        password=dict(type="str", no_log=True),
        host_patterns=dict(type="list", elements="str", default=list(logic.DEFAULT_HOST_PATTERNS)),
        charset=dict(type="str", default=charset),
        collation=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        drop_databases=dict(type="bool", default=False),
        revoke_other_grants=dict(type="bool", default=True),
        update_password=dict(type="str", default="always", choices=["always", "on_create"], no_log=False),
        require_tls=dict(type="bool"),
    )


class ServiceDbModule(MariaDBLoginModule):
    """Databases, user, password and grants on MariaDB: read -> plan -> apply (module_utils/service_db.py).

    A module sets ``argument_spec`` to what ``argument_spec()`` returns for its defaults.
    """

    module_kwargs = dict(supports_check_mode=True, required_if=[("state", "present", ["password"])])

    def __init__(self):
        super(ServiceDbModule, self).__init__()
        self.conn = None

    def cleanup(self):
        if self.conn is not None:
            self.conn.close()

    def run(self):
        try:
            want = logic.validate(self.params)
        except logic.ValidationError as e:
            self.fail(str(e))
        self.conn = self.connect_login()
        cur = self.conn.cursor()
        state, charset, collation = self.read(cur, want)
        # plan
        if want["state"] == "present":
            plan = logic.plan_present(want, state, charset, collation)
        else:
            plan = logic.plan_absent(want, state)
        steps = logic.build_steps(plan, want, state)
        if want["state"] == "present":
            self.result.update(charset=charset, collation=collation)
        # apply
        if not self.check_mode:
            try:
                logic.run_steps(cur, steps)
            except logic.StepError as e:
                self.fail("%s on MariaDB at %s; done before the failure: %s" % (
                    e, self.place(), "; ".join(s.description for s in e.done) or "nothing"),
                    **logic.results(e.done))
        result = logic.results(steps)
        result.update(self.result)
        if self.diff_mode:
            result["diff"] = logic.diff(want, state, plan)
        return result

    def place(self):
        p = self.params
        return where(p["login_host"], p["login_port"], p["login_unix_socket"])

    def read(self, cur, want):
        """(State, charset, collation) of the server; reads only."""
        try:
            version = self.result["server_version"] = server_version(self.conn)
            logic.check_server(version)
            logic.check_not_login_account(logic.current_account(cur), want["user"], want["host_patterns"])
            charset = collation = None
            if want["state"] == "present":
                charset, collation = logic.resolve_charset(cur, want["charset"], want["collation"])
                if want["require_tls"]:
                    self.check_tls_offered(cur, want)
            compare = want["password"] if want["update_password"] == "always" else None
            state = logic.read_state(cur, want["user"], want["host_patterns"], want["databases"], compare)
        except logic.ValidationError as e:
            self.fail(str(e))
        except Exception as e:  # the driver's errors while reading
            self.fail("reading the current state from MariaDB at %s failed: %s (the login user needs to read the "
                      "mysql schema and information_schema)" % (self.place(), e), exception=traceback.format_exc())
        return state, charset, collation

    def check_tls_offered(self, cur, want):
        """require_tls on a server without TLS: refused before any change; in check mode a warning.

        In check mode an earlier task of the same run (the server's TLS configuration and
        its restart) may be what would turn TLS on, so the prediction goes on.
        """
        try:
            logic.check_tls_offered(logic.read_have_ssl(cur), want["user"], self.place())
        except logic.ValidationError as e:
            if not self.check_mode:
                raise
            self.warn("%s (check mode: a real run fails here unless the server offers TLS by then)" % e)
