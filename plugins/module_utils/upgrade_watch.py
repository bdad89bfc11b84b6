# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an upgrade costs the servers and the API, measured while it runs: a watcher process on the controller
pings each target (a server's address, from a network namespace) every 0.2 s and polls an API every 0.5 s, and
writes every answer, with its time, to a log; the upgrade marks where each of its phases begins in the same log;
summarize() turns the log into each phase's figures. Used by the upgrade_watch module; the log parsing is pure and
unit-tested.

Log lines: "<epoch seconds> <event>", events "run" (a run of the upgrade starts or continues the watch), "ping NAME
begin INTERVAL" (a ping process starts), "ping NAME SEQ ok RTT_MS" (an answer), "ping NAME SEQ lost" (ping's "no
answer yet", written as it sends the next), "ping NAME SEQ unreachable" (an ICMP error for that packet),
"ping NAME error TEXT", "api ok CODE", "api down REASON", "phase NAME", "stop". (A log of an earlier watcher has
"ok" without the round trip, and "lost" for the errors too.)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect
import json
import os
import signal
import subprocess
import sys
import time

# The watcher, a program of its own (it outlives the module's run): python3 WATCHER CONFIG. Each target gets one
# long-running `ping -O` (an answer or "no answer yet" per packet); the API gets a GET per interval (no proxy), any
# HTTP answer below 500 counting as answering.
WATCHER = r'''
import http.client, json, subprocess, sys, threading, time, urllib.parse
config = json.load(open(sys.argv[1]))
lock = threading.Lock()
log = open(config["log"], "a", buffering=1)
def write(event):
    with lock:
        log.write("%.3f %s\n" % (time.time(), event))
def pinger(target):
    argv = ["ping", "-n", "-O", "-i", str(config["ping_interval"]), "-W", "1", target["address"]]
    if config["namespace"]:
        argv = ["ip", "netns", "exec", config["namespace"]] + argv
    while True:
        write("ping %s begin %s" % (target["name"], config["ping_interval"]))
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        for line in proc.stdout:
            if "icmp_seq=" not in line:
                continue
            seq = line.split("icmp_seq=")[1].split()[0]
            # an answer (with its round trip), or "no answer yet" (-O), or an error such as "Destination Host
            # Unreachable"
            if " bytes from " in line:
                rtt = line.split(" time=")[1].split()[0] if " time=" in line else ""
                write(("ping %s %s ok %s" % (target["name"], seq, rtt)).rstrip())
            else:
                write("ping %s %s %s" % (target["name"], seq, "lost" if "no answer yet" in line else "unreachable"))
        proc.wait()
        write("ping %s error ping ended with %s" % (target["name"], proc.returncode))
        time.sleep(1)
def poller():
    url = urllib.parse.urlsplit(config["api_url"])
    kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    while True:
        begun = time.time()
        conn = kind(url.hostname, url.port, timeout=2)
        try:
            conn.request("GET", url.path or "/")
            code = conn.getresponse().status
        except Exception as e:
            write("api down %s" % type(e).__name__)
        else:
            write("api %s %s" % ("ok" if code < 500 else "down", code))
        finally:
            conn.close()
        time.sleep(max(0, config["api_interval"] - (time.time() - begun)))
for target in config["targets"]:
    threading.Thread(target=pinger, args=(target,), daemon=True).start()
if config["api_url"]:
    threading.Thread(target=poller, daemon=True).start()
while True:
    time.sleep(3600)
'''

BEFORE = "before the first phase"


def parse(text):
    """The log's lines as (time, words) pairs; a torn last line (the watcher killed mid-write) is left out."""
    events = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 2:
            continue
        try:
            when = float(words[0])
        except ValueError:
            continue
        events.append((when, words[1:]))
    return events


def _number(text):
    try:
        return float(text)
    except ValueError:
        return None


def summarize(text):
    """Each phase's figures from a log: [{name, seconds, pings: {target: {sent, lost}}, pings_lost, api_polls,
    api_failed, api_seconds_down}] in order, and the totals. A ping is lost when none of the log's lines says it
    was answered (a late answer counts as answered); an API outage lasts from a failed poll to the next poll."""
    events = parse(text)
    # a log continued by re-runs of an interrupted upgrade ("run" events): each run's phases are named with it
    runs = sum(1 for when, words in events if words[0] == "run")
    marks = []
    run = 0
    for when, words in events:
        if words[0] == "run":
            run += 1
        elif words[0] == "phase":
            marks.append((when, ("run %d: " % run if runs > 1 else "") + " ".join(words[1:])))
    stops = [when for when, words in events if words[0] == "stop"]
    end = stops[-1] if stops else (events[-1][0] if events else 0.0)
    first = events[0][0] if events else 0.0
    if not marks or any(when < marks[0][0] for when, words in events if words[0] in ("ping", "api")):
        marks.insert(0, (first, BEFORE))
    starts = [when for when, name in marks]
    phases = [dict(name=name, seconds=0.0, pings={}, pings_lost=0, api_polls=0, api_failed=0, api_seconds_down=0.0)
              for when, name in marks]

    def phase_at(when):
        return phases[max(0, bisect.bisect_right(starts, when) - 1)]

    for i, phase in enumerate(phases):
        phase["seconds"] = round((starts[i + 1] if i + 1 < len(starts) else end) - starts[i], 1)

    # each ping counts in the phase it was sent in, dated by the line that first tells of it: an answer less its
    # round trip; ping's "no answer yet", which it writes as it sends the next, less the interval. Never before its
    # ping process's start plus its sequence number times the interval, which is only a lower bound: ping does not
    # number the sends that fail while the target is unreachable (it says "no answer yet" for the same packet
    # again instead, and each such repeat is a send that got no answer). A log of an earlier watcher (no round
    # trip) dates an answer by that bound.
    begun = {}  # target: (time its ping process started, interval)
    pings = {}  # (target, start, seq, attempt): [time sent, answered]; attempt 1 is the numbered send
    said_lost = {}  # (target, start, seq): how many "no answer yet" lines told of it
    polls = []
    for when, words in events:
        if words[0] == "ping" and len(words) >= 4 and words[2] == "begin":
            begun[words[1]] = (when, float(words[3]))
        elif (words[0] == "ping" and len(words) >= 4 and words[3] in ("ok", "lost", "unreachable")
              and words[2].isdigit()):
            start, interval = begun.get(words[1], (when, 0.0))
            bound = start + (int(words[2]) - 1) * interval
            key = (words[1], start, words[2])
            rtt = _number(words[4]) if words[3] == "ok" and len(words) >= 5 else None
            if rtt is not None:
                sent = max(bound, when - rtt / 1000.0)
            elif words[3] == "lost":
                sent = max(bound, when - interval)
                said_lost[key] = said_lost.get(key, 0) + 1
            else:
                sent = min(when, bound)
            if key + (1,) not in pings:
                pings[key + (1,)] = [sent, False]
            elif words[3] == "lost" and said_lost[key] > 1:
                pings[key + (said_lost[key],)] = [sent, False]
            if words[3] == "ok":
                pings[key + (1,)][1] = True
        elif words[0] == "ping" and len(words) >= 3 and words[2] == "error":
            phase_at(when).setdefault("errors", []).append("ping %s: %s" % (words[1], " ".join(words[3:])))
        elif words[0] == "api" and len(words) >= 2:
            polls.append((when, words[1] == "ok"))
    for (target, dummy, dummy_seq, dummy_attempt), (when, answered) in pings.items():
        counts = phase_at(when)["pings"].setdefault(target, dict(sent=0, lost=0))
        counts["sent"] += 1
        counts["lost"] += 0 if answered else 1
    polls.sort()
    for i, (when, answered) in enumerate(polls):
        phase = phase_at(when)
        phase["api_polls"] += 1
        if not answered:
            phase["api_failed"] += 1
            following = polls[i + 1][0] if i + 1 < len(polls) else max(end, when)
            phase["api_seconds_down"] += following - when
    for phase in phases:
        phase["pings_lost"] = sum(counts["lost"] for counts in phase["pings"].values())
        phase["api_seconds_down"] = round(phase["api_seconds_down"], 1)
    total = dict(seconds=round(end - first, 1),
                 pings_sent=sum(c["sent"] for phase in phases for c in phase["pings"].values()),
                 pings_lost=sum(phase["pings_lost"] for phase in phases),
                 api_polls=sum(phase["api_polls"] for phase in phases),
                 api_failed=sum(phase["api_failed"] for phase in phases),
                 api_seconds_down=round(sum(phase["api_seconds_down"] for phase in phases), 1))
    return phases, total


def report(phases, total):
    """The figures as lines for a person: one per phase, then the whole."""
    lines = []
    for phase in phases:
        sent = sum(c["sent"] for c in phase["pings"].values())
        each = ", ".join("%s %d" % (target, c["lost"]) for target, c in sorted(phase["pings"].items()))
        lines.append("%s (%.1f s): pings lost %d of %d%s; API unanswered %.1f s (%d of %d polls)%s" % (
            phase["name"], phase["seconds"], phase["pings_lost"], sent, " (%s)" % each if each else "",
            phase["api_seconds_down"], phase["api_failed"], phase["api_polls"],
            "; " + "; ".join(phase["errors"]) if phase.get("errors") else ""))
    lines.append("in all (%.1f s): pings lost %d of %d; API unanswered %.1f s (%d of %d polls)" % (
        total["seconds"], total["pings_lost"], total["pings_sent"], total["api_seconds_down"], total["api_failed"],
        total["api_polls"]))
    return lines


class Watch(object):
    """The watch kept under `path`: the watcher program, its config, its pid and its log."""

    def __init__(self, path):
        self.path = path
        self.program = os.path.join(path, "watcher.py")
        self.config = os.path.join(path, "config.json")
        self.pidfile = os.path.join(path, "pid")
        self.log = os.path.join(path, "log")

    def read_config(self):
        try:
            with open(self.config) as f:
                return json.load(f)
        except (IOError, OSError, ValueError):
            return None

    def pid(self):
        """The watcher's pid while it runs (its command line names this watch's program), else None."""
        try:
            with open(self.pidfile) as f:
                pid = int(f.read().strip())
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except (IOError, OSError, ValueError):
            return None
        return pid if self.program.encode() in argv else None

    def log_text(self):
        try:
            with open(self.log) as f:
                return f.read()
        except (IOError, OSError):
            return ""

    def stopped_log(self):
        """The log holds a finished watch (its last event is a stop)."""
        events = parse(self.log_text())
        return bool(events) and events[-1][1][0] == "stop"

    def write(self, event):
        with open(self.log, "a") as f:
            f.write("%.3f %s\n" % (time.time(), event))

    def start(self, config, python=None):
        """Start the watcher (a session of its own, so that it outlives this process); a finished log is kept
        aside first (a log without a stop is the same upgrade's, interrupted: the watch goes on in it)."""
        if not os.path.isdir(self.path):
            os.makedirs(self.path, 0o700)
        if self.stopped_log():
            os.rename(self.log, "%s-%d" % (self.log, int(os.path.getmtime(self.log))))
        config = dict(config, log=self.log)
        for name, text in ((self.program, WATCHER), (self.config, json.dumps(config, sort_keys=True))):
            with open(name, "w") as f:
                f.write(text)
            os.chmod(name, 0o600)
        with open(os.devnull, "r+") as null:
            proc = subprocess.Popen([python or sys.executable, self.program, self.config], stdin=null, stdout=null,
                                    stderr=null, close_fds=True, start_new_session=True)
        with open(self.pidfile, "w") as f:
            f.write("%d\n" % proc.pid)
        return proc.pid

    def stop(self, final=True):
        """End the watcher and its pings (its process group), and write the stop (final: the watch ends; else a
        new watcher goes on with the same log)."""
        pid = self.pid()
        if pid is not None:
            try:
                os.killpg(pid, signal.SIGTERM)
            except OSError:
                pass
            for dummy in range(50):
                if self.pid() is None or _zombie(pid):
                    break
                time.sleep(0.1)
        if final:
            self.write("stop")


def _zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (IOError, OSError, IndexError):
        return True
