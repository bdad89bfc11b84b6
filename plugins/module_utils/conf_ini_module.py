# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The settings of an oslo.config INI file as a module, shared by ``nova_conf_ini`` and ``service_conf_ini``.

``service_conf_ini`` edits the file of any OpenStack service as plain INI: a secret
is told by its name and ``secret_options``, a list is written as repeated lines.
``nova_conf_ini`` also loads the installed Nova's option schema
(module_utils/nova_options.py): it tells secret, multi-valued and list options
apart and, with ``validate`` (its default), every setting is checked against it.
Which of the two a module is follows from its options, as ``argument_spec()``
builds them: a module with the ``validate`` option uses Nova's schema. The
editing itself is module_utils/ini_edit.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils import ini_edit
from ansible_collections.osdeploy.nova.plugins.module_utils import nova_options
from ansible_collections.osdeploy.nova.plugins.module_utils.credentials import MASK


def argument_spec(group=None, validate=None):
    """The options of an INI module.

    ``group`` None: required (the service's group has no default). ``validate``
    None: a plain INI module, without Nova's schema (no ``validate`` and
    ``schema_cache_dir`` options); True or False: a module that uses Nova's
    schema, ``validate`` defaulting to it.
    """
    spec = dict(
        path=dict(type="path", required=True),
        settings=dict(type="dict", required=True),
        secret_options=dict(type="list", elements="str", default=[], no_log=False),
        literal_options=dict(type="list", elements="str", default=[]),
        owner=dict(type="str", default="root"),
        group=base.default_or_required(dict(type="str"), group),
        mode=dict(type="raw", default="0640"),
        backup=dict(type="bool", default=False),
        after_commented_default=dict(type="bool", default=True),
    )
    if validate is not None:
        spec.update(validate=dict(type="bool", default=validate), schema_cache_dir=dict(type="path"))
    return spec


class ConfIniModule(base.OsdeployModule):
    """Settings of one INI file: read -> plan -> apply. A module sets ``argument_spec`` from ``argument_spec()``."""

    module_kwargs = dict(supports_check_mode=True)
    # The secrets sit inside `settings`, which cannot be no_log as a whole without masking
    # every value of it: the invocation is logged once plan() has registered them.
    defer_invocation_log = True

    def __init__(self):
        super(ConfIniModule, self).__init__()
        self.nova_schema = "validate" in self.params
        self.validate = bool(self.params.get("validate"))

    def validation_result(self, validated, why=None):
        """The result values about validation; only a module that uses Nova's schema has them."""
        if not self.nova_schema:
            return {}
        out = dict(validated=validated)
        if why is not None:
            out["validation"] = why
        return out

    def run(self):
        schema, schema_meta, validated, why = self.load_schema()
        exists, text, problem = self.read_current()
        doc = None
        if problem is None:
            try:
                doc = ini_edit.parse(text)
            except ini_edit.IniError as exc:
                problem = "cannot parse %s (oslo.config could not either): %s" % (self.params["path"], exc)
        plan = self.plan(schema, doc)
        if problem is not None:
            self.fail(problem, **self.validation_result(False))
        if plan["errors"]:
            self.fail("%d problem(s) in settings for %s: %s" % (len(plan["errors"]), self.params["path"],
                                                                "; ".join(plan["errors"])),
                      errors=plan["errors"], **self.validation_result(validated, why))
        for warning in plan["warnings"]:
            self.warn(warning)
        return self.apply(schema, schema_meta, doc, plan, exists, text, validated, why)

    # -- read ---------------------------------------------------------------------
    def load_schema(self):
        """(schema or None, its metadata, validated?, the validation sentence)."""
        if not self.nova_schema:
            return None, None, False, None
        params = self.params
        schema = schema_meta = None
        why = "unknown reason"
        cache_dir = params["schema_cache_dir"]
        if cache_dir is None:
            cache_dir = nova_options.default_cache_dir()
        try:
            data, schema_meta = nova_options.load_schema(cache_dir or None)
            schema = nova_options.Schema(data)
        except nova_options.SchemaUnavailable as exc:
            why = str(exc)
        except Exception as exc:  # enumeration must never be the reason a configuration cannot be written
            why = "%s: %s" % (type(exc).__name__, exc)
        if schema is None:
            if not self.validate:
                return None, None, False, ("validation disabled (validate=false); Nova's schema not available "
                                           "either: %s" % why)
            self.warn("could not validate the settings against Nova's options: nova or oslo.config is not "
                      "importable by %s (%s); the settings are written unchecked"
                      % (sys.executable or "the target's Python", why))
            return None, None, False, "could not validate: %s" % why
        if not self.validate:
            return schema, schema_meta, False, "validation disabled (validate=false)"
        why = "checked against Nova %s (%d sections, %d options; schema %s in %.2fs)" % (
            schema.version, len(data["groups"]), sum(len(o) for o in data["groups"].values()),
            "from cache" if schema_meta["source"] == "cache" else "enumerated", schema_meta["seconds"])
        if data.get("errors"):
            why += "; not loaded: %s" % "; ".join(data["errors"])
        if data.get("absent"):
            why += "; not installed (optional): %s" % ", ".join(data["absent"])
        return schema, schema_meta, True, why

    def read_current(self):
        """(exists, text, problem): the current file, or why it cannot be edited."""
        path = self.params["path"]
        if os.path.isdir(path):
            return True, "", "path %s is a directory, not an INI file" % path
        try:
            data = self.read_file(path)
        except (IOError, OSError) as exc:
            return True, "", "cannot read %s: %s" % (path, exc)
        if data is None:
            if not os.path.isdir(os.path.dirname(path) or "."):
                return False, "", ("the folder of %s does not exist: install the package that creates it first"
                                   % path)
            return False, "", None
        return True, data.decode("utf-8", "surrogateescape"), None

    # -- plan ---------------------------------------------------------------------
    def plan(self, schema, doc):
        """The edits, errors and warnings of the settings; registers their secret values first of all.

        Nothing may be reported before the secrets are known (Ansible masks
        no_log_values in every result, the invocation included).
        """
        params = self.params
        auth_types = {}
        for section, key, _lineno, value in (doc.options() if doc is not None else ()):
            if key == "auth_type":
                auth_types[section] = value
        plan = nova_options.prepare(params["settings"], schema=schema, validate=self.validate,
                                    secret_options=params["secret_options"],
                                    literal_options=params["literal_options"], auth_types=auth_types)
        self.add_secrets(plan["secret_values"], no_log=True)
        self.log_invocation()
        return plan

    # -- apply --------------------------------------------------------------------
    def apply(self, schema, schema_meta, doc, plan, exists, text, validated, why):
        params = self.params
        path = params["path"]
        secret_cache = {}

        def is_secret(section, key):
            if (section, key) not in secret_cache:
                secret_cache[(section, key)] = nova_options.is_secret(schema, section, key, params["secret_options"])
            return secret_cache[(section, key)]

        before_shown = ini_edit.masked_render(doc, is_secret, MASK) if self.diff_mode else None
        changes = ini_edit.apply_settings(doc, plan["edits"], after_comment=params["after_commented_default"])
        # no change: the document is still the file as parsed, whose rendering is the text read
        new_text = doc.render() if changes else text
        content_changed = new_text != text or not exists
        collapsed = self.report_findings(schema, doc, plan, changes, validated)

        result = dict(
            changed=False,
            path=path,
            changed_options=["%s.%s" % (c["section"], c["option"]) for c in changes],
            changes=[dict(option="%s.%s" % (c["section"], c["option"]), action=c["action"], collapsed=c["collapsed"])
                     for c in changes],
            collapsed=collapsed,
            module_warnings=self.warnings,
        )
        result.update(self.validation_result(validated, why))
        if schema_meta is not None:
            result["schema"] = dict(nova_version=schema.version, source=schema_meta["source"],
                                    seconds=schema_meta["seconds"], enumeration_seconds=schema.data.get("seconds"),
                                    cache=schema_meta["cache"])
            if schema_meta.get("cache_error"):
                self.warn("could not write the option schema cache (validation works without it): %s"
                          % schema_meta["cache_error"])

        if params["owner"] and params["group"]:
            self.check_account(params["owner"], params["group"])
        diffs = []
        if self.diff_mode:
            diffs.append(dict(before=before_shown if exists else "",
                              after=ini_edit.masked_render(doc, is_secret, MASK, changed_mark=" (changed)"),
                              before_header=path if exists else "/dev/null", after_header=path))
        attr_diff = dict(before={}, after={})
        changed = content_changed
        if exists:
            # the old file's attributes first: a new file made with a symbolic mode starts from its mode
            changed = self.set_attributes(changed, attr_diff)
        if content_changed and not self.check_mode:
            if params["backup"] and exists:
                result["backup_file"] = self.module.backup_local(path)
            # owner, group and mode before the first byte (a symbolic mode: the old file's, or 0600, until
            # set_attributes): a new file is never world-readable unless mode says so
            self.write_file(path, new_text, base.octal_mode(params["mode"]), params["owner"] or None,
                            params["group"] or None)
            changed = self.set_attributes(changed, attr_diff)
        if attr_diff["before"] or attr_diff["after"]:
            attr_diff["before_header"] = attr_diff["after_header"] = path + " (attributes)"
            diffs.append(attr_diff)
        result["changed"] = changed
        if self.diff_mode:
            result["diff"] = diffs
        return result

    def report_findings(self, schema, doc, plan, changes, validated):
        """Warn about unknown options and duplicates in the file; return the collapsed options."""
        path = self.params["path"]
        managed = set((ini_edit.normalize_section(s), o) for s, o, _v in plan["edits"])
        if validated:
            for warning in nova_options.file_findings(schema, doc.options(), managed):
                self.warn(warning)
        for section, key, count in ini_edit.duplicates(doc, skip=managed):
            info = schema.option(section, key) if schema is not None else None
            if info is None or not info.get("multi"):
                self.warn("[%s] %s is set %d times in %s; oslo.config uses the last one (name it in settings "
                          "to collapse it)" % (section, key, count, path))
        collapsed = []
        for change in changes:
            if change["collapsed"]:
                name = "%s.%s" % (change["section"], change["option"])
                collapsed.append(name)
                self.warn("%s appeared %d times in its section; collapsed into one line"
                          % (name, change["collapsed"] + 1))
        return collapsed

    def check_account(self, owner, group):
        import grp
        import pwd
        try:
            pwd.getpwnam(owner)
        except KeyError:
            self.fail("owner %r does not exist on this host: create it first (for nova.conf the nova "
                      "user comes with the nova-common package) or set owner" % owner)
        try:
            grp.getgrnam(group)
        except KeyError:
            self.fail("group %r does not exist on this host: install the service's package first (nova-common "
                      "creates the nova group) or set group" % group)

    def set_attributes(self, changed, diff):
        module, path = self.module, self.params["path"]
        changed = module.set_owner_if_different(path, self.params["owner"], changed, diff)
        changed = module.set_group_if_different(path, self.params["group"], changed, diff)
        return module.set_mode_if_different(path, self.params["mode"], changed, diff)
