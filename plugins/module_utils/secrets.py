# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every secret the collection's roles need, and random values for them.

Pure functions, used by the secrets_file module and by the project's local lab (in its
source repository), and unit-tested without Ansible. The catalogue lists each
secret with the rules of module_utils/inputs.py that the roles apply to it
(roles/*/vars/main.yml: __osdeploy_secrets, __baseline_*_secrets,
__nova_secrets); a unit test keeps the two equal. A generated value is checked
with inputs.value_problems, so that the rules have one home.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import random
import string
from collections import namedtuple

from ansible_collections.osdeploy.nova.plugins.module_utils.inputs import value_problems

Secret = namedtuple("Secret", ["name", "rules", "purpose"])

# In the order an operator meets them: the shared ones, the baseline's, Nova's.
CATALOGUE = (
    Secret("baseline_admin_password", (), "Password of Keystone's admin user, the cloud's administrator."),
    Secret("osdeploy_rabbitmq_password", ("no_slash",), "Password of the RabbitMQ user that every service shares."),
    Secret("baseline_keystone_db_password", ("printable_ascii", "url_unreserved"),
           "Password of Keystone's MariaDB account."),
    Secret("baseline_placement_db_password", ("printable_ascii",), "Password of Placement's MariaDB account."),
    Secret("baseline_placement_password", (), "Password of Placement's service user in Keystone."),
    Secret("baseline_glance_db_password", ("printable_ascii",), "Password of Glance's MariaDB account."),
    Secret("baseline_glance_password", (), "Password of Glance's service user in Keystone."),
    Secret("baseline_neutron_db_password", ("printable_ascii",), "Password of Neutron's MariaDB account."),
    Secret("baseline_neutron_password", (), "Password of Neutron's service user in Keystone."),
    Secret("nova_db_password", ("printable_ascii",), "Password of Nova's MariaDB account (its three databases)."),
    Secret("nova_keystone_password", (), "Password of Nova's service user in Keystone."),
    Secret("osdeploy_metadata_secret", (),
           "The secret that Neutron's metadata proxy and Nova's metadata API share."),
    Secret("baseline_demo_password", (), "Password of the demo project's user, who proves the cloud works."),
)

BY_NAME = dict((secret.name, secret) for secret in CATALOGUE)

DEFAULT_LENGTH = 32
MIN_LENGTH = 16
# Letters and digits that cannot be misread (no l, I, O, 0, 1): a password is sometimes typed.
_PLAIN = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# Special characters that break naive tools (URLs, shells, SQL, oslo.config's $), so that a deployment
# proves the roles handle them; but no braces: Ansible would read {{, {% or {# in a variable as a template.
SPECIALS = "@:/%$#'\"!&*()-_=+[];,.?~^"
# What url_unreserved leaves of them: the characters a URL never percent-encodes.
URL_UNRESERVED_SPECIALS = "-_.~"
MIN_SPECIALS = 3

_random = random.SystemRandom()


def specials_for(rules):
    """The special characters a value under `rules` may hold (a rule narrows them, never widens)."""
    specials = SPECIALS
    if "url_unreserved" in rules:
        specials = "".join(ch for ch in specials if ch in URL_UNRESERVED_SPECIALS)
    if "no_slash" in rules:
        specials = specials.replace("/", "")
    return specials  # printable_ascii: every character here is printable ASCII already


def unknown_names(names):
    """The names that are not in the catalogue."""
    return [name for name in names if name not in BY_NAME]


def generate(name, length=DEFAULT_LENGTH):
    """A random value for the secret `name` that passes exactly its rules: letters, digits and at least
    three special characters, none of them first or last (where tools that trim or quote stumble)."""
    if length < MIN_LENGTH:
        raise ValueError("a secret of %d characters is too short: %d at least" % (length, MIN_LENGTH))
    rules = BY_NAME[name].rules
    specials = specials_for(rules)
    alphabet = _PLAIN + specials
    while True:
        value = "".join(_random.choice(alphabet) for dummy in range(length))
        if (sum(ch in specials for ch in value) >= MIN_SPECIALS and value[0] not in specials
                and value[-1] not in specials and not value_problems(name, value, rules)):
            return value


def missing(existing, names=None, length=DEFAULT_LENGTH):
    """The secrets to add to the mapping `existing`: {name: new value} for each of `names` (default: the
    whole catalogue), in the catalogue's order, that `existing` lacks. A name already there is never given
    a new value, whatever it holds; names outside the catalogue are left alone."""
    wanted = set(BY_NAME if names is None else names)
    unknown = unknown_names(wanted)
    if unknown:
        raise ValueError("not secrets of the roles: %s" % ", ".join(sorted(unknown)))
    return dict((secret.name, generate(secret.name, length)) for secret in CATALOGUE
                if secret.name in wanted and secret.name not in existing)


def merged(existing, added):
    """`existing` with `added` after it; an existing value always wins."""
    result = dict(added)
    result.update(existing)
    return result


def problems(existing):
    """Why the roles would refuse a value of `existing` (sentences naming the variable, never the value)."""
    found = []
    for secret in CATALOGUE:
        if secret.name in existing:
            found += value_problems(secret.name, existing[secret.name], secret.rules)
    return found


def yaml_line(name, value):
    """`name: "value"`: a JSON string is YAML that reads back as exactly that string (a key that is not a
    plain variable name is quoted the same way)."""
    plain = bool(name) and name[0] in string.ascii_letters + "_" and all(
        ch in string.ascii_letters + string.digits + "_" for ch in name)
    return "%s: %s" % (name if plain else json.dumps(name), json.dumps(value))
