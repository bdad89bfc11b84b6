# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # What osdeploy.nova.nova_db and osdeploy.nova.service_db share: the options of
    # module_utils/service_db_module.py argument_spec() that have the same default in
    # both, and how the step behaves. Each module documents databases, user and charset.
    DOCUMENTATION = r"""
options:
  password:
    description:
      - Password of O(user) at every host pattern. Required with O(state=present), never empty.
      - Any printable ASCII character is allowed (quotes, backslash, C(@), C(:), C(/), C(%), C($), C(#) and
        spaces). It is never sent to the server, only its C(mysql_native_password) hash, as a parameter of
        the SQL statements. Characters outside printable ASCII are refused because PyMySQL, the driver the
        OpenStack services use, sends passwords as latin-1.
      - Build the service's connection URL with the P(osdeploy.nova.db_url#filter) filter, which
        percent-encodes it.
    type: str
  host_patterns:
    description:
      - The hosts O(user) may connect from, as MariaDB account host parts (C(localhost), C(%), an address,
        a name, C(10.0.0.%), C(10.0.0.0/255.255.255.0)). Letters are stored in lower case.
    type: list
    elements: str
    default: [localhost, '%']
  collation:
    description:
      - Default collation of the databases, checked against C(information_schema); it must belong to
        O(charset).
      - When not set, the server's default collation of O(charset) (C(utf8mb4_general_ci) and
        C(utf8mb3_general_ci) on Debian 12).
    type: str
  state:
    description:
      - C(present) creates or corrects; C(absent) drops O(user) at O(host_patterns) and, only with
        O(drop_databases=true), the databases.
    type: str
    choices: [present, absent]
    default: present
  drop_databases:
    description:
      - With O(state=absent), also drop the databases in O(databases), B(with all their data).
      - Off by default so that removing the user can never destroy the service's data by accident.
    type: bool
    default: false
  revoke_other_grants:
    description:
      - Revoke the privileges of the managed accounts that are not C(ALL PRIVILEGES) on a listed database
        (global privileges and database-level grants on other databases or patterns), so that the accounts
        hold privileges on exactly these databases.
      - Set to V(false) when the same user deliberately has privileges elsewhere; those are then reported in
        the diff but not touched.
    type: bool
    default: true
  update_password:
    description:
      - V(always) sets O(password) on existing accounts whose password differs (rotation);
        V(on_create) sets it only on accounts the module creates.
    type: str
    choices: [always, on_create]
    default: always
  require_tls:
    description:
      - Whether the server must refuse O(user) at each of O(host_patterns) without TLS.
      - V(true) gives every account that has no TLS requirement C(REQUIRE SSL) (C(ALTER USER ... REQUIRE SSL);
        accounts the module creates are created with it). The service then has to connect with TLS (say,
        C(ssl_ca) in its connection URL); without TLS the server refuses the login, over TCP and, with
        MariaDB 10.11, over the unix socket as well.
      - V(false) sets an account that is exactly C(REQUIRE SSL) back to C(REQUIRE NONE), so that turning TLS
        off for a deployment converges back as well, and a second run with either value changes nothing.
      - Unset, every existing account keeps whatever it requires (an operator's C(REQUIRE SSL) set by hand
        stays), and new accounts are created without a requirement.
      - Stricter requirements an operator set (C(REQUIRE X509), C(ISSUER), C(SUBJECT), C(CIPHER)) already
        require TLS and are kept with either value; the module neither relaxes them to C(REQUIRE SSL) nor
        removes them.
      - With V(true) the module first checks that the server offers TLS (C(have_ssl) is C(YES)) and fails
        before any change when it does not, since the accounts could not log in at all. In check mode that
        is a warning, as an earlier task of the same run may be what turns the server's TLS on.
      - Ignored with O(state=absent) (the accounts are dropped with whatever they required). Not related to
        the module's own login, which uses TLS according to O(ca_cert) and the other TLS options.
    type: bool
attributes:
  check_mode:
    support: full
    description: The module reads the server and reports exactly what a real run would do; it changes nothing.
  diff_mode:
    support: full
    description: Before and after of the databases (character set/collation), the accounts, their TLS
      requirement (as C(REQUIRE NONE), C(REQUIRE SSL), C(REQUIRE X509)...) and their grants. A password is
      never shown; a rotation appears as C(changed, not shown).
notes:
  - The server is read first and only what differs is changed, so a second run changes nothing and reports
    C(changed=false).
  - With O(state=present) each database in O(databases) exists with O(charset) and O(collation) (an existing
    database with another default character set or collation is corrected with C(ALTER DATABASE), which
    changes the defaults for new tables only), O(user) exists at each of O(host_patterns) with O(password)
    and the TLS requirement O(require_tls) asks for, and each of these accounts holds exactly
    C(ALL PRIVILEGES) on exactly each listed database.
  - The TLS requirement is read from C(mysql.user) (C(ssl_type)) and changed with C(ALTER USER ... REQUIRE SSL)
    or C(REQUIRE NONE), a step of its own, reported in RV(tls_requirement_changed_for). C(GRANT) and a password
    rotation leave it as it is.
  - Grants name each database exactly; C(_) is escaped as C(\_), so C(nova_api) does not also match, say,
    C(novaXapi) as the unescaped wildcard pattern of the install guides does.
  - With O(revoke_other_grants=true) (the default), every other privilege of these accounts is revoked,
    global privileges (C(ON *.*)) and database-level grants on other databases or patterns, including the
    unescaped grants a manual install left behind; C(GRANT OPTION) on a listed database is always revoked.
    Table-, column- and routine-level grants and roles are not inspected. Accounts of O(user) at host
    patterns that are not listed are left alone; remove them with O(state=absent) and those host patterns.
  - With O(state=absent) O(user) is dropped at each of O(host_patterns) (with all of its grants). The
    databases and the data in them are kept unless O(drop_databases=true).
  - The plain password never reaches the server. The module computes its C(mysql_native_password) hash
    itself and sets it with C(IDENTIFIED BY PASSWORD '<hash>'); to detect a rotation it compares that hash
    with the stored one in SQL, without ever reading or returning the stored hash. So the password is not
    in the server's general log, slow log or process list, and a rotation is applied with C(ALTER USER).
  - Supports MariaDB 10.4 and later (10.5, 10.11 and 11.8 on Debian 11, 12 and 13). MySQL is refused with a
    clear message, because its default authentication plugin makes the password comparison impossible.
  - Passwords are C(no_log) and never appear in results, warnings, errors or the diff. If a statement fails
    midway, the task fails and still reports (in the same return values) what had been done before.
seealso:
  - name: MariaDB GRANT
    description: Privilege levels and the wildcards of database-level grants.
    link: https://mariadb.com/kb/en/grant/
"""
