# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection URLs with credentials, and keeping secrets out of output.

Every module of the collection that handles a password or a URL with a password
uses these functions, so that one piece of code decides how a URL is built
(user and password percent-encoded, as SQLAlchemy and oslo.messaging expect)
and how secrets are masked in results, diffs, warnings and errors.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from urllib.parse import quote, unquote, urlsplit
except ImportError:  # pragma: no cover - Python 2 controllers are not supported
    from urllib import quote, unquote  # type: ignore
    from urlparse import urlsplit  # type: ignore

MASK = "********"

# scheme://user:password@host...  (several hosts may follow, comma-separated, as in
# a RabbitMQ transport_url: rabbit://u:p@h1:5672,u:p@h2:5672/). The password runs to
# the last '@' of its host segment, so that an unencoded '@' in it (a broken URL, as
# nova-manage's own cell0 default writes) is masked whole, not half.
_USERINFO = re.compile(r"(?P<pre>(?:[a-zA-Z][a-zA-Z0-9+.\-]*://|,)[^:/@\s,]*:)(?P<pw>[^\s/,]*)(?P<at>@)")


# A setting whose name says it holds a secret, as services log or print it:
# "password = x", "metadata_proxy_shared_secret: x", "auth_token=x", "PASSWD=x".
_SECRET_SETTING = re.compile(r"(?i)(?P<key>\w*(?:password|passwd|secret|token)\w*['\"]?\s*[=:]\s*)(?P<value>\S+)")


def _enc(text):
    return quote(text, safe="")


def build_url(scheme, user, password, host, path="", port=None, query=None):
    """Return scheme://user:password@host[:port]/path[?query] with user and password encoded.

    >>> build_url('mysql+pymysql', 'nova', 'p@ss:/w%rd', 'controller', 'nova_api')
    'mysql+pymysql://nova:p%40ss%3A%2Fw%25rd@controller/nova_api'
    """
    if ":" in host and not host.startswith("["):
        host = "[%s]" % host  # IPv6 literal
    netloc = host if port in (None, "") else "%s:%s" % (host, port)
    if user is not None:
        cred = _enc(user) if password is None else "%s:%s" % (_enc(user), _enc(password))
        netloc = "%s@%s" % (cred, netloc)
    url = "%s://%s/%s" % (scheme, netloc, path.lstrip("/"))
    if query:
        url += "?" + query
    return url


def db_url(user, password, host, database, port=None, driver="mysql+pymysql", query=None):
    """The SQLAlchemy URL that Nova's [database]/[api_database] connection wants."""
    return build_url(driver, user, password, host, database, port=port, query=query)


# oslo.messaging 14 (Zed) and 16 (Epoxy) decode the credentials of a
# transport_url and encode them again for kombu with urllib's quote(), which
# leaves "/" as it is (measured with both, and kombu 5.2 and 5.5): with one in
# the password kombu reads the rest of it as the port, and every service that
# uses RabbitMQ exits at start ("Port could not be cast to integer value"); with
# one in the user kombu logs in as guest to a host named after its first part.
RABBITMQ_SLASH_ERROR = (
    "the RabbitMQ %s must not contain '/': oslo.messaging (Zed and Epoxy alike) passes it to "
    "kombu with the '/' unencoded, and every Nova service that uses RabbitMQ then fails at "
    "start (\"Port could not be cast to integer value\" for a password; a login as guest to "
    "the wrong host for a user). Choose one without '/'")


def transport_url(user, password, hosts, port=5672, vhost="/", scheme="rabbit"):
    """oslo.messaging's transport_url for one or more RabbitMQ hosts.

    >>> transport_url('openstack', 'p@ss', ['ctl1', 'ctl2'])
    'rabbit://openstack:p%40ss@ctl1:5672,openstack:p%40ss@ctl2:5672/'
    """
    if isinstance(hosts, str):
        hosts = [hosts]
    if not hosts:
        raise ValueError("at least one RabbitMQ host is needed")
    for what, value in (("user", user), ("password", password)):
        if value is not None and "/" in value:
            raise ValueError(RABBITMQ_SLASH_ERROR % what)
    cred = "%s:%s" % (_enc(user), _enc(password)) if password is not None else _enc(user)
    netlocs = []
    for host in hosts:
        if ":" in host and not host.startswith("["):
            host = "[%s]" % host
        netlocs.append("%s@%s:%s" % (cred, host, port))
    path = "" if vhost in (None, "", "/") else _enc(vhost)
    return "%s://%s/%s" % (scheme, ",".join(netlocs), path)


def parse_db_url(url):
    """Split a mysql+pymysql URL into PyMySQL connect() keyword arguments and the database.

    Returns a dict with host, port, user, password, database and, for a
    ``?unix_socket=`` query, unix_socket; for ``ssl_*`` query parameters, ``ssl``:
    the dict SQLAlchemy's MySQL dialects hand to PyMySQL (``ssl_ca`` -> ``ca``,
    ``ssl_capath``, ``ssl_cert``, ``ssl_key``, ``ssl_cipher``, and
    ``ssl_check_hostname`` as a bool), so that a module connects with the TLS
    settings Nova connects with. Raises ValueError on anything else.
    """
    parts = urlsplit(url)
    if not parts.scheme.startswith("mysql"):
        raise ValueError("not a MySQL/MariaDB URL (scheme %r)" % parts.scheme)
    result = {
        "host": parts.hostname or "localhost",
        "port": parts.port or 3306,
        "user": unquote(parts.username) if parts.username is not None else None,
        "password": unquote(parts.password) if parts.password is not None else None,
        "database": unquote(parts.path.lstrip("/")) or None,
    }
    ssl = {}
    for item in parts.query.split("&"):
        key, sep, value = item.partition("=")
        if sep and key == "unix_socket":
            result["unix_socket"] = unquote(value)
        elif sep and key in _URL_SSL_KEYS:
            ssl[key[len("ssl_"):]] = unquote(value)
        elif sep and key == "ssl_check_hostname":
            ssl["check_hostname"] = _as_bool(unquote(value), key)
    if ssl:
        result["ssl"] = ssl
    return result


# the ssl_* parameters of a mysql+pymysql URL that SQLAlchemy passes on to PyMySQL as ssl={...}
_URL_SSL_KEYS = ("ssl_ca", "ssl_capath", "ssl_cert", "ssl_key", "ssl_cipher")


def _as_bool(text, key):
    """SQLAlchemy's asbool() for a URL parameter."""
    word = text.strip().lower()
    if word in ("true", "yes", "on", "y", "t", "1"):
        return True
    if word in ("false", "no", "off", "n", "f", "0"):
        return False
    raise ValueError("%s=%s is not a boolean" % (key, text))


def mask_url(url):
    """Replace the password of every user:password@ in a URL (or any text) with the mask."""
    if not url:
        return url
    return _USERINFO.sub(lambda m: m.group("pre") + MASK + m.group("at"), url)


def mask_log(text):
    """Mask what a service's log or a command's output may hold without us knowing the secret:
    URL passwords and the values of settings named *password*, *secret* or *token*."""
    if not text:
        return text
    return _SECRET_SETTING.sub(lambda m: m.group("key") + MASK, mask_url(text))


def secret_variants(secrets):
    """Each secret as it may appear in text: as is and percent-encoded (as in a URL)."""
    variants = set()
    for secret in secrets:
        if not secret:
            continue
        secret = str(secret)
        variants.update((secret, _enc(secret), quote(secret)))
    return variants


def mask_text(text, secrets=()):
    """Mask URL passwords and each given secret, also in its percent-encoded form.

    Use it on anything a module returns or reports that came from a command or a
    service: stdout, stderr, exception messages.
    """
    if text is None:
        return text
    variants = secret_variants(secrets)
    # longest first, so that a secret containing another is masked whole
    # (before mask_url, which could otherwise cut a secret in two and leave half of it)
    for value in sorted(variants, key=len, reverse=True):
        text = text.replace(value, MASK)
    return mask_url(text)


def mask_values(value, secrets):
    """A copy of value (dicts, lists, strings) with every secret masked in every string."""
    if isinstance(value, str):
        return mask_text(value, secrets)
    if isinstance(value, dict):
        return dict((key, mask_values(item, secrets)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [mask_values(item, secrets) for item in value]
    return value
