"""tools/lab report masks credentials in what it prints from the hosts, with the collection's mask_log."""
from osdeploy_lab import common

MASK = common.collection_module_utils("credentials").MASK


def test_a_urls_password_is_masked():
    line = "ERROR oslo.messaging AMQP rabbit://openstack:s3cr%40t@192.168.58.10:5672// unreachable"
    assert common.mask_credentials(line) == (
        "ERROR oslo.messaging AMQP rabbit://openstack:%s@192.168.58.10:5672// unreachable" % MASK)


def test_a_password_setting_is_masked():
    assert common.mask_credentials("password = hunter2 user nova") == "password = %s user nova" % MASK
    assert common.mask_credentials('{"password": "hunter2"}') == '{"password": %s' % MASK
    assert common.mask_credentials("PASSWD=x1") == "PASSWD=%s" % MASK


def test_other_text_is_left_alone():
    line = "[  12.5] compute2 systemd[1]: nova-compute.service: Failed with result 'timeout'."
    assert common.mask_credentials(line) == line
