# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: db_url
short_description: Build Nova's SQLAlchemy database URL with the credentials percent-encoded
version_added: 0.1.0
author:
  - osdeploy.nova developers (@osdeploy)
description:
  - Returns C(mysql+pymysql://USER:PASSWORD@HOST[:PORT]/DATABASE[?QUERY]), the form of Nova's
    C([api_database] connection) and C([database] connection) options.
  - The user and the password are percent-encoded (RFC 3986, nothing left unescaped), so passwords with
    C(@), C(:), C(/), C(%), C(#), C(?), quotes, spaces or C($) survive; SQLAlchemy decodes them again. A
    C($) becomes C(%24), which also keeps oslo.config from reading it as a variable.
  - An IPv6 address as host is put in brackets.
  - The input is the user name; the password, host and database follow as positional arguments.
positional: password, host, database
options:
  _input:
    description: The database user name.
    type: str
    required: true
  password:
    description:
      - The user's password. V(null) leaves the password out (C(user@host)).
    type: str
    required: true
  host:
    description: Host name or address of the database server.
    type: str
    required: true
  database:
    description: The database name.
    type: str
    required: true
  port:
    description: TCP port; left out of the URL when not given.
    type: int
  driver:
    description: The SQLAlchemy dialect and driver (the URL scheme).
    type: str
    default: mysql+pymysql
  query:
    description: A query string without the C(?), for example C(charset=utf8); empty or null adds none.
    type: str
notes:
  - The result contains the password. Write it with C(no_log) tasks and files of mode C(0640) or stricter.
seealso:
  - name: SQLAlchemy database URLs
    description: How SQLAlchemy reads the URL and why special characters must be percent-encoded.
    link: https://docs.sqlalchemy.org/en/20/core/engines.html#database-urls
"""

EXAMPLES = r"""
- name: Nova API database connection
  ansible.builtin.set_fact:
    nova_api_db: "{{ 'nova' | osdeploy.nova.db_url(nova_db_password, 'controller', 'nova_api') }}"
  no_log: true
  # with the password p@ss:w/rd -> mysql+pymysql://nova:p%40ss%3Aw%2Frd@controller/nova_api

- name: With a port and a query string
  ansible.builtin.set_fact:
    nova_db: "{{ 'nova' | osdeploy.nova.db_url(nova_db_password, '10.0.0.11', 'nova', port=3306, query='charset=utf8') }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: The URL, with user and password percent-encoded.
  type: str
  sample: mysql+pymysql://nova:p%40ss%3Aw%2Frd@controller/nova_api
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.osdeploy.nova.plugins.plugin_utils.filter_args import port_arg as _port, text_arg as _text
from ansible_collections.osdeploy.nova.plugins.module_utils.credentials import db_url as _db_url


def db_url(user, password, host, database, port=None, driver="mysql+pymysql", query=None):
    """'nova' | osdeploy.nova.db_url(password, host, database[, port=, driver=, query=])"""
    user = _text(user, "the user (the filter's input)")
    password = _text(password, "password", allow_none=True)
    host = _text(host, "host")
    database = _text(database, "database")
    driver = _text(driver, "driver")
    if any(c in database for c in "/?#"):
        raise AnsibleFilterError("osdeploy.nova.db_url: database %r must not contain '/', '?' or '#'" % database)
    port = _port(port)
    # an empty query is none: the roles pass their TLS parameters, empty without TLS
    if query is not None and query != "":
        query = _text(query, "query").lstrip("?")
    return _db_url(user, password, host, database, port=port, driver=driver, query=query or None)


class FilterModule(object):
    def filters(self):
        return {"db_url": db_url}
