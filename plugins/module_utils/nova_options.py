# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option schema of the installed Nova, and the checks made against it.

Enumeration (target side, needs nova and oslo.config importable):

* the oslo-config-generator namespaces that make up Nova's nova.conf sample
  (NAMESPACES: ``nova.conf`` and the libraries it lists), each loaded through
  its ``oslo.config.opts`` entry point, plus ``os_vif`` whose groups
  nova-compute also reads (found by the entry point's value, since os-vif
  5.2.0 names it ``oslo.cache``); OPTIONAL_NAMESPACES may be absent;
* keystoneauth1's auth plugin options: every group that has ``auth_type`` (the
  keystoneauth common options: ``[keystone_authtoken]``, ``[placement]``,
  ``[neutron]``, ``[glance]``, ``[service_user]``...) also accepts the options
  of the plugins keystoneauth1 has installed (``password``, ``v3password``...),
  since ``auth_type`` chooses one at run time.

The result is a plain dict (JSON-serializable) kept in a cache file keyed by the
versions of the packages that define the options, so that a later run reads it
instead of importing Nova again (enumeration takes about 2 s on a 2-core
machine). The cache is never required: any problem with it means enumerating.

Everything else here is pure Python over that dict (unit-tested with a small
fake schema): lookups with deprecated names, "did you mean" suggestions, type
checks, ``$`` references, secret detection and how a list value is written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import difflib
import hashlib
import io
import ipaddress
import json
import os
import re
import sys
import time

from ansible_collections.osdeploy.nova.plugins.module_utils import base, ini_edit
from ansible_collections.osdeploy.nova.plugins.module_utils.credentials import MASK, mask_url

SCHEMA_FORMAT = 1

# Nova's etc/nova/nova-config-generator.conf for Zed (checked against the sample
# nova.conf Debian ships: same sections and options), plus os_vif.
NAMESPACES = (
    "nova.conf",
    "oslo.log",
    "oslo.messaging",
    "oslo.policy",
    "oslo.privsep",
    "oslo.service.periodic_task",
    "oslo.service.service",
    "oslo.db",
    "oslo.db.concurrency",
    "oslo.cache",
    "oslo.middleware",
    "oslo.concurrency",
    "oslo.reports",
    "keystonemiddleware.auth_token",
    "osprofiler",
    "oslo.limit",
    "os_vif",
)
# Namespaces that may be missing: then they are not an error (the schema is complete without them, and cached);
# the schema lists them under "absent".
# oslo.db.concurrency ([database] use_tpool) is gone from oslo.db 17 (Debian 13's Epoxy); osprofiler is only an
# extra of nova (``nova[osprofiler]``; 34.0.0's METADATA: ``Requires-Dist: osprofiler>=1.4.0; extra ==
# "osprofiler"``; its other extras, zvm and vmware, define no namespace of NAMESPACES), so a venv from the
# upper constraints has none, and nova's paste filter tolerates that.
OPTIONAL_NAMESPACES = ("oslo.db.concurrency", "osprofiler")

# Namespaces found by the value of their entry point rather than by its name: os-vif 4.1.0 (Debian 13) names
# its entry point os_vif, os-vif 5.2.0 (2026.2) oslo.cache, the same name as oslo.cache's own.
NAMESPACE_BY_VALUE = {"os_vif": "os_vif.opts:"}

# Options the guides use that no longer exist: a hint for the error message.
REMOVED_HINTS = {
    ("DEFAULT", "use_neutron"): "nova-network was removed: Nova always uses Neutron; delete the line",
    ("DEFAULT", "firewall_driver"): "security groups are Neutron's job since nova-network was removed; delete the line",
    ("DEFAULT", "rpc_backend"): "oslo.messaging takes the driver from the scheme of [DEFAULT] transport_url "
                                "(rabbit://...); delete the line",
    ("DEFAULT", "network_api_class"): "nova-network was removed; delete the line",
    # deprecated in Zed (26.0.0), where it still works; gone by Epoxy (31.0.0): measured with both packages
    ("api", "use_forwarded_for"): "removed after Zed deprecated it: oslo.middleware's HTTPProxyToWSGI does this; "
                                  "set [oslo_middleware] enable_proxy_headers_parsing = true instead",
    ("DEFAULT", "use_forwarded_for"): "removed after Zed deprecated it as [api] use_forwarded_for: set "
                                      "[oslo_middleware] enable_proxy_headers_parsing = true instead",
}

_SECRET_NAME = re.compile(r"password|passwd|secret", re.I)
_SECRET_NAME_UNKNOWN = re.compile(r"(password|passwd|secret|token|(^|_)key)$", re.I)

# `$name`, `${name}`, `$$` as oslo.config's Template reads them (string.Template
# with idpattern [_a-z][._a-z0-9]*, case-insensitive)
_REFERENCE = re.compile(r"\$(?:(?P<escaped>\$)|(?P<named>[_a-z][._a-z0-9]*)|\{(?P<braced>[_a-z][._a-z0-9]*)\}"
                        r"|(?P<invalid>))", re.I)


class SchemaUnavailable(Exception):
    """Nova or oslo.config cannot be imported here: nothing to validate against."""


def normalize_section(name):
    if name == "DEFAULT":
        return name
    return name.lower()


# --------------------------------------------------------------------------- enumeration

def _choices(values):
    if not values:
        return None
    if isinstance(values, dict):
        values = list(values.keys())
    return [c if isinstance(c, (str, int, float, bool)) or c is None else str(c) for c in
            (v[0] if isinstance(v, (tuple, list)) else v for v in values)]


def _type_info(otype):
    """A JSON-able description of an oslo.config type object (or a plain callable)."""
    if otype in (str, None):
        return {"type": "string"}
    if otype is int:
        return {"type": "integer"}
    if otype is bool:
        return {"type": "boolean"}
    if otype is float:
        return {"type": "float"}
    name = type(otype).__name__
    info = {"type": name.lower()}
    if name in ("String", "MultiString"):
        info["type"] = "string"
        info["choices"] = _choices(getattr(otype, "choices", None))
        regex = getattr(otype, "regex", None)
        info["regex"] = getattr(regex, "pattern", regex) if regex else None
        info["max_length"] = getattr(otype, "max_length", None) or None
        info["ignore_case"] = bool(getattr(otype, "ignore_case", False))
    elif name in ("Integer", "Port", "Float"):
        info["type"] = {"Integer": "integer", "Port": "port", "Float": "float"}[name]
        info["min"] = getattr(otype, "min", None)
        info["max"] = getattr(otype, "max", None)
        info["choices"] = _choices(getattr(otype, "choices", None))
    elif name == "Boolean":
        info["type"] = "boolean"
    elif name == "URI":
        info["schemes"] = list(getattr(otype, "schemes", None) or []) or None
        info["max_length"] = getattr(otype, "max_length", None)
    elif name in ("IPAddress", "HostAddress", "HostDomain"):
        info["type"] = {"IPAddress": "ip", "HostAddress": "hostaddress", "HostDomain": "hostdomain"}[name]
        ip = getattr(otype, "ip_address", otype)
        checker = getattr(getattr(ip, "version_checker", None), "__name__", "")
        info["version"] = 4 if checker.endswith("ipv4") else 6 if checker.endswith("ipv6") else None
    elif name == "Hostname":
        info["type"] = "hostname"
    elif name == "List":
        info["item"] = _type_info(getattr(otype, "item_type", None))
    elif name == "Dict":
        info["item"] = _type_info(getattr(otype, "value_type", None))
    elif name == "Range":
        info["type"] = "range"
    else:
        info["type"] = "other"
        info["type_name"] = getattr(otype, "type_name", name)
    return info


def _opt_info(opt):
    info = _type_info(getattr(opt, "type", None))
    info["multi"] = bool(getattr(opt, "multi", False))
    info["secret"] = bool(getattr(opt, "secret", False))
    if getattr(opt, "deprecated_for_removal", False):
        info["deprecated_for_removal"] = True
        info["deprecated_reason"] = str(getattr(opt, "deprecated_reason", None) or "") or None
        info["deprecated_since"] = str(getattr(opt, "deprecated_since", None) or "") or None
    return info


def _group_name(group):
    if group is None:
        return "DEFAULT"
    if isinstance(group, str):
        return group
    return getattr(group, "name", None) or "DEFAULT"


def enumerate_schema():
    """Build the schema dict from the installed Nova and libraries. Raises SchemaUnavailable."""
    try:
        from importlib import metadata
        import oslo_config.cfg  # noqa: F401  pylint: disable=unused-import
        import nova  # noqa: F401  pylint: disable=unused-import
    except ImportError as exc:
        raise SchemaUnavailable("%s: %s" % (type(exc).__name__, exc))
    started = time.time()
    eps = _oslo_entry_points(metadata)
    groups = {}
    aliases = {}
    loaded, failed, absent = [], [], []
    for namespace in NAMESPACES:
        ep = eps.get(namespace)
        if ep is None:
            if namespace in OPTIONAL_NAMESPACES:
                absent.append(namespace)
            else:
                failed.append("%s: not installed" % namespace)
            continue
        try:
            listing = ep.load()()
        except Exception as exc:  # a library we cannot load must not stop validation of the rest
            failed.append("%s: %s: %s" % (namespace, type(exc).__name__, exc))
            continue
        loaded.append(namespace)
        if isinstance(listing, dict):
            listing = listing.items()
        for group, opts in listing:
            gname = _group_name(group)
            target = groups.setdefault(gname, {})
            for opt in opts:
                target.setdefault(opt.dest, _opt_info(opt))
                for dep in getattr(opt, "deprecated_opts", None) or ():
                    old_group = dep.group or gname
                    old_name = (dep.name or opt.dest).replace("-", "_")
                    aliases.setdefault(normalize_section(old_group), {}).setdefault(old_name, [gname, opt.dest])
    plugin_error = _add_auth_plugin_options(groups, aliases)
    if plugin_error:
        failed.append(plugin_error)
    return {
        "format": SCHEMA_FORMAT,
        "versions": schema_versions(),
        "groups": groups,
        "aliases": aliases,
        "namespaces": loaded,
        "absent": absent,
        "errors": failed,
        "seconds": round(time.time() - started, 3),
    }


def _oslo_entry_points(metadata):
    eps = metadata.entry_points()
    if hasattr(eps, "select"):
        selected = eps.select(group="oslo.config.opts")
    else:  # pragma: no cover - Python < 3.10
        selected = eps.get("oslo.config.opts", [])
    return entry_points_by_namespace(selected)


def entry_points_by_namespace(entry_points):
    """{namespace: entry point}: by value for NAMESPACE_BY_VALUE, else by name (the first of a name wins)."""
    found = {}
    for ep in entry_points:
        value = getattr(ep, "value", "") or ""
        namespace = ep.name
        for by_value, prefix in NAMESPACE_BY_VALUE.items():
            if value.startswith(prefix):
                namespace = by_value
        found.setdefault(namespace, ep)
    return found


def _add_auth_plugin_options(groups, aliases):
    """Give every group with keystoneauth's auth_type the options of all installed auth plugins."""
    try:
        from keystoneauth1 import loading
        names = sorted(loading.get_available_plugin_names())
        plugin_opts = {}
        for name in names:
            try:
                opts = loading.get_auth_plugin_conf_options(name)
            except Exception:  # a plugin whose requirements are missing
                continue
            for opt in opts:
                entry = plugin_opts.setdefault(opt.dest, {"opt": opt, "plugins": []})
                entry["plugins"].append(name)
    except Exception as exc:
        return "keystoneauth1 plugins: %s: %s" % (type(exc).__name__, exc)
    for gname, opts in groups.items():
        if "auth_type" not in opts or "auth_section" not in opts:
            continue
        for dest, entry in plugin_opts.items():
            if dest not in opts:
                info = _opt_info(entry["opt"])
                info["plugins"] = entry["plugins"]
                opts[dest] = info
            for dep in getattr(entry["opt"], "deprecated", None) or ():
                old = getattr(dep, "dest", None) or getattr(dep, "name", "").replace("-", "_")
                if old and old not in opts:
                    aliases.setdefault(normalize_section(gname), {}).setdefault(old, [gname, dest])
    return None


def schema_versions():
    """What the cache is keyed by: the versions of the distributions that define the options."""
    from importlib import metadata
    versions = {"python": "%d.%d" % sys.version_info[:2]}
    eps = _oslo_entry_points(metadata)
    for namespace in NAMESPACES:
        ep = eps.get(namespace)
        dist = getattr(ep, "dist", None) if ep is not None else None
        if dist is not None:
            versions[dist.metadata["Name"]] = dist.version
    # pyroute2: os-vif 5.2.0's ovs plugin imports it without requiring it; without it the plugin does not load and
    # [os_vif_ovs] is not in the schema, so installing it must make a new cache file
    for name in ("nova", "keystoneauth1", "oslo.config", "pyroute2"):
        try:
            versions[name] = metadata.version(name)
        except Exception:
            versions[name] = None
    return versions


def default_cache_dir():
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return "/var/cache/osdeploy-nova"
    return os.path.join(os.path.expanduser("~"), ".cache", "osdeploy-nova")


def cache_path(cache_dir, versions):
    digest = hashlib.sha256(json.dumps(versions, sort_keys=True).encode("utf-8")).hexdigest()[:16]
    return os.path.join(cache_dir, "nova-options-%s-f%d-%s.json"
                        % (versions.get("nova") or "unknown", SCHEMA_FORMAT, digest))


def load_schema(cache_dir=None):
    """Return (schema dict, meta) for the installed Nova, from the cache when possible.

    meta: source ("cache" or "enumerated"), seconds, cache (the file or None),
    cache_error (why the cache could not be written, or None).
    Raises SchemaUnavailable when nova or oslo.config is not importable.
    """
    started = time.time()
    meta = {"source": None, "seconds": None, "cache": None, "cache_error": None}
    try:
        versions = schema_versions()
    except Exception as exc:
        raise SchemaUnavailable("cannot read package versions: %s: %s" % (type(exc).__name__, exc))
    if not versions.get("nova"):
        raise SchemaUnavailable("the nova Python package is not installed")
    path = cache_path(cache_dir, versions) if cache_dir else None
    if path and os.path.isfile(path):
        try:
            with open(path) as handle:
                schema = json.load(handle)
            if schema.get("format") == SCHEMA_FORMAT and schema.get("versions") == versions \
                    and isinstance(schema.get("groups"), dict):
                meta.update(source="cache", cache=path, seconds=round(time.time() - started, 3))
                return schema, meta
        except (IOError, OSError, ValueError):
            pass  # unreadable or corrupt: enumerate again and rewrite it
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):  # a library printing on import must not corrupt the module's JSON
        schema = enumerate_schema()
    meta.update(source="enumerated", seconds=round(time.time() - started, 3))
    if path and not schema["errors"]:
        try:
            base.write_atomically(path, json.dumps(schema, sort_keys=True), 0o644)
            meta["cache"] = path
        except (IOError, OSError) as exc:
            meta["cache_error"] = "%s: %s" % (type(exc).__name__, exc)
    return schema, meta


# --------------------------------------------------------------------------- lookups

class Schema:
    """Lookups over a schema dict (from enumerate_schema, the cache, or a test)."""

    def __init__(self, data):
        self.data = data
        self.groups = dict((normalize_section(g), (g, opts)) for g, opts in data["groups"].items())
        self.aliases = data.get("aliases") or {}
        self.version = (data.get("versions") or {}).get("nova") or "unknown"

    def group_name(self, section):
        """The schema's own spelling of a section, or None when unknown."""
        found = self.groups.get(normalize_section(section))
        return found[0] if found else None

    def has_section(self, section):
        norm = normalize_section(section)
        return norm in self.groups or norm in self.aliases

    def option(self, section, option):
        """The info dict of a current option, or None."""
        found = self.groups.get(normalize_section(section))
        if found:
            return found[1].get(option)
        return None

    def lookup(self, section, option):
        """Classify section.option.

        Returns a dict with ``status``: ``ok`` (info), ``alias`` (a deprecated
        name: info of the current option, new_section, new_option),
        ``unknown_section`` or ``unknown_option`` (with ``suggestions``, a list
        of strings like ``[vnc] server_listen``).
        """
        info = self.option(section, option)
        if info is not None:
            return {"status": "ok", "info": info}
        alias = (self.aliases.get(normalize_section(section)) or {}).get(option)
        if alias:
            new_section, new_option = alias
            return {"status": "alias", "info": self.option(new_section, new_option) or {},
                    "new_section": new_section, "new_option": new_option}
        if not self.has_section(section):
            return {"status": "unknown_section", "suggestions": self.suggest_section(section)}
        return {"status": "unknown_option", "suggestions": self.suggest_option(section, option)}

    def suggest_section(self, section):
        names = sorted(set(g for g, _opts in self.groups.values()))
        lowered = dict((n.lower(), n) for n in names)
        matches = difflib.get_close_matches(section.lower(), list(lowered), n=3, cutoff=0.75)
        return ["[%s]" % lowered[m] for m in matches]

    def suggest_option(self, section, option):
        """Close names in the same section first; else the same or close names in other sections."""
        own = self.groups.get(normalize_section(section))
        suggestions = []
        if own:
            gname, opts = own
            current = list(opts)
            old = self.aliases.get(normalize_section(section)) or {}
            for match in difflib.get_close_matches(option, current + list(old), n=3, cutoff=0.75):
                if match in opts:
                    label = "[%s] %s" % (gname, match)
                else:
                    label = "[%s] %s" % tuple(old[match])
                if label not in suggestions:
                    suggestions.append(label)
        if suggestions:
            return suggestions
        scored = []
        for norm, (gname, opts) in self.groups.items():
            if norm == normalize_section(section):
                continue
            for match in difflib.get_close_matches(option, list(opts), n=3, cutoff=0.8):
                ratio = difflib.SequenceMatcher(None, option, match).ratio()
                # [vnc] server_listen for vncserver_listen: the section named in the option wins
                bonus = 0.5 if gname.lower() in option.lower() else 0.0
                scored.append((-(ratio + bonus), gname, match))
        for _score, gname, match in sorted(scored)[:3]:
            suggestions.append("[%s] %s" % (gname, match))
        return suggestions

    def plugin_mismatch(self, section, option, auth_type):
        """For a keystoneauth plugin option: None, or the plugins that do have it when auth_type lacks it."""
        info = self.option(section, option) or {}
        plugins = info.get("plugins")
        if not plugins or not auth_type or auth_type in plugins:
            return None
        return plugins


# --------------------------------------------------------------------------- values

def describe_type(info):
    kind = info.get("type", "string")
    if info.get("choices"):
        return "one of %s" % ", ".join(str(c) for c in info["choices"])
    if kind in ("integer", "float", "port"):
        bounds = []
        if info.get("min") is not None:
            bounds.append(">= %s" % info["min"])
        if info.get("max") is not None:
            bounds.append("<= %s" % info["max"])
        name = {"port": "a port number (integer)", "integer": "an integer", "float": "a number"}[kind]
        return name + (" " + " and ".join(bounds) if bounds else "")
    return {
        "boolean": "a boolean (true or false)",
        "uri": "a URI" + (" with scheme %s" % "/".join(info["schemes"]) if info.get("schemes") else ""),
        "ip": "an IP address",
        "hostaddress": "an IP address or host name",
        "hostdomain": "an IP address or domain name",
        "hostname": "a host name",
        "list": "a comma-separated list",
        "dict": "key:value pairs separated by commas",
    }.get(kind, "a %s value" % kind)


def _check_scalar(info, text):
    """Return None if `text` is a valid value for `info`, else why not."""
    kind = info.get("type", "string")
    if kind == "boolean":
        if text.lower() not in ("true", "false", "1", "0", "on", "off", "yes", "no"):
            return "expected %s" % describe_type(info)
        return None
    if kind in ("integer", "port", "float"):
        try:
            number = float(text) if kind == "float" else int(text.strip())
        except ValueError:
            return "expected %s" % describe_type(info)
        low, high = info.get("min"), info.get("max")
        if kind == "port":
            low = 0 if low is None else low
            high = 65535 if high is None else high
        if (low is not None and number < low) or (high is not None and number > high):
            return "expected %s" % describe_type(dict(info, min=low, max=high))
        if info.get("choices") and number not in info["choices"]:
            return "expected %s" % describe_type(info)
        return None
    if kind == "string":
        choices = info.get("choices")
        if choices:
            if info.get("ignore_case"):
                ok = text.lower() in [str(c).lower() for c in choices if c is not None]
            else:
                ok = text in choices
            if not ok:
                return "expected %s" % describe_type(info)
        if info.get("max_length") and len(text) > info["max_length"]:
            return "longer than %d characters" % info["max_length"]
        if info.get("regex") and not re.search(info["regex"], text):
            return "does not match %s" % info["regex"]
        return None
    if kind == "ip":
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return "expected %s" % describe_type(info)
        if info.get("version") and address.version != info["version"]:
            return "expected an IPv%d address" % info["version"]
        return None
    if kind in ("uri", "hostaddress", "hostdomain", "hostname"):
        return _check_with_oslo(info, text)
    return None


def _check_with_oslo(info, text):
    """oslo.config's own checks for the types whose rules are intricate (RFC 3986, RFC 1912)."""
    try:
        from oslo_config import types
    except ImportError:
        return None
    kind = info["type"]
    if kind == "uri":
        checker = types.URI(max_length=info.get("max_length"), schemes=info.get("schemes"))
    elif kind == "hostaddress":
        checker = types.HostAddress(version=info.get("version"))
    elif kind == "hostdomain":
        checker = types.HostDomain(version=info.get("version"))
    else:
        checker = types.Hostname()
    try:
        checker(text)
    except ValueError:
        return "expected %s" % describe_type(info)
    return None


def check_value(info, text):
    """Why `text` (a parser-level string) is not a valid value for `info`, or None."""
    kind = info.get("type", "string")
    if kind == "list":
        item = info.get("item") or {"type": "string"}
        for part in [p.strip() for p in text.split(",")] if text.strip() else []:
            why = _check_scalar(item, part)
            if why:
                return "list item %r: %s" % (part, why)
        return None
    if kind == "dict":
        for part in [p.strip() for p in text.split(",")] if text.strip() else []:
            if ":" not in part:
                return "item %r is not key:value" % part
        return None
    return _check_scalar(info, text)


def scalar_text(value):
    """A YAML scalar as oslo.config text: booleans as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    raise ValueError("expected a string, number or boolean, got %s" % type(value).__name__)


def value_strings(info, value):
    """The parser-level strings to write for a caller's value (before ``$`` handling).

    * scalars: one string (booleans as true/false);
    * a list for a multi-valued option (oslo MultiStrOpt/MultiOpt): one string
      per element, written as repeated ``key = value`` lines;
    * a list for a ListOpt: one comma-joined string;
    * a list for an option the schema does not know (no schema, or
      ``validate: false`` with an unknown option): repeated lines, as for a
      MultiStrOpt;
    * a mapping for a DictOpt (or an unknown option): ``key:value`` pairs
      joined with commas;
    * an empty list for a multi-valued or unknown option: no line at all.

    Raises ValueError when the shape does not fit the option.
    """
    kind = (info or {}).get("type")
    multi = bool((info or {}).get("multi"))
    if isinstance(value, (list, tuple)):
        items = [scalar_text(v) for v in value]
        if info is None or multi:
            return items
        if kind == "list":
            for item in items:
                if "," in item:
                    raise ValueError("list item %r contains a comma, which would split it in two" % item)
            return [",".join(items)]
        raise ValueError("got a list, but this option takes a single value (%s)" % describe_type(info))
    if isinstance(value, dict):
        if info is None or kind == "dict":
            pairs = []
            for key, val in value.items():
                key, val = scalar_text(key), scalar_text(val)
                if "," in key + val or ":" in key:
                    raise ValueError("mapping entry %r: %r cannot be written as key:value" % (key, val))
                pairs.append("%s:%s" % (key, val))
            return [",".join(pairs)]
        raise ValueError("got a mapping, but this option is %s" % describe_type(info))
    return [scalar_text(value)]


def references(text):
    """The `$` references in a value as oslo.config would substitute them."""
    refs = []
    for match in _REFERENCE.finditer(text):
        name = match.group("named") or match.group("braced")
        if name:
            refs.append(name)
    return refs


def check_references(schema, section, text):
    """Why the `$` references in a value would fail in oslo.config, or None."""
    for name in references(text):
        if "." in name:
            group, option = name.split(".", 1)
            if group == "DEFAULT":
                return ("'${%s}': oslo.config has no group named DEFAULT for references; write $%s"
                        % (name, option))
            if schema.option(group, option) is not None:
                continue
        elif schema.option(section, name) is not None or schema.option("DEFAULT", name) is not None:
            continue
        hint = ""
        pool = set(schema.groups.get(normalize_section(section), ("", {}))[1]) | set(
            schema.groups.get("DEFAULT", ("", {}))[1])
        close = difflib.get_close_matches(name, sorted(pool), n=1, cutoff=0.75)
        if close:
            hint = " (did you mean $%s?)" % close[0]
        return ("'$%s' refers to no option%s; oslo.config substitutes $name with the value of that option. "
                "For a literal '$' list the option in literal_options (or write '$$')" % (name, hint))
    return None


def is_secret(schema, section, option, extra=()):
    """Whether the value of section.option must never be shown."""
    if "%s.%s" % (section, option) in extra or "%s.%s" % (normalize_section(section), option) in extra:
        return True
    if _SECRET_NAME.search(option):
        return True
    info = schema.option(section, option) if schema is not None else None
    if info is None and schema is not None:
        lookup = schema.lookup(section, option)
        if lookup["status"] == "alias":
            info = lookup["info"]
    if info is not None:
        return bool(info.get("secret"))
    return bool(_SECRET_NAME_UNKNOWN.search(option))


# --------------------------------------------------------------------------- one call's plan

def _key(section, option):
    return "%s.%s" % (section, option)


def _shown(value, secret):
    return MASK if secret else mask_url(value)


def prepare(settings, schema=None, validate=True, secret_options=(), literal_options=(), auth_types=None):
    """Check the caller's settings and turn them into ini_edit edits.

    `schema` is a Schema or None (not available); with `validate` unknown
    sections and options, wrong types and broken ``$`` references are errors,
    deprecated names and options warnings. `auth_types` maps a normalized
    section to the auth_type already in the file (for plugin option warnings).

    Returns a dict: edits (list of (section, option, strings or None)),
    errors, warnings, secret_values (what must never be shown), literal (the
    keys written with ``$`` doubled).
    """
    plan = {"edits": [], "errors": [], "warnings": [], "secret_values": [], "literal": []}
    errors, warnings = plan["errors"], plan["warnings"]
    if not isinstance(settings, dict):
        errors.append("settings must be a mapping of section -> option -> value, got %s"
                      % type(settings).__name__)
        return plan
    secret_options = set(secret_options or ())
    literal_options = set(literal_options or ())
    for name in sorted(secret_options | literal_options):
        if not isinstance(name, str) or "." not in name:
            errors.append("secret_options and literal_options take section.option names, got %r" % (name,))
    auth_types = dict(auth_types or {})
    for section, options in settings.items():
        if isinstance(options, dict) and isinstance(section, str):
            value = options.get("auth_type")
            if isinstance(value, str):
                auth_types[normalize_section(section)] = value
    for section, options in settings.items():
        try:
            ini_edit.check_section_name(section)
        except ini_edit.IniError as exc:
            errors.append(str(exc))
            continue
        if not isinstance(options, dict):
            errors.append("settings[%r] must be a mapping of option -> value (null removes an option); "
                          "got %s" % (section, "null" if options is None else type(options).__name__))
            continue
        for option, value in options.items():
            try:
                ini_edit.check_option_name(section, option)
            except ini_edit.IniError as exc:
                errors.append(str(exc))
                continue
            where = "[%s] %s" % (section, option)
            info = None
            if schema is not None:
                found = schema.lookup(section, option)
                status = found["status"]
                if status in ("ok", "alias"):
                    info = found["info"] or None
                if validate:
                    _judge(schema, section, option, value, found, auth_types, errors, warnings)
            secret = is_secret(schema, section, option, secret_options)
            literal = secret or _key(section, option) in literal_options
            if value is None:
                plan["edits"].append((section, option, None))
                continue
            try:
                try:
                    strings = value_strings(info, value)
                except ValueError:
                    if validate or info is None:
                        raise
                    strings = value_strings(None, value)  # validate: false: write what was given
            except ValueError as exc:
                errors.append("%s: %s" % (where, exc))
                continue
            bad = False
            for text in strings:
                try:
                    ini_edit.check_value_text(section, option, text)
                except ini_edit.IniError as exc:
                    errors.append(str(exc))
                    bad = True
            if bad:
                continue
            if secret:
                plan["secret_values"].extend(strings)
            else:  # a URL with a password in an option not known as secret: hide the whole value
                plan["secret_values"].extend(t for t in strings if mask_url(t) != t)
            if validate and schema is not None and info is not None:
                for text in strings:
                    why = None
                    if literal or not references(text):
                        why = check_value(info, text)
                    else:
                        why = check_references(schema, section, text)
                    if why:
                        errors.append("%s = %s: %s" % (where, _shown(text, secret), why))
            if literal:
                try:
                    strings = [ini_edit.escape_dollars(text) for text in strings]
                except ini_edit.IniError as exc:
                    errors.append("the value of %s %s" % (where, exc))
                    continue
                plan["literal"].append(_key(section, option))
                if secret:
                    plan["secret_values"].extend(strings)
            plan["edits"].append((section, option, strings))
    return plan


def _judge(schema, section, option, value, found, auth_types, errors, warnings):
    """Errors and warnings for one setting (validate on)."""
    status = found["status"]
    where = "[%s] %s" % (section, option)
    removing = value is None
    if status == "unknown_section":
        hint = found["suggestions"]
        text = "[%s] is not a section Nova %s reads%s" % (
            section, schema.version, " (did you mean %s?)" % " or ".join(hint) if hint else "")
        if removing:
            warnings.append(text + "; removing %s anyway" % where)
        else:
            errors.append(text)
        return
    if status == "unknown_option":
        norm = normalize_section(section)
        group = schema.group_name(section) or section
        removed = REMOVED_HINTS.get((group, option)) or REMOVED_HINTS.get((norm, option))
        hint = found["suggestions"]
        text = "%s is not an option of Nova %s" % (where, schema.version)
        if removed:
            text += " (%s)" % removed
        elif hint:
            text += " (did you mean %s?)" % " or ".join(hint)
        if removing:
            warnings.append(text + "; removing it anyway")
        else:
            errors.append(text)
        return
    if status == "alias":
        if not removing:
            warnings.append("%s is a deprecated name in Nova %s: use [%s] %s instead"
                            % (where, schema.version, found["new_section"], found["new_option"]))
        return
    info = found["info"]
    if info.get("deprecated_for_removal") and not removing:
        reason = info.get("deprecated_reason") or "it will be removed in a later release"
        since = " since %s" % info["deprecated_since"] if info.get("deprecated_since") else ""
        warnings.append("%s is deprecated for removal%s: %s" % (where, since, reason.strip()))
    auth_type = auth_types.get(normalize_section(section))
    plugins = schema.plugin_mismatch(section, option, auth_type) if not removing else None
    if plugins:
        warnings.append("%s is an option of the auth plugins %s, not of auth_type %s set in [%s]"
                        % (where, ", ".join(plugins), auth_type, section))


def file_findings(schema, doc_options, managed, limit=20):
    """Warnings about options already in the file that this Nova does not know (not the managed ones)."""
    warnings = []
    seen = set()
    for section, key, lineno, _value in doc_options:
        if (section, key) in managed or (section, key) in seen:
            continue
        seen.add((section, key))
        found = schema.lookup(section, key)
        if found["status"] in ("unknown_section", "unknown_option"):
            hint = found["suggestions"]
            warnings.append("line %d: [%s] %s is not an option of Nova %s, which ignores it%s; "
                            "set it to null to remove it" % (
                                lineno, section, key, schema.version,
                                " (did you mean %s?)" % " or ".join(hint) if hint else ""))
        elif found["status"] == "alias":
            warnings.append("line %d: [%s] %s is a deprecated name: use [%s] %s instead"
                            % (lineno, section, key, found["new_section"], found["new_option"]))
        if len(warnings) >= limit:
            warnings.append("(further findings in the file not shown)")
            break
    return warnings
