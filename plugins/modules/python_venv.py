#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: python_venv
short_description: A virtual environment installed from a wheelhouse with constraints, never from the registry
version_added: 0.1.0
description:
  - Makes (or completes) the virtual environment O(path) from the platform's Python (O(python)) and installs
    O(requirements) into it with the environment's pip, from O(find_links) only (C(--no-index), and wheels only,
    so nothing is built on this host), pinned by O(constraints).
  - Makes the named O(system_packages) of the platform's Python visible in the environment by symbolic links
    in its C(site-packages), e.g. Debian's C(python3-libvirt) in Nova's environment. Never
    C(--system-site-packages), which would show every package of the system.
  - C(changed) is true only when it made the environment, installed something (pip's dry run from
    O(find_links) reports something to install) or changed a link. A converged environment is not touched
    and O(find_links) is then not even read.
  - An environment made with another Python than O(python) (another minor version after a platform
    upgrade, or another interpreter), one that sees the system's packages, or one whose creation was
    interrupted (no pip) is made again (C(venv --clear)) and reinstalled, with a warning that says why, as
    its packages could not run with the requested Python anyway.
  - Every distribution it would install must be pinned to one version (C(==) or C(===)) by O(constraints)
    or O(requirements); anything else is refused before installing.
author:
  - osdeploy.nova developers (@osdeploy)
options:
  path:
    description:
      - The environment, an absolute path, e.g. C(/opt/osdeploy/venvs/nova-34.0.0). Made when absent; an
        existing folder that is not an environment (no C(pyvenv.cfg)) and not empty is refused.
    type: path
    required: true
  python:
    description:
      - The platform's Python the environment is made from (it needs Debian's C(python3-venv)), and whose
        O(system_packages) are linked.
    type: path
    default: /usr/bin/python3
  requirements:
    description:
      - What to install, as pip requirements without URLs, paths or options, e.g. C(nova==34.0.0).
      - Distributions installed earlier and no longer required are left in place.
    type: list
    elements: str
    default: []
  constraints:
    description:
      - A constraints file on this host that pins every dependency (the one the wheelhouse was built with).
    type: path
    required: true
  find_links:
    description:
      - Where the wheels are, the only place pip looks - the wheelhouse's folder on this host, or the
        http(s) URL it is served at (see M(osdeploy.nova.wheelhouse)).
      - A user or password in the URL is masked in every message and result.
    type: str
    required: true
  system_packages:
    description:
      - Importable top-level module names of O(python)'s own packages (C(/usr/lib/python3/dist-packages)) to
        link into the environment, e.g. C(libvirt) (Debian's C(python3-libvirt)).
      - Each name brings every top-level entry of the distribution that provides it - for C(libvirt) the
        C(libvirt), C(libvirt_qemu), C(libvirt_lxc) and C(libvirtaio) modules, the C(libvirtmod*) extension
        modules and its C(.egg-info) - as found by the platform's Python (C(importlib.metadata)).
      - Links to the system's packages that are no longer named are removed. A name that the environment's own
        packages provide is refused, and so is a requirement that would make pip replace a linked
        distribution (pip would remove the system's files through the links).
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description:
      - Predicts C(changed), RV(installed) and RV(links_changed) without writing anything. For an existing
        environment pip's dry run reads O(find_links); for a missing one it reports that it would make it and
        install its O(requirements) as given.
  diff_mode:
    support: none
    description: What changed is in RV(installed) and RV(links_changed).
notes:
  - Needs Debian's C(python3-venv) for O(python); the environment's pip is the one C(venv) installs (pip
    22.2 or later is needed, Debian 12 gives 23.0.1).
  - pip runs isolated from its user configuration and C(PIP_*) variables, without a cache.
seealso:
  - module: osdeploy.nova.wheelhouse
    description: Builds the wheelhouse this module installs from.
"""

EXAMPLES = r"""
- name: Nova 34.0.0 in its own environment, from the controller's wheelhouse, with Debian's libvirt binding
  osdeploy.nova.python_venv:
    path: /opt/osdeploy/venvs/nova-34.0.0
    requirements: [nova==34.0.0]
    constraints: /etc/osdeploy/constraints/2026.2.txt
    find_links: http://192.168.58.10:8008/
    system_packages: [libvirt]
  register: nova_venv

- name: Placement on the controller, from the wheelhouse's folder
  osdeploy.nova.python_venv:
    path: /opt/osdeploy/venvs/placement-16.0.0
    requirements: [openstack-placement==16.0.0, PyMySQL]
    constraints: /etc/osdeploy/constraints/2026.2.txt
    find_links: /var/cache/osdeploy/wheelhouse/2026.2-3f9c2a
"""

RETURN = r"""
path:
  description: The environment.
  returned: always
  type: str
  sample: /opt/osdeploy/venvs/nova-34.0.0
python_version:
  description: The version of O(python), the environment's Python.
  returned: success
  type: str
  sample: 3.13.5
created:
  description: Whether this run made the environment, or made it again (in check mode, would).
  returned: success
  type: bool
  sample: false
installed:
  description:
    - What this run installed, as C(name==version) (in check mode, what it would install; for an environment
      to be made or made again, O(requirements) as given).
  returned: success
  type: list
  elements: str
  sample: [nova==34.0.0, oslo.config==10.0.0]
linked:
  description: The entries of the environment's C(site-packages) that are links to O(system_packages).
  returned: success
  type: list
  elements: str
  sample: [libvirt.py, libvirt_lxc.py, libvirt_python-11.3.0.egg-info, libvirt_qemu.py, libvirtaio.py,
           libvirtmod.cpython-313-x86_64-linux-gnu.so]
links_changed:
  description: The links this run made, replaced or removed (in check mode, would).
  returned: success
  type: list
  elements: str
  sample: []
unpinned:
  description: The distributions that nothing pins, when the run refused them.
  returned: failure
  type: list
  elements: str
  sample: [setuptools]
"""

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils.pip_tools import PythonVenvModule


class PythonVenv(PythonVenvModule):
    """The environment step with its options: the steps are module_utils/pip_tools.py's."""

    argument_spec = dict(
        path=dict(type="path", required=True),
        python=dict(type="path", default="/usr/bin/python3"),
        requirements=dict(type="list", elements="str", default=[]),
        constraints=dict(type="path", required=True),
        find_links=dict(type="str", required=True),
        system_packages=dict(type="list", elements="str", default=[]),
    )
    module_kwargs = dict(supports_check_mode=True)


def main():
    base.main(PythonVenv)


if __name__ == "__main__":
    main()
