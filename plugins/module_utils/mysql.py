# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connecting to MariaDB/MySQL with PyMySQL, shared by every module that does.

Keyword arguments only (no URL is built, so nothing needs escaping), defaults
that work for root over Debian's local socket, TLS (``ca_cert``, ``client_cert``,
``client_key``, ``verify_server_cert``, or the ``ssl_*`` parameters of a
connection URL, handed to PyMySQL as SQLAlchemy hands them), and one clear
sentence when the server cannot be reached or refuses the login. Works with
Debian 12's python3-pymysql 1.0.2 and with current PyMySQL.

``MariaDBModule`` is the module skeleton (module_utils/base.py) with the TLS
options and a ``connect_db()`` that fails clearly; ``MariaDBLoginModule`` adds
the login options and ``connect_login()``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import traceback

from ansible_collections.osdeploy.nova.plugins.module_utils.base import OsdeployModule

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


# the TLS options of every module that connects (the osdeploy.nova.mysql.tls doc fragment)
TLS_ARGUMENT_SPEC = dict(
    ca_cert=dict(type="path"),
    client_cert=dict(type="path"),
    client_key=dict(type="path", no_log=False),
    verify_server_cert=dict(type="bool"),
)


class ConnectError(Exception):
    """The server could not be reached or refused the login; the message is safe to show."""


def where(host=None, port=None, unix_socket=None):
    if unix_socket:
        return "socket %s" % unix_socket
    return "%s:%s" % (host or "localhost", port or 3306)


def tls_context(ca_cert=None, client_cert=None, client_key=None, verify_server_cert=None):
    """The TLS context of the module options, or None when none of them is set (no TLS).

    TLS is used as soon as one option is set: the server's certificate is
    verified (chain against ``ca_cert`` or the system's CAs, and its name) unless
    ``verify_server_cert`` is false; ``client_cert`` (with ``client_key``) is
    presented to the server. Raises ConnectError for unreadable files.
    """
    if not (ca_cert or client_cert or client_key or verify_server_cert is not None):
        return None
    if client_key and not client_cert:
        raise ConnectError("client_key needs client_cert (the certificate it belongs to)")
    import ssl

    try:
        ctx = ssl.create_default_context(cafile=ca_cert)
        if verify_server_cert is False:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if client_cert:
            ctx.load_cert_chain(client_cert, keyfile=client_key)
    except (IOError, OSError, ValueError) as e:  # ssl.SSLError is an OSError
        raise ConnectError("cannot use the TLS files (ca_cert %s, client_cert %s, client_key %s): %s"
                           % (ca_cert, client_cert, client_key, e))
    return ctx


def connect(host="localhost", port=3306, user="root", password=None, unix_socket=None,
            database=None, connect_timeout=10, ssl=None):
    """Return a PyMySQL connection (autocommit) or raise ConnectError.

    With host ``localhost`` and no socket given, Debian's socket is used when it
    exists, as the mysql client does. ``ssl`` is what PyMySQL takes: an
    SSLContext (tls_context()) or the dict SQLAlchemy builds from a URL's
    ``ssl_*`` parameters (parse_db_url()); None for no TLS.
    """
    if not HAS_PYMYSQL:
        raise ConnectError("PyMySQL is not installed (Debian: python3-pymysql)")
    kwargs = dict(user=user, password=password or "", charset="utf8mb4",
                  connect_timeout=connect_timeout, autocommit=True)
    if not unix_socket and host in (None, "", "localhost"):
        if os.path.exists(DEBIAN_SOCKET):
            unix_socket = DEBIAN_SOCKET
    if unix_socket:
        kwargs["unix_socket"] = unix_socket
    else:
        kwargs["host"] = host or "localhost"
        kwargs["port"] = int(port or 3306)
    if database:
        kwargs["database"] = database
    if ssl:
        kwargs["ssl"] = ssl
    try:
        return pymysql.connect(**kwargs)
    except (IOError, OSError, ValueError) as e:  # TLS files named in a URL's ssl_* parameters
        raise ConnectError("cannot set up TLS to MariaDB at %s: %s" % (where(host, port, unix_socket), e))
    except pymysql.err.OperationalError as e:
        code = e.args[0] if e.args else None
        place = where(kwargs.get("host"), kwargs.get("port"), unix_socket)
        if code in (1044, 1045, 1698):
            raise ConnectError("MariaDB at %s refused the login of user %r (error %s): check the "
                               "login user and password" % (place, user, code))
        if code == 1049:
            raise ConnectError("MariaDB at %s has no database %r" % (place, database))
        if ssl:
            raise ConnectError("cannot connect to MariaDB at %s with TLS (error %s: %s): is the server running "
                               "and reachable, does it offer TLS, and does its certificate verify?"
                               % (place, code, e.args[1] if len(e.args) > 1 else e))
        raise ConnectError("cannot connect to MariaDB at %s (error %s): is the server running and "
                           "reachable?" % (place, code))


def server_version(conn):
    """The connected server's version text (``SELECT VERSION()``), e.g. ``10.11.19-MariaDB-0+deb12u1``."""
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        value = cur.fetchall()[0][0]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


class MariaDBModule(OsdeployModule):
    """The module skeleton for modules that connect to MariaDB: TLS options, one connect_db()."""

    shared_spec = TLS_ARGUMENT_SPEC
    required_libraries = ((HAS_PYMYSQL, "PyMySQL (Debian: python3-pymysql)", PYMYSQL_IMPORT_ERROR),)

    def tls(self):
        """The TLS context of the module's options (None: no TLS); fails clearly on bad files."""
        p = self.params
        try:
            return tls_context(p["ca_cert"], p["client_cert"], p["client_key"], p["verify_server_cert"])
        except ConnectError as e:
            self.fail(str(e))

    def connect_db(self, what=None, **kwargs):
        """connect(**kwargs), the module's TLS unless kwargs bring their own; fail() clearly."""
        if not kwargs.get("ssl"):
            kwargs["ssl"] = self.tls()
        try:
            return connect(**kwargs)
        except ConnectError as e:
            self.fail("%s%s" % ("cannot use %s: " % what if what else "", e))


class MariaDBLoginModule(MariaDBModule):
    """MariaDBModule with the login options (osdeploy.nova.mysql doc fragment)."""

    shared_spec = dict(LOGIN_ARGUMENT_SPEC, **TLS_ARGUMENT_SPEC)

    def connect_login(self, database=None):
        p = self.params
        return self.connect_db(host=p["login_host"], port=p["login_port"], user=p["login_user"],
                               password=p["login_password"], unix_socket=p["login_unix_socket"],
                               database=database, connect_timeout=p["connect_timeout"])
