"""The `keystone` fixture: a private Keystone on the session's MariaDB (tools/services/private_keystone.py)."""
import time

import pytest

# tools/services (pytest.ini); CLOUD_NAME is re-exported for the tests.
from private_keystone import CLOUD_NAME, Keystone  # noqa: F401  pylint: disable=unused-import


@pytest.fixture(scope="session")
def keystone(mariadb):
    server = Keystone(mariadb)
    try:
        started = time.time()
        server.start()
        server.startup_seconds = time.time() - started
        yield server
    finally:
        server.stop()
