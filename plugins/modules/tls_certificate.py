#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tls_certificate
short_description: A host's TLS certificate and key, or the deployment's private CA, on disk
version_added: 0.1.0
description:
  - Owns one file pair, the certificate O(path) and its private key O(key_path), completely. It reads what is
    there, decides, and writes only what must change; a converged run changes nothing.
  - With O(ca=true) the pair is the deployment's private CA. It is made when missing (a key already at
    O(key_path) is reused), kept while valid, and renewed with its own key and subject when it expires within
    O(renew_before_days), so that every certificate it issued stays valid. A certificate that is not a CA
    (no BasicConstraints C(CA:TRUE), or a KeyUsage without C(keyCertSign)), that does not match its key, or
    whose key is missing or unreadable is refused, never replaced.
  - Without O(ca), the pair is a host certificate for O(dns_names) and O(ip_addresses), issued by the CA at
    O(ca_path) with its key at O(ca_key_path). It is issued again when it is missing or unreadable, does not
    match its key, was issued by another CA (name and signature are checked), lacks a name or address or
    names one no longer asked for, has another O(common_name) (when one is given), or is expired, not yet
    valid or expiring within O(renew_before_days). The key on disk is reused; a new one is made only when
    there is none. The result says why in RV(reasons).
  - With O(certificate) (and O(private_key)) the operator supplies the material. The module then never
    issues; it checks it (the key matches, the CA at O(ca_path) or O(ca_certificate) issued it, its
    subjectAltName covers O(dns_names) and O(ip_addresses), it is valid now) and installs it. Material that
    fails a check is refused, naming the parameter, before anything is written. One that expires within
    O(renew_before_days) is installed with a warning.
  - The key's file is never readable by others, not even for a moment. Files are written to a temporary file
    in the same folder with their owner and mode set, then renamed over the old one. Missing parent folders
    are made with mode C(0755). The owner, group and mode of both files are set on every run, and a
    difference counts as a change.
  - No key material appears in the result, a warning or an error.
author:
  - osdeploy.nova developers (@osdeploy)
options:
  path:
    description:
      - The certificate's file (PEM). With O(ca=true), the CA certificate that hosts trust.
    type: path
    required: true
  key_path:
    description:
      - The private key's file (PEM, unencrypted). It must differ from O(path).
      - A key the module makes is EC P-256 in PKCS#8. An existing key is reused, whatever its type (RSA of
        2048 bits or more, or EC on P-256, P-384 or P-521).
    type: path
    required: true
  ca:
    description:
      - The pair is the deployment's CA itself, not a host certificate. O(ca_path), O(ca_key_path),
        O(ca_certificate), O(dns_names) and O(ip_addresses) do not apply.
    type: bool
    default: false
  ca_path:
    description:
      - For a host certificate, the CA certificate (PEM) that issues it and that it is checked against. It
        may be a bundle; the certificate must be issued by one of them directly.
      - Required for a host certificate the module issues (unless O(ca_certificate) is given). When the file
        is missing, the module fails.
    type: path
  ca_key_path:
    description:
      - For a host certificate, the CA's private key. Without it, or when the file is not on this host, the
        module cannot issue. It then keeps a certificate that passes every check and fails, saying why a new
        one is needed, otherwise. Issue host certificates where the CA key is (C(delegate_to)) and copy them,
        or give O(certificate).
    type: path
  ca_certificate:
    description:
      - The CA certificate as PEM text, instead of reading O(ca_path). Meant for operator-supplied material
        whose CA is on the Ansible controller.
    type: str
  certificate:
    description:
      - An operator-supplied certificate, as PEM text (one certificate, without its chain). The module
        checks and installs it and never issues one.
      - Without O(private_key), the key must already be at O(key_path); it is checked, not written.
    type: str
  private_key:
    description:
      - The private key of O(certificate), as unencrypted PEM text. Needs O(certificate).
    type: str
  common_name:
    description:
      - The subject's common name when issuing. When given, a certificate with another one is issued again
        (for the CA, this makes a new CA certificate, with the same key, under the new name).
      - By default, a certificate is issued with the first of O(dns_names) (else the first of O(ip_addresses))
        as its common name, the CA with C(osdeploy.nova CA); and the common name of an existing certificate is
        not checked.
    type: str
  dns_names:
    description:
      - The DNS names of the subjectAltName (clients check these, not the common name). C(*.domain) is a
        wildcard for one label. Lowercased, trailing dot removed.
    type: list
    elements: str
    default: []
  ip_addresses:
    description:
      - The IP addresses of the subjectAltName, IPv4 or IPv6. Anything that is not an address is refused.
      - A host certificate the module issues needs at least one name or address.
    type: list
    elements: str
    default: []
  days:
    description:
      - Validity of a certificate the module issues, in days. Default C(825) for a host certificate (the
        longest that Apple's TLS clients accept) and C(3650) for the CA. A host certificate never outlives its
        CA.
      - Changing it does not issue again; the next renewal uses it.
    type: int
  renew_before_days:
    description:
      - A certificate with fewer days of validity left is issued again (the CA is renewed). For operator
        material, this gives a warning; an expired one is refused. Must be smaller than O(days).
      - A host certificate that already ends with its CA gives a warning instead. Renewing the CA comes
        first.
    type: int
    default: 30
  owner:
    description: Owner of both files (name or number).
    type: str
    default: root
  group:
    description:
      - Group of both files (name or number). Give the service's group with O(key_mode=0640) when a service
        reads the key as that group.
    type: str
    default: root
  mode:
    description: Mode of the certificate's file O(path), octal (V('0644')) or symbolic.
    type: raw
    default: '0644'
  key_mode:
    description:
      - Mode of the key's file O(key_path), octal or symbolic. A new key is written with it from the start.
        Use V('0640') with the service's O(group).
    type: raw
    default: '0600'
attributes:
  check_mode:
    support: full
    description:
      - Predicts C(changed), RV(action) and RV(reasons) exactly, owner and mode drift included, and writes
        nothing. When it would issue, RV(not_after) and RV(subject_alt_names) are those of the certificate
        it would issue, and RV(serial) and RV(fingerprint_sha256) are null.
  diff_mode:
    support: none
    description: No diff is shown. A key must never be shown, and RV(reasons) says what changes.
requirements:
  - cryptography 38 or later on the host (Debian 12 and 13 C(python3-cryptography)).
notes:
  - A certificate holds exactly one certificate; clients get the CA from O(ca_path), copied to them.
  - Renewing the CA keeps its key and subject, so the host certificates it issued before remain valid. A new
    CA (another key, after removing the old one) makes every host certificate be issued again on its next run.
  - Checks happen against the host's clock, and a certificate the module issues starts one hour in the past.
seealso:
  - name: cryptography's X.509 reference
    description: The library the module uses.
    link: https://cryptography.io/en/latest/x509/reference/
"""

EXAMPLES = r"""
- name: The deployment's private CA, on the controller
  osdeploy.nova.tls_certificate:
    ca: true
    path: /etc/osdeploy/tls/ca.pem
    key_path: /etc/osdeploy/tls/private/ca-key.pem
    common_name: osdeploy.nova CA (lab)

- name: A compute host's certificate, issued on the controller where the CA key is
  osdeploy.nova.tls_certificate:
    path: "/etc/osdeploy/tls/hosts/{{ inventory_hostname }}.pem"
    key_path: "/etc/osdeploy/tls/private/{{ inventory_hostname }}-key.pem"
    ca_path: /etc/osdeploy/tls/ca.pem
    ca_key_path: /etc/osdeploy/tls/private/ca-key.pem
    dns_names:
      - "{{ inventory_hostname }}"
      - "{{ ansible_fqdn }}"
    ip_addresses:
      - "{{ management_address }}"
  delegate_to: "{{ groups['controller'][0] }}"
  register: host_cert

- name: An operator-supplied certificate and key, checked against the CA and installed
  osdeploy.nova.tls_certificate:
    path: /etc/osdeploy/tls/host.pem
    key_path: /etc/osdeploy/tls/host-key.pem
    certificate: "{{ lookup('file', 'certs/' ~ inventory_hostname ~ '.pem') }}"
    private_key: "{{ lookup('file', 'certs/' ~ inventory_hostname ~ '-key.pem') }}"
    ca_certificate: "{{ lookup('file', 'certs/ca.pem') }}"
    dns_names: ["{{ inventory_hostname }}"]
    ip_addresses: ["{{ management_address }}"]
    group: nova
    key_mode: "0640"
"""

RETURN = r"""
action:
  description:
    - What was done (or would be, in check mode). C(kept) means nothing was issued or installed; owner
      or mode may still have been fixed, see C(changed). C(issued) is a host certificate issued by the
      CA. C(installed) is operator material written. C(made_ca) means the CA certificate was made or renewed.
  returned: success
  type: str
  sample: issued
reasons:
  description: Why it was issued or installed; empty when kept.
  returned: success
  type: list
  elements: str
  sample: ["the SANs of the certificate at /etc/osdeploy/tls/host.pem lack 10.0.0.11 (IP): issue one whose subjectAltName has it"]
key_changed:
  description: Whether the private key's file was (or would be) written, that is, the services get a new key.
  returned: success
  type: bool
common_name:
  description: The certificate's subject common name.
  returned: success
  type: str
  sample: compute1
not_after:
  description: The end of the certificate's validity, ISO 8601 in UTC.
  returned: success
  type: str
  sample: "2028-04-02T09:14:03+00:00"
serial:
  description: The certificate's serial number in hexadecimal; null in check mode when it would issue.
  returned: success
  type: str
  sample: 5f1c0e3a9b2d4c7e8a1b3c5d7e9f0a2b4c6d8e0f
fingerprint_sha256:
  description: The certificate's SHA-256 fingerprint, as C(openssl x509 -fingerprint -sha256) prints it; null in
    check mode when it would issue.
  returned: success
  type: str
  sample: "3A:7F:...:C2"
subject_alt_names:
  description: The certificate's subjectAltName entries; empty for the CA.
  returned: success
  type: list
  elements: str
  sample: ["DNS:compute1", "IP:10.0.0.11"]
problems:
  description: When it fails because of the material, what is wrong with it.
  returned: failure
  type: list
  elements: dict
  contains:
    kind:
      description: C(key_mismatch), C(not_signed_by_ca), C(missing_names), C(expired), C(not_yet_valid),
        C(expiring), C(not_a_ca), C(unreadable) or C(no_key).
      type: str
    message:
      description: What is wrong and the fix.
      type: str
"""

import os

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils import pki

ACTIONS = {"keep": "kept", "install": "installed"}


class TlsCertificate(base.OsdeployModule):
    argument_spec = dict(
        path=dict(type="path", required=True),
        key_path=dict(type="path", required=True, no_log=False),
        ca=dict(type="bool", default=False),
        ca_path=dict(type="path"),
        ca_key_path=dict(type="path", no_log=False),
        ca_certificate=dict(type="str"),
        certificate=dict(type="str"),
        private_key=dict(type="str", no_log=True),
        common_name=dict(type="str"),
        dns_names=dict(type="list", elements="str", default=[]),
        ip_addresses=dict(type="list", elements="str", default=[]),
        days=dict(type="int"),
        renew_before_days=dict(type="int", default=pki.RENEW_BEFORE_DAYS),
        owner=dict(type="str", default="root"),
        group=dict(type="str", default="root"),
        mode=dict(type="raw", default="0644"),
        key_mode=dict(type="raw", default="0600", no_log=False),
    )
    module_kwargs = dict(
        supports_check_mode=True,
        mutually_exclusive=[("ca_path", "ca_certificate")],
        required_by=dict(private_key="certificate"),
    )
    required_libraries = ((pki.HAS_CRYPTOGRAPHY, "cryptography (Debian: python3-cryptography)",
                           pki.CRYPTOGRAPHY_IMPORT_ERROR),)

    # -- options ---------------------------------------------------------------
    def options(self):
        """The validated options: (dns_names, ip_addresses, days, common name to issue with)."""
        p = self.params
        is_ca, supplied = p["ca"], p["certificate"] is not None
        if os.path.abspath(p["path"]) == os.path.abspath(p["key_path"]):
            self.fail("path and key_path are both %s: the certificate (readable by all) and its key need files of "
                      "their own" % p["path"])
        if is_ca:
            misplaced = [name for name in ("ca_path", "ca_key_path", "ca_certificate", "dns_names", "ip_addresses")
                         if p[name]]
            if misplaced:
                self.fail("%s: with ca=true, path and key_path are the CA itself; %s apply to a host certificate"
                          % (", ".join(misplaced), "it and the others named here" if len(misplaced) > 1 else "it"))
        try:
            dns = pki.normalize_dns_names(p["dns_names"])
            ips = pki.normalize_ip_addresses(p["ip_addresses"])
            if p["common_name"] is not None:
                pki.check_common_name(p["common_name"])
        except pki.PkiError as e:
            self.fail(str(e))
        days = p["days"] if p["days"] is not None else (pki.CA_DAYS if is_ca else pki.HOST_DAYS)
        if days < 1:
            self.fail("days: %d is not a validity; give a number of days of 1 or more" % days)
        if p["renew_before_days"] < 0:
            self.fail("renew_before_days: %d is negative; give 0 or more" % p["renew_before_days"])
        if not supplied and p["renew_before_days"] >= days:
            self.fail("renew_before_days (%d) must be smaller than days (%d): a certificate issued for %d days would "
                      "be issued again on every run" % (p["renew_before_days"], days, days))
        if not is_ca and not supplied:
            if p["ca_path"] is None and p["ca_certificate"] is None:
                self.fail("ca_path is required for a host certificate the module issues (or give certificate)")
            if not dns and not ips:
                self.fail("dns_names or ip_addresses: a host certificate needs at least one name or address, which "
                          "clients check")
        common_name = p["common_name"]
        if common_name is None and not supplied:
            common_name = pki.DEFAULT_CA_NAME if is_ca else (dns + ips)[0]
            if len(common_name) > pki.CN_MAX:
                self.fail("common_name: the first name, %s, is longer than %d characters, the most a common name "
                          "holds; give a shorter common_name (clients check the subjectAltName anyway)"
                          % (common_name, pki.CN_MAX))
        return dns, ips, days, common_name

    def labels(self):
        p = self.params
        if p["ca"]:
            cert, key = "the CA certificate at %s" % p["path"], "the CA key at %s" % p["key_path"]
        else:
            cert, key = "the certificate at %s" % p["path"], "the private key at %s" % p["key_path"]
        return dict(
            cert=cert, key=key,
            ca=("the CA certificate given in ca_certificate" if p["ca_certificate"] is not None
                else "the CA certificate at %s" % p["ca_path"]),
            ca_key="the CA key at %s" % p["ca_key_path"] if p["ca_key_path"] else "the CA key (ca_key_path)",
            certificate="the %s given in certificate" % ("CA certificate" if p["ca"] else "certificate"),
            private_key="the private key given in private_key",
        )

    # -- reading -----------------------------------------------------------------
    def read(self, path, what):
        """The file's bytes, None when it does not exist; fails when it cannot be read."""
        try:
            return self.read_file(path)
        except EnvironmentError as e:
            self.fail("cannot read %s at %s: %s" % (what, path, e.strerror or e))

    def account(self):
        """(uid, gid), None for one that does not exist (check mode: it may be made earlier in the run)."""
        import grp
        import pwd
        p = self.params
        ids = []
        for option, lookup, attr in (("owner", pwd.getpwnam, "pw_uid"), ("group", grp.getgrnam, "gr_gid")):
            value = p[option]
            if value.isdigit():
                ids.append(int(value))
                continue
            try:
                ids.append(getattr(lookup(value), attr))
            except KeyError:
                message = ("%s %r does not exist on this host: create it first (a service's user and group come "
                           "with its package) or set %s" % (option, value, option))
                if not self.check_mode:
                    self.fail(message)
                self.warn(message + "; check mode goes on as if it existed")
                ids.append(None)
        return tuple(ids)

    # -- writing -------------------------------------------------------------------
    def set_attributes(self, path, mode, changed, known):
        module, p = self.module, self.params
        if known[0] is not None:
            changed = module.set_owner_if_different(path, p["owner"], changed)
        if known[1] is not None:
            changed = module.set_group_if_different(path, p["group"], changed)
        return module.set_mode_if_different(path, mode, changed)

    # -- the run -------------------------------------------------------------------
    def material(self, decided, cert_text, key_text, ca_text, ca_key_text, dns, ips, days, common_name, now):
        """(cert_pem, key_pem) to write for an issue or install (made in check mode too, to describe it)."""
        p = self.params
        cert_pem = key_pem = None
        if decided["action"] == "issue":
            key_pem = pki.new_key_pem() if decided["new_key"] else key_text
            if p["ca"] and decided["renew"]:
                cert_pem = pki.renew_ca(key_pem, cert_text, days, now)
            elif p["ca"]:
                cert_pem = pki.make_ca(common_name, days, now, key_pem=key_pem)[1]
            else:
                cert_pem = pki.issue(ca_key_text, ca_text, key_pem, common_name, dns, ips, days, now)
        elif decided["action"] == "install":
            cert_pem = pki.cert_to_pem(pki.load_certificate(p["certificate"]))
            if p["private_key"] is not None:
                key_pem = pki.key_to_pem(pki.load_private_key(p["private_key"]))
        return cert_pem, key_pem

    def run(self):
        p = self.params
        is_ca = p["ca"]
        now = pki.utcnow()
        dns, ips, days, common_name = self.options()
        labels = self.labels()

        cert_text = self.read(p["path"], "the certificate")
        key_text = self.read(p["key_path"], "the private key")
        ca_text = ca_key_text = None
        if not is_ca:
            if p["ca_certificate"] is not None:
                ca_text = p["ca_certificate"]
            elif p["ca_path"] is not None:
                ca_text = self.read(p["ca_path"], "the CA certificate")
                if ca_text is None:
                    self.fail("ca_path: there is no CA certificate at %s: make the CA first (this module with ca: "
                              "true) or copy its certificate there" % p["ca_path"])
            if p["ca_key_path"] is not None:
                ca_key_text = self.read(p["ca_key_path"], "the CA key")
        self.add_secrets([text.decode("latin-1") for text in (key_text, ca_key_text) if text])

        decided = pki.plan(cert_text, key_text, is_ca=is_ca, common_name=p["common_name"], dns_names=dns,
                           ip_addresses=ips, min_days=p["renew_before_days"], ca_cert_pem=ca_text,
                           ca_key_pem=ca_key_text, certificate=p["certificate"], private_key=p["private_key"],
                           now=now, labels=labels)
        for warning in decided["warnings"]:
            self.warn(warning)
        action = decided["action"]
        if action == "fail":
            self.fail(decided["message"], problems=[dict(kind=kind, message=message)
                                                    for kind, message in decided["problems"]])

        try:
            cert_pem, key_pem = self.material(decided, cert_text, key_text, ca_text, ca_key_text, dns, ips, days,
                                              common_name, now)
        except pki.PkiError as e:  # the plan checked all of it: only a CA valid from a future moment gets here
            self.fail(str(e))

        uid, gid = self.account()
        changed = action in ("issue", "install")
        if changed and not self.check_mode:
            # the key first: a run interrupted between the two leaves a certificate that does not match
            # its key, which the next run finds and issues again for the key
            # owner and mode before the first byte (0600 for a symbolic mode, which is set below)
            if decided["write_key"]:
                self.write_file(p["key_path"], key_pem, base.octal_mode(p["key_mode"], 0o600), uid, gid)
            if decided["write_cert"]:
                self.write_file(p["path"], cert_pem, base.octal_mode(p["mode"], 0o600), uid, gid)
        for path, mode in ((p["key_path"], p["key_mode"]), (p["path"], p["mode"])):
            if os.path.exists(path):
                changed = self.set_attributes(path, mode, changed, (uid, gid))

        info = pki.describe(cert_pem if cert_pem is not None else cert_text)
        if action == "issue" and self.check_mode:
            info["serial"] = info["fingerprint_sha256"] = None  # those of a certificate that is never written
        if action == "issue":
            name = "made_ca" if is_ca else "issued"
        else:
            name = ACTIONS[action]
        return dict(changed=changed, action=name, reasons=decided["reasons"], key_changed=decided["write_key"],
                    common_name=info["common_name"], not_after=info["not_after"], serial=info["serial"],
                    fingerprint_sha256=info["fingerprint_sha256"], subject_alt_names=info["subject_alt_names"])


def main():
    base.main(TlsCertificate)


if __name__ == "__main__":
    main()
