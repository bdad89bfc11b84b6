# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenStack plumbing every module of the collection that talks to an OpenStack API shares.

- ``OPENSTACK_ARGUMENT_SPEC``: the connection options (documented in the
  ``osdeploy.nova.openstack`` doc fragment), named as in openstack.cloud.
- ``OpenStackModule``: a small base class. It opens ONE
  openstacksdk connection (clouds.yaml cloud name, a cloud dict, an ``auth``
  dict, or the ``OS_*`` environment), authenticates it once up front so that a
  wrong password or an unreachable Keystone gives one clear error naming the
  auth URL, runs SDK calls through ``call()`` (bounded retries of transient
  connection resets and 502/503/504 answers), and turns every SDK/keystoneauth
  exception into a ``fail()`` whose text has the secrets masked. It is the
  skeleton of module_utils/base.py with the connection options added.
- ``describe_error()`` / ``is_transient()``: plain functions, unit-tested
  without an SDK.

Works with Debian 12's python3-openstacksdk 0.101.0 / keystoneauth1 5.0.0 and
with openstacksdk 4.x.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time
import traceback

from ansible_collections.osdeploy.nova.plugins.module_utils.base import Failure, OsdeployModule
from ansible_collections.osdeploy.nova.plugins.module_utils.credentials import mask_text

try:
    import openstack

    HAS_OPENSTACKSDK = True
    OPENSTACKSDK_IMPORT_ERROR = None
except ImportError:
    openstack = None
    HAS_OPENSTACKSDK = False
    OPENSTACKSDK_IMPORT_ERROR = traceback.format_exc()

OPENSTACK_ARGUMENT_SPEC = dict(
    cloud=dict(type="raw", no_log=True),
    auth=dict(type="dict", no_log=True),
    auth_type=dict(type="str"),
    region_name=dict(type="str"),
    validate_certs=dict(type="bool", aliases=["verify"]),
    ca_cert=dict(type="path", aliases=["cacert"]),
    client_cert=dict(type="path", aliases=["cert"]),
    client_key=dict(type="path", no_log=False, aliases=["key"]),
    interface=dict(type="str", default="public", choices=["public", "internal", "admin"],
                   aliases=["endpoint_type"]),
    api_timeout=dict(type="int"),
    api_retries=dict(type="int", default=3),
)

# options that a cloud dict carries itself; giving them next to one is ambiguous
_CLOUD_DICT_EXCLUSIVE = ("auth", "auth_type", "region_name", "validate_certs", "ca_cert",
                         "client_cert", "client_key", "api_timeout")

# words in exception texts that mean "the connection broke under a request", which a
# retry cures (uwsgi's http socket resets idle keep-alive connections now and then)
_TRANSIENT_MARKERS = (
    "connection aborted", "connection reset", "reset by peer", "remotedisconnected",
    "remote end closed connection", "broken pipe", "connectionreseterror",
    "eof occurred in violation of protocol", "bad status line", "incomplete read",
)
_TRANSIENT_STATUS = (502, 503, 504)
_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\")(\]]+")

# keys whose values are secrets wherever they appear in the connection options
_SECRET_KEYS = ("password", "secret", "token", "passcode", "credential")


def collect_secrets(value, _found=None):
    """Every string under a key that names a secret, at any depth of dicts and lists."""
    found = [] if _found is None else _found
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                collect_secrets(item, found)
            elif item and any(word in str(key).lower() for word in _SECRET_KEYS):
                found.append(str(item))
    elif isinstance(value, list):
        for item in value:
            collect_secrets(item, found)
    return found


def _scalars(value):
    """Every scalar under value, as strings (what Ansible puts into no_log_values)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _scalars(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _scalars(item)
    elif isinstance(value, bool) or value is None:
        return
    elif value != "":
        yield str(value)


def _status_of(exc):
    for attr in ("status_code", "http_status"):
        code = getattr(exc, attr, None)
        if isinstance(code, int):
            return code
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None


def _chain_text(exc):
    """The text of an exception and of every exception it was raised from."""
    parts = []
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        parts.append("%s: %s" % (type(exc).__name__, exc))
        exc = exc.__cause__ or exc.__context__
    return " | ".join(parts)


def _kind(exc):
    """Classify an exception by its class names (works with any SDK version, and with fakes)."""
    names = [cls.__name__ for cls in type(exc).__mro__]
    status = _status_of(exc)
    if "SSLError" in names:
        return "tls"
    if "ConnectTimeout" in names:
        return "timeout"
    if "ConnectFailure" in names or "ConnectionError" in names or "UnknownConnectionError" in names:
        return "connect"
    if "MissingRequiredOptions" in names or "MissingAuthPlugin" in names or "ConfigException" in names \
            or "NoMatchingPlugin" in names or "OpenStackConfigException" in names:
        return "config"
    if "DiscoveryFailure" in names:
        return "discovery"
    if status == 401 or "Unauthorized" in names:
        return "unauthorized"
    if status == 403 or "Forbidden" in names:
        return "forbidden"
    if "EndpointNotFound" in names or "EmptyCatalog" in names:
        return "catalog"
    return "other"


def is_transient(exc):
    """Whether retrying the same call may succeed: a connection reset or a 502/503/504."""
    if _status_of(exc) in _TRANSIENT_STATUS:
        return True
    kind = _kind(exc)
    if kind in ("connect", "other"):
        text = _chain_text(exc).lower()
        return any(marker in text for marker in _TRANSIENT_MARKERS)
    return False


def is_unreachable(exc):
    """Whether the exception, or one it was raised from, says the service could not be reached at all
    (refused, timed out, not in the catalog, or a 502/503/504), not that it refused or answered otherwise;
    a TLS error is not unreachable (keystoneauth wraps a refused connection to Keystone into a
    DiscoveryFailure, hence the chain)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        kind = _kind(exc)
        if kind == "tls":
            return False
        if kind in ("connect", "timeout", "catalog") or is_transient(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def is_forbidden(exc):
    """Whether the exception is an HTTP 403 (a policy or a quota said no)."""
    return _kind(exc) == "forbidden"


def is_not_found(exc):
    """Whether the exception is an HTTP 404 (openstacksdk's ResourceNotFound / NotFoundException)."""
    names = [cls.__name__ for cls in type(exc).__mro__]
    return _status_of(exc) == 404 or "ResourceNotFound" in names or "NotFoundException" in names


def describe_error(exc, auth_url=None, doing=None, secrets=()):
    """One sentence that says what failed, where, and what to check; secrets masked."""
    where = "Keystone at %s" % auth_url if auth_url else "the OpenStack cloud (no auth URL known)"
    kind = _kind(exc)
    detail = str(exc) or type(exc).__name__
    if kind in ("connect", "timeout"):
        # keystoneauth's text nests urllib3's; the errno sentence is what a person needs
        reason = _ERRNO.search(detail)
        if reason:
            detail = reason.group(0).rstrip(" .")
    if kind in ("connect", "timeout"):
        msg = ("cannot reach %s: %s. Is Keystone running and is the auth URL right (auth.auth_url, "
               "the cloud's auth_url in clouds.yaml, or OS_AUTH_URL)?" % (where, detail))
    elif kind == "tls":
        msg = ("TLS failure talking to %s: %s. Check ca_cert / validate_certs." % (where, detail))
    elif kind == "unauthorized":
        msg = ("%s refused the admin credentials (HTTP 401): check the username, password, domain "
               "and project in auth / the cloud entry / OS_* variables" % where)
    elif kind == "forbidden":
        msg = ("%s denied %s (HTTP 403): the admin credentials lack the role for it"
               % (where, doing or "the request"))
    elif kind == "discovery":
        msg = ("no usable identity API at %s: %s. The auth URL should be Keystone's, e.g. "
               "http://controller:5000/v3" % (auth_url or "the auth URL", detail))
    elif kind == "config":
        msg = "incomplete or invalid connection options (cloud/auth/OS_* variables): %s" % detail
    elif kind == "catalog":
        msg = "%s: the service catalog has no matching endpoint: %s" % (where, detail)
    else:
        msg = "%s failed at %s: %s" % (doing or "the OpenStack request", where, detail)
    if doing and kind not in ("forbidden", "other"):
        msg = "%s (while trying to %s)" % (msg, doing)
    return mask_text(msg, secrets)


class OpenStackModule(OsdeployModule):
    """The skeleton with one openstacksdk connection: ``connect()``, ``call()``, ``lookup()``."""

    shared_spec = OPENSTACK_ARGUMENT_SPEC
    # no_log as a whole, but only their secret keys are secrets
    partly_secret_options = ("auth", "cloud")
    # every connection opened (open_connection()); their credentials are secrets
    connections = ()

    def __init__(self):
        super(OpenStackModule, self).__init__()
        self.conn = None
        self.connections = []
        self.auth_url = None
        self.retry_count = 0
        self._narrow_no_log()

    def _narrow_no_log(self):
        """Mask only the secrets of ``auth`` and ``cloud``, not every value in them.

        Both options are no_log as a whole, so that Ansible never logs them; but
        Ansible would then mask every value they hold (the auth URL, ``Default``,
        ``admin``...) in every message, and an error could no longer name the auth
        URL. After the module started, the values that are not secrets are taken
        out of the mask list again; the secret ones stay in it.
        """
        secrets = set(self.secrets())
        for option in self.partly_secret_options:
            for value in _scalars(self.params.get(option)):
                if value not in secrets:
                    self.module.no_log_values.discard(value)
        self.module.no_log_values.update(secrets)

    # -- secrets --------------------------------------------------------------
    def secrets(self):
        """Every secret the parameters hold (no_log options and secret keys of auth/cloud)."""
        found = super(OpenStackModule, self).secrets()
        for option in self.partly_secret_options:  # auth, and cloud (or another cloud option) given as a dict
            if isinstance(self.params.get(option), dict):
                found.extend(collect_secrets(self.params[option]))
        for conn in self.connections or [self.conn]:
            if conn is None:
                continue
            try:
                found.extend(collect_secrets(conn.config.get_auth_args()))
            except Exception:  # pragma: no cover - only for masking
                pass
        return found

    def fail_from(self, exc, doing=None):
        self.fail(describe_error(exc, self.auth_url, doing, self.secrets()), error_class=type(exc).__name__)

    # -- connection -----------------------------------------------------------
    def connect(self):
        """Open and authenticate the one connection of this run; fail_json clearly if impossible."""
        self.conn = self.open_connection(self.params["cloud"])
        return self.conn

    def open_connection(self, cloud, option="cloud", who="the admin user"):
        """Open and authenticate a connection to cloud (a clouds.yaml cloud name, a dict or None), with the
        module's other connection options; fail_json clearly if impossible.

        option names the module option cloud came from (in messages); O(auth) and O(auth_type) apply to
        O(cloud) only, the other options (region, TLS, timeout, interface) to every cloud; who is the user the
        credentials are of (in messages)."""
        self.require_library(HAS_OPENSTACKSDK, "openstacksdk (Debian: python3-openstacksdk)",
                             OPENSTACKSDK_IMPORT_ERROR)
        p = self.params
        conn = None
        try:
            if isinstance(cloud, dict):
                given = [name for name in _CLOUD_DICT_EXCLUSIVE if p.get(name) is not None]
                if given:
                    self.fail("%s is a dict, so it must carry the connection settings itself; "
                              "remove %s or give %s as a name" % (option, ", ".join(given), option))
                kwargs = dict(cloud)
                kwargs.setdefault("interface", p["interface"])
                conn = openstack.connect(**kwargs)
            else:
                if cloud is not None and not isinstance(cloud, str):
                    self.fail("%s must be a clouds.yaml cloud name or a dict, not %s" % (option, type(cloud).__name__))
                kwargs = dict(cloud=cloud, interface=p["interface"])
                for name, key in (("auth", "auth"), ("auth_type", "auth_type"),
                                  ("region_name", "region_name"), ("validate_certs", "verify"),
                                  ("ca_cert", "cacert"), ("client_cert", "cert"),
                                  ("client_key", "key"), ("api_timeout", "api_timeout")):
                    if name in ("auth", "auth_type") and option != "cloud":
                        continue
                    if p.get(name) is not None:
                        kwargs[key] = p[name]
                conn = openstack.connect(**kwargs)
        except Failure:
            raise
        except Exception as e:  # config errors: unknown cloud, missing auth_url...
            self.fail_from(e, doing="load the connection settings" + ("" if option == "cloud" else " of %s" % option))
        self.connections.append(conn)
        if self.auth_url is None:
            try:
                self.auth_url = conn.config.get_auth_args().get("auth_url")
            except Exception:  # pragma: no cover - defensive, only used in messages
                self.auth_url = None
        # authenticate now, through keystoneauth directly (Connection.authorize() hides the
        # exception type): one clear error for a wrong password or an unreachable Keystone
        self.call(conn.session.get_token, doing="authenticate as %s" % who)
        return conn

    def find_domain(self, name_or_id, option):
        """The Keystone domain name_or_id; fails naming option when it does not exist."""
        ident = self.conn.identity
        domain = self.lookup(ident.domains, ident.get_domain, name_or_id, "domain")
        if domain is None:
            self.fail("%s: domain %r does not exist in Keystone at %s" % (option, name_or_id, self.auth_url))
        return domain

    def password_logs_in(self, user_name, domain_id, password):
        """Whether Keystone gives the user an (unscoped) token for password: a check of a user's password that
        changes nothing (a read), with the TLS settings of the module's connection."""
        from keystoneauth1 import session as ks_session
        from keystoneauth1.identity import generic, v3
        import keystoneauth1.exceptions

        auth_url = self.auth_url or self.conn.identity.get_endpoint()
        # no project: an unscoped token, so the answer does not depend on the user's roles
        if auth_url.rstrip("/").endswith("/v3"):
            plugin = v3.Password(auth_url=auth_url, username=user_name, user_domain_id=domain_id, password=password)
        else:  # an unversioned auth URL: let keystoneauth discover the v3 API
            plugin = generic.Password(auth_url=auth_url, username=user_name, user_domain_id=domain_id,
                                      password=password)
        admin = self.conn.session
        sess = ks_session.Session(auth=plugin, verify=admin.verify, cert=admin.cert,
                                  timeout=self.params.get("api_timeout"))

        def attempt():
            try:
                sess.get_token()
                return True
            except keystoneauth1.exceptions.Unauthorized:
                return False

        return self.call(attempt, doing="check the password of user %s" % user_name)

    def call(self, func, *args, **kwargs):
        """Run func(*args, **kwargs), retrying transient failures; fail() on the others.

        ``doing`` (a phrase for error messages) and ``recheck`` (a function called
        after a transient failure of a write: if it returns a value, the write did
        land and that value is returned instead of writing again) are taken from kwargs,
        and ``delete=True``: a delete retried after a transient failure that then
        answers 404 did land the first time; it counts as done (returns None).
        """
        doing = kwargs.pop("doing", None)
        recheck = kwargs.pop("recheck", None)
        delete = kwargs.pop("delete", False)
        attempts = max(0, self.params.get("api_retries") or 0) + 1
        for attempt in range(attempts):
            try:
                return func(*args, **kwargs)
            except Failure:
                raise
            except Exception as e:
                if delete and attempt > 0 and is_not_found(e):
                    return None  # the attempt that failed transiently had deleted it
                if attempt + 1 < attempts and is_transient(e):
                    self.retry_count += 1
                    time.sleep(min(0.5 * (2 ** attempt), 4))
                    if recheck is not None:
                        try:
                            landed = recheck()
                        except Exception:
                            landed = None
                        if landed is not None:
                            return landed
                    continue
                if attempts > 1 and is_transient(e):
                    doing = "%s; gave up after %d attempts" % (doing or "send the request", attempts)
                self.fail_from(e, doing=doing)
        return None  # pragma: no cover - fail_from exits

    def listing(self, func, *args, **kwargs):
        """Like call(), for the SDK's lazy generators: the listing is read inside the retry."""
        doing = kwargs.pop("doing", None)
        return self.call(lambda: list(func(*args, **kwargs)), doing=doing)

    def get_or_none(self, get_func, item_id, doing=None):
        """get_func(item_id), one GET retried as every call, None when the cloud says there is no such thing."""
        def get():
            try:
                return get_func(item_id)
            except Exception as e:
                if is_not_found(e):
                    return None
                raise

        return self.call(get, doing=doing)

    def lookup(self, list_func, get_func, name_or_id, what, **filters):
        """Find one resource by name (one list request) or else by id (one GET); None if neither.

        Names are tried first because that is what playbooks give (``Default``,
        ``service``, ``admin``); ``filters`` (e.g. domain_id) narrow the listing and
        are checked on a resource found by id.
        """
        doing = "look up %s %s" % (what, name_or_id)
        found = self.listing(list_func, name=name_or_id, doing=doing, **filters)
        if len(found) > 1:
            self.fail("%s %r is ambiguous: %d match at %s; give its id" % (what, name_or_id, len(found), self.auth_url))
        if found:
            return found[0]
        item = self.get_or_none(get_func, name_or_id, doing=doing)
        if item is not None:
            for key, value in filters.items():
                if getattr(item, key, value) != value:
                    return None
        return item
