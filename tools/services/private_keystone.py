"""A private Keystone (Debian's keystone package, Zed) on 127.0.0.1 for tests and benchmarks.

Nothing of the system's Keystone is used: the configuration, the fernet and
credential keys and the logs live in a temporary folder, the database is a
`keystone` database on the session's private MariaDB (the `mariadb` fixture),
and the public API is served by Debian's uwsgi (python3 plugin) bound to
127.0.0.1 on a free port. `keystone-manage bootstrap` creates the admin user
(with a password full of special characters), the admin project, the identity
service and its endpoints in RegionOne; the fixture also creates the project
`service` that the guides register service users in.

Used by the integration tier (the `keystone` fixture in tests/integration/service_keystone.py)
and by tools/bench: `Keystone(mariadb).start()` / `.stop()`.
"""
import os
import secrets
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request

from private_services import free_port, stop_process, wait_for

KEYSTONE_MANAGE = "/usr/bin/keystone-manage"
UWSGI = "/usr/bin/uwsgi"
WSGI_SCRIPT = "/usr/bin/keystone-wsgi-public"

CLOUD_NAME = "osdeploy-keystone"


class Keystone:
    """Keystone on 127.0.0.1:<port>, bootstrapped, with `admin` and project `service`."""

    admin_user = "admin"
    # every character that breaks naive quoting: quotes, backslash, space, @ : / % $ #
    admin_password = "Adm'in\"pw\\ @:/%$#k!"
    region = "RegionOne"

    def __init__(self, mariadb):
        self.mariadb = mariadb
        self.dir = tempfile.mkdtemp(prefix="osdeploy-keystone-")
        self.port = free_port()
        self.host = "127.0.0.1"
        self.auth_url = "http://%s:%d/v3" % (self.host, self.port)
        self.conf = os.path.join(self.dir, "keystone.conf")
        self.log = os.path.join(self.dir, "keystone.log")
        self.uwsgi_log = os.path.join(self.dir, "uwsgi.log")
        self.clouds_yaml = os.path.join(self.dir, "clouds.yaml")
        self.db_password = secrets.token_hex(12)
        self.proc = None

    # -- what tests use -------------------------------------------------------
    @property
    def auth(self):
        """The admin `auth` dict, as the module's `auth` option takes it."""
        return dict(auth_url=self.auth_url, username=self.admin_user, password=self.admin_password,
                    project_name="admin", user_domain_name="Default", project_domain_name="Default")

    def module_auth(self):
        """Connection arguments for a module of this collection."""
        return dict(auth=self.auth, region_name=self.region)

    def connect(self, **auth_overrides):
        """An openstacksdk Connection (the venv's SDK) as admin, for preparing and checking."""
        import openstack

        auth = dict(self.auth)
        auth.update(auth_overrides)
        return openstack.connection.Connection(auth=auth, region_name=self.region, identity_interface="public")

    def authenticates(self, username, password, project="service", domain="Default"):
        """Whether username/password can get a token scoped to `project` (a real login)."""
        import keystoneauth1.exceptions
        from keystoneauth1 import session as ks_session
        from keystoneauth1.identity import v3

        plugin = v3.Password(auth_url=self.auth_url, username=username, password=password,
                             user_domain_name=domain, project_name=project, project_domain_name=domain)
        try:
            ks_session.Session(auth=plugin).get_token()
            return True
        except keystoneauth1.exceptions.Unauthorized:
            return False

    def env(self):
        """OS_* variables for the `openstack` CLI (and OS_CLIENT_CONFIG_FILE for a cloud name)."""
        return {
            "OS_AUTH_URL": self.auth_url, "OS_USERNAME": self.admin_user,
            "OS_PASSWORD": self.admin_password, "OS_PROJECT_NAME": "admin",
            "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
            "OS_IDENTITY_API_VERSION": "3", "OS_REGION_NAME": self.region,
            "OS_INTERFACE": "public",
        }

    # -- life cycle -------------------------------------------------------------
    def _write_conf(self):
        db_url = "mysql+pymysql://keystone:%s@%s:%d/keystone?charset=utf8" % (
            self.db_password, self.mariadb.host, self.mariadb.port)
        for sub in ("fernet-keys", "credential-keys"):
            os.makedirs(os.path.join(self.dir, sub), mode=0o700)
        with open(self.conf, "w") as f:
            f.write(
                "[DEFAULT]\n"
                "log_file = %(log)s\n"
                "use_stderr = false\n"
                "[database]\n"
                "connection = %(db)s\n"
                "[token]\n"
                "provider = fernet\n"
                "[fernet_tokens]\n"
                "key_repository = %(dir)s/fernet-keys\n"
                "[fernet_receipts]\n"
                "key_repository = %(dir)s/fernet-keys\n"
                "[credential]\n"
                "key_repository = %(dir)s/credential-keys\n"
                "[cache]\n"
                "# in-process cache (per uwsgi worker): token validation without it costs\n"
                "# a second of CPU per request on a busy 2-core machine\n"
                "enabled = true\n"
                "backend = dogpile.cache.memory\n"
                "[identity]\n"
                "# bcrypt's minimum cost: every login and password change hashes, and the\n"
                "# tests log in a lot (the default, 12, costs ~0.3 s of CPU per hash)\n"
                "password_hash_rounds = 4\n"
                % dict(log=self.log, db=db_url, dir=self.dir))
        with open(self.clouds_yaml, "w") as f:
            f.write(
                "clouds:\n"
                "  %s:\n"
                "    region_name: %s\n"
                "    identity_api_version: 3\n"
                "    auth:\n"
                "      auth_url: %s\n"
                "      username: %s\n"
                "      password: '%s'\n"
                "      project_name: admin\n"
                "      user_domain_name: Default\n"
                "      project_domain_name: Default\n"
                % (CLOUD_NAME, self.region, self.auth_url, self.admin_user,
                   self.admin_password.replace("'", "''")))
        os.chmod(self.clouds_yaml, 0o600)

    def _manage(self, *args, env=None):
        cmd = [KEYSTONE_MANAGE, "--config-file", self.conf] + list(args)
        run_env = dict(os.environ)
        run_env.update(env or {})
        proc = subprocess.run(cmd, capture_output=True, text=True, env=run_env, check=False)
        if proc.returncode != 0:
            raise RuntimeError("keystone-manage %s failed (rc %s):\n%s\n%s" % (
                args[0], proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
        return proc

    def start(self):
        m = self.mariadb
        m.sql("CREATE DATABASE IF NOT EXISTS keystone CHARACTER SET utf8mb4")
        m.sql("CREATE USER IF NOT EXISTS 'keystone'@'127.0.0.1' IDENTIFIED BY %s", self.db_password)
        m.sql("GRANT ALL PRIVILEGES ON keystone.* TO 'keystone'@'127.0.0.1'")
        self._write_conf()
        self._manage("db_sync")
        self._manage("fernet_setup", "--keystone-user", "root", "--keystone-group", "root")
        self._manage("credential_setup", "--keystone-user", "root", "--keystone-group", "root")
        # the password goes through the environment, not the command line (ps would show it)
        self._manage("bootstrap", "--bootstrap-username", self.admin_user,
                     "--bootstrap-project-name", "admin", "--bootstrap-role-name", "admin",
                     "--bootstrap-service-name", "keystone",
                     "--bootstrap-region-id", self.region,
                     "--bootstrap-admin-url", self.auth_url,
                     "--bootstrap-internal-url", self.auth_url,
                     "--bootstrap-public-url", self.auth_url,
                     env={"OS_BOOTSTRAP_PASSWORD": self.admin_password})
        env = dict(os.environ)
        env.update(OS_KEYSTONE_CONFIG_DIR=self.dir, OS_KEYSTONE_CONFIG_FILES="keystone.conf")
        self.proc = subprocess.Popen(
            [UWSGI, "--plugin", "python3", "--http11-socket", "%s:%d" % (self.host, self.port),
             "--wsgi-file", WSGI_SCRIPT, "--master", "--processes", "1", "--threads", "2",
             "--enable-threads", "--lazy-apps", "--die-on-term", "--no-orphans",
             "--buffer-size", "65535", "--chdir", self.dir, "--logto", self.uwsgi_log,
             "--pidfile", os.path.join(self.dir, "uwsgi.pid")],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, 120, "Keystone at %s" % self.auth_url)
        conn = self.connect()
        try:
            domain = conn.identity.find_domain("default", ignore_missing=False)
            if conn.identity.find_project("service", domain_id=domain.id) is None:
                conn.identity.create_project(name="service", domain_id=domain.id,
                                             description="Service Project")
        finally:
            conn.close()
        return self

    def _answers(self):
        if self.proc.poll() is not None:
            raise RuntimeError("uwsgi exited with %s:\n%s" % (self.proc.returncode, self.tail()))
        try:
            with urllib.request.urlopen(self.auth_url, timeout=5) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def tail(self, chars=3000):
        out = []
        for path in (self.uwsgi_log, self.log):
            try:
                with open(path) as f:
                    out.append("%s:\n%s" % (path, f.read()[-chars:]))
            except OSError:
                pass
        return "\n".join(out)

    def stop(self):
        stop_process(self.proc)
        try:
            self.mariadb.sql("DROP DATABASE IF EXISTS keystone")
            self.mariadb.sql("DROP USER IF EXISTS 'keystone'@'127.0.0.1'")
        except Exception:  # the MariaDB may already be gone
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
