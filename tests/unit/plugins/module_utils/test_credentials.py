"""credentials: URLs with percent-encoded credentials, and masking."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils import credentials

NASTY = "p@ss:/w%rd$#? '\"\\"


def test_db_url_round_trips_any_printable_password():
    url = credentials.db_url("nova", NASTY, "controller", "nova_api", port=3307)
    assert NASTY not in url
    parsed = credentials.parse_db_url(url)
    assert parsed == {"host": "controller", "port": 3307, "user": "nova", "password": NASTY,
                      "database": "nova_api"}


def test_db_url_ipv6_and_socket_query():
    url = credentials.db_url("nova", "pw", "fd00::1", "nova", query="unix_socket=/run/mysqld/mysqld.sock")
    assert url == "mysql+pymysql://nova:pw@[fd00::1]/nova?unix_socket=/run/mysqld/mysqld.sock"
    parsed = credentials.parse_db_url(url)
    assert parsed["host"] == "fd00::1" and parsed["unix_socket"] == "/run/mysqld/mysqld.sock"


def test_parse_db_url_rejects_other_schemes():
    with pytest.raises(ValueError):
        credentials.parse_db_url("sqlite:////var/lib/nova/nova.sqlite")


def test_transport_url_several_hosts_and_vhost():
    nasty = NASTY.replace("/", "")
    url = credentials.transport_url("openstack", nasty, ["ctl1", "ctl2"], vhost="nova")
    assert url.startswith("rabbit://openstack:") and url.endswith("@ctl2:5672/nova")
    assert url.count("@") == 2 and nasty not in url
    assert credentials.transport_url("u", "p", "ctl") == "rabbit://u:p@ctl:5672/"
    with pytest.raises(ValueError):
        credentials.transport_url("u", "p", [])


def _kombu_url(url):
    """What oslo.messaging 14 (impl_rabbit._transform_transport_url) hands to kombu."""
    from urllib.parse import quote, unquote, urlsplit
    cred, host = urlsplit(url).netloc.rsplit("@", 1)
    user, password = (unquote(part) for part in cred.split(":", 1))
    return "amqp://%s:%s@%s/" % (quote(user), quote(password), host)


def test_transport_url_survives_oslo_messaging_and_kombu():
    from urllib.parse import unquote, urlsplit
    nasty = NASTY.replace("/", "")
    parts = urlsplit(_kombu_url(credentials.transport_url("openstack", nasty, "ctl")))
    assert (unquote(parts.password), parts.hostname, parts.port) == (nasty, "ctl", 5672)


@pytest.mark.parametrize("user, password, what", [("openstack", "a/b", "password"), ("open/stack", "pw", "user")])
def test_transport_url_refuses_a_slash_that_oslo_messaging_would_break(user, password, what):
    from urllib.parse import urlsplit
    with pytest.raises(ValueError, match="RabbitMQ %s must not contain '/'" % what):
        credentials.transport_url(user, password, "ctl")
    # the reason: kombu cannot find the host and port in what oslo.messaging makes of it
    cred = "%s:%s" % (credentials._enc(user), credentials._enc(password))
    parts = urlsplit(_kombu_url("rabbit://%s@ctl:5672/" % cred))
    try:
        assert (parts.hostname, parts.port) != ("ctl", 5672)
    except ValueError as e:  # the password case: "Port could not be cast to integer value"
        assert "Port could not be cast" in str(e)


@pytest.mark.parametrize("url, masked", [
    ("mysql+pymysql://nova:secret@ctl/nova", "mysql+pymysql://nova:********@ctl/nova"),
    ("rabbit://o:a%40b@h1:5672,o:a%40b@h2:5672/", "rabbit://o:********@h1:5672,o:********@h2:5672/"),
    ("http://ctl:5000/v3", "http://ctl:5000/v3"),
    ("no url here", "no url here"),
])
def test_mask_url(url, masked):
    assert credentials.mask_url(url) == masked


def test_mask_text_masks_plain_and_encoded_forms():
    text = "login failed for %s (also %s) in mysql+pymysql://nova:x@h/db" % (
        NASTY, credentials.db_url("nova", NASTY, "h", "db"))
    out = credentials.mask_text(text, [NASTY])
    assert NASTY not in out
    assert "p%40ss" not in out
    assert "x@h" not in out
    assert credentials.mask_text(None, ["a"]) is None


def test_parse_db_url_keeps_the_ssl_parameters_as_sqlalchemy_passes_them():
    url = ("mysql+pymysql://nova:p%40ss@db.example:3306/nova_api?charset=utf8"
           "&ssl_ca=/etc/ssl/certs/db%20ca.pem&ssl_cert=/etc/nova/db.crt&ssl_key=/etc/nova/db.key"
           "&ssl_check_hostname=false&ssl_cipher=ECDHE-RSA-AES256-GCM-SHA384&ssl_capath=/etc/ssl/certs")
    parsed = credentials.parse_db_url(url)
    assert parsed["password"] == "p@ss" and parsed["database"] == "nova_api"
    assert parsed["ssl"] == {"ca": "/etc/ssl/certs/db ca.pem", "cert": "/etc/nova/db.crt",
                             "key": "/etc/nova/db.key", "check_hostname": False,
                             "cipher": "ECDHE-RSA-AES256-GCM-SHA384", "capath": "/etc/ssl/certs"}


@pytest.mark.parametrize("query, expected", [
    ("ssl_ca=/ca.pem", {"ca": "/ca.pem"}),
    ("ssl_check_hostname=True&ssl_ca=/ca.pem", {"ca": "/ca.pem", "check_hostname": True}),
    ("unix_socket=/run/mysqld/mysqld.sock&ssl_ca=/ca.pem", {"ca": "/ca.pem"}),
])
def test_parse_db_url_ssl_variants(query, expected):
    assert credentials.parse_db_url("mysql+pymysql://nova:pw@db/nova?" + query)["ssl"] == expected


def test_parse_db_url_without_ssl_parameters_has_no_ssl_key():
    assert "ssl" not in credentials.parse_db_url("mysql+pymysql://nova:pw@db/nova?charset=utf8")


def test_parse_db_url_refuses_a_non_boolean_check_hostname():
    with pytest.raises(ValueError):
        credentials.parse_db_url("mysql+pymysql://nova:pw@db/nova?ssl_check_hostname=maybe")


def test_secret_variants_include_the_percent_encoded_form():
    from ansible_collections.osdeploy.nova.plugins.module_utils.credentials import secret_variants
    variants = secret_variants(["cqo!H$a)c'x*u^d", ""])
    assert "cqo!H$a)c'x*u^d" in variants
    assert "cqo%21H%24a%29c%27x%2Au%5Ed" in variants


def test_mask_values_masks_every_string_of_a_result_and_leaves_the_rest():
    result = {"msg": "login as nova:pw1 failed", "cmds": ["mysql -p pw1", 3], "ok": True,
              "url": "mysql+pymysql://nova:other@db/nova"}
    assert credentials.mask_values(result, ["pw1"]) == {
        "msg": "login as nova:******** failed", "cmds": ["mysql -p ********", 3], "ok": True,
        "url": "mysql+pymysql://nova:********@db/nova"}


def test_mask_log_masks_url_passwords_and_secret_settings_it_was_not_told_of():
    assert credentials.mask_log("connection = mysql+pymysql://neutron:x%40y@db/neutron\nauth_password: z") == (
        "connection = mysql+pymysql://neutron:********@db/neutron\nauth_password: ********")
    assert credentials.mask_log("MYSQL_PASSWD=x1 user=nova") == "MYSQL_PASSWD=******** user=nova"
