# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: mask_log
short_description: Mask the passwords in log lines or command output before they are shown
version_added: 0.1.0
author:
  - osdeploy.nova developers (@osdeploy)
description:
  - >-
    Replaces with C(********) the password of every C(scheme://user:password@host) URL (also the hosts after
    the first of a RabbitMQ C(transport_url)) and the value of every setting whose name contains
    C(password), C(secret) or C(token) (C(name = value) or C(name: value)).
  - For text whose secrets are not known one by one, such as the tails of services' logs shown after a
    failure. A string or a list of strings (each masked).
options:
  _input:
    description: The text, or a list of lines.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Show a log's tail without its secrets
  ansible.builtin.debug:
    msg: "{{ log_tail.stdout_lines | osdeploy.nova.mask_log }}"
"""

RETURN = r"""
_value:
  description: The text or the list of lines, masked.
  type: raw
  sample: ["transport_url = rabbit://openstack:********@controller:5672/", "password = ********"]
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.six import string_types

from ansible_collections.osdeploy.nova.plugins.module_utils.credentials import mask_log as _mask_log


def mask_log(text):
    """lines | osdeploy.nova.mask_log"""
    if isinstance(text, string_types):
        return _mask_log(text)
    if isinstance(text, (list, tuple)):
        return [_mask_log(line if isinstance(line, string_types) else str(line)) for line in text]
    raise AnsibleFilterError("osdeploy.nova.mask_log: expects a string or a list of strings, got %s"
                             % type(text).__name__)


class FilterModule(object):
    def filters(self):
        return {"mask_log": mask_log}
