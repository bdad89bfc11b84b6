#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: wheelhouse
short_description: A folder of wheels for a set of requirements pinned by a constraints file, fetched once
version_added: 0.1.0
description:
  - The first step of a source install. It makes sure that O(path) holds a wheel of every distribution that
    O(requirements) need, at the versions O(constraints) pin, for the Python of this host (O(python)), so
    that other hosts install from that folder (served over HTTP, or as a folder) with C(pip --no-index) and
    never from the registry. See M(osdeploy.nova.python_venv).
  - It first resolves O(requirements) against O(path) alone, offline. When the folder already satisfies
    them, nothing is fetched, the index is not contacted and the run reports no change.
  - Otherwise it resolves them against the index (O(index_url)) and fetches exactly the distributions the
    folder lacks with C(pip wheel). Distributions published only as source (such as C(ovs)) are built here,
    with the build tools of O(python) (no build isolation, so nothing unpinned is fetched to build them).
  - Every distribution the resolution would install must be pinned to one version (C(==) or C(===)) by
    O(constraints) or by O(requirements); anything else is refused before any fetch, naming what is unpinned.
    An unpinned resolution is never made.
  - pip writes into a folder of its own inside O(path) and complete wheels are moved in by a rename, so an
    interrupted run never leaves half a wheel there; the next run moves in the wheels it had completed and
    fetches the rest. Two runs on one O(path) wait for each other (a lock file in O(path)). Wheels no longer
    needed are kept.
  - pip runs isolated from its user configuration and C(PIP_*) variables (C(/etc/pip.conf) still applies,
    e.g. a proxy or a CA), without its cache (the wheelhouse is the cache).
author:
  - osdeploy.nova developers (@osdeploy)
options:
  path:
    description:
      - The wheelhouse, an absolute path. Made (mode 0755) when absent.
      - One folder per set of constraints is advisable (e.g. named after the release and a hash of the
        constraints), so that it holds one version of each distribution.
    type: path
    required: true
  requirements:
    description:
      - The distributions to hold, with their dependencies, as pip requirements without URLs, paths or
        options, e.g. C(nova==34.0.0).
    type: list
    elements: str
    required: true
  constraints:
    description:
      - A constraints file on this host that pins the dependencies (OpenStack's C(upper-constraints.txt) of
        the release). Required - versions are never resolved without it.
    type: path
    required: true
  python:
    description:
      - The Python the wheels are for and that runs pip (Debian's C(python3-pip) must be installed for it).
    type: path
    default: /usr/bin/python3
  index_url:
    description:
      - The package index (PEP 503) to fetch from; pip's default (PyPI) when not given.
      - A user or password in the URL (a token) is masked in every message and result.
    type: str
attributes:
  check_mode:
    support: full
    description:
      - Reports what would be fetched (RV(fetched)) without writing anything. When the wheelhouse lacks something,
        this contacts the index and pip reads the distributions' metadata (the whole file where the index has no
        separate metadata, e.g. a source distribution, which pip also prepares to read its dependencies).
  diff_mode:
    support: none
    description: What changed is in RV(fetched).
notes:
  - Needs C(python3-pip) on this host; and where a distribution must be built from source, the build tools
    (C(gcc), C(python3-dev), C(python3-setuptools), C(python3-wheel)). A failed build says which to install.
  - Needs pip 22.2 or later (C(--dry-run --report)); Debian 12 has 23.0.1.
seealso:
  - module: osdeploy.nova.python_venv
    description: Makes a virtual environment from the wheelhouse.
  - name: OpenStack's upper constraints
    description: The pins of each release, in its branch of openstack/requirements.
    link: https://opendev.org/openstack/requirements/src/branch/master/upper-constraints.txt
"""

EXAMPLES = r"""
- name: Wheels of nova and placement for 2026.2, pinned by its constraints
  osdeploy.nova.wheelhouse:
    path: /var/cache/osdeploy/wheelhouse/2026.2-3f9c2a
    requirements:
      - nova==34.0.0
      - openstack-placement==16.0.0
    constraints: /etc/osdeploy/constraints/2026.2.txt
  register: wheels

- name: The same from a private mirror whose token stays out of the output
  osdeploy.nova.wheelhouse:
    path: /var/cache/osdeploy/wheelhouse/2026.2-3f9c2a
    requirements: [nova==34.0.0]
    constraints: /etc/osdeploy/constraints/2026.2.txt
    index_url: "https://deploy:{{ mirror_token }}@pypi.example.org/simple/"
"""

RETURN = r"""
path:
  description: The wheelhouse.
  returned: always
  type: str
  sample: /var/cache/osdeploy/wheelhouse/2026.2-3f9c2a
fetched:
  description:
    - What this run added to the wheelhouse, as C(name==version) (in check mode, what it would fetch); empty
      when the wheelhouse already satisfied the requirements.
    - Also the wheels an interrupted run had completed, which this run moved in.
  returned: always
  type: list
  elements: str
  sample: [nova==34.0.0, ovs==3.5.0]
fetched_bytes:
  description: The size of the wheels this run added (0 in check mode).
  returned: always
  type: int
  sample: 48211932
wheels:
  description: How many wheels the wheelhouse holds (check mode - holds now).
  returned: success
  type: int
  sample: 152
distributions:
  description: The resolved set the requirements install from the wheelhouse, as C(name==version).
  returned: success
  type: list
  elements: str
  sample: [nova==34.0.0, oslo.config==10.0.0]
unpinned:
  description: The distributions that nothing pins, when the run refused them.
  returned: failure
  type: list
  elements: str
  sample: [setuptools]
"""

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils.pip_tools import WheelhouseModule


class Wheelhouse(WheelhouseModule):
    """The wheelhouse step with its options: the steps are module_utils/pip_tools.py's."""

    argument_spec = dict(
        path=dict(type="path", required=True),
        requirements=dict(type="list", elements="str", required=True),
        constraints=dict(type="path", required=True),
        python=dict(type="path", default="/usr/bin/python3"),
        index_url=dict(type="str"),
    )
    module_kwargs = dict(supports_check_mode=True)


def main():
    base.main(Wheelhouse)


if __name__ == "__main__":
    main()
