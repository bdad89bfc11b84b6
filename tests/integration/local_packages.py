"""Tiny Python distributions written by the tests, and a package index for them on 127.0.0.1.

What the wheelhouse and python_venv tests install instead of OpenStack: ``osdt-alpha`` (wheels of 1.0
and 1.1, each requiring ``osdt-beta``) and ``osdt-beta`` (2.0 and 2.1, as source distributions only: a
setuptools project that ``pip wheel`` must build). ``Index`` serves a folder over HTTP on the loopback
address (PEP 503's simple layout is plain directory listings) and records every request, so that a test
can prove that a run fetched nothing.
"""
import base64
import hashlib
import http.server
import io
import os
import tarfile
import textwrap
import threading
import zipfile


def _record_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(folder, name, version, requires=()):
    """A pure-Python wheel of `name` (one module that knows its version) in `folder`; returns its path."""
    module = name.replace("-", "_")
    info = "%s-%s.dist-info" % (module, version)
    files = {
        "%s.py" % module: "VERSION = %r\n" % version,
        "%s/METADATA" % info: "Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s" % (
            name, version, "".join("Requires-Dist: %s\n" % r for r in requires)),
        "%s/WHEEL" % info: "Wheel-Version: 1.0\nGenerator: osdeploy-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join("%s,%s,%d\n" % (path, _record_hash(text.encode()), len(text.encode()))
                     for path, text in files.items()) + "%s/RECORD,,\n" % info
    files["%s/RECORD" % info] = record
    path = os.path.join(folder, "%s-%s-py3-none-any.whl" % (module, version))
    with zipfile.ZipFile(path, "w") as whl:
        for member, text in files.items():
            whl.writestr(member, text)
    return path


def make_sdist(folder, name, version, requires=()):
    """A source distribution of `name` (a setuptools project, built by the host's setuptools)."""
    module = name.replace("-", "_")
    root = "%s-%s" % (module, version)
    files = {
        "setup.py": textwrap.dedent("""\
            from setuptools import setup
            setup(name=%r, version=%r, py_modules=[%r], install_requires=%r)
            """ % (name, version, module, list(requires))),
        "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n',
        "%s.py" % module: "VERSION = %r\n" % version,
        "PKG-INFO": "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version),
    }
    path = os.path.join(folder, "%s.tar.gz" % root)
    with tarfile.open(path, "w:gz") as tar:
        for member, text in files.items():
            data = text.encode()
            item = tarfile.TarInfo("%s/%s" % (root, member))
            item.size = len(data)
            tar.addfile(item, io.BytesIO(data))
    return path


def make_index(root):
    """root/simple/<project>/<files>: alpha 1.0 and 1.1 as wheels, beta 2.0 and 2.1 as sdists only."""
    alpha = os.path.join(root, "simple", "osdt-alpha")
    beta = os.path.join(root, "simple", "osdt-beta")
    os.makedirs(alpha)
    os.makedirs(beta)
    for version in ("1.0", "1.1"):
        make_wheel(alpha, "osdt-alpha", version, requires=["osdt-beta"])
    for version in ("2.0", "2.1"):
        make_sdist(beta, "osdt-beta", version)
    return os.path.join(root, "simple")


class Index(object):
    """A folder served over HTTP on 127.0.0.1 (directory listings: PEP 503 pages); `requests` lists each path."""

    def __init__(self, folder):
        self.folder = folder
        self.requests = []
        index = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super(Handler, self).__init__(*args, directory=index.folder, **kwargs)

            def do_GET(self):  # noqa: N802 - the name http.server calls
                index.requests.append(self.path)
                super(Handler, self).do_GET()

            def log_message(self, *args):  # pylint: disable=arguments-differ
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
