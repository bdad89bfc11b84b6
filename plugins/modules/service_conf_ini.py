#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: service_conf_ini
short_description: Apply many settings of an OpenStack service's oslo.config file in one call
version_added: 0.1.0
description:
  - Edits an oslo.config INI file (C(/etc/nova/nova.conf), C(/etc/nova/nova-compute.conf), or
    Keystone's, Placement's or Glance's configuration file with O(validate=false) and their
    O(owner)/O(group)) in place. Comments, blank lines, ordering and every setting not named in O(settings) stay as they
    are, byte for byte; the file is replaced atomically and its owner, group and mode are set.
  - Formerly C(osdeploy.nova.nova_conf_ini); that name still works (it redirects here) but
    is deprecated and will be removed in 2.0.0.
  - An option already in the file is rewritten where it stands, keeping its C(key = ) spelling.
    Several lines of the same single-valued option in one section (oslo.config uses the last) are
    collapsed into one, and this is reported. A new option goes right after a commented-out default
    of the same name in its section (C(#my_ip = ...), as in the sample nova.conf Debian installs)
    when O(after_commented_default) is true and there is one; otherwise after the last option of
    its section, or right after the header of an empty section. A new section is appended at the
    end of the file. Sections are matched as oslo.config matches them (C(DEFAULT) exactly, others
    case-insensitively).
  - Where nova and oslo.config are importable on the target, every section and option is checked
    against the option definitions of the installed Nova (the oslo-config-generator namespaces of
    Nova's nova.conf and the keystoneauth1 auth plugin options of the groups that use them).
    Unknown sections and options fail with a "did you mean" suggestion, deprecated names and
    options deprecated for removal give a warning naming the replacement, and values of the
    wrong type (boolean, integer, port, choices, URI, host address...) fail. Without Nova the
    module says so in a warning and returns RV(validated=false).
  - "Secret values never appear in output: options that are secret in Nova's schema (oslo.config
    C(secret=True), keystoneauth plugin passwords), options whose name says C(password) or C(secret),
    and O(secret_options) are masked in the diff and in errors, and the password of any URL is masked."
author:
  - osdeploy.nova developers (@osdeploy)
options:
  path:
    description:
      - The INI file. It is created (with its settings) when missing; its folder must exist.
    type: path
    required: true
  settings:
    description:
      - Mapping of section -> option -> value. A value of V(null) removes every line of the option.
      - "Scalars are written as text, booleans as V(true)/V(false)."
      - "A list for a multi-valued option (oslo.config C(MultiStrOpt), e.g. C([pci] alias)) is written as
        repeated C(key = value) lines; a list for a C(ListOpt) (e.g. C([DEFAULT] enabled_apis)) is
        written comma-joined on one line. When Nova's schema is not available, or it does not know the
        option, a list is written as repeated lines: give a C(ListOpt) a comma-separated string then.
        An empty list removes a multi-valued option."
      - "A mapping is written as C(key:value,key:value) (oslo.config C(DictOpt))."
      - "C($name) and C(${group.name}) in a value are oslo.config references to other options (for
        example C($my_ip)) and are written as given; with O(validate) they must name an existing
        option. Secret values and the options in O(literal_options) are written literally: each C($)
        is doubled."
    type: dict
    required: true
  secret_options:
    description:
      - More options, as C(section.option), whose values must be masked and written literally,
        on top of those that are secret in Nova's schema.
    type: list
    elements: str
    default: []
  literal_options:
    description:
      - Options, as C(section.option), whose values are meant literally. Every C($) is written as
        C($$) so that oslo.config does not substitute it. Secret options always are.
    type: list
    elements: str
    default: []
  validate:
    description:
      - Check sections, options and values against the installed Nova's option schema.
      - When V(false), nothing is refused or warned about; the schema is still used, where available,
        to tell secret, multi-valued and list options apart.
    type: bool
    default: true
  owner:
    description: Owner of the file.
    type: str
    default: root
  group:
    description: Group of the file. Nova's services read their configuration as the C(nova) group.
    type: str
    default: nova
  mode:
    description: Mode of the file, octal (V('0640')) or symbolic.
    type: raw
    default: '0640'
  backup:
    description: Keep a timestamped copy of the previous file when it changes.
    type: bool
    default: false
  after_commented_default:
    description:
      - Put a new option right after a commented-out default of the same name in its section
        (C(#name = ...)) when there is one. When V(false), or when there is none, a new option goes
        after the last option of its section.
    type: bool
    default: true
  schema_cache_dir:
    description:
      - Folder for the cached option schema, keyed by the versions of nova, oslo.config,
        keystoneauth1 and the libraries that define options. Enumerating takes 1-2 seconds; reading
        the cache a few hundredths. An empty string disables the cache. The cache is never required.
      - Default C(/var/cache/osdeploy-nova) as root, C(~/.cache/osdeploy-nova) otherwise.
    type: path
attributes:
  check_mode:
    support: full
    description: Reports exactly what would change (content, owner, group, mode) without writing.
  diff_mode:
    support: full
    description: The content diff masks every secret value; owner, group and mode changes are shown too.
notes:
  - Values cannot contain line breaks. A value with leading or trailing white space, or wrapped in
    matching quotes, is written in double quotes, which oslo.config removes when it reads it.
  - "oslo.config reads C(\\$) as an escaped C($), so a literal value with a backslash right before a
    C($) cannot be written at all: such a value fails."
  - Debian's nova-compute loads C(/etc/nova/nova-compute.conf) after C(nova.conf); a value there wins.
    Manage both with this module; unknown options already in a file are reported as warnings.
seealso:
  - name: Nova configuration reference
    description: Every option of nova.conf.
    link: https://docs.openstack.org/nova/latest/configuration/config.html
"""

EXAMPLES = r"""
- name: Controller settings of nova.conf
  osdeploy.nova.service_conf_ini:
    path: /etc/nova/nova.conf
    settings:
      DEFAULT:
        transport_url: "rabbit://openstack:{{ rabbit_password | urlencode }}@controller:5672/"
        my_ip: 10.0.0.11
      api:
        auth_strategy: keystone
      keystone_authtoken:
        www_authenticate_uri: http://controller:5000/
        auth_url: http://controller:5000/
        memcached_servers: controller:11211
        auth_type: password
        project_domain_name: Default
        user_domain_name: Default
        project_name: service
        username: nova
        password: "{{ nova_password }}"
      vnc:
        enabled: true
        server_listen: $my_ip
        server_proxyclient_address: $my_ip
  register: nova_conf

- name: The compute host's virt_type lives in nova-compute.conf, which Debian loads last
  osdeploy.nova.service_conf_ini:
    path: /etc/nova/nova-compute.conf
    settings:
      libvirt:
        virt_type: qemu
        vif_driver: null          # unknown to Zed: remove it
      DEFAULT:
        neutron_ovs_bridge: null  # unknown to Zed: remove it
      pci:
        alias:                    # MultiStrOpt: one line per element
          - '{"vendor_id": "8086", "product_id": "154d", "name": "a1"}'
          - '{"vendor_id": "8086", "product_id": "1520", "name": "a2"}'

- name: A value with a literal dollar in a non-secret option
  osdeploy.nova.service_conf_ini:
    path: /etc/nova/nova.conf
    literal_options: [DEFAULT.instance_name_template]
    settings:
      DEFAULT:
        instance_name_template: instance-$id
"""

RETURN = r"""
changed_options:
  description: The options added, changed or removed, as C(section.option); no values.
  returned: always
  type: list
  elements: str
  sample: [DEFAULT.my_ip, keystone_authtoken.password]
changes:
  description: What happened to each changed option.
  returned: always
  type: list
  elements: dict
  contains:
    option:
      description: C(section.option).
      type: str
    action:
      description: C(added), C(updated) or C(removed).
      type: str
    collapsed:
      description: How many duplicate lines of the option were folded into one.
      type: int
collapsed:
  description: Options that appeared more than once in a section and were collapsed into one line.
  returned: always
  type: list
  elements: str
  sample: [DEFAULT.my_ip]
validated:
  description: Whether the settings were checked against the installed Nova's options.
  returned: always
  type: bool
validation:
  description: How validation went, or why it could not be done.
  returned: always
  type: str
  sample: "checked against Nova 26.2.2 (62 sections, 1336 options; schema from cache in 0.06s)"
schema:
  description: Where the option schema came from.
  returned: when Nova's schema was available
  type: dict
  contains:
    nova_version:
      description: Version of the installed nova Python package.
      type: str
    source:
      description: C(cache) or C(enumerated).
      type: str
    seconds:
      description: Time taken to get the schema.
      type: float
    enumeration_seconds:
      description: Time the enumeration took when the schema was built.
      type: float
    cache:
      description: The cache file, null when none was used.
      type: str
backup_file:
  description: The copy of the previous file.
  returned: when O(backup) and the file changed
  type: str
module_warnings:
  description:
    - The warnings of this run (deprecated options, unknown options already in the file, collapsed
      duplicates, validation not possible), also issued as Ansible warnings. ansible-core 2.19 moves
      a module's C(warnings) out of the registered result, so they are returned here as well.
  returned: always
  type: list
  elements: str
  sample: ["[keystone_authtoken] auth_uri is deprecated for removal since Queens: ..."]
"""

import os
import sys
import tempfile

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils import ini_edit
from ansible_collections.osdeploy.nova.plugins.module_utils import nova_options
from ansible_collections.osdeploy.nova.plugins.module_utils.secrets import MASK


class ServiceConfIni(base.OsdeployModule):
    argument_spec = dict(
        path=dict(type="path", required=True),
        settings=dict(type="dict", required=True),
        secret_options=dict(type="list", elements="str", default=[], no_log=False),
        literal_options=dict(type="list", elements="str", default=[]),
        validate=dict(type="bool", default=True),
        owner=dict(type="str", default="root"),
        group=dict(type="str", default="nova"),
        mode=dict(type="raw", default="0640"),
        backup=dict(type="bool", default=False),
        after_commented_default=dict(type="bool", default=True),
        schema_cache_dir=dict(type="path"),
    )
    module_kwargs = dict(supports_check_mode=True)
    # The secrets sit inside `settings`, which cannot be no_log as a whole without masking
    # every value of it: the invocation is logged once plan() has registered them.
    defer_invocation_log = True

    def run(self):
        schema, schema_meta, validated, why = self.load_schema()
        exists, text, problem = self.read_file()
        doc = None
        if problem is None:
            try:
                doc = ini_edit.parse(text)
            except ini_edit.IniError as exc:
                problem = "cannot parse %s (oslo.config could not either): %s" % (self.params["path"], exc)
        plan = self.plan(schema, doc)
        if problem is not None:
            self.fail(problem, validated=False)
        if plan["errors"]:
            self.fail("%d problem(s) in settings for %s: %s" % (len(plan["errors"]), self.params["path"],
                                                                "; ".join(plan["errors"])),
                      errors=plan["errors"], validated=validated, validation=why)
        for warning in plan["warnings"]:
            self.warn(warning)
        return self.apply(schema, schema_meta, doc, plan, exists, text, validated, why)

    # -- read ---------------------------------------------------------------------
    def load_schema(self):
        """(schema or None, its metadata, validated?, the validation sentence)."""
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
            if not params["validate"]:
                return None, None, False, ("validation disabled (validate=false); Nova's schema not available "
                                           "either: %s" % why)
            self.warn("could not validate the settings against Nova's options: nova or oslo.config is not "
                      "importable by %s (%s); the settings are written unchecked"
                      % (sys.executable or "the target's Python", why))
            return None, None, False, "could not validate: %s" % why
        if not params["validate"]:
            return schema, schema_meta, False, "validation disabled (validate=false)"
        why = "checked against Nova %s (%d sections, %d options; schema %s in %.2fs)" % (
            schema.version, len(data["groups"]), sum(len(o) for o in data["groups"].values()),
            "from cache" if schema_meta["source"] == "cache" else "enumerated", schema_meta["seconds"])
        if data.get("errors"):
            why += "; not loaded: %s" % "; ".join(data["errors"])
        return schema, schema_meta, True, why

    def read_file(self):
        """(exists, text, problem): the current file, or why it cannot be edited."""
        path = self.params["path"]
        if not os.path.exists(path):
            if not os.path.isdir(os.path.dirname(path) or "."):
                return False, "", ("the folder of %s does not exist: install the package that creates it first"
                                   % path)
            return False, "", None
        if os.path.isdir(path):
            return True, "", "path %s is a directory, not an INI file" % path
        try:
            with open(path, "rb") as handle:
                return True, handle.read().decode("utf-8", "surrogateescape"), None
        except (IOError, OSError) as exc:
            return True, "", "cannot read %s: %s" % (path, exc)

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
        plan = nova_options.prepare(params["settings"], schema=schema, validate=params["validate"],
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
            validated=validated,
            validation=why,
            module_warnings=self.warnings,
        )
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
            # tighten the old file first: atomic_move gives the new file the old file's attributes
            changed = self.set_attributes(changed, attr_diff)
        if content_changed and not self.check_mode:
            if params["backup"] and exists:
                result["backup_file"] = self.module.backup_local(path)
            self.write(new_text)
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
            self.fail("group %r does not exist on this host: install nova-common first (it creates "
                      "the nova group) or set group" % group)

    def set_attributes(self, changed, diff):
        module, path = self.module, self.params["path"]
        changed = module.set_owner_if_different(path, self.params["owner"], changed, diff)
        changed = module.set_group_if_different(path, self.params["group"], changed, diff)
        return module.set_mode_if_different(path, self.params["mode"], changed, diff)

    def write(self, text):
        """Write atomically: a temporary file in the same folder, then a rename over the old file."""
        path = self.params["path"]
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(text.encode("utf-8", "surrogateescape"))
                handle.flush()
                os.fsync(handle.fileno())
            old_umask = os.umask(0o077)  # a new file must not be world-readable, not even for a moment
            try:
                self.module.atomic_move(tmp, path)
            finally:
                os.umask(old_umask)
        except Exception as exc:
            if os.path.exists(tmp):
                os.unlink(tmp)
            self.fail("could not write %s (the old file is unchanged): %s" % (path, exc))


def main():
    base.main(ServiceConfIni)


if __name__ == "__main__":
    main()
