"""The closing lines of a test run name each failed test with its assertion, and count skips as a failure."""
import junit_summary  # tools/ (pytest.ini)

REPORT = """<testsuites><testsuite tests="3" failures="1" errors="1" skipped="0">
<testcase classname="tests.test_firewall" name="test_reach[compute2]"><failure message="AssertionError: port 6080 from compute2">
def test_reach(name):
&gt;       assert probe() == "open", "port 6080 from compute2"
E       AssertionError: port 6080 from compute2</failure></testcase>
<testcase classname="tests.test_network" name="test_agents"><error message="failed on setup">E   ConnectionError</error></testcase>
<testcase classname="tests.test_default" name="test_ok"/>
</testsuite></testsuites>"""


def write(tmp_path, text, name="molecule-default.xml"):
    (tmp_path / name).write_text(text)
    return str(tmp_path)


def test_each_failure_is_named_with_its_assertion(tmp_path, capsys):
    assert junit_summary.main(write(tmp_path, REPORT)) == 1
    out = capsys.readouterr().out.splitlines()
    assert "FAILED [molecule-default.xml] tests.test_firewall::test_reach[compute2]" in out
    assert "    E       AssertionError: port 6080 from compute2" in out
    assert "FAILED [molecule-default.xml] tests.test_network::test_agents" in out
    assert out[-1] == "tests: 1 passed, 2 failed, 0 skipped"


def test_a_clean_run_prints_only_its_count(tmp_path, capsys):
    ok = '<testsuite tests="2" failures="0" errors="0" skipped="0"><testcase name="a"/><testcase name="b"/></testsuite>'
    assert junit_summary.main(write(tmp_path, ok)) == 0
    assert capsys.readouterr().out == "tests: 2 passed, 0 failed, 0 skipped\n"


def test_a_skip_fails_the_run_unless_allowed(tmp_path, capsys, monkeypatch):
    skipped = '<testsuite tests="1" failures="0" errors="0" skipped="1"><testcase name="a"><skipped/></testcase></testsuite>'
    folder = write(tmp_path, skipped)
    monkeypatch.delenv("OSDEPLOY_ALLOW_SKIPS", raising=False)
    assert junit_summary.main(folder) == 1
    monkeypatch.setenv("OSDEPLOY_ALLOW_SKIPS", "1")
    assert junit_summary.main(folder) == 0


def test_an_ansible_failure_message_is_printed_line_by_line(tmp_path, capsys):
    fatal = ('E         fatal: [controller]: FAILED! =&gt; {"changed": false, "msg": '
             '"DHCP: the guest says: no lease\\nport 20a2: ACTIVE, bound to compute2\\n' + "x" * 400 + '"}')
    report = ('<testsuite tests="1" failures="1" errors="0" skipped="0"><testcase name="t">'
              '<failure message="AssertionError">%s</failure></testcase></testsuite>' % fatal)
    assert junit_summary.main(write(tmp_path, report)) == 1
    out = capsys.readouterr().out.splitlines()
    assert "      | DHCP: the guest says: no lease" in out
    assert "      | port 20a2: ACTIVE, bound to compute2" in out
    assert "      | " + "x" * 300 in out
