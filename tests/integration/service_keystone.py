"""The `keystone` fixture: a private Keystone on the session's MariaDB (tools/services/private_keystone.py)."""
import time

import pytest

# tools/services (pytest.ini); CLOUD_NAME is re-exported for the tests.
from private_keystone import CLOUD_NAME, Keystone  # noqa: F401  pylint: disable=unused-import

# Each test module that imports the fixture gets its own copy of it from pytest, but the session's MariaDB holds
# one keystone database: the first copy starts the one Keystone, the last one to end stops it.
_SHARED = {"server": None, "users": 0}


@pytest.fixture(scope="session")
def keystone(mariadb):
    if _SHARED["server"] is None:
        server = Keystone(mariadb)
        started = time.time()
        try:
            server.start()
        except Exception:
            server.stop()
            raise
        server.startup_seconds = time.time() - started
        _SHARED["server"] = server
    _SHARED["users"] += 1
    try:
        yield _SHARED["server"]
    finally:
        _SHARED["users"] -= 1
        if _SHARED["users"] == 0:
            _SHARED["server"].stop()
            _SHARED["server"] = None
