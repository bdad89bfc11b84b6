"""osdeploy_lab.common.end_processes: the lab's disposable processes are gone when it returns."""
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
