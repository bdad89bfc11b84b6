"""Add up the pytest JUnit reports of one test run and print one closing line.

Each failed test is named with the first lines of its message first, so that
the tail of a CI log says what failed (the molecule tier's own output wraps
and interleaves its lines). Skipped tests are counted apart and fail the run unless OSDEPLOY_ALLOW_SKIPS=1:
a test that did not run has proved nothing.

Before that line it says where the time went: each Molecule scenario's stages
(from tools/molecule_report.py) and the ten slowest tests.
"""
import glob
import json
import os
import re
import sys
import xml.etree.ElementTree as ET


def report(report_name, case, problem, lines=10):
    """Print one failed test: its report, name, and the last lines of its message and text
    (pytest ends its text with the assertion that failed)."""
    print("FAILED [%s] %s::%s" % (report_name, case.get("classname", ""), case.get("name", "")))
    text = (problem.get("message") or "").splitlines()[:3]
    text += (problem.text or "").splitlines()[-lines:]
    for line in text:
        print("    " + line[:300])
        for msg_line in ansible_message(line)[:40]:
            print("      | " + msg_line[:300])


def ansible_message(line):
    """The lines of the message of an Ansible result printed on one line
    (`fatal: [host]: FAILED! => {...}`): one JSON line that holds the whole
    explanation, too long to print as it is."""
    match = re.search(r"=> (\{.*\})\s*$", line)
    if not match:
        return []
    try:
        result = json.loads(match.group(1))
    except ValueError:
        return []
    msg = result.get("msg") if isinstance(result, dict) else None
    return msg.splitlines() if isinstance(msg, str) else []


def seconds(case):
    try:
        return float(case.get("time") or 0)
    except ValueError:
        return 0.0


def print_times(cases, slowest=10):
    """Where the time went: each scenario's stages, then the slowest tests (the scenarios themselves,
    which hold their verify step's tests, are not among them)."""
    tests = []
    for report_name, case in cases:
        stages = [p.get("value", "") for p in case.iter("property") if p.get("name") == "stage"]
        if case.get("classname") == "molecule":
            print("time: molecule %s %.0f s%s" % (case.get("name", ""), seconds(case),
                                                  ": " + ", ".join("%s s" % s for s in stages) if stages else ""))
        elif seconds(case) > 0:
            tests.append((seconds(case), report_name, case))
    if tests:
        print("time: the %d slowest tests" % min(slowest, len(tests)))
        for took, report_name, case in sorted(tests, key=lambda t: -t[0])[:slowest]:
            print("  %7.1f s  [%s] %s::%s" % (took, report_name, case.get("classname", ""), case.get("name", "")))


def main(folder):
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    cases = []
    for path in sorted(glob.glob(os.path.join(folder, "*.xml"))):
        root = ET.parse(path).getroot()
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        for suite in suites:
            for key in total:
                total[key] += int(suite.get(key, 0))
            for case in suite.iter("testcase"):
                cases.append((os.path.basename(path), case))
                for problem in list(case.findall("failure")) + list(case.findall("error")):
                    report(os.path.basename(path), case, problem)
    print_times(cases)
    failed = total["failures"] + total["errors"]
    passed = total["tests"] - failed - total["skipped"]
    print("tests: %d passed, %d failed, %d skipped" % (passed, failed, total["skipped"]))
    if total["skipped"] and os.environ.get("OSDEPLOY_ALLOW_SKIPS") != "1":
        print("junit-summary: %d tests were skipped; a skipped test proves nothing "
              "(set OSDEPLOY_ALLOW_SKIPS=1 to accept)" % total["skipped"], file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
