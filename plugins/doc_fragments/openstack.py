# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The connection options of every module built on module_utils/openstack.py
    DOCUMENTATION = r"""
options:
  cloud:
    description:
      - The cloud to connect to, as a cloud name from C(clouds.yaml) (searched where openstacksdk
        searches it, in the current directory, C(~/.config/openstack/), C(/etc/openstack/), or the
        file named by E(OS_CLIENT_CONFIG_FILE)), or as a dict that holds the whole cloud
        configuration (C(auth), C(region_name), ...).
      - With a dict, O(auth), O(auth_type), O(region_name), O(validate_certs), O(ca_cert),
        O(client_cert), O(client_key) and O(api_timeout) must not be given as well.
      - When neither O(cloud) nor O(auth) is given, the usual E(OS_*) environment variables
        (E(OS_AUTH_URL), E(OS_USERNAME), E(OS_PASSWORD), E(OS_PROJECT_NAME), ...) or E(OS_CLOUD)
        are used.
    type: raw
  auth:
    description:
      - Authentication settings for the auth plugin, e.g. C(auth_url), C(username), C(password),
        C(project_name), C(user_domain_name), C(project_domain_name). Merged over the cloud entry
        named by O(cloud), if any.
      - Never logged; passwords and tokens in it are masked in every message.
    type: dict
  auth_type:
    description:
      - The keystoneauth plugin name, for instance C(password) (the default of openstacksdk),
        C(v3password), C(token) or C(v3applicationcredential).
    type: str
  region_name:
    description:
      - The region whose service endpoints the client uses.
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificates of the cloud. Defaults to openstacksdk's default
        (verify).
    type: bool
    aliases: [verify]
  ca_cert:
    description:
      - A CA bundle to verify the cloud's certificates with.
    type: path
    aliases: [cacert]
  client_cert:
    description:
      - A client certificate for TLS client authentication.
    type: path
    aliases: [cert]
  client_key:
    description:
      - The key of O(client_cert).
    type: path
    aliases: [key]
  interface:
    description:
      - Which endpoint of each service the client talks to.
    type: str
    choices: [public, internal, admin]
    default: public
    aliases: [endpoint_type]
  api_timeout:
    description:
      - Timeout in seconds for each API request.
    type: int
  api_retries:
    description:
      - How many times a request is retried after a transient failure (a connection reset by
        the server, or an HTTP 502, 503 or 504 answer), with a short growing pause in between.
        Refused connections, timeouts and authentication errors are not retried.
      - A write that failed transiently is checked for before it is retried, so a retry does not
        create a duplicate.
    type: int
    default: 3
requirements:
  - openstacksdk (Debian 12 python3-openstacksdk 0.101.0 or later, including 4.x)
  - keystoneauth1
notes:
  - Keystone unreachable, a wrong auth URL or wrong admin credentials end the module with one
    message that names the auth URL; secrets never appear in results or messages.
"""
