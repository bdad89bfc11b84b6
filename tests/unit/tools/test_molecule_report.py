"""A Molecule scenario that fails before its verify step is counted, and the closing lines name its stage and task."""
import io

import junit_summary  # tools/ (pytest.ini)
import molecule_report

LOG = "\n".join([
    "\x1b[36mINFO    \x1b[0m \x1b[32mdefault\x1b[0m ➜ \x1b[33mconverge\x1b[0m: \x1b[36mExecuting\x1b[0m",
    "INFO     default ➜ converge: Executed: Successful",
    "INFO     default ➜ idempotence: Executing",
    "INFO     default ➜ idempotence: Executed: Successful",
    "INFO     default ➜ side_effect: Executing",
    "  │ fatal: [controller]: FAILED! => {}",
    "INFO     default ➜ side_effect: Executed: Failed",
    "INFO     default ➜ destroy: Executing",
    "INFO     default ➜ destroy: Executed: Successful",
])

TASKS = """==== failed tasks (full log: build/molecule-default.log)
  TASK [osdeploy.nova.osdeploy : Boot, reach and delete a server on every compute host] ***
    fatal: [controller]: FAILED!
      migrate: server osdeploy-verify-compute1 is still VERIFY_RESIZE 300 s after the cold migration
==== what the lab's hosts said before they were removed (build/lab-report-default.txt)
journal line that is too long for a closing line
"""


def test_the_failed_stage_is_the_first_that_did_not_succeed():
    assert molecule_report.failed_stage(LOG) == "side_effect"


def test_a_stage_that_started_and_never_ended_is_the_failed_one():
    assert molecule_report.failed_stage("x ➜ create: Executed: Successful\nx ➜ converge: Executing\n") == "converge"
    assert molecule_report.failed_stage("no stage at all") == "unknown"


def test_a_failed_scenario_counts_as_a_failed_test_named_with_its_stage_and_task(tmp_path, capsys):
    molecule_report.build("default", "FAILED", 769, LOG, TASKS).write(str(tmp_path / "molecule-default-scenario.xml"))
    assert junit_summary.main(str(tmp_path)) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "FAILED [molecule-default-scenario.xml] molecule::scenario default"
    assert "    molecule test -s default failed in its side_effect stage" in out
    assert ("    migrate: server osdeploy-verify-compute1 is still VERIFY_RESIZE 300 s after the cold migration"
            in out)
    assert not [line for line in out if "journal line" in line]
    assert out[-1] == "tests: 0 passed, 1 failed, 0 skipped"


def test_a_scenario_that_passed_counts_as_one_passed_test(tmp_path, capsys):
    molecule_report.build("default", "ok", 617, LOG, "").write(str(tmp_path / "molecule-default-scenario.xml"))
    assert junit_summary.main(str(tmp_path)) == 0
    assert capsys.readouterr().out.splitlines() == ["time: molecule scenario default 617 s",
                                                    "tests: 1 passed, 0 failed, 0 skipped"]


class Clock:
    def __init__(self, *readings):
        self.readings = list(readings)

    def __call__(self):
        return self.readings.pop(0)


def test_stamping_copies_the_output_and_times_each_stage(tmp_path):
    out, times = io.StringIO(), io.StringIO()
    lines = [line + "\n" for line in LOG.splitlines()]
    # converge 0 -> 311.25, idempotence 400 -> 470, side_effect 500 -> 697.9 (failed), destroy 700 -> 744.5
    molecule_report.stamp(lines, out, times, clock=Clock(0, 311.25, 400, 470, 500, 697.9, 700, 744.5))
    assert out.getvalue() == "".join(lines)
    assert times.getvalue().splitlines() == ["converge 311.2", "idempotence 70.0", "side_effect 197.9",
                                             "destroy 44.5"]


def test_the_scenario_line_names_each_stage_with_its_seconds(tmp_path, capsys):
    stages = molecule_report.read_stage_times("converge 311.2\nidempotence 70.0\n\nside_effect 197.9\n")
    assert stages == [("converge", 311.2), ("idempotence", 70.0), ("side_effect", 197.9)]
    molecule_report.build("default", "ok", 617, LOG, "", stages).write(str(tmp_path / "molecule-default-scenario.xml"))
    (tmp_path / "molecule-default.xml").write_text(
        '<testsuite tests="12" failures="0" errors="0" skipped="0">'
        + "".join('<testcase classname="tests.t" name="t%d" time="%d.5"/>' % (i, i) for i in range(12))
        + '<testcase classname="tests.t" name="untimed"/></testsuite>')
    assert junit_summary.main(str(tmp_path)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "time: molecule scenario default 617 s: converge 311.2 s, idempotence 70.0 s, side_effect 197.9 s"
    assert out[1] == "time: the 10 slowest tests"
    assert out[2] == "     11.5 s  [molecule-default.xml] tests.t::t11"
    assert out[11] == "      2.5 s  [molecule-default.xml] tests.t::t2"
    assert out[-1] == "tests: 13 passed, 0 failed, 0 skipped"
