"""Add up the pytest JUnit reports of one test run and print one closing line.

Skipped tests are counted apart and fail the run unless OSDEPLOY_ALLOW_SKIPS=1:
a test that did not run has proved nothing.
"""
import glob
import os
import sys
import xml.etree.ElementTree as ET


def main(folder):
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for path in sorted(glob.glob(os.path.join(folder, "*.xml"))):
        root = ET.parse(path).getroot()
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        for suite in suites:
            for key in total:
                total[key] += int(suite.get(key, 0))
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
