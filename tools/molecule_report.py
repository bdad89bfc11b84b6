"""Write a JUnit report of one `molecule test -s SCENARIO` run, for tools/junit_summary.py.

The verifier's pytest writes its own report, but a scenario that fails before
`verify` (create, converge, idempotence, side effect) wrote none: the run's
closing line said "0 failed" and the failed task was printed only in the middle
of the log, before the next scenario's output. This report counts the scenario
as one test and, when it failed, names the stage and the failed tasks, so that
the tail of a CI log says what failed. With a file of stage times it also says
where the scenario's time went (each stage's seconds, as properties that
tools/junit_summary.py prints).

    molecule test ... | python3 tools/molecule_report.py stamp STAGE_TIMES_FILE | tee LOG
    python3 tools/molecule_report.py SCENARIO ok|FAILED SECONDS MOLECULE_LOG FAILED_TASKS_FILE OUT.xml [STAGE_TIMES_FILE]
"""
import re
import sys
import time
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


def stamp(lines, out, times, clock=time.monotonic):
    """Copy molecule's output lines to out as they come, and write to times one line
    "STAGE SECONDS" for each stage that ended (successful or not)."""
    started = {}
    for line in lines:
        out.write(line)
        out.flush()
        match = STAGE.search(ANSI.sub("", line))
        if not match:
            continue
        stage, what, _state = match.groups()
        if what == "Executing":
            started[stage] = clock()
        elif stage in started:
            times.write("%s %.1f\n" % (stage, clock() - started.pop(stage)))
            times.flush()


def read_stage_times(text):
    """[(stage, seconds)] of a stage times file, in order (a stage run twice, as destroy is, counts twice)."""
    found = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            found.append((parts[0], float(parts[1])))
    return found


def build(scenario, result, seconds, log_text, failed_tasks, stage_times=()):
    suite = ET.Element("testsuite", name="molecule", tests="1", failures="0" if result == "ok" else "1",
                       errors="0", skipped="0", time=str(seconds))
    case = ET.SubElement(suite, "testcase", classname="molecule", name="scenario %s" % scenario, time=str(seconds))
    if stage_times:
        props = ET.SubElement(case, "properties")
        for stage, stage_seconds in stage_times:
            ET.SubElement(props, "property", name="stage", value="%s %.1f" % (stage, stage_seconds))
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


def read_optional(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def main(argv):
    if argv[:1] == ["stamp"] and len(argv) == 2:
        sys.stdin.reconfigure(errors="replace")
        sys.stdout.reconfigure(errors="replace")
        with open(argv[1], "w", encoding="utf-8") as times:
            stamp(sys.stdin, sys.stdout, times)
        return 0
    scenario, result, seconds, log_path, tasks_path, out = argv[:6]
    with open(log_path, encoding="utf-8", errors="replace") as f:
        log_text = f.read()
    stage_times = read_stage_times(read_optional(argv[6])) if len(argv) > 6 else []
    build(scenario, result, seconds, log_text, read_optional(tasks_path), stage_times).write(out, encoding="unicode")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
