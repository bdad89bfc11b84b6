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


# -- text a passing test shows in the tier's output -------------------------------------------------------
# The tier runs its test files in pytest-xdist's worker processes (tools/test), whose own stdout goes to /dev/null:
# a print there, even uncaptured (capsys.disabled()), never reaches the tier's output. A test hands such text to
# the `tier_output` fixture instead: it travels with the test's report (a report section, also shown with a
# failure) and pytest_runtest_logreport below prints it under the test's line, in one process or in workers.
TIER_OUTPUT = "tier output"
_terminal = {}


def pytest_configure(config):
    _terminal["config"] = config


@pytest.fixture
def tier_output(request):
    """show(text): print text in the tier's output below this test's line (also when the test passes)."""
    def show(text):
        request.node.add_report_section("call", TIER_OUTPUT, text)
    return show


@pytest.hookimpl(trylast=True)
def pytest_runtest_logreport(report):
    if report.when != "call":
        return
    texts = [content for name, content in report.sections if name == "Captured %s call" % TIER_OUTPUT]
    reporter = texts and _terminal.get("config") and _terminal["config"].pluginmanager.get_plugin("terminalreporter")
    if reporter:
        reporter.ensure_newline()
        for text in texts:
            reporter.write_line(text)


# -- two workers (tools/test: pytest-xdist, --dist loadfile) ---------------------------------------------------
# Each file runs whole in one worker, in its order; each worker starts the session services its files use. The files
# that use the session's MariaDB, and Keystone on it (service_keystone.py), run in one worker, one after another:
# that worker starts them once (the other would start a second pair, a minute of both cores), and they are near
# half of the tier, which the other worker's files fill. (pytest-xdist's own xdist_group and --dist loadgroup do not
# group with pytest 9: it renames the items, and pytest 9 no longer takes the new name.)
SESSION_SERVICE_FILES = frozenset("tests/integration/%s" % name for name in (
    "test_cell_v2.py", "test_service_db.py", "test_keystone_service_endpoint.py", "test_keystone_project_user.py"))


@pytest.hookimpl(optionalhook=True)  # (a hook of pytest-xdist)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LoadFileSessionServicesTogetherScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid):
            scope = super()._split_scope(nodeid)
            return "the session's MariaDB and Keystone" if scope in SESSION_SERVICE_FILES else scope

    return LoadFileSessionServicesTogetherScheduling(config, log)


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
