"""osdeploy_lab.common.end_processes: the lab's disposable processes are gone when it returns."""
import signal
import subprocess
import sys
import time

from osdeploy_lab.common import end_processes, pid_alive

IGNORES_SIGTERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); " \
                  "time.sleep(60)"


def started(code):
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "up\n"
    return proc


def test_a_process_that_ignores_sigterm_is_gone_on_return():
    proc = started(IGNORES_SIGTERM)
    begin = time.monotonic()
    end_processes([proc.pid], "test process")
    assert not pid_alive(proc.pid)
    assert proc.wait(1) == -9          # killed, not ended by itself
    assert time.monotonic() - begin < 5


def test_processes_that_end_on_sigterm_and_one_already_gone():
    procs = [started("import time; print('up', flush=True); time.sleep(60)") for _proc in range(2)]
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    end_processes([p.pid for p in procs] + [gone.pid], "test processes")
    assert [p.wait(1) for p in procs] == [-15, -15]


def test_processes_found_again_at_each_attempt_are_killed_at_once_with_first_sigkill():
    """A machine's stop (nspawn): SIGKILL from the first attempt, and what its namespace still holds found again."""
    known, appears = started(IGNORES_SIGTERM), started(IGNORES_SIGTERM)
    found = []

    def more():
        found.append(len(found))
        return [appears.pid] if len(found) == 2 else []    # found only at the second look

    end_processes([known.pid], "test machine", first=signal.SIGKILL, more=more)
    assert known.wait(1) == -9 and appears.wait(1) == -9
    assert len(found) >= 3      # looked again after it killed what it found
