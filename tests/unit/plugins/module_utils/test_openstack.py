"""The shared OpenStack plumbing (plugins/module_utils/openstack.py) without any SDK.

Exceptions are classified by class name, so these fakes carry the names of the
keystoneauth1 / openstacksdk classes; the tests hold for every SDK version.
"""
import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils import openstack as osu
from ansible_collections.osdeploy.nova.plugins.module_utils.base import Failure


class ConnectFailure(Exception):
    pass


class ConnectTimeout(Exception):
    pass


class Unauthorized(Exception):
    status_code = 401


class HttpException(Exception):
    def __init__(self, msg, status_code):
        super().__init__(msg)
        self.status_code = status_code


class MissingRequiredOptions(Exception):
    pass


class DiscoveryFailure(Exception):
    pass


URL = "http://127.0.0.1:5000/v3"
PW = "s3cr'et\"pw@:/%"


def test_connection_reset_is_transient_refused_is_not():
    reset = ConnectFailure("Unable to establish connection to %s/users: ('Connection aborted.', "
                           "ConnectionResetError(104, 'Connection reset by peer'))" % URL)
    refused = ConnectFailure("Unable to establish connection to %s: HTTPConnectionPool(host='127.0.0.1', "
                             "port=5000): Max retries exceeded ([Errno 111] Connection refused)" % URL)
    assert osu.is_transient(reset)
    assert not osu.is_transient(refused)
    assert osu.is_transient(HttpException("Service Unavailable", 503))
    assert osu.is_transient(HttpException("Bad Gateway", 502))
    assert not osu.is_transient(HttpException("Conflict", 409))
    assert not osu.is_transient(Unauthorized("The request you have made requires authentication."))
    assert not osu.is_transient(ConnectTimeout("Request to %s timed out" % URL))


def test_transient_through_the_cause_chain():
    try:
        try:
            raise ConnectionResetError(104, "Connection reset by peer")
        except ConnectionResetError as inner:
            raise HttpException("request failed", None) from inner
    except HttpException as outer:
        assert osu.is_transient(outer)


def test_messages_name_the_auth_url_and_hide_secrets():
    down = osu.describe_error(ConnectFailure("Unable to establish connection to %s: refused" % URL), URL)
    assert down.startswith("cannot reach Keystone at %s" % URL)
    bad = osu.describe_error(Unauthorized("The request you have made requires authentication. (HTTP 401)"), URL)
    assert bad.startswith("Keystone at %s refused the admin credentials (HTTP 401)" % URL)
    leaky = osu.describe_error(HttpException("bad password %s in body" % PW, 400), URL, "create user nova", [PW])
    assert PW not in leaky and "********" in leaky and "create user nova" in leaky
    config = osu.describe_error(MissingRequiredOptions("Auth plugin requires parameters which were not given: "
                                                       "auth_url"), None)
    assert "auth_url" in config and "connection options" in config
    disc = osu.describe_error(DiscoveryFailure("Could not find versioned identity endpoints"), "http://x:1/")
    assert "no usable identity API at http://x:1/" in disc
    long_text = ("Unable to establish connection to %s/auth/tokens: HTTPConnectionPool(host='127.0.0.1', "
                 "port=5000): Max retries exceeded with url: /v3/auth/tokens (Caused by NewConnectionError("
                 "'<urllib3.connection.HTTPConnection object at 0x7f>: Failed to establish a new connection: "
                 "[Errno 111] Connection refused'))" % URL)
    short = osu.describe_error(ConnectFailure(long_text), URL)
    assert short.startswith("cannot reach Keystone at %s: [Errno 111] Connection refused. Is Keystone" % URL)
    nowhere = osu.describe_error(ConnectFailure("x"), None)
    assert "no auth URL known" in nowhere


def test_not_found():
    assert osu.is_not_found(HttpException("Could not find user", 404))
    assert not osu.is_not_found(HttpException("Conflict", 409))


def test_collect_secrets_finds_nested_password_keys():
    cloud = {"auth": {"auth_url": URL, "username": "admin", "password": PW,
                      "application_credential_secret": "acs"},
             "region_name": "RegionOne", "profiles": [{"token": "tok"}]}
    assert sorted(osu.collect_secrets(cloud)) == sorted([PW, "acs", "tok"])
    assert list(osu._scalars(cloud)) == [URL, "admin", PW, "acs", "RegionOne", "tok"]


class FakeModule:
    def __init__(self):
        self.no_log_values = set()


def make_base(retries=2):
    base = object.__new__(osu.OpenStackModule)
    base.module = FakeModule()
    base.module.argument_spec = dict(osu.OPENSTACK_ARGUMENT_SPEC)
    base.params = dict(api_retries=retries, auth={"auth_url": URL, "password": PW}, cloud=None)
    base.conn = None
    base.auth_url = URL
    base.retry_count = 0
    base._secrets = []
    return base


def test_call_retries_transient_failures_a_bounded_number_of_times(monkeypatch):
    monkeypatch.setattr(osu.time, "sleep", lambda s: None)
    base = make_base(retries=2)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectFailure("('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))")
        return "ok"

    assert base.call(flaky) == "ok"
    assert len(calls) == 3 and base.retry_count == 2

    calls.clear()

    def always_reset():
        calls.append(1)
        raise ConnectFailure("Connection reset by peer")

    with pytest.raises(Failure) as failed:
        base.call(always_reset, doing="list services")
    assert len(calls) == 3
    assert failed.value.msg.startswith("cannot reach Keystone at %s" % URL)


def test_call_does_not_retry_auth_errors_and_masks(monkeypatch):
    monkeypatch.setattr(osu.time, "sleep", lambda s: None)
    base = make_base()
    calls = []

    def refused():
        calls.append(1)
        raise Unauthorized("password %s wrong" % PW)

    with pytest.raises(Failure) as failed:
        base.call(refused)
    assert len(calls) == 1
    assert PW not in failed.value.msg and failed.value.result == {"error_class": "Unauthorized"}


def test_a_write_that_landed_is_not_repeated(monkeypatch):
    monkeypatch.setattr(osu.time, "sleep", lambda s: None)
    base = make_base()
    calls = []

    def create():
        calls.append(1)
        raise ConnectFailure("Remote end closed connection without response")

    assert base.call(create, recheck=lambda: "the-created-thing") == "the-created-thing"
    assert len(calls) == 1


class NotFoundException(HttpException):
    def __init__(self, msg):
        super().__init__(msg, 404)


def answers(*outcomes):
    """A fake SDK call that raises (or returns) the given outcomes in turn; .calls counts them."""
    def call():
        outcome = outcomes[min(len(call.calls), len(outcomes) - 1)]
        call.calls.append(outcome)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
    call.calls = []
    return call


LOST_ANSWER = ConnectFailure("('Connection aborted.', RemoteDisconnected('Remote end closed connection'))")
GONE = NotFoundException("Could not find endpoint: e1")


def test_a_retried_delete_that_already_landed_counts_as_done(monkeypatch):
    """The first DELETE reached Keystone but its answer was lost; the retry gets a 404."""
    monkeypatch.setattr(osu.time, "sleep", lambda s: None)
    base = make_base(retries=2)
    delete = answers(LOST_ANSWER, GONE)
    assert base.call(delete, delete=True, doing="delete endpoint e1") is None
    assert len(delete.calls) == 2 and base.retry_count == 1


@pytest.mark.parametrize("outcomes, delete", [
    ((GONE,), True),               # a first 404 means the plan read something else: not silently done
    ((LOST_ANSWER, GONE), False),  # only deletes count a 404 as done
])
def test_other_404s_still_fail(monkeypatch, outcomes, delete):
    monkeypatch.setattr(osu.time, "sleep", lambda s: None)
    with pytest.raises(Failure) as failed:
        make_base().call(answers(*outcomes), delete=delete)
    assert failed.value.result == {"error_class": "NotFoundException"}


def test_no_log_is_narrowed_to_the_secrets():
    base = make_base()
    base.module.no_log_values.update([URL, "admin", PW])
    base.params["auth"] = {"auth_url": URL, "username": "admin", "password": PW}
    base._narrow_no_log()
    assert base.module.no_log_values == {PW}
