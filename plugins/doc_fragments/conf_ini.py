# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # What osdeploy.nova.nova_conf_ini and osdeploy.nova.service_conf_ini share: the
    # options of module_utils/conf_ini_module.py argument_spec() that have the same
    # default in both, and how a file is edited. Each module documents settings and group.
    DOCUMENTATION = r"""
options:
  path:
    description:
      - The INI file. It is created (with its settings) when missing; its folder must exist.
    type: path
    required: true
  secret_options:
    description:
      - More options, as C(section.option), whose values must be masked and written literally (each C($)
        doubled), on top of those the module knows to be secret.
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
  owner:
    description: Owner of the file.
    type: str
    default: root
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
attributes:
  check_mode:
    support: full
    description: Reports exactly what would change (content, owner, group, mode) without writing.
  diff_mode:
    support: full
    description: The content diff masks every secret value; owner, group and mode changes are shown too.
notes:
  - The file is edited in place. Comments, blank lines, ordering and every setting not named in O(settings)
    stay as they are, byte for byte; the file is replaced atomically and its owner, group and mode are set.
  - An option already in the file is rewritten where it stands, keeping its C(key = ) spelling. Several
    lines of the same single-valued option in one section (oslo.config uses the last) are collapsed into
    one, and this is reported. A new option goes right after a commented-out default of the same name in
    its section (C(#my_ip = ...), as in the sample files Debian installs) when O(after_commented_default)
    is true and there is one; otherwise after the last option of its section, or right after the header
    of an empty section. A new section is appended at the end of the file. Sections are matched as
    oslo.config matches them (C(DEFAULT) exactly, others case-insensitively).
  - Secret values never appear in output. Options whose name says C(password) or C(secret) and those in
    O(secret_options) are masked in the diff and in errors, and the password of any URL is masked.
  - Values cannot contain line breaks. A value with leading or trailing white space, or wrapped in
    matching quotes, is written in double quotes, which oslo.config removes when it reads it.
  - "oslo.config reads C(\\$) as an escaped C($), so a literal value with a backslash right before a
    C($) cannot be written at all: such a value fails."
seealso:
  - name: oslo.config's file format
    description: Sections, options, multi-valued options and C($) substitution as OpenStack services read them.
    link: https://docs.openstack.org/oslo.config/latest/configuration/format.html
"""
