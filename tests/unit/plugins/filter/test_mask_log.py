"""The osdeploy.nova.mask_log filter: log tails shown after a failure keep no password."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.osdeploy.nova.plugins.filter.mask_log import FilterModule, mask_log


def test_registered_under_its_name():
    assert FilterModule().filters()["mask_log"] is mask_log


@pytest.mark.parametrize("line,masked", [
    ("transport_url = rabbit://openstack:s3cr%2Ft@controller:5672/",
     "transport_url = rabbit://openstack:********@controller:5672/"),
    ("rabbit://a:x@h1:5672,a:y@h2:5672/", "rabbit://a:********@h1:5672,a:********@h2:5672/"),
    ("password = hunter2", "password = ********"),
    ("metadata_proxy_shared_secret: abc'def", "metadata_proxy_shared_secret: ********"),
    ("{'password': 'x'}", "{'password': ********"),
    ("2026 DEBUG oslo_service [-] keystone_authtoken.password = s3cret log_opt_values",
     "2026 DEBUG oslo_service [-] keystone_authtoken.password = ******** log_opt_values"),
    ("X-Auth-Token: gAAAAAB", "X-Auth-Token: ********"),
    ("Port 6a2c is not bound", "Port 6a2c is not bound"),
    ("", ""),
])
def test_passwords_and_secret_settings_are_masked(line, masked):
    assert mask_log(line) == masked


def test_a_list_is_masked_line_by_line():
    assert mask_log(["password=x", "ok", 3]) == ["password=********", "ok", "3"]


def test_anything_else_is_refused_with_its_type():
    with pytest.raises(AnsibleFilterError, match="expects a string or a list of strings, got dict"):
        mask_log({"password": "x"})
