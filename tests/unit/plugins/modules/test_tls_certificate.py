"""tls_certificate end to end in a temporary folder: the CA, host certificates, operator material, check mode,
idempotence, file modes, and that no key ever shows."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import grp
import json
import os
import pwd
import stat

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.osdeploy.nova.plugins.module_utils import pki
from ansible_collections.osdeploy.nova.plugins.modules import tls_certificate

pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")

OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def read(path):
    with open(str(path)) as handle:
        return handle.read()


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def tree(folder):
    """Every file under folder with its content, mode and mtime: what 'nothing was written' compares (a service
    restarts when the mtime of its certificate changes)."""
    found = {}
    for root, dirs, files in os.walk(str(folder)):
        for name in dirs + files:
            path = os.path.join(root, name)
            found[path] = (mode_of(path), read(path) if name in files else None,
                           os.stat(path).st_mtime_ns if name in files else None)
    return found


@pytest.fixture
def ca_args(tmp_path):
    return dict(ca=True, path=str(tmp_path / "ca" / "ca.pem"), key_path=str(tmp_path / "ca" / "private" / "ca-key.pem"),
                owner=OWNER, group=GROUP)


@pytest.fixture
def made_ca(run_main, ca_args):
    rc, out = run_main(tls_certificate, ca_args)
    assert rc == 0, out
    return ca_args


def host_args(tmp_path, made_ca, **kw):
    args = dict(path=str(tmp_path / "host" / "host.pem"), key_path=str(tmp_path / "host" / "host-key.pem"),
                ca_path=made_ca["path"], ca_key_path=made_ca["key_path"], dns_names=["compute1"],
                ip_addresses=["10.0.0.11"], owner=OWNER, group=GROUP)
    args.update(kw)
    return args


@pytest.fixture(autouse=True)
def warned(monkeypatch):
    """The warnings of each run: in a test process Ansible keeps them in a global list across runs, so collect
    them here."""
    found = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, msg, **kw: found.append(msg))
    return found


def assert_no_key_in(out, *key_paths):
    text = json.dumps(out)
    assert "PRIVATE KEY" not in text
    for path in key_paths:
        if os.path.exists(path):
            for line in read(path).splitlines():
                if line and not line.startswith("-----"):
                    assert line not in text


# ---------------------------------------------------------------- the CA

def test_first_run_makes_the_ca_and_the_second_keeps_it(run_main, ca_args):
    rc, out = run_main(tls_certificate, ca_args)
    assert rc == 0, out
    assert out["changed"] is True and out["action"] == "made_ca"
    assert out["key_changed"] is True
    assert out["reasons"] == ["there is no CA certificate at %s" % ca_args["path"]]
    assert out["common_name"] == "osdeploy.nova CA" and out["subject_alt_names"] == []
    assert mode_of(ca_args["key_path"]) == 0o600
    assert mode_of(ca_args["path"]) == 0o644
    assert mode_of(os.path.dirname(ca_args["key_path"])) == 0o755
    cert = pki.load_certificate(read(ca_args["path"]))
    assert pki.problems(cert, read(ca_args["key_path"]), is_ca=True, min_days=30) == []
    assert out["serial"] == "%x" % cert.serial_number
    assert out["not_after"] == pki.not_valid_after(cert).isoformat()
    assert_no_key_in(out, ca_args["key_path"])

    before = tree(os.path.dirname(ca_args["path"]))
    rc, out = run_main(tls_certificate, ca_args)
    assert rc == 0, out
    assert out["changed"] is False and out["action"] == "kept" and out["reasons"] == []
    assert out["serial"] == "%x" % cert.serial_number
    assert tree(os.path.dirname(ca_args["path"])) == before


def test_check_mode_on_an_empty_folder_predicts_the_ca_and_writes_nothing(run_main, ca_args, tmp_path):
    rc, out = run_main(tls_certificate, ca_args, check=True)
    assert rc == 0, out
    assert out["changed"] is True and out["action"] == "made_ca"
    assert out["serial"] is None and out["fingerprint_sha256"] is None
    assert out["not_after"].startswith(str(datetime.date.today().year + 9)) or out["not_after"].startswith(
        str(datetime.date.today().year + 10))
    assert os.listdir(str(tmp_path)) == []


def test_the_ca_refuses_host_options(run_main, ca_args):
    rc, out = run_main(tls_certificate, dict(ca_args, dns_names=["x"], ca_path="/tmp/ca.pem"))
    assert rc == 1
    assert out["msg"].startswith("ca_path, dns_names: with ca=true")


def test_a_ca_whose_certificate_is_not_a_ca_is_refused(run_main, made_ca, tmp_path):
    host = host_args(tmp_path, made_ca)
    assert run_main(tls_certificate, host)[0] == 0
    rc, out = run_main(tls_certificate, dict(made_ca, path=host["path"], key_path=host["key_path"]))
    assert rc == 1
    assert "is not a CA certificate" in out["msg"] and "nothing was written" in out["msg"]
    assert [problem["kind"] for problem in out["problems"]] == ["not_a_ca"]


# ---------------------------------------------------------------- host certificates

def test_host_certificate_is_issued_from_the_ca_then_kept(run_main, made_ca, tmp_path):
    args = host_args(tmp_path, made_ca)
    rc, out = run_main(tls_certificate, args)
    assert rc == 0, out
    assert out["changed"] is True and out["action"] == "issued" and out["key_changed"] is True
    assert out["subject_alt_names"] == ["DNS:compute1", "IP:10.0.0.11"]
    assert out["common_name"] == "compute1"
    assert mode_of(args["key_path"]) == 0o600 and mode_of(args["path"]) == 0o644
    assert pki.problems(read(args["path"]), read(args["key_path"]), read(made_ca["path"]), ["compute1"],
                        ["10.0.0.11"], min_days=30) == []
    assert_no_key_in(out, args["key_path"], made_ca["key_path"])

    before = tree(tmp_path)
    rc, again = run_main(tls_certificate, args)
    assert rc == 0, again
    assert again["changed"] is False and again["action"] == "kept"
    assert again["fingerprint_sha256"] == out["fingerprint_sha256"]
    assert tree(tmp_path) == before


def test_changed_names_issue_again_with_the_reason_and_the_same_key(run_main, made_ca, tmp_path):
    args = host_args(tmp_path, made_ca)
    assert run_main(tls_certificate, args)[0] == 0
    key_before, cert_before = read(args["key_path"]), read(args["path"])

    rc, predicted = run_main(tls_certificate, dict(args, ip_addresses=["10.0.0.11", "10.0.0.12"]), check=True)
    assert rc == 0 and predicted["changed"] is True and predicted["action"] == "issued"
    assert read(args["path"]) == cert_before

    rc, out = run_main(tls_certificate, dict(args, ip_addresses=["10.0.0.11", "10.0.0.12"]))
    assert rc == 0, out
    assert out["changed"] is True and out["action"] == "issued" and out["key_changed"] is False
    assert out["reasons"] == predicted["reasons"]
    assert any("lack 10.0.0.12 (IP)" in reason for reason in out["reasons"])
    assert out["subject_alt_names"] == ["DNS:compute1", "IP:10.0.0.11", "IP:10.0.0.12"]
    assert read(args["key_path"]) == key_before
    assert read(args["path"]) != cert_before


def test_a_key_without_certificate_is_reused(run_main, made_ca, tmp_path):
    args = host_args(tmp_path, made_ca)
    os.makedirs(os.path.dirname(args["key_path"]))
    key = pki.new_key_pem()
    with open(args["key_path"], "w") as handle:
        handle.write(key)
    os.chmod(args["key_path"], 0o600)
    rc, out = run_main(tls_certificate, args)
    assert rc == 0, out
    assert out["action"] == "issued" and out["key_changed"] is False
    assert read(args["key_path"]) == key
    assert pki.key_matches(pki.load_certificate(read(args["path"])), pki.load_private_key(key))


def test_without_the_ca_key_on_this_host_it_fails_clearly(run_main, made_ca, tmp_path):
    args = host_args(tmp_path, made_ca, ca_key_path=str(tmp_path / "elsewhere" / "ca-key.pem"))
    rc, out = run_main(tls_certificate, args)
    assert rc == 1
    assert "is not on this host" in out["msg"] and "delegate_to" in out["msg"]
    assert "there is no certificate at %s" % args["path"] in out["msg"]
    assert not os.path.exists(os.path.dirname(args["path"]))


def test_an_invalid_address_is_refused_naming_the_option(run_main, made_ca, tmp_path):
    rc, out = run_main(tls_certificate, host_args(tmp_path, made_ca, ip_addresses=["10.0.0.256"]))
    assert rc == 1
    assert out["msg"].startswith("ip_addresses: '10.0.0.256' is not an IP address")


def test_key_mode_drift_is_a_change_and_fixed(run_main, made_ca, tmp_path):
    args = host_args(tmp_path, made_ca)
    assert run_main(tls_certificate, args)[0] == 0
    os.chmod(args["key_path"], 0o644)
    rc, predicted = run_main(tls_certificate, args, check=True)
    assert rc == 0 and predicted["changed"] is True and predicted["action"] == "kept"
    assert mode_of(args["key_path"]) == 0o644
    rc, out = run_main(tls_certificate, args)
    assert rc == 0, out
    assert out["changed"] is True and out["action"] == "kept" and out["key_changed"] is False
    assert mode_of(args["key_path"]) == 0o600
    assert run_main(tls_certificate, args)[1]["changed"] is False


def test_key_mode_and_group_as_the_roles_pass_them(run_main, made_ca, tmp_path):
    args = host_args(tmp_path, made_ca, key_mode="0640")
    rc, out = run_main(tls_certificate, args)
    assert rc == 0, out
    assert mode_of(args["key_path"]) == 0o640
    assert os.stat(args["key_path"]).st_gid == os.getgid()


def test_an_unknown_group_fails_before_any_write_and_check_mode_warns(run_main, made_ca, tmp_path, warned):
    args = host_args(tmp_path, made_ca, group="no-such-group-osdeploy")
    rc, out = run_main(tls_certificate, args, check=True)
    assert rc == 0 and out["changed"] is True
    assert any("no-such-group-osdeploy" in warning for warning in warned)
    rc, out = run_main(tls_certificate, args)
    assert rc == 1
    assert out["msg"].startswith("group 'no-such-group-osdeploy' does not exist on this host")
    assert not os.path.exists(os.path.dirname(args["path"]))


# ---------------------------------------------------------------- operator material

@pytest.fixture
def operator(made_ca):
    """A certificate and key the operator brings, issued by the same CA."""
    key = pki.new_key_pem()
    cert = pki.issue(read(made_ca["key_path"]), read(made_ca["path"]), key, "compute1", ["compute1"],
                     ["10.0.0.11"], 365)
    return cert, key


def supplied_args(tmp_path, made_ca, cert, key, **kw):
    args = dict(path=str(tmp_path / "op" / "host.pem"), key_path=str(tmp_path / "op" / "host-key.pem"),
                certificate=cert, private_key=key, ca_certificate=read(made_ca["path"]), dns_names=["compute1"],
                ip_addresses=["10.0.0.11"], owner=OWNER, group=GROUP)
    args.update(kw)
    return args


def test_operator_material_is_installed_then_kept(run_main, made_ca, tmp_path, operator, warned):
    args = supplied_args(tmp_path, made_ca, *operator)
    rc, out = run_main(tls_certificate, args)
    assert rc == 0, out
    assert out["changed"] is True and out["action"] == "installed" and out["key_changed"] is True
    assert pki.same_certificate(read(args["path"]), operator[0])
    assert pki.same_key(read(args["key_path"]), operator[1])
    assert mode_of(args["key_path"]) == 0o600
    assert warned == []
    assert_no_key_in(out, args["key_path"])
    rc, out = run_main(tls_certificate, args)
    assert rc == 0, out
    assert out["changed"] is False and out["action"] == "kept"


def test_operator_key_that_does_not_match_fails_before_any_write(run_main, made_ca, tmp_path, operator):
    stray = pki.new_key_pem()
    args = supplied_args(tmp_path, made_ca, operator[0], stray)
    os.makedirs(os.path.dirname(args["path"]))
    before = tree(tmp_path)
    rc, out = run_main(tls_certificate, args)
    assert rc == 1
    assert out["msg"].startswith("certificate and private_key refused, nothing was written: the private key given in "
                                 "private_key does not match the certificate given in certificate")
    assert [problem["kind"] for problem in out["problems"]] == ["key_mismatch"]
    assert tree(tmp_path) == before
    assert "PRIVATE KEY" not in json.dumps(out)
    for line in stray.splitlines()[1:-1]:
        assert line not in json.dumps(out)


def test_operator_certificate_lacking_the_address_fails_naming_it(run_main, made_ca, tmp_path, operator):
    args = supplied_args(tmp_path, made_ca, *operator, ip_addresses=["10.0.0.11", "10.0.0.99"])
    rc, out = run_main(tls_certificate, args)
    assert rc == 1
    assert "the SANs of the certificate given in certificate lack 10.0.0.99 (IP)" in out["msg"]
    assert not os.path.exists(os.path.dirname(args["path"]))


def test_operator_certificate_expiring_soon_is_installed_with_a_warning(run_main, made_ca, tmp_path, warned):
    key = pki.new_key_pem()
    cert = pki.issue(read(made_ca["key_path"]), read(made_ca["path"]), key, "compute1", ["compute1"],
                     ["10.0.0.11"], 10)
    rc, out = run_main(tls_certificate, supplied_args(tmp_path, made_ca, cert, key))
    assert rc == 0, out
    assert out["action"] == "installed"
    assert len(warned) == 1
    assert "the certificate given in certificate expires on" in warned[0]
    assert "fewer than 30 days" in warned[0]


def test_operator_certificate_expired_is_refused(run_main, made_ca, tmp_path):
    past = pki.utcnow() - datetime.timedelta(days=30)
    old_ca_key, old_ca = pki.make_ca("old CA", 3650, now=past)
    key = pki.new_key_pem()
    cert = pki.issue(old_ca_key, old_ca, key, "compute1", ["compute1"], ["10.0.0.11"], 10, now=past)
    args = supplied_args(tmp_path, made_ca, cert, key, ca_certificate=old_ca)
    rc, out = run_main(tls_certificate, args)
    assert rc == 1
    assert [problem["kind"] for problem in out["problems"]] == ["expired"]
    assert "expired on" in out["msg"] and "renew it" in out["msg"]
    assert not os.path.exists(os.path.dirname(args["path"]))


def test_operator_certificate_of_another_ca_is_refused(run_main, made_ca, tmp_path):
    other_key, other_cert = pki.make_ca("other CA", 100)
    key = pki.new_key_pem()
    cert = pki.issue(other_key, other_cert, key, "compute1", ["compute1"], ["10.0.0.11"], 100)
    rc, out = run_main(tls_certificate, supplied_args(tmp_path, made_ca, cert, key))
    assert rc == 1
    assert "was issued by CN=other CA, not by the CA certificate given in ca_certificate" in out["msg"]


def test_private_key_needs_certificate(run_main, tmp_path, made_ca, operator):
    args = supplied_args(tmp_path, made_ca, None, operator[1])
    del args["certificate"]
    rc, out = run_main(tls_certificate, args)
    assert rc == 1
    assert "certificate" in out["msg"] and "private_key" in out["msg"]
    assert "PRIVATE KEY" not in json.dumps(out)
