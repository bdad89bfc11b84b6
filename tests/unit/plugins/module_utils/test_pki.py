"""pki: the CA, host certificates, every problem kind and the plan, with real cryptography (no mocks)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.osdeploy.nova.plugins.module_utils import pki

# any warning (cryptography's deprecations above all) fails these tests
pytestmark = pytest.mark.filterwarnings("error")

NOW = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
NAMES = ["compute1", "compute1.example.org"]
IPS = ["10.0.0.11"]


@pytest.fixture(scope="module")
def ca():
    return pki.make_ca("test CA", 3650, NOW)


@pytest.fixture(scope="module")
def host(ca):
    key = pki.new_key_pem()
    return key, pki.issue(ca[0], ca[1], key, "compute1", NAMES, IPS, 825, NOW)


def cert_of(pem):
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


def ext(cert, cls):
    return cert.extensions.get_extension_for_class(cls)


def kinds(found):
    return [kind for kind, dummy in found]


def self_signed(key, name, extensions=(), days=30, start=NOW):
    """A certificate made by hand, for what the module never makes (no BasicConstraints, another algorithm)."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(start)
               .not_valid_after(start + datetime.timedelta(days=days)))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return pki.cert_to_pem(builder.sign(key, hashes.SHA256()))


def key_body_lines(*keys):
    """The base64 lines of PEM keys: none of them may appear in a message."""
    return [line for key in keys for line in key.splitlines() if line and not line.startswith("-----")]


def assert_no_key_material(texts, *keys):
    for text in texts:
        assert "PRIVATE KEY" not in text
        for line in key_body_lines(*keys):
            assert line not in text


# ---------------------------------------------------------------- the CA

def test_make_ca_is_a_self_signed_ca_with_critical_constraints(ca):
    key_pem, cert_pem = ca
    cert = cert_of(cert_pem)
    key = serialization.load_pem_private_key(key_pem.encode("ascii"), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    assert "BEGIN PRIVATE KEY" in key_pem  # PKCS#8
    constraints = ext(cert, x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca is True and constraints.value.path_length == 0
    usage = ext(cert, x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert not usage.value.digital_signature
    assert ext(cert, x509.SubjectKeyIdentifier).value == x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "test CA"
    assert pki.signed_by(cert, cert)
    assert pki.not_valid_after(cert) == NOW + 3650 * DAY
    assert pki.not_valid_before(cert) == NOW - pki.BACKDATE


def test_ca_is_recognised_and_described(ca):
    assert pki.problems(ca[1], ca[0], None, now=NOW, min_days=30, is_ca=True) == []
    info = pki.describe(ca[1])
    assert info["is_ca"] is True
    assert info["subject_alt_names"] == []
    assert info["not_after"] == (NOW + 3650 * DAY).isoformat()
    assert len(info["fingerprint_sha256"].split(":")) == 32


def test_make_ca_reuses_a_given_key(ca):
    key_pem, cert_pem = pki.make_ca("again", 10, NOW, key_pem=ca[0])
    assert key_pem == ca[0]
    assert pki.key_matches(cert_of(cert_pem), serialization.load_pem_private_key(ca[0].encode("ascii"), None))
    assert cert_of(cert_pem).subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "again"


def test_renewed_ca_keeps_subject_and_key_so_host_certificates_stay_valid(ca, host):
    renewed = pki.renew_ca(ca[0], ca[1], 3650, NOW + 3000 * DAY)
    old, new = cert_of(ca[1]), cert_of(renewed)
    assert new.subject == old.subject
    assert new.serial_number != old.serial_number
    assert pki.not_valid_after(new) > pki.not_valid_after(old)
    assert pki.problems(host[1], host[0], renewed, NAMES, IPS, NOW + DAY, 30) == []


# ---------------------------------------------------------------- host certificates

def test_issued_host_certificate_has_the_names_usages_and_verifies_against_the_ca(ca, host):
    cert, ca_cert = cert_of(host[1]), cert_of(ca[1])
    san = ext(cert, x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == NAMES
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == IPS
    assert list(ext(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH,
                                                            ExtendedKeyUsageOID.CLIENT_AUTH]
    usage = ext(cert, x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    assert usage.value.key_encipherment is False  # EC key: RFC 5480
    constraints = ext(cert, x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca is False
    aki = ext(cert, x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ext(ca_cert, x509.SubjectKeyIdentifier).value.digest
    assert cert.issuer == ca_cert.subject
    assert pki.signed_by(cert, ca_cert)
    assert pki.not_valid_after(cert) == NOW + 825 * DAY
    assert pki.problems(host[1], host[0], ca[1], NAMES, IPS, NOW, 30) == []
    assert pki.describe(host[1])["subject_alt_names"] == ["DNS:compute1", "DNS:compute1.example.org", "IP:10.0.0.11"]


def test_each_issue_has_a_new_random_serial(ca, host):
    again = pki.issue(ca[0], ca[1], host[0], "compute1", NAMES, IPS, 825, NOW)
    assert cert_of(again).serial_number != cert_of(host[1]).serial_number
    assert cert_of(again).serial_number.bit_length() > 64


def test_an_operator_rsa_key_is_accepted_and_gets_key_encipherment(ca):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert_pem = pki.issue(ca[0], ca[1], pki.key_to_pem(key), "api", ["api"], [], 30, NOW)
    assert ext(cert_of(cert_pem), x509.KeyUsage).value.key_encipherment is True
    assert pki.problems(cert_pem, pki.key_to_pem(key), ca[1], ["api"], [], NOW, 7) == []


def test_an_rsa_ca_signs_and_its_signature_is_verified():
    rsa_ca = pki.make_ca("rsa CA", 100, NOW, key_pem=pki.key_to_pem(
        rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    key = pki.new_key_pem()
    cert_pem = pki.issue(rsa_ca[0], rsa_ca[1], key, "h", ["h"], [], 30, NOW)
    assert pki.signed_by(cert_of(cert_pem), cert_of(rsa_ca[1]))
    assert pki.problems(cert_pem, key, rsa_ca[1], ["h"], [], NOW, 7) == []


def test_a_host_certificate_never_outlives_its_ca():
    short_ca = pki.make_ca("short CA", 10, NOW)
    cert_pem = pki.issue(short_ca[0], short_ca[1], pki.new_key_pem(), "h", ["h"], [], 825, NOW)
    assert pki.not_valid_after(cert_of(cert_pem)) == pki.not_valid_after(cert_of(short_ca[1]))


def test_issue_refuses_a_ca_key_of_another_ca(ca):
    other = pki.make_ca("other CA", 10, NOW)
    with pytest.raises(pki.PkiError, match="does not match"):
        pki.issue(other[0], ca[1], pki.new_key_pem(), "h", ["h"], [], 10, NOW)


# ---------------------------------------------------------------- problems

def test_a_key_that_does_not_match_is_found(ca, host):
    found = pki.problems(host[1], pki.new_key_pem(), ca[1], NAMES, IPS, NOW, 30)
    assert kinds(found) == ["key_mismatch"]
    assert "does not match" in found[0][1]


def test_a_certificate_of_another_ca_is_found(ca, host):
    other = pki.make_ca("other CA", 100, NOW)
    cert_pem = pki.issue(other[0], other[1], host[0], "compute1", NAMES, IPS, 30, NOW)
    found = pki.problems(cert_pem, host[0], ca[1], NAMES, IPS, NOW, 7)
    assert kinds(found) == ["not_signed_by_ca"]
    assert "CN=other CA" in found[0][1] and "CN=test CA" in found[0][1]


def test_another_ca_of_the_same_name_is_found_by_the_signature(ca, host):
    impostor = pki.make_ca("test CA", 100, NOW)
    cert_pem = pki.issue(impostor[0], impostor[1], host[0], "compute1", NAMES, IPS, 30, NOW)
    assert cert_of(cert_pem).issuer == cert_of(ca[1]).subject
    found = pki.problems(cert_pem, host[0], ca[1], NAMES, IPS, NOW, 7)
    assert kinds(found) == ["not_signed_by_ca"]
    assert "does not verify" in found[0][1]


def test_a_ca_bundle_accepts_a_certificate_of_any_of_its_cas(ca, host):
    other = pki.make_ca("other CA", 100, NOW)
    assert pki.problems(host[1], host[0], other[1] + ca[1], NAMES, IPS, NOW, 30) == []


def test_a_san_lacking_the_address_is_found(ca, host):
    found = pki.problems(host[1], host[0], ca[1], NAMES, IPS + ["10.0.0.99"], NOW, 30)
    assert kinds(found) == ["missing_names"]
    assert "lack 10.0.0.99 (IP)" in found[0][1] and "subjectAltName has it" in found[0][1]
    assert "10.0.0.11" not in found[0][1]


def test_a_san_lacking_names_is_found_and_each_is_named(ca, host):
    found = pki.problems(host[1], host[0], ca[1], NAMES + ["nova.example.org"], ["fd00::11"], NOW, 30)
    assert kinds(found) == ["missing_names"]
    assert "fd00::11 (IP) and nova.example.org (DNS)" in found[0][1]
    assert found[0][1].endswith("subjectAltName has them")


def test_a_wildcard_covers_one_label(ca):
    key = pki.new_key_pem()
    cert_pem = pki.issue(ca[0], ca[1], key, "wild", ["*.example.org"], [], 30, NOW)
    assert pki.problems(cert_pem, key, ca[1], ["nova.example.org"], [], NOW, 7) == []
    assert kinds(pki.problems(cert_pem, key, ca[1], ["a.nova.example.org"], [], NOW, 7)) == ["missing_names"]
    assert kinds(pki.problems(cert_pem, key, ca[1], ["example.org"], [], NOW, 7)) == ["missing_names"]


def test_an_expired_certificate_is_found(ca, host):
    later = NOW + 900 * DAY
    found = pki.problems(host[1], host[0], ca[1], NAMES, IPS, later, 30)
    assert kinds(found) == ["expired"]
    assert "expired on %s" % (NOW + 825 * DAY).strftime("%Y-%m-%d") in found[0][1]
    assert "75 days ago" in found[0][1]


def test_a_certificate_expiring_within_min_days_is_found(ca, host):
    found = pki.problems(host[1], host[0], ca[1], NAMES, IPS, NOW + 810 * DAY, 30)
    assert kinds(found) == ["expiring"]
    assert "in 15 days (fewer than 30 days)" in found[0][1]
    assert pki.problems(host[1], host[0], ca[1], NAMES, IPS, NOW + 810 * DAY, 10) == []


def test_a_certificate_not_yet_valid_is_found(ca, host):
    found = pki.problems(host[1], host[0], ca[1], NAMES, IPS, NOW - 2 * DAY, 30)
    assert kinds(found) == ["not_yet_valid"]
    assert "clocks" in found[0][1]


def test_a_ca_without_basic_constraints_is_not_a_ca():
    key = ec.generate_private_key(ec.SECP256R1())
    cert_pem = self_signed(key, "no constraints")
    found = pki.problems(cert_pem, pki.key_to_pem(key), None, now=NOW, min_days=7, is_ca=True)
    assert kinds(found) == ["not_a_ca"]
    assert "no BasicConstraints" in found[0][1]


def test_a_ca_false_or_without_keycertsign_is_not_a_ca(host):
    key = ec.generate_private_key(ec.SECP256R1())
    no_sign = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                            encipher_only=False, decipher_only=False)
    constraints = x509.BasicConstraints(ca=True, path_length=None)
    cert_pem = self_signed(key, "no keyCertSign", [(constraints, True), (no_sign, True)])
    found = pki.problems(cert_pem, key, None, now=NOW, min_days=7, is_ca=True)
    assert kinds(found) == ["not_a_ca"] and "keyCertSign" in found[0][1]
    found = pki.problems(host[1], host[0], None, now=NOW, min_days=7, is_ca=True)
    assert kinds(found) == ["not_a_ca"] and "CA:FALSE" in found[0][1]


def test_several_problems_are_all_reported(ca, host):
    other = pki.make_ca("other CA", 100, NOW)
    found = pki.problems(host[1], pki.new_key_pem(), other[1], ["db"], [], NOW + 2000 * DAY, 30)
    assert kinds(found) == ["key_mismatch", "not_signed_by_ca", "missing_names", "expired"]


def test_labels_name_the_material(ca, host):
    found = pki.problems(host[1], pki.new_key_pem(), ca[1], now=NOW,
                         labels=dict(cert="the certificate given in certificate",
                                     key="the private key given in private_key"))
    assert found[0][1].startswith("the private key given in private_key does not match the certificate given in "
                                  "certificate")


# ---------------------------------------------------------------- reading material

def test_unusable_keys_are_refused_with_the_reason():
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(pki.PkiError, match="1024-bit RSA"):
        pki.load_private_key(pki.key_to_pem(weak), "private_key")
    encrypted = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"))
    with pytest.raises(pki.PkiError, match="private_key is encrypted"):
        pki.load_private_key(encrypted, "private_key")
    edwards = pki.key_to_pem(ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(pki.PkiError, match="give an RSA"):
        pki.load_private_key(edwards, "private_key")
    with pytest.raises(pki.PkiError, match="not a PEM private key"):
        pki.load_private_key("hello", "private_key")


def test_certificate_text_with_a_key_or_a_chain_is_refused(ca, host):
    with pytest.raises(pki.PkiError, match="holds a private key as well") as caught:
        pki.load_certificate(host[1] + host[0], "certificate")
    assert_no_key_material([str(caught.value)], host[0])
    with pytest.raises(pki.PkiError, match="holds 2 certificates"):
        pki.load_certificate(host[1] + ca[1], "certificate")
    with pytest.raises(pki.PkiError, match="not a PEM certificate"):
        pki.load_certificate("", "certificate")
    assert len(pki.load_certificates(host[1] + ca[1])) == 2


def test_same_key_and_certificate_compare_content_not_text(host):
    key = serialization.load_pem_private_key(host[0].encode("ascii"), None)
    traditional = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
    assert traditional.decode("ascii") != host[0]
    assert pki.same_key(traditional, host[0])
    assert not pki.same_key(pki.new_key_pem(), host[0])
    assert pki.same_certificate(host[1].replace("\n", "\r\n"), host[1])


def test_addresses_and_names_are_normalized_or_refused_naming_the_option():
    assert pki.normalize_ip_addresses(["10.0.0.11", " fd00:0::11 ", "10.0.0.11"]) == ["10.0.0.11", "fd00::11"]
    with pytest.raises(pki.PkiError, match=r"^ip_addresses: '10.0.0.300', 'compute1' are not an IP address"):
        pki.normalize_ip_addresses(["10.0.0.300", "compute1"])
    names = pki.normalize_dns_names(["Compute1.Example.org.", "*.example.org"])
    assert names == ["compute1.example.org", "*.example.org"]
    with pytest.raises(pki.PkiError, match="^dns_names: '10.0.0.11' is an IP address: give addresses in "
                                           "ip_addresses"):
        pki.normalize_dns_names(["10.0.0.11"])
    with pytest.raises(pki.PkiError, match="^dns_names: 'bad name', '-x' are not a DNS name"):
        pki.normalize_dns_names(["bad name", "-x"])
    with pytest.raises(pki.PkiError, match="common_name"):
        pki.check_common_name("x" * 65)


def test_validity_dates_are_utc_aware(host):
    cert = cert_of(host[1])
    assert pki.not_valid_after(cert).tzinfo is not None
    assert pki.not_valid_after(cert).utcoffset() == datetime.timedelta(0)
    assert pki.utcnow().tzinfo is not None and pki.utcnow().microsecond == 0


# ---------------------------------------------------------------- the plan: the CA

def test_plan_ca_makes_a_new_one_on_an_empty_disk():
    decided = pki.plan(None, None, is_ca=True, now=NOW)
    assert decided["action"] == "issue"
    assert decided["new_key"] and decided["write_key"] and decided["write_cert"]
    assert decided["reasons"] == ["there is no CA certificate at the certificate"]


def test_plan_ca_reuses_a_key_without_certificate(ca):
    decided = pki.plan(None, ca[0], is_ca=True, now=NOW, labels=dict(key="the CA key at /k.pem"))
    assert decided["action"] == "issue"
    assert not decided["new_key"] and not decided["write_key"]
    assert "its key at /k.pem is kept" in decided["reasons"]


def test_plan_ca_keeps_a_valid_ca(ca):
    assert pki.plan(ca[1], ca[0], is_ca=True, now=NOW)["action"] == "keep"
    assert pki.plan(ca[1], ca[0], is_ca=True, common_name="test CA", now=NOW)["action"] == "keep"


def test_plan_ca_renews_an_expiring_ca_with_its_key(ca):
    decided = pki.plan(ca[1], ca[0], is_ca=True, min_days=30, now=NOW + 3640 * DAY)
    assert decided["action"] == "issue" and decided["renew"]
    assert not decided["new_key"] and not decided["write_key"]
    assert len(decided["reasons"]) == 1 and "expires on" in decided["reasons"][0]


def test_plan_ca_with_a_new_common_name_makes_a_new_certificate_with_the_same_key(ca):
    decided = pki.plan(ca[1], ca[0], is_ca=True, common_name="renamed CA", now=NOW)
    assert decided["action"] == "issue" and not decided["renew"] and not decided["new_key"]
    assert "the common name of the certificate is test CA, not renamed CA" in decided["reasons"]


def test_plan_ca_refuses_what_is_not_a_ca_or_not_its_key(ca, host):
    decided = pki.plan(host[1], host[0], is_ca=True, now=NOW)
    assert decided["action"] == "fail" and kinds(decided["problems"]) == ["not_a_ca"]
    assert "nothing was written" in decided["message"]
    decided = pki.plan(ca[1], pki.new_key_pem(), is_ca=True, now=NOW)
    assert decided["action"] == "fail" and kinds(decided["problems"]) == ["key_mismatch"]


def test_plan_ca_never_replaces_a_ca_whose_key_is_missing_or_unreadable(ca):
    decided = pki.plan(ca[1], None, is_ca=True, now=NOW)
    assert decided["action"] == "fail" and kinds(decided["problems"]) == ["no_key"]
    decided = pki.plan(ca[1], "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n", is_ca=True, now=NOW)
    assert decided["action"] == "fail" and kinds(decided["problems"]) == ["unreadable"]
    assert "never overwritten" in decided["message"]


# ---------------------------------------------------------------- the plan: host certificates

def host_plan(cert, key, ca, **kw):
    args = dict(dns_names=NAMES, ip_addresses=IPS, min_days=30, ca_cert_pem=ca[1], ca_key_pem=ca[0], now=NOW)
    args.update(kw)
    return pki.plan(cert, key, **args)


def test_plan_host_issues_with_a_new_key_on_an_empty_disk(ca):
    decided = host_plan(None, None, ca)
    assert decided["action"] == "issue" and decided["new_key"] and decided["write_key"] and decided["write_cert"]


def test_plan_host_reuses_a_key_on_disk(ca, host):
    decided = host_plan(None, host[0], ca)
    assert decided["action"] == "issue" and not decided["new_key"] and not decided["write_key"]
    assert decided["reasons"] == ["there is no certificate at the certificate"]


def test_plan_host_keeps_a_good_certificate_even_without_the_ca_key(ca, host):
    assert host_plan(host[1], host[0], ca)["action"] == "keep"
    assert host_plan(host[1], host[0], ca, ca_key_pem=None)["action"] == "keep"


def test_plan_host_issues_again_when_a_name_is_added_or_removed(ca, host):
    added = host_plan(host[1], host[0], ca, ip_addresses=IPS + ["10.0.0.12"])
    assert added["action"] == "issue" and not added["new_key"]
    assert any("lack 10.0.0.12 (IP)" in reason for reason in added["reasons"])
    removed = host_plan(host[1], host[0], ca, dns_names=["compute1"])
    assert removed["action"] == "issue" and not removed["new_key"]
    assert removed["reasons"] == ["the SANs of the certificate also name compute1.example.org (DNS), no longer "
                                  "asked for"]


def test_plan_host_issues_again_for_a_key_mismatch_with_the_key_on_disk(ca, host):
    decided = host_plan(host[1], pki.new_key_pem(), ca)
    assert decided["action"] == "issue" and not decided["new_key"] and not decided["write_key"]
    assert "does not match" in decided["reasons"][0]


def test_plan_host_issues_again_when_expiring_expired_or_from_another_ca(ca, host):
    assert host_plan(host[1], host[0], ca, now=NOW + 810 * DAY)["action"] == "issue"
    assert host_plan(host[1], host[0], ca, now=NOW + 900 * DAY)["action"] == "issue"
    other = pki.make_ca("other CA", 100, NOW)
    decided = host_plan(host[1], host[0], other)
    assert decided["action"] == "issue" and "was issued by CN=test CA" in decided["reasons"][0]


def test_plan_host_issues_again_for_an_unreadable_certificate(ca, host):
    decided = host_plan("", host[0], ca)
    assert decided["action"] == "issue" and not decided["new_key"]
    assert "not a PEM certificate" in decided["reasons"][0]


def test_plan_host_refuses_to_overwrite_an_unreadable_key(ca, host):
    decided = host_plan(host[1], "not a key", ca)
    assert decided["action"] == "fail" and kinds(decided["problems"]) == ["unreadable"]


def test_plan_host_without_the_ca_key_fails_naming_why_it_would_issue(ca, host):
    decided = host_plan(host[1], host[0], ca, ca_key_pem=None, ip_addresses=["10.0.0.12"],
                        labels=dict(ca_key="the CA key at /ca-key.pem"))
    assert decided["action"] == "fail" and kinds(decided["problems"]) == ["no_key"]
    assert "the CA key at /ca-key.pem is not on this host" in decided["message"]
    assert "delegate_to" in decided["message"]
    assert "lack 10.0.0.12 (IP)" in decided["message"]


def test_plan_host_fails_with_a_ca_key_of_another_ca_or_an_expired_ca(ca):
    other = pki.make_ca("other CA", 100, NOW)
    decided = host_plan(None, None, (other[0], ca[1]))
    assert decided["action"] == "fail" and kinds(decided["problems"]) == ["key_mismatch"]
    decided = host_plan(None, None, ca, now=NOW + 4000 * DAY)
    assert decided["action"] == "fail" and kinds(decided["problems"]) == ["expired"]
    assert "ca: true" in decided["message"]


def test_plan_host_refuses_a_ca_that_is_not_a_ca(host):
    decided = pki.plan(None, None, dns_names=NAMES, ca_cert_pem=host[1], ca_key_pem=host[0], now=NOW)
    assert decided["action"] == "fail" and kinds(decided["problems"]) == ["not_a_ca"]


def test_plan_host_ending_with_its_ca_warns_instead_of_issuing_every_run():
    short_ca = pki.make_ca("short CA", 20, NOW)
    key = pki.new_key_pem()
    first = host_plan(None, key, short_ca)
    assert first["action"] == "issue"
    assert any("CA certificate expires on" in warning for warning in first["warnings"])
    cert_pem = pki.issue(short_ca[0], short_ca[1], key, "compute1", NAMES, IPS, 825, NOW)
    again = host_plan(cert_pem, key, short_ca)
    assert again["action"] == "keep"
    assert any("ends with its CA" in warning for warning in again["warnings"])


# ---------------------------------------------------------------- the plan: operator material

def supplied(ca, cert, key, on_disk=(None, None), **kw):
    args = dict(dns_names=NAMES, ip_addresses=IPS, min_days=30, ca_cert_pem=ca[1], certificate=cert,
                private_key=key, now=NOW, labels=dict(certificate="the certificate given in certificate",
                                                      private_key="the private key given in private_key"))
    args.update(kw)
    return pki.plan(on_disk[0], on_disk[1], **args)


def test_plan_supplied_good_material_is_installed_then_kept(ca, host):
    decided = supplied(ca, host[1], host[0])
    assert decided["action"] == "install" and decided["write_cert"] and decided["write_key"]
    assert not decided["new_key"] and decided["warnings"] == []
    assert supplied(ca, host[1], host[0], on_disk=(host[1], host[0]))["action"] == "keep"


def test_plan_supplied_certificate_alone_is_checked_against_the_key_on_disk(ca, host):
    decided = supplied(ca, host[1], None, on_disk=(None, host[0]))
    assert decided["action"] == "install" and decided["write_cert"] and not decided["write_key"]
    decided = supplied(ca, host[1], None, labels=dict(certificate="the certificate given in certificate",
                                                      key="the private key at /k.pem"))
    assert decided["action"] == "fail" and kinds(decided["problems"]) == ["no_key"]
    assert decided["message"] == ("certificate refused, nothing was written: the certificate given in certificate is "
                                  "given without its private key and there is none at /k.pem: give private_key")


def test_plan_supplied_bad_material_is_refused_naming_the_parameters(ca, host):
    other_key = pki.new_key_pem()
    decided = supplied(ca, host[1], other_key, ip_addresses=["10.0.0.99"])
    assert decided["action"] == "fail"
    assert kinds(decided["problems"]) == ["key_mismatch", "missing_names"]
    assert decided["message"].startswith("certificate and private_key refused, nothing was written: the private key "
                                         "given in private_key does not match the certificate given in certificate")
    assert_no_key_material([decided["message"]] + [m for k, m in decided["problems"]], other_key, host[0])


def test_plan_supplied_expiring_is_a_warning_expired_is_refused(ca, host):
    decided = supplied(ca, host[1], host[0], now=NOW + 810 * DAY)
    assert decided["action"] == "install"
    assert len(decided["warnings"]) == 1 and "fewer than 30 days" in decided["warnings"][0]
    decided = supplied(ca, host[1], host[0], now=NOW + 900 * DAY)
    assert decided["action"] == "fail" and kinds(decided["problems"]) == ["expired"]


def test_plan_supplied_from_another_ca_or_unreadable_is_refused(ca, host):
    other = pki.make_ca("other CA", 100, NOW)
    assert kinds(supplied(other, host[1], host[0])["problems"]) == ["not_signed_by_ca"]
    decided = supplied(ca, "garbage", "garbage")
    assert decided["action"] == "fail" and kinds(decided["problems"]) == ["unreadable", "unreadable"]
    assert "the certificate given in certificate is not a PEM certificate" in decided["message"]


def test_plan_supplied_key_in_another_format_is_not_rewritten(ca, host):
    key = serialization.load_pem_private_key(host[0].encode("ascii"), None)
    traditional = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
    decided = supplied(ca, host[1], host[0], on_disk=(host[1], traditional))
    assert decided["action"] == "keep" and not decided["write_key"]


def test_plan_supplied_without_a_ca_warns_that_the_issuer_is_unchecked(host):
    decided = supplied((None, None), host[1], host[0])
    assert decided["action"] == "install"
    assert any("not checked against a CA" in warning for warning in decided["warnings"])


def test_plan_supplied_ca_must_be_a_ca(ca, host):
    assert supplied((None, None), ca[1], ca[0], is_ca=True, dns_names=[], ip_addresses=[],
                    ca_cert_pem=None)["action"] == "install"
    decided = supplied((None, None), host[1], host[0], is_ca=True, dns_names=[], ip_addresses=[], ca_cert_pem=None)
    assert decided["action"] == "fail" and kinds(decided["problems"]) == ["not_a_ca"]


def test_no_message_of_any_plan_holds_key_material(ca, host):
    other = pki.make_ca("other CA", 100, NOW)
    stray = pki.new_key_pem()
    plans = [
        supplied(ca, host[1], stray),
        supplied(other, host[1], host[0], now=NOW + 900 * DAY),
        supplied(ca, host[1] + host[0], host[0]),
        host_plan(host[1], stray, ca, ca_key_pem=None),
        host_plan(host[1], "junk", ca),
        pki.plan(ca[1], stray, is_ca=True, now=NOW),
        pki.plan(host[1], host[0], is_ca=True, now=NOW),
    ]
    texts = []
    for decided in plans:
        texts += [decided["message"] or ""] + decided["reasons"] + decided["warnings"]
        texts += [message for dummy, message in decided["problems"]]
    assert len([text for text in texts if text]) >= 10
    assert_no_key_material(texts, ca[0], other[0], host[0], stray)
