"""TLS as the lab's hosts have it (osdeploy_tls, collected only where it is on: conftest.py): every host holds
the deployment's CA certificate and a certificate of its own that the CA issued for its names, its key readable
only by root and the services' group; MariaDB serves TLS with the controller's certificate, every OpenStack
service's account refuses a login without TLS, one with TLS that trusts the CA is accepted and one that trusts
another CA is refused; the services' connections to it are encrypted. RabbitMQ speaks AMQP over TLS only, with the
controller's certificate, and every client connected to it (each host's Nova and Neutron) came over TLS. A capture
in the controller's network namespace while every Nova service logs in to MariaDB and RabbitMQ anew holds no
secret, no SQL, no AMQP and no HTTP in plain text, and no connection to plain AMQP. Every API (Keystone, Nova's API,
metadata API and console proxy, Placement, Glance, Neutron) answers over TLS with the controller's certificate only:
a client that trusts another CA is refused, a plain HTTP request gets no HTTP answer. QEMU on
the computes serves VNC over TLS asking for the client's certificate and has the material for live migrations'
QEMU-native TLS; the console proxy uses VeNCrypt only (the member's console through it: test_member.py)."""
import concurrent.futures
import contextlib
import json
import os
import re
import subprocess
import time

import pytest
import testinfra

INVENTORY = os.path.join(os.environ["OSDEPLOY_LAB_DIR"], "inventory.ini")
COMPUTES = os.environ.get("OSDEPLOY_EXPECT_COMPUTES", "compute1,compute2").split(",")
TLS = "/etc/osdeploy/tls"
SERVICE_USERS = ["keystone", "glance", "placement", "neutron", "nova"]
# A login as a service user from the controller, its password read from the service's configuration and never
# printed: argv[1] the user, argv[2] 'plain' (TLS refused by the client), 'ca' (TLS, the deployment's CA, the
# server's name checked) or a CA file; prints the session's TLS version or the server's refusal.
LOGIN = r'''
import configparser, sys
from urllib.parse import urlsplit, unquote
import pymysql
user, how = sys.argv[1], sys.argv[2]
conf = {"keystone": "/etc/keystone/keystone.conf", "glance": "/etc/glance/glance-api.conf",
        "placement": "/etc/placement/placement.conf", "neutron": "/etc/neutron/neutron.conf",
        "nova": "/etc/nova/nova.conf"}[user]
parser = configparser.RawConfigParser(strict=False)
parser.read(conf)
section = "placement_database" if user == "placement" else "database"
url = urlsplit(parser.get(section, "connection"))
args = dict(host=url.hostname, port=url.port or 3306, user=unquote(url.username), password=unquote(url.password))
if how == "plain":
    args["ssl_disabled"] = True
else:
    args["ssl"] = {"ca": "/etc/osdeploy/tls/ca.crt" if how == "ca" else how, "check_hostname": True}
try:
    conn = pymysql.connect(**args)
except pymysql.err.OperationalError as e:
    print("refused %s" % e.args[0])
    sys.exit(0)
with conn.cursor() as cur:
    cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
    print("tls %s" % (cur.fetchone()[1] or "none"))
'''


def host(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, INVENTORY))


@contextlib.contextmanager
def another_ca(h):
    """The path of a CA certificate on host h that did not issue the lab's certificates, removed afterwards."""
    path = "/tmp/osdeploy-other-ca.crt"
    h.check_output("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=other "
                   "-keyout /dev/null -out %s 2>/dev/null", path)
    try:
        yield path
    finally:
        h.run("rm -f %s", path)


@pytest.mark.parametrize("name", ["controller"] + COMPUTES)
def test_each_host_has_the_ca_and_its_own_certificate_issued_for_its_names(name):
    h = host(name)
    for path, mode, group in (("ca.crt", 0o644, "root"), ("host.crt", 0o644, "ssl-cert"), ("host.key", 0o640, "ssl-cert")):
        f = h.file("%s/%s" % (TLS, path))
        assert f.exists and f.user == "root" and f.group == group and f.mode == mode, path
    address = h.ansible.get_variables()["osdeploy_management_ip"]
    verify = h.run("openssl verify -CAfile %s/ca.crt -purpose sslserver -verify_ip %s %s/host.crt", TLS, address, TLS)
    assert verify.rc == 0, verify.stdout + verify.stderr
    # the same CA is trusted system-wide (Debian's store), and the key matches the certificate
    assert h.file("/usr/local/share/ca-certificates/osdeploy-ca.crt").content == h.file(TLS + "/ca.crt").content
    assert (h.check_output("openssl x509 -in %s/host.crt -pubkey -noout | sha256sum", TLS)
            == h.check_output("openssl pkey -in %s/host.key -pubout | sha256sum", TLS))


def test_the_deployments_ca_key_never_left_the_controller():
    controller = host("controller")
    assert controller.file("/etc/osdeploy/pki").mode == 0o700
    assert controller.file("/etc/osdeploy/pki/ca.key").mode == 0o600
    for name in COMPUTES:
        assert not host(name).file("/etc/osdeploy/pki").exists


def test_mariadb_serves_tls_and_every_service_account_requires_it():
    h = host("controller")
    assert h.check_output("mariadb -N -e \"SHOW GLOBAL VARIABLES LIKE 'have_ssl'\"").split() == ["have_ssl", "YES"]
    rows = h.check_output("mariadb -N -e \"SELECT user, host, ssl_type FROM mysql.user WHERE user IN (%s)\""
                          % ", ".join("'%s'" % user for user in SERVICE_USERS)).splitlines()
    accounts = {tuple(row.split("\t")[:2]): row.split("\t")[2] for row in rows}
    assert {user for user, _host in accounts} == set(SERVICE_USERS)
    assert set(accounts.values()) == {"ANY"}, accounts
    # the services are connected, and the server counts TLS sessions only
    assert int(h.check_output("mariadb -N -e \"SHOW GLOBAL STATUS LIKE 'Ssl_accepts'\"").split()[1]) > 0


@pytest.mark.parametrize("user", SERVICE_USERS)
def test_a_service_login_needs_tls_and_the_deployments_ca(user):
    h = host("controller")
    assert h.check_output("python3 -c %s %s plain", LOGIN, user) == "refused 1045"
    assert h.check_output("python3 -c %s %s ca", LOGIN, user).startswith("tls TLSv1.")
    with another_ca(h) as other:
        refused = h.check_output("python3 -c %s %s %s", LOGIN, user, other)
    assert refused == "refused 2003" or "CERTIFICATE_VERIFY_FAILED" in refused, refused


# AMQP over TLS from another host: argv[1] the controller's name, argv[2] the port, argv[3] the CA file; prints
# the TLS version and what the broker answers to AMQP 0-9-1's protocol header, or why the handshake failed.
AMQP = r'''
import socket, ssl, sys
name, port, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
context = ssl.create_default_context(cafile=cafile)
try:
    with socket.create_connection((name, port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=name) as tls:
            tls.sendall(b"AMQP\x00\x00\x09\x01")
            answer = tls.recv(4096)
            print(tls.version(), "RabbitMQ" if b"RabbitMQ" in answer else answer[:16])
except ssl.SSLError as e:
    print("refused", e.reason)
'''


def test_rabbitmq_speaks_amqp_over_tls_only_with_the_controllers_certificate():
    controller = host("controller")
    # the name every transport_url gives (osdeploy_controller_host's default: the inventory name)
    name, port = "controller", "5671"
    compute = host(COMPUTES[0])
    assert compute.check_output("python3 -c %s %s %s %s/ca.crt", AMQP, name, port, TLS).startswith("TLSv1.")
    with another_ca(compute) as other:
        refused = compute.check_output("python3 -c %s %s %s %s", AMQP, name, port, other)
    assert refused == "refused CERTIFICATE_VERIFY_FAILED", refused
    # nothing listens for plain AMQP
    listening = controller.check_output("ss -Htln")
    assert ":5671 " in listening and ":5672 " not in listening, listening


def test_every_rabbitmq_client_came_over_tls():
    controller = host("controller")
    rows = [line.split("\t") for line in
            controller.check_output("rabbitmqctl --quiet list_connections ssl ssl_protocol peer_host").splitlines()
            if line.strip()]
    rows = [row for row in rows if row[0] != "ssl"]  # a header line, where RabbitMQ prints one
    assert rows and all(row[0] == "true" and row[1].startswith("tlsv1.") for row in rows), rows
    # Nova and Neutron on the computes too, not only the controller's services
    peers = {row[2] for row in rows}
    for name in COMPUTES:
        assert host(name).ansible.get_variables()["osdeploy_management_ip"] in peers, (name, peers)


QEMU_FILES = {"ca-cert.pem": ("ca.crt", 0o644), "server-cert.pem": ("host.crt", 0o644),
              "client-cert.pem": ("host.crt", 0o644), "server-key.pem": ("host.key", 0o640),
              "client-key.pem": ("host.key", 0o640)}


@pytest.mark.parametrize("name", COMPUTES)
def test_qemu_serves_vnc_over_tls_with_this_hosts_certificate(name):
    h = host(name)
    conf = h.file("/etc/libvirt/qemu.conf").content_string
    for line in ("vnc_tls = 1", 'default_tls_x509_cert_dir = "/etc/pki/qemu"', "default_tls_x509_verify = 1"):
        assert re.search("^%s$" % re.escape(line), conf, re.M), line
    for path, (source, mode) in QEMU_FILES.items():
        f = h.file("/etc/pki/qemu/" + path)
        assert (f.user, f.group, f.mode) == ("root", "libvirt-qemu", mode), path
        assert f.content == h.file("%s/%s" % (TLS, source)).content, path
    # QEMU's user reads the key; any other user does not
    assert h.run("runuser -u libvirt-qemu -- head -c0 /etc/pki/qemu/server-key.pem").rc == 0
    assert h.run("runuser -u nobody -- head -c0 /etc/pki/qemu/server-key.pem").rc != 0
    assert re.search(r"^live_migration_with_native_tls = true$",
                     h.file("/etc/nova/nova-compute.conf").content_string, re.M)


def test_the_console_proxy_uses_vencrypt_only_with_the_controllers_certificate():
    h = host("controller")
    conf = h.check_output("sed -n '/^\\[vnc\\]/,/^\\[/p' /etc/nova/nova.conf")
    for line in ("auth_schemes = vencrypt", "vencrypt_client_key = %s/host.key" % TLS,
                 "vencrypt_client_cert = %s/host.crt" % TLS, "vencrypt_ca_certs = %s/ca.crt" % TLS):
        assert re.search("^%s$" % re.escape(line), conf, re.M), (line, conf)
    assert h.run("runuser -u nova -- head -c0 %s/host.key", TLS).rc == 0


# Every API of the controller: Keystone, Nova's API and metadata API, the console proxy, Placement, Glance, Neutron.
API_PORTS = [5000, 8774, 8775, 6080, 8778, 9292, 9696]
# One client of an API port on the controller: argv[1] its address, argv[2] the port, argv[3] 'plain' (an HTTP
# request without TLS) or a CA file to check the server's certificate with (that CA only); prints "https <TLS
# version> <the HTTP status line>", "refused <why>" or "plain <what came back>".
API_PROBE = r'''
import socket, ssl, sys
address, port, how = sys.argv[1], int(sys.argv[2]), sys.argv[3]
request = b"GET / HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n" % (address.encode(), port)
sock = socket.create_connection((address, port), timeout=20)
try:
    if how != "plain":
        sock = ssl.create_default_context(cafile=how).wrap_socket(sock, server_hostname=address)
    sock.sendall(request)
    answer = sock.recv(200)
except ssl.SSLCertVerificationError as e:
    print("refused certificate: %s" % e.verify_message)
    sys.exit(0)
except (ssl.SSLError, ConnectionError, socket.timeout) as e:
    print("refused %s" % type(e).__name__)
    sys.exit(0)
if how == "plain":
    print("plain %r" % answer[:12])
else:
    print("https %s %s" % (sock.version(), answer.split(b"\r\n")[0].decode(errors="replace")))
'''


@pytest.mark.parametrize("port", API_PORTS)
def test_each_api_speaks_https_only_with_the_controllers_certificate(port):
    """With the deployment's CA a client gets an HTTP answer over TLS 1.3; one that trusts another CA is refused at
    the handshake; a plain HTTP request gets no HTTP answer."""
    h = host("controller")
    address = h.ansible.get_variables()["osdeploy_management_ip"]
    h.check_output("cat > /tmp/osdeploy-api-probe.py <<'EOF'\n%s\nEOF" % API_PROBE)
    probe = "python3 /tmp/osdeploy-api-probe.py %s %d %%s" % (address, port)
    answer = h.check_output(probe % "%s/ca.crt" % TLS)
    assert re.match(r"^https TLSv1\.3 HTTP/1\.[01] [1-5][0-9][0-9]", answer), answer
    with another_ca(h) as other:
        refused = h.check_output(probe % other)
    assert refused.startswith("refused certificate: "), refused
    plain = h.check_output(probe % "plain")
    assert plain.startswith(("refused ", "plain ")) and "HTTP/1." not in plain, plain


def capture_count(pcap, expression):
    """Packets of the capture that match a tcpdump expression."""
    out = subprocess.run(["tcpdump", "-nn", "-r", str(pcap), expression], capture_output=True, text=True, check=True)
    return len(out.stdout.splitlines())


def test_a_capture_of_the_database_messaging_and_api_traffic_holds_nothing_in_plain_text(tmp_path, secret_forms):
    with open(os.path.join(os.environ["OSDEPLOY_LAB_DIR"], "state.json")) as f:
        namespace = "%s-controller" % json.load(f)["name"]
    controller = host("controller")
    pcap = tmp_path / "controller.pcap"
    # every interface of the controller's namespace: the computes' traffic and the controller's own (lo)
    tcpdump = subprocess.Popen(["ip", "netns", "exec", namespace, "tcpdump", "-i", "any", "-U", "-s", "0", "-w",
                                str(pcap), " or ".join("tcp port %d" % p for p in [3306, 5671, 5672] + API_PORTS)],
                               stderr=subprocess.PIPE)
    try:
        time.sleep(2)
        # every Nova service logs in anew (MariaDB's and RabbitMQ's handshakes; each nova-compute to Keystone and
        # Placement), and the API reads the database
        # (each host's restarts at once: a nova-compute's stop waits the lab's shutdown timeout)
        with concurrent.futures.ThreadPoolExecutor(1 + len(COMPUTES)) as pool:
            list(pool.map(lambda pair: host(pair[0]).check_output("systemctl restart %s" % pair[1]),
                          [("controller", "nova-conductor nova-scheduler")]
                          + [(name, "nova-compute") for name in COMPUTES]))
        controller.check_output("openstack --os-cloud osdeploy-admin server list -f value")
        deadline = time.monotonic() + 120
        while True:
            states = controller.check_output("openstack --os-cloud osdeploy-admin compute service list -f value "
                                             "-c Binary -c State")
            if "down" not in states or time.monotonic() > deadline:
                break
            time.sleep(3)
    finally:
        tcpdump.terminate()
        tcpdump.wait(timeout=30)
    assert "down" not in states, states
    # the capture saw the logins: TLS to MariaDB and to RabbitMQ from the controller and from every compute
    assert capture_count(pcap, "tcp dst port 3306") > 0
    for name in COMPUTES:
        address = host(name).ansible.get_variables()["osdeploy_management_ip"]
        assert capture_count(pcap, "tcp dst port 5671 and src host %s" % address) > 0, name
        assert capture_count(pcap, "tcp dst port 8778 and src host %s" % address) > 0, name
    assert capture_count(pcap, "tcp port 5672") == 0
    assert capture_count(pcap, "tcp dst port 5000") > 0 and capture_count(pcap, "tcp dst port 8774") > 0
    data = pcap.read_bytes()
    assert data.count(b"\x16\x03\x01") > 0  # TLS handshakes
    for marker in (b"AMQP\x00\x00\x09\x01", b"AMQPLAIN", b"SELECT ", b"INSERT INTO", b"UPDATE ", b"HTTP/1.",
                   b"X-Auth-Token", b"x-auth-token", b"X-Subject-Token"):
        assert marker not in data, marker
    leaked = [name for name, form in secret_forms if form.encode() in data]
    assert not leaked, leaked
