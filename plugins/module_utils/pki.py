# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS certificates and keys as plain functions: the tls_certificate module's logic.

The module (plugins/modules/tls_certificate.py) reads what is on disk and what
the operator gave, and these functions decide:

1. ``load_certificates``, ``load_certificate``, ``load_private_key`` read PEM
   text (a ``PkiError`` names what cannot be read and why, never its content);
   ``normalize_dns_names`` and ``normalize_ip_addresses`` validate the names a
   certificate must carry;
2. ``problems`` lists what is wrong with a certificate: a key that does not match,
   another issuer, missing subjectAltNames, expired, not yet valid, expiring
   within ``min_days``, not a CA; each as ``(kind, message)``, the message naming
   what is wrong and the fix;
3. ``plan`` (pure) decides from all of it: ``keep``, ``issue`` (with the reasons),
   ``install`` (operator material that passed every check) or ``fail`` (what was
   given or found cannot be used, with the problems);
4. ``make_ca``, ``renew_ca`` and ``issue`` make the material; ``describe`` is what
   the module returns about a certificate.

Nothing here touches the file system or prints a key. Works with cryptography 38
(Debian 12's python3-cryptography) up to the current release: the validity
dates are read through ``not_valid_after_utc`` where it exists (42+, where the
naive ``not_valid_after`` is deprecated) and the naive value read as UTC before.

Why EC P-256 for the keys the module makes: its 128-bit security equals RSA
3072 at a fraction of the size and cost (a key is made in microseconds, an RSA
3072 key can take seconds on a small VM), and every TLS stack the deployment
uses accepts it: OpenSSL 3 (Python, MariaDB, the APIs), Erlang's ssl
(RabbitMQ) and GnuTLS (libvirt, QEMU's VeNCrypt). Operator-supplied keys may be
RSA (2048 bits or more: Debian's OpenSSL refuses less at its default security
level) or EC on P-256, P-384 or P-521.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import ipaddress
import re
import traceback

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

# Validity when issuing: 825 days is the longest TLS server certificate Apple's
# clients accept (and what the CA/Browser Forum allowed until 2020); a CA 10 years.
HOST_DAYS = 825
CA_DAYS = 3650
RENEW_BEFORE_DAYS = 30
DEFAULT_CA_NAME = "osdeploy.nova CA"
# notBefore is set this far in the past, so that a host whose clock is a little
# behind the CA's accepts a certificate issued a moment ago
BACKDATE = datetime.timedelta(hours=1)
MIN_RSA_BITS = 2048
EC_CURVES = ("secp256r1", "secp384r1", "secp521r1")
CN_MAX = 64  # ub-common-name (RFC 5280)

# the kinds of problem ``problems`` reports; ``plan`` adds 'unreadable' and 'no_key'
KEY_MISMATCH = "key_mismatch"
NOT_SIGNED_BY_CA = "not_signed_by_ca"
MISSING_NAMES = "missing_names"
EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"
EXPIRING = "expiring"
NOT_A_CA = "not_a_ca"
UNREADABLE = "unreadable"
NO_KEY = "no_key"

LABELS = {
    "cert": "the certificate",
    "key": "the private key",
    "ca": "the CA certificate",
    "ca_key": "the CA key",
    "certificate": "the certificate given",
    "private_key": "the private key given",
}

_PEM_CERT = re.compile(br"-----BEGIN CERTIFICATE-----\s.*?-----END CERTIFICATE-----", re.S)
_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


class PkiError(ValueError):
    """Material or input that cannot be used; the message says what and the fix, never key material."""


# ---------------------------------------------------------------- time

_UTC = datetime.timezone.utc


def utcnow():
    """Now, timezone-aware in UTC, to the second (what a certificate can hold)."""
    return datetime.datetime.now(_UTC).replace(microsecond=0)


def _aware(moment):
    """``moment`` as an aware UTC datetime (a naive one is taken as UTC); None: now."""
    if moment is None:
        return utcnow()
    if moment.tzinfo is None:
        return moment.replace(tzinfo=_UTC)
    return moment.astimezone(_UTC)


def not_valid_after(cert):
    """The end of validity, aware UTC, without cryptography 42+'s deprecation warning."""
    if hasattr(cert, "not_valid_after_utc"):
        return cert.not_valid_after_utc
    return cert.not_valid_after.replace(tzinfo=_UTC)


def not_valid_before(cert):
    """The start of validity, aware UTC (see ``not_valid_after``)."""
    if hasattr(cert, "not_valid_before_utc"):
        return cert.not_valid_before_utc
    return cert.not_valid_before.replace(tzinfo=_UTC)


def _when(moment):
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _span(delta):
    """A duration in words: '12 days', '5 hours', '3 minutes'."""
    seconds = abs(int(delta.total_seconds()))
    if seconds >= 2 * 86400:
        return "%d days" % (seconds // 86400)
    if seconds >= 2 * 3600:
        return "%d hours" % (seconds // 3600)
    return "%d minutes" % max(1, seconds // 60)


# ---------------------------------------------------------------- loading and serializing

def _bytes(pem):
    if isinstance(pem, bytes):
        return pem
    return pem.encode("utf-8", "replace")


def load_certificates(pem, what=LABELS["cert"]):
    """Every certificate of a PEM text (one, or a bundle); PkiError names ``what`` when there is none."""
    data = _bytes(pem)
    if b"PRIVATE KEY-----" in data:
        raise PkiError("%s holds a private key as well: a certificate is readable by everyone, so the key must "
                       "be given on its own" % what)
    blocks = _PEM_CERT.findall(data)
    if not blocks:
        raise PkiError("%s is not a PEM certificate (no -----BEGIN CERTIFICATE----- block): give the "
                       "certificate in PEM" % what)
    certs = []
    for block in blocks:
        try:
            certs.append(x509.load_pem_x509_certificate(block))
        except ValueError:
            raise PkiError("%s holds a PEM block that is not a valid X.509 certificate: give the certificate "
                           "as issued" % what)
    return certs


def load_certificate(pem, what=LABELS["cert"]):
    """The one certificate of a PEM text; PkiError for none or several (a chain is not a host certificate)."""
    certs = load_certificates(pem, what)
    if len(certs) != 1:
        raise PkiError("%s holds %d certificates: give exactly one, without its chain" % (what, len(certs)))
    return certs[0]


def load_private_key(pem, what=LABELS["key"]):
    """An unencrypted PEM RSA (2048 bits or more) or EC (P-256, P-384, P-521) private key, or PkiError."""
    data = _bytes(pem)
    if b"-----BEGIN" not in data or b"PRIVATE KEY-----" not in data:
        raise PkiError("%s is not a PEM private key (no PEM block of a private key): give the key in PEM" % what)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise PkiError("%s is encrypted: services read it at start without a passphrase, so give it "
                       "unencrypted (openssl pkey -in KEY -out PLAIN)" % what)
    except (ValueError, UnsupportedAlgorithm):
        raise PkiError("%s cannot be read as a PEM private key: give the key unencrypted, in PEM" % what)
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise PkiError("%s is a %d-bit RSA key: OpenSSL on Debian refuses keys under %d bits; give an RSA key "
                           "of %d bits or more, or an EC key" % (what, key.key_size, MIN_RSA_BITS, MIN_RSA_BITS))
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name not in EC_CURVES:
            raise PkiError("%s is an EC key on %s: give one on P-256, P-384 or P-521, or an RSA key"
                           % (what, key.curve.name))
    else:
        raise PkiError("%s is a %s key: give an RSA (%d bits or more) or EC key, which every service of the "
                       "deployment accepts" % (what, type(key).__name__.lstrip("_"), MIN_RSA_BITS))
    return key


def _key(key_or_pem, what):
    if isinstance(key_or_pem, (bytes, str)):
        return load_private_key(key_or_pem, what)
    return key_or_pem


def _cert(cert_or_pem, what):
    if isinstance(cert_or_pem, (bytes, str)):
        return load_certificate(cert_or_pem, what)
    return cert_or_pem


def key_to_pem(key):
    """A private key as unencrypted PKCS#8 PEM text (what OpenSSL, Erlang and GnuTLS all read)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


def cert_to_pem(cert):
    """A certificate as PEM text."""
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def new_private_key():
    """A new EC P-256 private key (why P-256: the module docstring)."""
    return ec.generate_private_key(ec.SECP256R1())


def new_key_pem():
    """A new private key as PEM text."""
    return key_to_pem(new_private_key())


def _spki(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def same_key(key_a, key_b):
    """Whether two private keys (objects or PEM) are the same key, whatever their PEM format."""
    return _spki(_key(key_a, LABELS["key"]).public_key()) == _spki(_key(key_b, LABELS["key"]).public_key())


def same_certificate(cert_a, cert_b):
    """Whether two certificates (objects or PEM) are the same certificate, byte for byte in DER."""
    der = serialization.Encoding.DER
    return _cert(cert_a, LABELS["cert"]).public_bytes(der) == _cert(cert_b, LABELS["cert"]).public_bytes(der)


def key_matches(cert, key):
    """Whether the private key is the one the certificate was issued for."""
    return _spki(cert.public_key()) == _spki(key.public_key())


# ---------------------------------------------------------------- names

def normalize_ip_addresses(values, option="ip_addresses"):
    """The addresses in their canonical spelling (10.0.0.11, fd00::11), or PkiError naming ``option``."""
    out, bad = [], []
    for value in values or []:
        try:
            address = str(ipaddress.ip_address(str(value).strip()))
        except ValueError:
            bad.append(repr(value))
            continue
        if address not in out:
            out.append(address)
    if bad:
        raise PkiError("%s: %s %s not an IP address (give addresses such as 10.0.0.11 or fd00::11; names go in "
                       "dns_names)" % (option, ", ".join(bad), "is" if len(bad) == 1 else "are"))
    return out


def normalize_dns_names(values, option="dns_names"):
    """The names lowercased, without a trailing dot (``*.`` allowed leftmost), or PkiError naming ``option``."""
    out, bad, addresses = [], [], []
    for value in values or []:
        name = str(value).strip().lower().rstrip(".")
        try:
            ipaddress.ip_address(name)
            addresses.append(repr(value))
            continue
        except ValueError:
            pass
        labels = name.split(".")
        if labels and labels[0] == "*" and len(labels) > 1:
            labels = labels[1:]
        if not name or len(name) > 253 or not all(_DNS_LABEL.match(label) for label in labels):
            bad.append(repr(value))
            continue
        if name not in out:
            out.append(name)
    if addresses:
        raise PkiError("%s: %s %s an IP address: give addresses in ip_addresses (a client checks them against "
                       "the IP entries of the subjectAltName)" % (option, ", ".join(addresses),
                                                                  "is" if len(addresses) == 1 else "are"))
    if bad:
        raise PkiError("%s: %s %s not a DNS name (letters, digits and hyphens in dot-separated labels of at most "
                       "63 characters, optionally *. first)" % (option, ", ".join(bad),
                                                                "is" if len(bad) == 1 else "are"))
    return out


def check_common_name(name, option="common_name"):
    """``name`` when it fits a certificate's subject, or PkiError naming ``option``."""
    if not name or len(name) > CN_MAX:
        raise PkiError("%s: %r must be 1 to %d characters long (RFC 5280)" % (option, name, CN_MAX))
    return name


def _common_name(cert):
    values = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return values[0].value if values else None


def _name_text(name):
    """A subject or issuer as people read it: its common name, else its RFC 4514 string."""
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return "CN=%s" % values[0].value if values else (name.rfc4514_string() or "an empty name")


def _sans(cert):
    """(DNS names lowercased, IP addresses as text) of the certificate's subjectAltName."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    dns = [name.lower().rstrip(".") for name in san.get_values_for_type(x509.DNSName)]
    ips = [str(address) for address in san.get_values_for_type(x509.IPAddress)]
    return dns, ips


def _dns_covered(name, dns):
    """Whether SAN entries ``dns`` cover ``name``: equal, or a wildcard for exactly its leftmost label."""
    if name in dns:
        return True
    head, dot, rest = name.partition(".")
    return bool(dot) and not name.startswith("*.") and ("*." + rest) in dns


def subject_alt_names(cert):
    """The subjectAltName as ['DNS:compute1', 'IP:10.0.0.11'] (the order in the certificate)."""
    dns, ips = _sans(cert)
    return ["DNS:%s" % name for name in dns] + ["IP:%s" % address for address in ips]


def _enumerate(items):
    items = list(items)
    if len(items) < 2:
        return "".join(items)
    return "%s and %s" % (", ".join(items[:-1]), items[-1])


# ---------------------------------------------------------------- checks

def _is_ca(cert):
    """None when the certificate can sign certificates, else why it cannot."""
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return "it has no BasicConstraints extension with CA:TRUE"
    if not constraints.ca:
        return "its BasicConstraints say CA:FALSE"
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    if not usage.key_cert_sign:
        return "its KeyUsage lacks keyCertSign"
    return None


def _signature_ok(cert, issuer):
    """Whether ``issuer``'s public key verifies the certificate's signature."""
    public_key = issuer.public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            # cryptography 41+ says whether the signature is PKCS#1 v1.5 or PSS; before, PKCS#1 v1.5
            pad = getattr(cert, "signature_algorithm_parameters", None)
            if not isinstance(pad, (padding.PKCS1v15, padding.PSS)):
                pad = padding.PKCS1v15()
            public_key.verify(cert.signature, cert.tbs_certificate_bytes, pad, cert.signature_hash_algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def signed_by(cert, ca_cert):
    """Whether ``ca_cert`` issued the certificate: its subject is the issuer AND its key verifies the signature."""
    return cert.issuer == ca_cert.subject and _signature_ok(cert, ca_cert)


def _issuer_problem(cert, ca_certs, labels):
    if any(signed_by(cert, ca) for ca in ca_certs):
        return None
    named = [ca for ca in ca_certs if ca.subject == cert.issuer]
    if named:
        return ("%s names %s (%s) as its issuer but its signature does not verify with that CA's key (another CA "
                "of the same name): give a certificate this CA issued, or the CA that issued it"
                % (labels["cert"], labels["ca"], _name_text(cert.issuer)))
    return ("%s was issued by %s, not by %s (%s): give a certificate this CA issued, or the CA that issued it"
            % (labels["cert"], _name_text(cert.issuer), labels["ca"],
               " or ".join(_name_text(ca.subject) for ca in ca_certs)))


def _labels(labels):
    out = dict(LABELS)
    out.update(labels or {})
    return out


def problems(cert_pem, key_pem=None, ca_cert_pem=None, dns_names=(), ip_addresses=(), now=None, min_days=0,
             is_ca=False, labels=None):
    """What is wrong with a certificate: a list of ``(kind, message)``, empty when nothing is.

    ``key_pem``: its private key, checked to match; ``ca_cert_pem``: the CA (one
    certificate or a bundle) that must have issued it, by name and signature;
    ``dns_names``, ``ip_addresses``: what its subjectAltName must cover (a
    ``*.`` entry covers one leftmost label); ``now``: the moment of the validity
    checks; ``min_days``: fewer days left than this is ``expiring``; ``is_ca``:
    the certificate must be a CA (BasicConstraints CA:TRUE; keyCertSign when it
    has a KeyUsage). Each argument may be PEM text or a loaded object; ``None``
    skips its check. ``labels`` name the material in the messages (``LABELS``).
    Raises PkiError for material that cannot be read.
    """
    labels = _labels(labels)
    now = _aware(now)
    cert = _cert(cert_pem, labels["cert"])
    found = []
    if key_pem is not None:
        key = _key(key_pem, labels["key"])
        if not key_matches(cert, key):
            found.append((KEY_MISMATCH, "%s does not match %s (their public keys differ): give the key the "
                                        "certificate was issued for, or a certificate issued for this key"
                          % (labels["key"], labels["cert"])))
    if ca_cert_pem is not None:
        ca_certs = load_certificates(ca_cert_pem, labels["ca"]) if isinstance(ca_cert_pem, (bytes, str)) \
            else list(ca_cert_pem) if isinstance(ca_cert_pem, (list, tuple)) else [ca_cert_pem]
        problem = _issuer_problem(cert, ca_certs, labels)
        if problem:
            found.append((NOT_SIGNED_BY_CA, problem))
    if is_ca:
        why = _is_ca(cert)
        if why:
            found.append((NOT_A_CA, "%s is not a CA certificate: %s, so it cannot sign host certificates; give "
                                    "the CA's own certificate" % (labels["cert"], why)))
    dns, ips = _sans(cert)
    lacking = ["%s (IP)" % address for address in normalize_ip_addresses(ip_addresses) if address not in ips]
    lacking += ["%s (DNS)" % name for name in normalize_dns_names(dns_names) if not _dns_covered(name, dns)]
    if lacking:
        found.append((MISSING_NAMES, "the SANs of %s lack %s: issue one whose subjectAltName has %s"
                      % (labels["cert"], _enumerate(lacking), "it" if len(lacking) == 1 else "them")))
    start, end = not_valid_before(cert), not_valid_after(cert)
    if end <= now:
        found.append((EXPIRED, "%s expired on %s (%s ago): renew it" % (labels["cert"], _when(end), _span(now - end))))
    elif start > now:
        found.append((NOT_YET_VALID, "%s is not valid before %s (%s from now): check the clocks of this host and "
                                     "of the CA's host, or give a certificate valid now"
                      % (labels["cert"], _when(start), _span(start - now))))
    elif end - now < datetime.timedelta(days=min_days):
        found.append((EXPIRING, "%s expires on %s, in %s (fewer than %d days): renew it"
                      % (labels["cert"], _when(end), _span(end - now), min_days)))
    return found


# ---------------------------------------------------------------- making material

def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, check_common_name(common_name))])


def _ca_builder(subject, key, days, now):
    now = _aware(now)
    public_key = key.public_key()
    return (x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))


def make_ca(common_name, days=CA_DAYS, now=None, key_pem=None):
    """A self-signed CA: (key_pem, cert_pem); the key ``key_pem`` when given, else a new EC P-256 key.

    BasicConstraints CA:TRUE with pathlen 0 (it signs host certificates only) and
    KeyUsage keyCertSign and cRLSign, both critical; a SubjectKeyIdentifier.
    """
    key = _key(key_pem, LABELS["ca_key"]) if key_pem is not None else new_private_key()
    cert = _ca_builder(_name(common_name), key, days, now).sign(key, hashes.SHA256())
    return key_to_pem(key), cert_to_pem(cert)


def renew_ca(key_pem, cert_pem, days=CA_DAYS, now=None):
    """The CA certificate again for a new validity: same subject, same key (so the same key identifier).

    Every certificate the old one issued verifies against the new one (same issuer
    name, same key), so renewing the CA does not invalidate the host certificates.
    """
    key = _key(key_pem, LABELS["ca_key"])
    old = _cert(cert_pem, LABELS["ca"])
    if not key_matches(old, key):
        raise PkiError("%s does not match %s: a CA is renewed with its own key" % (LABELS["ca_key"], LABELS["ca"]))
    return cert_to_pem(_ca_builder(old.subject, key, days, now).sign(key, hashes.SHA256()))


def issue(ca_key_pem, ca_cert_pem, key_pem, common_name, dns_names=(), ip_addresses=(), days=HOST_DAYS, now=None):
    """A host certificate for ``key_pem`` signed by the CA: cert_pem.

    ExtendedKeyUsage serverAuth and clientAuth (one certificate serves HTTPS,
    MariaDB and RabbitMQ and is the client of libvirt and VeNCrypt); KeyUsage
    digitalSignature, and keyEncipherment for an RSA key only (RFC 5480 does not
    allow it for EC keys, and RSA key exchange is the only use of it); the
    subjectAltName with the DNS names and IP addresses; key identifiers;
    BasicConstraints CA:FALSE; a random serial. It never outlives its CA: its
    notAfter is at most the CA's. With a CA bundle, the certificate of the CA
    key is used.
    """
    now = _aware(now)
    ca_key = _key(ca_key_pem, LABELS["ca_key"])
    ca_certs = load_certificates(ca_cert_pem, LABELS["ca"]) if isinstance(ca_cert_pem, (bytes, str)) \
        else [ca_cert_pem]
    ca_cert = issuer_for(ca_certs, ca_key)
    if ca_cert is None:
        raise PkiError("%s does not match %s: give the key of that CA" % (LABELS["ca_key"], LABELS["ca"]))
    key = _key(key_pem, LABELS["key"])
    dns = normalize_dns_names(dns_names)
    ips = normalize_ip_addresses(ip_addresses)
    if not dns and not ips:
        raise PkiError("a host certificate needs at least one DNS name or IP address in its subjectAltName")
    sans = [x509.DNSName(name) for name in dns] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]
    start = max(now - BACKDATE, not_valid_before(ca_cert))
    end = min(now + datetime.timedelta(days=days), not_valid_after(ca_cert))
    if end <= start:
        raise PkiError("%s is not valid at %s (from %s to %s): it cannot issue" % (
            LABELS["ca"], _when(now), _when(not_valid_before(ca_cert)), _when(not_valid_after(ca_cert))))
    try:
        ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)
    except x509.ExtensionNotFound:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    is_rsa = isinstance(key, rsa.RSAPrivateKey)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(common_name))
               .issuer_name(ca_cert.subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(start)
               .not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=is_rsa,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                              critical=False)
               .add_extension(x509.SubjectAlternativeName(sans), critical=False)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(aki, critical=False))
    return cert_to_pem(builder.sign(ca_key, hashes.SHA256()))


def issuer_for(ca_certs, ca_key):
    """The certificate of ``ca_certs`` whose public key is the CA key's, or None."""
    for ca in ca_certs:
        if key_matches(ca, ca_key):
            return ca
    return None


def describe(cert_pem):
    """What the module returns about a certificate (never anything about its key)."""
    cert = _cert(cert_pem, LABELS["cert"])
    fingerprint = cert.fingerprint(hashes.SHA256()).hex().upper()
    return dict(
        common_name=_common_name(cert),
        not_before=not_valid_before(cert).isoformat(),
        not_after=not_valid_after(cert).isoformat(),
        serial="%x" % cert.serial_number,
        fingerprint_sha256=":".join(fingerprint[i:i + 2] for i in range(0, len(fingerprint), 2)),
        subject_alt_names=subject_alt_names(cert),
        is_ca=_is_ca(cert) is None,
    )


# ---------------------------------------------------------------- the plan

def _outcome(action, reasons=(), found=(), warnings=(), new_key=False, write_key=False, write_cert=False,
             renew=False, message=None):
    """The plan: what to do, why, and which files are written.

    ``action``: keep, issue, install or fail; ``reasons``: why it issues or
    installs; ``problems``: (kind, message) of what is wrong (for fail, why);
    ``warnings``; ``new_key``: a new private key is made (no usable one on
    disk); ``write_key``/``write_cert``: which files are written; ``renew``: the
    CA certificate is re-signed for a new validity, same subject and key;
    ``message``: for fail, the one sentence the module fails with.
    """
    return dict(action=action, reasons=list(reasons), problems=list(found), warnings=list(warnings),
                new_key=new_key, write_key=write_key, write_cert=write_cert, renew=renew, message=message)


def _refused(what, found):
    return _outcome("fail", found=found, message="%s refused, nothing was written: %s"
                    % (what, "; ".join(message for dummy, message in found)))


def _read(loader, pem, what):
    """(loaded object or None, (kind, message) or None) for optional material."""
    if pem is None:
        return None, None
    try:
        return loader(pem, what), None
    except PkiError as e:
        return None, (UNREADABLE, str(e))


def plan(cert_pem, key_pem, is_ca=False, common_name=None, dns_names=(), ip_addresses=(),
         min_days=RENEW_BEFORE_DAYS, ca_cert_pem=None, ca_key_pem=None, certificate=None, private_key=None,
         now=None, labels=None):
    """Decide what to do with the certificate and key on disk; pure, returns ``_outcome``'s dict.

    ``cert_pem``, ``key_pem``: the files at path and key_path (None: missing);
    ``is_ca``: they are the deployment's CA; ``common_name``: the subject's CN
    (None: any, when keeping); ``dns_names``, ``ip_addresses`` (normalized) and
    ``min_days`` (renew_before_days): what a host certificate must carry and how
    long it must still be valid; ``ca_cert_pem``: for a host certificate, the CA
    (None: not checked); ``ca_key_pem``: its key (None: not on this host, so
    nothing can be issued); ``certificate``, ``private_key``: operator-supplied
    material, which is never issued, only checked and installed.

    - operator material: every problem but ``expiring`` refuses it (fail, before
      anything is written); ``expiring`` is a warning; installed when it differs
      from the files (compared as certificate and key, not as text), else kept;
    - the CA: made when missing (a key on disk is reused), kept while valid,
      renewed with its own key and subject when it expires within ``min_days``
      (every host certificate it issued stays valid); a certificate that is not
      a CA or does not match its key, or a key that is missing or unreadable, is
      refused: a CA is never replaced behind the operator's back;
    - a host certificate: issued when missing or unreadable, or when it does not
      match its key, has another issuer, lacks a name or has one no longer asked
      for, has another common name (when one is given), is expired, not yet
      valid, or expires within ``min_days`` (unless it already ends with its CA:
      then a warning, as a new one could not last longer); the key on disk is
      reused, a new one made only when there is none. An unreadable key is
      refused (never overwritten). Issuing without the CA key fails, naming why
      the certificate would be issued.
    """
    labels = _labels(labels)
    now = _aware(now)
    dns_names = normalize_dns_names(dns_names)
    ip_addresses = normalize_ip_addresses(ip_addresses)
    if certificate is not None:
        return _plan_supplied(cert_pem, key_pem, is_ca, dns_names, ip_addresses, min_days, ca_cert_pem,
                              certificate, private_key, now, labels)
    key, unreadable_key = _read(load_private_key, key_pem, labels["key"])
    if unreadable_key:
        return _refused(labels["key"], [(UNREADABLE, unreadable_key[1] + ": it is never overwritten; fix it, or "
                                         "remove it to have a new key made")])
    cert, unreadable_cert = _read(load_certificate, cert_pem, labels["cert"])
    if is_ca:
        return _plan_ca(cert, unreadable_cert, key, common_name, min_days, now, labels)
    return _plan_host(cert, unreadable_cert, key, common_name, dns_names, ip_addresses, min_days, ca_cert_pem,
                      ca_key_pem, now, labels)


def _plan_supplied(cert_pem, key_pem, is_ca, dns_names, ip_addresses, min_days, ca_cert_pem, certificate,
                   private_key, now, labels):
    found = []
    cert, problem = _read(load_certificate, certificate, labels["certificate"])
    if problem:
        found.append(problem)
    key_label = labels["private_key"] if private_key is not None else labels["key"]
    key, problem = _read(load_private_key, private_key if private_key is not None else key_pem, key_label)
    if problem:
        found.append(problem)
    elif private_key is None and key_pem is None:
        found.append((NO_KEY, "%s is given without its private key and there is none at %s: give private_key"
                      % (labels["certificate"], _where(labels["key"]))))
    ca_certs = None
    if ca_cert_pem is not None and not is_ca:
        ca_certs, problem = _read(load_certificates, ca_cert_pem, labels["ca"])
        if problem:
            found.append(problem)
    if found:
        return _refused(_what_refused(private_key), found)
    checks = problems(cert, key, ca_certs, dns_names, ip_addresses, now, min_days, is_ca,
                      dict(labels, cert=labels["certificate"], key=key_label))
    fatal = [(kind, message) for kind, message in checks if kind != EXPIRING]
    if fatal:
        return _refused(_what_refused(private_key), fatal)
    warnings = [message for kind, message in checks if kind == EXPIRING]
    if ca_cert_pem is None and not is_ca:
        warnings.append("%s is not checked against a CA: give ca_path or ca_certificate to have its issuer checked"
                        % labels["certificate"])
    reasons = []
    write_cert = cert_pem is None or not _same(same_certificate, cert_pem, cert)
    if write_cert:
        reasons.append("%s differs from %s" % (labels["certificate"], labels["cert"]) if cert_pem is not None
                       else "there is no certificate at %s yet" % _where(labels["cert"]))
    write_key = private_key is not None and (key_pem is None or not _same(same_key, key_pem, key))
    if write_key:
        reasons.append("%s differs from %s" % (labels["private_key"], labels["key"]) if key_pem is not None
                       else "there is no private key at %s yet" % _where(labels["key"]))
    action = "install" if write_cert or write_key else "keep"
    return _outcome(action, reasons=reasons, warnings=warnings, write_key=write_key, write_cert=write_cert)


def _what_refused(private_key):
    return "certificate and private_key" if private_key is not None else "certificate"


def _where(label):
    """'the certificate at /etc/x.pem' -> '/etc/x.pem' (the label itself when it names no path)."""
    return label.split(" at ", 1)[1] if " at " in label else label


def _same(compare, on_disk, given):
    try:
        return compare(on_disk, given)
    except PkiError:
        return False


def _plan_ca(cert, unreadable_cert, key, common_name, min_days, now, labels):
    if cert is None:
        reasons = [unreadable_cert[1] if unreadable_cert else "there is no CA certificate at %s" % _where(labels["cert"])]
        if key is not None:
            reasons.append("its key at %s is kept" % _where(labels["key"]))
        return _outcome("issue", reasons=reasons, new_key=key is None, write_key=key is None, write_cert=True)
    if key is None:
        return _refused(labels["cert"], [(NO_KEY, "%s has no key at %s: restore the key (a CA without its key "
                                                  "cannot issue), or remove the certificate to make a new CA (every "
                                                  "host certificate is then issued again)"
                                          % (labels["cert"], _where(labels["key"])))])
    found = problems(cert, key, None, (), (), now, min_days, True, labels)
    fatal = [(kind, message) for kind, message in found if kind in (KEY_MISMATCH, NOT_A_CA)]
    if fatal:
        return _refused(labels["cert"], fatal)
    reasons = [message for kind, message in found if kind in (EXPIRED, NOT_YET_VALID, EXPIRING)]
    if common_name is not None and _common_name(cert) != common_name:
        reasons.append("the common name of %s is %s, not %s" % (labels["cert"], _common_name(cert), common_name))
    if not reasons:
        return _outcome("keep")
    if cert.issuer != cert.subject:
        # an intermediate of the operator's: re-signing it ourselves would cut it from its root
        kinds = [kind for kind, dummy in found]
        if EXPIRED in kinds or NOT_YET_VALID in kinds:
            return _refused(labels["cert"], [(kind, message) for kind, message in found if kind != EXPIRING] +
                            [(EXPIRED, "%s is issued by %s, not self-signed: renew it there"
                              % (labels["cert"], _name_text(cert.issuer)))])
        return _outcome("keep", warnings=reasons)
    return _outcome("issue", reasons=reasons, write_cert=True, renew=common_name is None
                    or _common_name(cert) == common_name)


def _plan_host(cert, unreadable_cert, key, common_name, dns_names, ip_addresses, min_days, ca_cert_pem, ca_key_pem,
               now, labels):
    warnings = []
    ca_certs = None
    if ca_cert_pem is not None:
        ca_certs, problem = _read(load_certificates, ca_cert_pem, labels["ca"])
        if problem:
            return _refused(labels["ca"], [problem])
        for ca in ca_certs:
            why = _is_ca(ca)
            if why:
                return _refused(labels["ca"], [(NOT_A_CA, "%s is not a CA certificate: %s; give the CA's own "
                                                          "certificate" % (labels["ca"], why))])
        ca_end = max(not_valid_after(ca) for ca in ca_certs)
        if now < ca_end and ca_end - now < datetime.timedelta(days=min_days):
            warnings.append("%s expires on %s, in %s: renew it (the module with ca: true renews it with the same "
                            "key, and its host certificates stay valid)" % (labels["ca"], _when(ca_end),
                                                                            _span(ca_end - now)))
    reasons = []
    if cert is None:
        reasons.append(unreadable_cert[1] if unreadable_cert else "there is no certificate at %s"
                       % _where(labels["cert"]))
    else:
        for kind, message in problems(cert, key, ca_certs, dns_names, ip_addresses, now, min_days, False, labels):
            if kind == EXPIRING and ca_certs and any(not_valid_after(cert) >= not_valid_after(ca) for ca in ca_certs
                                                     if signed_by(cert, ca)):
                warnings.append("%s; it ends with its CA, so the CA is renewed first" % message)
                continue
            reasons.append(message)
        dns, ips = _sans(cert)
        extra = ["%s (IP)" % address for address in ips if address not in ip_addresses]
        extra += ["%s (DNS)" % name for name in dns if name not in dns_names]
        if extra:
            reasons.append("the SANs of %s also name %s, no longer asked for" % (labels["cert"], _enumerate(extra)))
        if common_name is not None and _common_name(cert) != common_name:
            reasons.append("the common name of %s is %s, not %s" % (labels["cert"], _common_name(cert), common_name))
        if key is None:
            reasons.append("there is no private key at %s" % _where(labels["key"]))
    if not reasons:
        return _outcome("keep", warnings=warnings)
    blocked = _cannot_issue(ca_certs, ca_key_pem, now, labels)
    if blocked:
        return _outcome("fail", found=[blocked], warnings=warnings,
                        message="cannot issue %s: %s. Why it is needed: %s" % (labels["cert"], blocked[1],
                                                                               "; ".join(reasons)))
    return _outcome("issue", reasons=reasons, warnings=warnings, new_key=key is None, write_key=key is None,
                    write_cert=True)


def _cannot_issue(ca_certs, ca_key_pem, now, labels):
    """(kind, message) when the CA cannot issue now, else None."""
    if ca_certs is None:
        return NO_KEY, "no CA is given (ca_path)"
    if ca_key_pem is None:
        return NO_KEY, ("%s is not on this host: issue host certificates where the CA key is (delegate_to) and copy "
                        "them here, or give certificate and private_key" % labels["ca_key"])
    ca_key, problem = _read(load_private_key, ca_key_pem, labels["ca_key"])
    if problem:
        return problem
    ca = issuer_for(ca_certs, ca_key)
    if ca is None:
        return KEY_MISMATCH, "%s does not match %s: give the key of that CA" % (labels["ca_key"], labels["ca"])
    if not_valid_before(ca) > now:
        return NOT_YET_VALID, ("%s is not valid before %s: check the clocks of this host and of the CA's host"
                               % (labels["ca"], _when(not_valid_before(ca))))
    if not_valid_after(ca) <= now:
        return EXPIRED, ("%s expired on %s: renew it first (the module with ca: true renews it with the same key)"
                         % (labels["ca"], _when(not_valid_after(ca))))
    return None
