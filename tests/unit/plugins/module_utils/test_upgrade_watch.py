"""The figures of an upgrade's watch, read from its log (module_utils/upgrade_watch.py)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.osdeploy.nova.plugins.module_utils.upgrade_watch import BEFORE, report, summarize

LOG = """\
100.000 ping c1 begin 0.5
100.200 api ok 200
100.600 ping c1 1 ok
100.700 api ok 200
101.000 phase the computes
101.100 ping c1 2 ok
101.200 api down ConnectionRefusedError
101.700 api down ConnectionRefusedError
102.200 api ok 200
103.600 ping c1 3 lost
103.700 ping c1 4 lost
103.800 ping c1 3 ok
104.000 phase the pin
104.100 ping c1 error ping ended with 1
104.200 ping c1 begin 0.5
104.300 ping c1 1 ok
104.400 api down timeout
105.000 stop
105.1
"""


def test_each_ping_counts_in_the_phase_it_was_sent_in_and_a_late_answer_is_no_loss():
    phases, total = summarize(LOG)
    assert [p["name"] for p in phases] == [BEFORE, "the computes", "the pin"]
    before, computes, pin = phases
    # seq 1 sent at 100.0; seq 2 at 100.5, answered at 101.1 (after the mark): still before's
    assert before["pings"] == {"c1": {"sent": 2, "lost": 0}}
    # seq 3 (sent 101.0) was answered late; seq 4 (sent 101.5) is lost, though written at 103.7
    assert computes["pings"] == {"c1": {"sent": 2, "lost": 1}} and computes["pings_lost"] == 1
    # the restarted ping's seq 1 is a ping of its own
    assert pin["pings"] == {"c1": {"sent": 1, "lost": 0}}
    assert pin["errors"] == ["ping c1: ping ended with 1"]


# What ping -O writes while its target is unreachable (measured): the sends that fail are not numbered, ping says
# "no answer yet" for the same packet again instead, and the numbers then lag the clock.
LAGGING = """\
100.000 ping c1 begin 0.2
100.200 ping c1 1 ok 0.1
100.400 ping c1 2 lost
100.600 ping c1 2 lost
100.800 ping c1 2 lost
101.000 phase two
101.100 ping c1 2 unreachable
101.250 ping c1 3 ok 50.0
101.400 ping c1 4 ok 0.1
101.500 stop
"""


def test_a_ping_is_dated_by_its_answer_less_the_round_trip_and_each_failed_send_is_a_loss():
    phases, total = summarize(LAGGING)
    before, two = phases
    # seq 2 and the two sends after it that failed (its "no answer yet" again): three lost before the mark
    assert before["pings"] == {"c1": {"sent": 4, "lost": 3}}
    # seq 3 and 4 by their numbers would be 100.4 and 100.6; answered at 101.25 (50 ms) and 101.4, they are two's
    assert two["pings"] == {"c1": {"sent": 2, "lost": 0}}
    assert total["pings_sent"] == 6 and total["pings_lost"] == 3


def test_an_outage_lasts_from_a_failed_poll_to_the_next_poll_or_the_stop():
    phases, total = summarize(LOG)
    before, computes, pin = phases
    assert (computes["api_polls"], computes["api_failed"], computes["api_seconds_down"]) == (3, 2, 1.0)
    assert (pin["api_polls"], pin["api_failed"], pin["api_seconds_down"]) == (1, 1, 0.6)
    assert total == dict(seconds=5.0, pings_sent=5, pings_lost=1, api_polls=6, api_failed=3, api_seconds_down=1.6)
    assert [p["seconds"] for p in phases] == [1.0, 3.0, 1.0]


def test_the_report_has_a_line_per_phase_and_the_whole():
    lines = report(*summarize(LOG))
    assert lines[1] == ("the computes (3.0 s): pings lost 1 of 2 (c1 1); API unanswered 1.0 s (2 of 3 polls)")
    assert lines[-1] == "in all (5.0 s): pings lost 1 of 5; API unanswered 1.6 s (3 of 6 polls)"


def test_a_log_that_begins_with_a_phase_has_no_before_and_an_empty_log_no_phase():
    phases, total = summarize("10.0 phase one\n10.5 api ok 200\n11.0 stop\n")
    assert [p["name"] for p in phases] == ["one"] and total["api_polls"] == 1
    phases, total = summarize("")
    assert phases[0]["api_polls"] == 0 and total["pings_sent"] == 0


def test_the_phases_of_re_runs_that_continued_the_log_are_named_with_their_run():
    log = ("10.0 run\n10.0 phase code\n11.0 api ok 200\n20.0 phase computes\n30.0 run\n30.0 phase code\n"
           "31.0 api down timeout\n32.0 api ok 200\n40.0 stop\n")
    phases, total = summarize(log)
    assert [p["name"] for p in phases] == ["run 1: code", "run 1: computes", "run 2: code"]
    assert [p["seconds"] for p in phases] == [10.0, 10.0, 10.0] and phases[2]["api_seconds_down"] == 1.0
    phases, total = summarize("10.0 run\n10.0 phase code\n11.0 stop\n")
    assert [p["name"] for p in phases] == ["code"]
