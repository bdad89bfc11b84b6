"""secrets: URLs with percent-encoded credentials, and masking."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils import secrets

NASTY = "p@ss:/w%rd$#? '\"\\"


def test_db_url_round_trips_any_printable_password():
    url = secrets.db_url("nova", NASTY, "controller", "nova_api", port=3307)
    assert NASTY not in url
    parsed = secrets.parse_db_url(url)
    assert parsed == {"host": "controller", "port": 3307, "user": "nova", "password": NASTY,
                      "database": "nova_api"}


def test_db_url_ipv6_and_socket_query():
    url = secrets.db_url("nova", "pw", "fd00::1", "nova", query="unix_socket=/run/mysqld/mysqld.sock")
    assert url == "mysql+pymysql://nova:pw@[fd00::1]/nova?unix_socket=/run/mysqld/mysqld.sock"
    parsed = secrets.parse_db_url(url)
    assert parsed["host"] == "fd00::1" and parsed["unix_socket"] == "/run/mysqld/mysqld.sock"


def test_parse_db_url_rejects_other_schemes():
    with pytest.raises(ValueError):
        secrets.parse_db_url("sqlite:////var/lib/nova/nova.sqlite")


def test_transport_url_several_hosts_and_vhost():
    url = secrets.transport_url("openstack", NASTY, ["ctl1", "ctl2"], vhost="nova")
    assert url.startswith("rabbit://openstack:") and url.endswith("@ctl2:5672/nova")
    assert url.count("@") == 2 and NASTY not in url
    assert secrets.transport_url("u", "p", "ctl") == "rabbit://u:p@ctl:5672/"
    with pytest.raises(ValueError):
        secrets.transport_url("u", "p", [])


@pytest.mark.parametrize("url, masked", [
    ("mysql+pymysql://nova:secret@ctl/nova", "mysql+pymysql://nova:********@ctl/nova"),
    ("rabbit://o:a%40b@h1:5672,o:a%40b@h2:5672/", "rabbit://o:********@h1:5672,o:********@h2:5672/"),
    ("http://ctl:5000/v3", "http://ctl:5000/v3"),
    ("no url here", "no url here"),
])
def test_mask_url(url, masked):
    assert secrets.mask_url(url) == masked


def test_mask_text_masks_plain_and_encoded_forms():
    text = "login failed for %s (also %s) in mysql+pymysql://nova:x@h/db" % (
        NASTY, secrets.db_url("nova", NASTY, "h", "db"))
    out = secrets.mask_text(text, [NASTY])
    assert NASTY not in out
    assert "p%40ss" not in out
    assert "x@h" not in out
    assert secrets.mask_text(None, ["a"]) is None
