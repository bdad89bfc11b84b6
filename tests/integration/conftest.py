"""Shared plumbing of the integration tier.

Every integration test runs a module of this collection through Ansible itself
(`ansible localhost -m osdeploy.nova.X`) with the machine's own Debian Python as
the target interpreter, so the modules meet the libraries a Debian 12 target has
(python3-pymysql, python3-openstacksdk, python3-nova...). The services they talk
to are real and private to the test run: started here on 127.0.0.1 in temporary
folders and stopped at the end.
"""
import re

import pytest

from private_services import (  # tools/services (pytest.ini)
    MariaDB, ModuleResult, free_port, run_module as _run_module, stop_process, wait_for)

__all__ = ["MariaDB", "ModuleResult", "free_port", "stop_process", "wait_for", "run_module", "TARGET_PYTHON",
           "DEPRECATIONS_SHOWN", "assert_no_deprecation"]

# the target interpreter of run_module(); a test may monkeypatch it (conftest.TARGET_PYTHON)
TARGET_PYTHON = "/usr/bin/python3"


def run_module(module, args, **kwargs):
    """Run osdeploy.nova.<module> through Ansible (tools/services/private_services.py) on TARGET_PYTHON."""
    kwargs.setdefault("python", TARGET_PYTHON)
    return _run_module(module, args, **kwargs)


# run_module(..., env=DEPRECATIONS_SHOWN): Ansible prints deprecation warnings (run_module turns them off)
DEPRECATIONS_SHOWN = {"ANSIBLE_DEPRECATION_WARNINGS": "1"}


def assert_no_deprecation(res):
    """Ansible warned of nothing deprecated in a run with DEPRECATIONS_SHOWN (no redirect of a module name)."""
    assert "[DEPRECATION WARNING]" not in res.output, res.output
    assert not re.search(r"osdeploy\.nova\.\w+ has been deprecated", res.output), res.output
    assert not res.get("deprecations"), res.output


@pytest.fixture(scope="session")
def ansible_module():
    return run_module


@pytest.fixture(scope="session")
def mariadb():
    server = MariaDB(tls=True)
    try:
        yield server.start()
    finally:
        server.stop()
