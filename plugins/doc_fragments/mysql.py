# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The login options of every module that connects to MariaDB/MySQL with
    # plugins/module_utils/mysql.py (LOGIN_ARGUMENT_SPEC).
    DOCUMENTATION = r"""
options:
  login_user:
    description:
      - The account the module logs in with. It needs the privileges of an administrator
        (create databases and users, grant with grant option, read the C(mysql) schema).
      - The default, C(root), logs in on Debian over the local socket without a password
        (C(unix_socket) authentication) when the module runs as root on the database host.
    type: str
    default: root
  login_password:
    description:
      - Password of O(login_user). Not needed for C(root) over the local socket on Debian.
    type: str
  login_host:
    description:
      - Host name or address of the server.
      - With C(localhost) and no O(login_unix_socket), Debian's socket C(/run/mysqld/mysqld.sock)
        is used when it exists (as the C(mysql) client does); otherwise TCP to O(login_host):O(login_port).
    type: str
    default: localhost
  login_port:
    description:
      - TCP port of the server. Ignored when a unix socket is used.
    type: int
    default: 3306
  login_unix_socket:
    description:
      - Path of the server's unix socket. When set, it is used instead of TCP.
    type: path
  connect_timeout:
    description:
      - Seconds to wait for the server to answer the connection.
    type: int
    default: 10
requirements:
  - PyMySQL on the target (Debian package C(python3-pymysql); 1.0.2 on Debian 12 and any later version work).
notes:
  - The connection is made with PyMySQL keyword arguments, never with a URL or the C(mysql) command line
    client, so no credential needs escaping and none appears in a process list.
  - An unreachable server or a refused login fails the task with one sentence that names the host and port
    (or the socket) and the login user, never the password.
"""

    # The TLS options of every module that connects to MariaDB (mysql.TLS_ARGUMENT_SPEC),
    # as osdeploy.nova.mysql.tls.
    TLS = r"""
options:
  ca_cert:
    description:
      - A CA bundle (PEM) to verify the server's certificate with. Setting it turns TLS on.
      - Without it, but with TLS on (another of these options set), the system's CAs are used.
    type: path
  client_cert:
    description:
      - A client certificate (PEM) presented to the server, for accounts that C(REQUIRE X509) or
        C(REQUIRE SUBJECT). Setting it turns TLS on.
    type: path
  client_key:
    description:
      - The private key of O(client_cert), when the certificate file does not hold it.
    type: path
  verify_server_cert:
    description:
      - With TLS on, whether the server's certificate must verify (its chain against O(ca_cert) or the
        system's CAs, and its name against the host connected to). V(false) still encrypts but accepts any
        certificate; use it only for tests.
      - Setting it (V(true) or V(false)) turns TLS on even without O(ca_cert).
      - When none of O(ca_cert), O(client_cert), O(client_key) and O(verify_server_cert) is set, the
        connection does not use TLS.
    type: bool
notes:
  - With TLS on, a server that does not offer TLS, or a certificate that does not verify, fails the task
    with a message naming the server; the module never falls back to an unencrypted connection.
"""
