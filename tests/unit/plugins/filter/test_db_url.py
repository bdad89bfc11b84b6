"""The osdeploy.nova.db_url filter: percent-encoded credentials that survive a round trip."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.osdeploy.nova.plugins.filter.db_url import FilterModule, db_url
from ansible_collections.osdeploy.nova.plugins.module_utils.credentials import parse_db_url

NASTY = "p'a\"s\\s @:/%$#?&=+w ord"


def test_registered_under_its_name():
    assert FilterModule().filters()["db_url"] is db_url


def test_plain():
    assert db_url("nova", "secret", "controller", "nova_api") == "mysql+pymysql://nova:secret@controller/nova_api"


def test_special_characters_are_encoded_and_round_trip():
    url = db_url("nova", NASTY, "controller", "nova")
    userinfo = url.split("://", 1)[1].rsplit("@", 1)[0]
    assert userinfo.count(":") == 1 and "@" not in userinfo and "/" not in userinfo
    assert "$" not in url and "#" not in url and " " not in url and "?" not in url
    parsed = parse_db_url(url)
    assert parsed["password"] == NASTY
    assert parsed["user"] == "nova" and parsed["host"] == "controller" and parsed["database"] == "nova"


def test_port_query_driver_ipv6():
    assert db_url("nova", "pw", "10.0.0.11", "nova", port="3307", query="?charset=utf8") == \
        "mysql+pymysql://nova:pw@10.0.0.11:3307/nova?charset=utf8"
    assert db_url("nova", "pw", "fd00::11", "nova", port=3306) == "mysql+pymysql://nova:pw@[fd00::11]:3306/nova"
    assert db_url("nova", "pw", "db", "nova", driver="mysql+mysqldb").startswith("mysql+mysqldb://")


def test_no_password():
    assert db_url("nova", None, "db", "nova") == "mysql+pymysql://nova@db/nova"


@pytest.mark.parametrize("args, kwargs, word", [
    (("", "pw", "db", "nova"), {}, "user"),
    (("nova", "pw", "", "nova"), {}, "host"),
    (("nova", "pw", "db", ""), {}, "database"),
    (("nova", "pw", "db", "no/va"), {}, "database"),
    (("nova", ["pw"], "db", "nova"), {}, "password"),
    (("nova", "pw", "db", "nova"), {"port": "x"}, "port"),
    (("nova", "pw", "db", "nova"), {"port": 70000}, "port"),
])
def test_bad_input(args, kwargs, word):
    with pytest.raises(AnsibleFilterError) as e:
        db_url(*args, **kwargs)
    assert word in str(e.value)
    assert "pw" not in str(e.value).replace("osdeploy", "")


def test_transport_url_filter():
    from ansible_collections.osdeploy.nova.plugins.filter.transport_url import FilterModule
    f = FilterModule().filters()["transport_url"]
    assert f("openstack", "p@ss", "ctl") == "rabbit://openstack:p%40ss@ctl:5672/"
    assert f("o", "p", ["a", "b"], port="5673", vhost="nova") == "rabbit://o:p@a:5673,o:p@b:5673/nova"
    for bad in ([], "", None):
        with pytest.raises(Exception) as exc:
            f("o", "p", bad)
        assert "osdeploy.nova.transport_url" in str(exc.value)


def test_an_empty_query_adds_none():
    """The roles pass their TLS parameters as the query, empty when TLS is off."""
    assert db_url("nova", "pw", "10.0.0.11", "nova", query="") == "mysql+pymysql://nova:pw@10.0.0.11/nova"
    assert db_url("nova", "pw", "10.0.0.11", "nova", query=None) == "mysql+pymysql://nova:pw@10.0.0.11/nova"
