"""tls_certificate through Ansible on this machine's Debian Python (python3-cryptography), and what it makes used
by the real programs of a deployment: OpenSSL verifies the host certificate, and a private MariaDB serves TLS
with it to a client that trusts the CA and checks the name, while a client that trusts another CA is refused."""
import grp
import os
import pathlib
import shutil
import stat
import subprocess
import tempfile

import pymysql
import pytest

from conftest import MariaDB


def make_ca(ansible_module, folder):
    args = dict(path=str(folder / "ca.crt"), key_path=str(folder / "ca.key"), ca=True)
    res = ansible_module("tls_certificate", args)
    assert not res.failed, res.output
    return args, res


@pytest.fixture(scope="module")
def pki(ansible_module):
    """The deployment's CA and a certificate of this host for MariaDB (key 0640 to the mysql group)."""
    # mariadbd runs as mysql: a folder it can reach (pytest's tmp_path is under a root-only folder)
    folder = pathlib.Path(tempfile.mkdtemp(prefix="osdeploy-tls-"))
    os.chmod(folder, 0o755)
    try:
        ca, made = make_ca(ansible_module, folder)
        host = dict(path=str(folder / "server.crt"), key_path=str(folder / "server.key"), ca_path=ca["path"],
                    ca_key_path=ca["key_path"], dns_names=["localhost"], ip_addresses=["127.0.0.1"],
                    group="mysql", key_mode="0640")
        yield dict(folder=folder, ca=ca, made=made, host=host)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_ca_is_made_once_and_its_key_is_root_only(ansible_module, pki):
    assert pki["made"]["changed"] is True and pki["made"]["action"] == "made_ca"
    assert stat.S_IMODE(os.stat(pki["ca"]["key_path"]).st_mode) == 0o600
    again = ansible_module("tls_certificate", pki["ca"])
    assert not again.failed, again.output
    assert again["changed"] is False and again["action"] == "kept"
    assert again["fingerprint_sha256"] == pki["made"]["fingerprint_sha256"]


def test_host_certificate_previewed_issued_kept_and_served_by_mariadb(ansible_module, pki):
    host = pki["host"]
    preview = ansible_module("tls_certificate", host, check=True)
    assert not preview.failed, preview.output
    assert preview["changed"] is True and preview["action"] == "issued"
    assert not os.path.exists(host["path"]) and not os.path.exists(host["key_path"])

    res = ansible_module("tls_certificate", host)
    assert not res.failed, res.output
    assert res["changed"] is True and res["action"] == "issued"
    assert sorted(res["subject_alt_names"]) == ["DNS:localhost", "IP:127.0.0.1"]
    key = os.stat(host["key_path"])
    assert stat.S_IMODE(key.st_mode) == 0o640 and key.st_gid == grp.getgrnam("mysql").gr_gid
    with open(host["key_path"]) as handle:
        key_text = handle.read()
    assert key_text.split("\n")[1] not in res.output  # the key never shows

    again = ansible_module("tls_certificate", host)
    assert again["changed"] is False and again["action"] == "kept"

    verify = subprocess.run(["openssl", "verify", "-CAfile", pki["ca"]["path"], "-verify_ip", "127.0.0.1",
                             "-purpose", "sslserver", host["path"]], capture_output=True, text=True, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr

    server = MariaDB(pki=dict(ca=pki["ca"]["path"], server_cert=host["path"], server_key=host["key_path"]))
    server.start()
    try:
        login = dict(host="127.0.0.1", port=server.port, user=server.admin_user, password=server.admin_password)
        conn = pymysql.connect(ssl={"ca": pki["ca"]["path"], "check_hostname": True}, **login)
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
                version = cur.fetchone()[1]
        finally:
            conn.close()
        assert version.startswith("TLSv1."), version

        other = pki["folder"] / "other"
        other.mkdir()
        other_ca, made = make_ca(ansible_module, other)
        assert made["fingerprint_sha256"] != pki["made"]["fingerprint_sha256"]
        with pytest.raises(pymysql.err.OperationalError) as refused:
            pymysql.connect(ssl={"ca": other_ca["path"], "check_hostname": True}, **login)
        assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value) or "certificate verify failed" in str(refused.value)
    finally:
        server.stop()


def test_a_key_that_does_not_match_is_refused_before_any_write(ansible_module, pki, tmp_path):
    issued = dict(pki["host"], path=str(tmp_path / "issued.crt"), key_path=str(tmp_path / "issued.key"), group="root")
    res = ansible_module("tls_certificate", issued)
    assert not res.failed, res.output
    other_ca, made = make_ca(ansible_module, tmp_path)
    assert made["changed"] is True
    with open(issued["path"]) as handle:
        certificate = handle.read()
    with open(other_ca["key_path"]) as handle:
        wrong_key = handle.read()
    target = dict(path=str(tmp_path / "given.crt"), key_path=str(tmp_path / "given.key"), ca_path=pki["ca"]["path"],
                  certificate=certificate, private_key=wrong_key, dns_names=["localhost"])
    res = ansible_module("tls_certificate", target)
    assert res.failed
    assert "private_key" in res["msg"] and "does not match" in res["msg"], res["msg"]
    assert wrong_key.split("\n")[1] not in res.output
    assert not os.path.exists(target["path"]) and not os.path.exists(target["key_path"])
