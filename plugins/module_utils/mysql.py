# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connecting to MariaDB/MySQL with PyMySQL, shared by every module that does.

Keyword arguments only (no URL is built, so nothing needs escaping), defaults
that work for root over Debian's local socket, and one clear sentence when the
server cannot be reached or refuses the login. Works with Debian 12's
python3-pymysql 1.0.2 and with current PyMySQL.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

try:
    import pymysql

    HAS_PYMYSQL = True
    PYMYSQL_IMPORT_ERROR = None
except ImportError:
    pymysql = None
    HAS_PYMYSQL = False
    PYMYSQL_IMPORT_ERROR = traceback.format_exc()

DEBIAN_SOCKET = "/run/mysqld/mysqld.sock"

# the login options every module that connects declares (documented in the
# osdeploy.nova.mysql doc fragment)
LOGIN_ARGUMENT_SPEC = dict(
    login_user=dict(type="str", default="root"),
    login_password=dict(type="str", no_log=True),
    login_host=dict(type="str", default="localhost"),
    login_port=dict(type="int", default=3306),
    login_unix_socket=dict(type="path"),
    connect_timeout=dict(type="int", default=10),
)


class ConnectError(Exception):
    """The server could not be reached or refused the login; the message is safe to show."""


def where(host=None, port=None, unix_socket=None):
    if unix_socket:
        return "socket %s" % unix_socket
    return "%s:%s" % (host or "localhost", port or 3306)


def connect(host="localhost", port=3306, user="root", password=None, unix_socket=None,
            database=None, connect_timeout=10):
    """Return a PyMySQL connection (autocommit) or raise ConnectError.

    With host ``localhost`` and no socket given, Debian's socket is used when it
    exists, as the mysql client does.
    """
    if not HAS_PYMYSQL:
        raise ConnectError("PyMySQL is not installed (Debian: python3-pymysql)")
    kwargs = dict(user=user, password=password or "", charset="utf8mb4",
                  connect_timeout=connect_timeout, autocommit=True)
    if not unix_socket and host in (None, "", "localhost"):
        import os

        if os.path.exists(DEBIAN_SOCKET):
            unix_socket = DEBIAN_SOCKET
    if unix_socket:
        kwargs["unix_socket"] = unix_socket
    else:
        kwargs["host"] = host or "localhost"
        kwargs["port"] = int(port or 3306)
    if database:
        kwargs["database"] = database
    try:
        return pymysql.connect(**kwargs)
    except pymysql.err.OperationalError as e:
        code = e.args[0] if e.args else None
        place = where(kwargs.get("host"), kwargs.get("port"), unix_socket)
        if code in (1044, 1045, 1698):
            raise ConnectError("MariaDB at %s refused the login of user %r (error %s): check the "
                               "login user and password" % (place, user, code))
        if code == 1049:
            raise ConnectError("MariaDB at %s has no database %r" % (place, database))
        raise ConnectError("cannot connect to MariaDB at %s (error %s): is the server running and "
                           "reachable?" % (place, code))


def server_version(conn):
    """The connected server's version text (``SELECT VERSION()``), e.g. ``10.11.19-MariaDB-0+deb12u1``."""
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        value = cur.fetchall()[0][0]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def connect_from_module(module, database=None):
    """Connect with a module's login_* parameters; fail_json with a clear sentence."""
    if not HAS_PYMYSQL:
        from ansible.module_utils.basic import missing_required_lib

        module.fail_json(msg=missing_required_lib("PyMySQL (Debian: python3-pymysql)"),
                         exception=PYMYSQL_IMPORT_ERROR)
    p = module.params
    try:
        return connect(host=p["login_host"], port=p["login_port"], user=p["login_user"],
                       password=p["login_password"], unix_socket=p["login_unix_socket"],
                       database=database, connect_timeout=p["connect_timeout"])
    except ConnectError as e:
        module.fail_json(msg=str(e))
