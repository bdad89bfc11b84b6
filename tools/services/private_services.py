"""Private services and Ansible runs for the integration tier and the benchmarks (tools/bench).

A MariaDB server on 127.0.0.1 and its own socket (``MariaDB``), and running one
module of the collection through Ansible itself (``run_module``), with the
machine's Debian Python as the target interpreter. Everything a test or a
benchmark starts here lives in temporary folders and is stopped by them.
tests/integration/conftest.py wraps these in fixtures; nothing here imports
from tests/.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

TARGET_PYTHON = "/usr/bin/python3"
RESULT_LINE = re.compile(r"^localhost \| (?P<status>[A-Z!]+) => \{", re.M)


class ModuleResult(dict):
    """The module's result, plus the complete output of the Ansible run in `.output`."""

    output = ""
    status = ""

    @property
    def failed(self):
        return bool(self.get("failed")) or self.status in ("FAILED!", "UNREACHABLE!")


def run_module(module, args, check=False, diff=False, verbosity=0, env=None, timeout=600, python=TARGET_PYTHON):
    """Run osdeploy.nova.<module> with `args` (a dict) and return a ModuleResult.

    The minimal stdout callback prints the exact result as JSON after "localhost | STATUS => "; `.output` holds everything
    Ansible printed (stdout and stderr), for asserting that no secret leaks.
    """
    cmd = ["ansible", "localhost", "-i", "localhost,", "-c", "local",
           "-e", "ansible_python_interpreter=%s" % python,
           "-m", "osdeploy.nova.%s" % module]
    if args:
        cmd += ["-a", json.dumps(args)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    run_env = dict(os.environ)
    run_env.update({
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.minimal",
        "ANSIBLE_HOST_KEY_CHECKING": "0",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
    })
    run_env.update(env or {})
    proc = subprocess.run(cmd, capture_output=True, text=True, env=run_env, timeout=timeout, check=False)
    output = proc.stdout + proc.stderr
    match = RESULT_LINE.search(proc.stdout)
    try:
        result, dummy = json.JSONDecoder().raw_decode(proc.stdout, match.end() - 1)
    except (AttributeError, ValueError):
        raise AssertionError("no JSON result from ansible (rc %s):\n%s" % (proc.returncode, output))
    res = ModuleResult(result)
    res.output = output
    res.status = match.group("status")
    return res


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc, grace=30):
    """Terminate a server the tests started; kill it when it does not stop in time."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise RuntimeError("timed out after %ss waiting for %s" % (timeout, what))


def make_test_pki(folder, host="127.0.0.1"):
    """A throw-away CA, a server certificate for `host` and a client certificate, made with openssl.

    Returns the paths: ca, server_cert, server_key, client_cert, client_key. For
    tests only: the keys are unencrypted and the certificates valid for two days.
    """
    os.makedirs(folder, exist_ok=True)
    paths = dict((name, os.path.join(folder, name + ".pem")) for name in
                 ("ca", "ca_key", "server_cert", "server_key", "client_cert", "client_key"))

    def openssl(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=osdeploy test CA",
            "-keyout", paths["ca_key"], "-out", paths["ca"])
    for name, subject, ext in (
            ("server", "/CN=%s" % host, "subjectAltName=IP:%s,DNS:localhost\nextendedKeyUsage=serverAuth\n" % host),
            ("client", "/CN=osdeploy test client", "extendedKeyUsage=clientAuth\n")):
        csr, ext_file = os.path.join(folder, name + ".csr"), os.path.join(folder, name + ".ext")
        with open(ext_file, "w") as handle:
            handle.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n" + ext)
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject,
                "-keyout", paths[name + "_key"], "-out", csr)
        openssl("x509", "-req", "-in", csr, "-CA", paths["ca"], "-CAkey", paths["ca_key"], "-CAcreateserial",
                "-days", "2", "-extfile", ext_file, "-out", paths[name + "_cert"])
    for path in paths.values():
        os.chmod(path, 0o644)  # the server runs as mysql; the folder is private to the test run
    return paths


class MariaDB:
    """A private MariaDB server on 127.0.0.1 and its own unix socket.

    root@localhost authenticates over the socket (as on Debian); `admin` with
    `admin_password` is an administrator reachable over TCP. With ``tls=True``
    the server also offers TLS with a certificate of a private CA
    (``self.pki``: make_test_pki(), or the paths ca, server_cert and
    server_key given as ``pki``); plain connections keep working.
    """

    admin_user = "osdeploy_admin"
    admin_password = "adm'in\"pw\\ @:/%$#"

    def __init__(self, tls=False, pki=None):
        self.dir = tempfile.mkdtemp(prefix="osdeploy-mariadb-")
        os.chmod(self.dir, 0o755)
        self.datadir = os.path.join(self.dir, "data")
        self.socket = os.path.join(self.dir, "mysqld.sock")
        self.host = "127.0.0.1"
        self.port = free_port()
        self.proc = None
        self.tls = tls or pki is not None
        self.pki = pki

    def start(self):
        tls_args = []
        if self.tls:
            self.pki = self.pki or make_test_pki(os.path.join(self.dir, "pki"), self.host)
            tls_args = ["--ssl-ca=%s" % self.pki["ca"], "--ssl-cert=%s" % self.pki["server_cert"],
                        "--ssl-key=%s" % self.pki["server_key"]]
        shutil.chown(self.dir, "mysql", "mysql")
        subprocess.run(["mariadb-install-db", "--user=mysql", "--datadir=%s" % self.datadir,
                        "--auth-root-authentication-method=socket", "--skip-test-db"],
                       check=True, capture_output=True)
        self.proc = subprocess.Popen(
            ["mariadbd", "--no-defaults", "--user=mysql", "--datadir=%s" % self.datadir,
             "--socket=%s" % self.socket, "--port=%d" % self.port, "--bind-address=127.0.0.1",
             "--pid-file=%s" % os.path.join(self.dir, "mysqld.pid"),
             "--log-error=%s" % os.path.join(self.dir, "error.log"),
             "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
             "--innodb-buffer-pool-size=64M", "--skip-log-bin", "--max-connections=500"] + tls_args,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, 60, "MariaDB on %s" % self.socket)
        self.sql("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s", self.admin_user, self.admin_password)
        self.sql("GRANT ALL PRIVILEGES ON *.* TO %s@'%%' WITH GRANT OPTION", self.admin_user)
        return self

    def _answers(self):
        if self.proc.poll() is not None:
            log = open(os.path.join(self.dir, "error.log")).read()[-2000:]
            raise RuntimeError("mariadbd exited with %s:\n%s" % (self.proc.returncode, log))
        try:
            self.connect().close()
            return True
        except Exception:
            return False

    def connect(self, **kwargs):
        import pymysql

        params = dict(unix_socket=self.socket, user="root")
        params.update(kwargs)
        return pymysql.connect(**params)

    def sql(self, statement, *args):
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(statement, args or None)
                rows = cur.fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()

    def login_args(self, tcp=False):
        """Module arguments for logging in as an administrator."""
        if tcp:
            return dict(login_host=self.host, login_port=self.port,
                        login_user=self.admin_user, login_password=self.admin_password)
        return dict(login_unix_socket=self.socket, login_user="root")

    def stop(self):
        stop_process(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)
