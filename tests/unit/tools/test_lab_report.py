"""tools/lab report masks credentials in what it prints from the hosts, with the collection's mask_log."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tools", "lab.d"))

import lab  # noqa: E402

MASK = lab.collection_credentials().MASK


def test_a_urls_password_is_masked():
    line = "ERROR oslo.messaging AMQP rabbit://openstack:s3cr%40t@192.168.58.10:5672// unreachable"
    assert lab.mask_credentials(line) == (
        "ERROR oslo.messaging AMQP rabbit://openstack:%s@192.168.58.10:5672// unreachable" % MASK)


def test_a_password_setting_is_masked():
    assert lab.mask_credentials("password = hunter2 user nova") == "password = %s user nova" % MASK
    assert lab.mask_credentials('{"password": "hunter2"}') == '{"password": %s' % MASK
    assert lab.mask_credentials("PASSWD=x1") == "PASSWD=%s" % MASK


def test_other_text_is_left_alone():
    line = "[  12.5] compute2 systemd[1]: nova-compute.service: Failed with result 'timeout'."
    assert lab.mask_credentials(line) == line
