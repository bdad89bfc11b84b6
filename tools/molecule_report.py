"""Write a JUnit report of one `molecule test -s SCENARIO` run, for tools/junit_summary.py.

The verifier's pytest writes its own report, but a scenario that fails before
`verify` (create, converge, idempotence, side effect) wrote none: the run's
closing line said "0 failed" and the failed task was printed only in the middle
of the log, before the next scenario's output. This report counts the scenario
as one test and, when it failed, names the stage and the failed tasks, so that
the tail of a CI log says what failed.

    python3 tools/molecule_report.py SCENARIO ok|FAILED SECONDS MOLECULE_LOG FAILED_TASKS_FILE OUT.xml
"""
import re
import sys
import xml.etree.ElementTree as ET

ANSI = re.compile(r"\x1b\[[0-9;]*m")
STAGE = re.compile(r"➜ (\w+): (Executing|Executed: (\w+))")


def failed_stage(log_text):
    """The first stage that did not end "Successful", or the last one that started and never ended."""
    started = None
    for line in ANSI.sub("", log_text).splitlines():
        match = STAGE.search(line)
        if not match:
            continue
        stage, what, state = match.groups()
        if what == "Executing":
            started = stage
        elif state != "Successful":
            return stage
        elif stage == started:
            started = None
    return started or "unknown"


def build(scenario, result, seconds, log_text, failed_tasks):
    suite = ET.Element("testsuite", name="molecule", tests="1", failures="0" if result == "ok" else "1",
                       errors="0", skipped="0", time=str(seconds))
    case = ET.SubElement(suite, "testcase", classname="molecule", name="scenario %s" % scenario, time=str(seconds))
    if result != "ok":
        lines = []
        for line in failed_tasks.splitlines():
            if line.startswith("==== what the lab's hosts said"):
                break  # the hosts' journals: in the log, too long for a closing line
            if line.strip() and not line.startswith("===="):
                lines.append(line.strip())
        message = "molecule test -s %s failed in its %s stage" % (scenario, failed_stage(log_text))
        if lines:
            message += "\n" + "\n".join(lines[:2])
        failure = ET.SubElement(case, "failure", message=message)
        failure.text = "\n".join(lines[:60])
    return ET.ElementTree(suite)


def main(argv):
    scenario, result, seconds, log_path, tasks_path, out = argv
    with open(log_path, encoding="utf-8", errors="replace") as f:
        log_text = f.read()
    try:
        with open(tasks_path, encoding="utf-8", errors="replace") as f:
            failed_tasks = f.read()
    except OSError:
        failed_tasks = ""
    build(scenario, result, seconds, log_text, failed_tasks).write(out, encoding="unicode")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
