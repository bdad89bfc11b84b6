"""The lab's random secrets use only characters that the services reading them accept."""
import re

from ansible_collections.osdeploy.nova.plugins.module_utils import credentials
from osdeploy_lab import common

DRAWS = 300


def test_the_rabbitmq_password_never_has_a_slash_and_makes_a_transport_url():
    for dummy in range(DRAWS):
        pw = common.lab_secret("osdeploy_rabbitmq_password")
        assert "/" not in pw
        credentials.transport_url("openstack", pw, "ctl")  # raises on what oslo.messaging cannot use


def test_the_keystone_db_password_is_url_safe():
    for dummy in range(DRAWS):
        assert re.match(r"^[A-Za-z0-9._~-]+$", common.lab_secret("baseline_keystone_db_password"))


def test_other_secrets_keep_every_special_character_and_at_least_three():
    seen = set()
    for dummy in range(DRAWS):
        pw = common.lab_secret("nova_db_password")
        assert sum(c in common.PASSWORD_SPECIALS for c in pw) >= 3
        seen.update(c for c in pw if c in common.PASSWORD_SPECIALS)
    assert "/" in seen and "$" in seen and "%" in seen
