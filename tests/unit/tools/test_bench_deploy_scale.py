"""tools/bench/deploy.py's scale model (issue #17): a converged re-run's wall for N compute hosts, from a
re-run with 1 compute and one with 2, on small runs whose figures are worked out by hand below."""
import importlib.util
import json
import os

import pytest

PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tools", "bench", "deploy.py")
SPEC = importlib.util.spec_from_file_location("bench_deploy", PATH)
deploy = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(deploy)


def task(play, name, start, end, hosts, action="ansible.builtin.command", strategy="linear", args=None):
    """A task as the timing callback writes it; hosts: {host: (start, end, status)}."""
    return {"name": name, "role": None, "action": action, "args": args or {}, "play": play, "strategy": strategy,
            "handler": False, "start": start, "end": end,
            "hosts": dict((h, {"start": s, "end": e, "status": st, "changed": False}) for h, (s, e, st) in hosts.items())}


DISCOVER = dict(action="osdeploy.nova.cell_v2", args={"action": "discover_hosts"})
PROOF = dict(action="osdeploy.nova.server_check")


def runs():
    """Three plays, as site.yml has them (a linear one, the packages play with strategy free, the proof).

    Play A (linear): a1 on the controller (fixed); a2 on the controller and the computes (ran): span 1.0 with
    1 compute, 1.4 with 2, the slowest host 0.9 s, starts 0.1 s apart; a3 on the computes (skipped): span 0.1,
    then 0.4, starts 0.3 s apart; a4 cell_v2 discover_hosts, run_once (compute1 only in both runs: fixed).
    Play P (free): p1 on both hosts, p2 on both (the controller skips it); compute1's chain 0.5 + 1.0 s.
    Play B: the proof on the controller, 10 s with 1 compute, 16 s with 2.
    Run walls 15.5 s and 22 s."""
    ok, skip = "ok", "skipped"
    one = [
        task("A", "a1", 0.0, 1.0, {"controller": (0.0, 1.0, ok)}),
        task("A", "a2", 1.0, 2.0, {"controller": (1.0, 1.5, ok), "compute1": (1.1, 2.0, ok)}),
        task("A", "a3", 2.0, 2.1, {"compute1": (2.0, 2.1, skip)}),
        task("A", "a4", 2.1, 2.3, {"compute1": (2.1, 2.3, ok)}, **DISCOVER),
        task("P", "p1", 3.0, 4.0, {"controller": (3.0, 4.0, ok), "compute1": (3.0, 3.5, ok)}, strategy="free"),
        task("P", "p2", 3.5, 4.5, {"compute1": (3.5, 4.5, ok), "controller": (4.0, 4.1, skip)}, strategy="free"),
        task("B", "proof", 5.0, 15.0, {"controller": (5.0, 15.0, ok)}, **PROOF),
    ]
    two = [
        task("A", "a1", 0.0, 1.2, {"controller": (0.0, 1.2, ok)}),
        task("A", "a2", 1.2, 2.6, {"controller": (1.2, 1.8, ok), "compute1": (1.3, 2.4, ok),
                                   "compute2": (1.4, 2.6, ok)}),
        task("A", "a3", 2.6, 3.0, {"compute1": (2.6, 2.7, skip), "compute2": (2.9, 3.0, skip)}),
        task("A", "a4", 2.9, 3.0, {"compute1": (2.9, 3.0, ok)}, **DISCOVER),
        task("P", "p1", 3.0, 4.2, {"controller": (3.0, 4.2, ok), "compute1": (3.0, 3.6, ok),
                                   "compute2": (3.1, 3.7, ok)}, strategy="free"),
        task("P", "p2", 3.6, 4.9, {"compute1": (3.6, 4.7, ok), "compute2": (3.7, 4.9, ok),
                                   "controller": (4.2, 4.3, skip)}, strategy="free"),
        task("B", "proof", 5.5, 21.5, {"controller": (5.5, 21.5, ok)}, **PROOF),
    ]
    return {"start": 0.0, "end": 15.5, "changed": 0, "tasks": one}, {"start": 0.0, "end": 22.0, "changed": 0, "tasks": two}


def test_waves_of_forks_hosts():
    assert [deploy.waves(h, 25) for h in (1, 25, 26, 100, 101)] == [1, 1, 2, 4, 5]


def test_a_hosts_time_is_the_callbacks_seconds_when_it_wrote_them():
    p = task("P", "p", 0.0, 40.0, {"controller": (0.0, 40.0, "ok"), "compute1": (0.0, 2.0, "ok")}, strategy="free")
    assert deploy.wall(p) == 40.0                         # a JSON without them: the first start to the last end
    p["hosts"]["controller"]["seconds"] = 1.5             # a handler run twice, 0 to 1 and 39.5 to 40
    assert deploy.wall(p) == 2.0


def test_the_figures_the_model_derives_from_the_runs():
    m = deploy.scale_model(*runs(), forks=4, boot=(4.0, 5.0), computes=(1, 2, 10))
    assert (m["n1"], m["n2"], m["first"], m["added"]) == (1, 2, ["compute1"], ["compute2"])
    assert m["grown"] == 4                                   # a2, a3, p1, p2
    assert m["fixed"] == 2 and m["fixed_seconds"] == pytest.approx(1.2)     # a1 1.0 s, a4 0.2 s
    assert m["discover"] == [("a4", pytest.approx(0.2))]
    assert m["growth_ran"] == pytest.approx(0.4)             # a2: 1.4 - 1.0
    assert m["growth_skipped"] == pytest.approx(0.3)         # a3: 0.4 - 0.1
    assert m["dispatch"] == pytest.approx(0.2)               # (0.1 + 0.3) / 2
    assert m["proof"] == [("proof", 10.0, 16.0, pytest.approx(6.0), pytest.approx(5.0))]   # low: 6 less the boot's 1
    assert m["outside"] == pytest.approx(1.7)                # 15.5 - (A 2.3 + P 1.5 + B 10)


def test_each_play_by_hand():
    m = deploy.scale_model(*runs(), forks=4, boot=(4.0, 5.0), computes=(1, 2, 10))
    a, p, b = m["plays"]
    assert [x["name"] for x in m["plays"]] == ["A", "P", "B"]
    assert a["measured"] == (pytest.approx(2.3), pytest.approx(3.0))
    # N=10: a2 runs on 11 hosts, 3 waves of 4 (1 with 1 compute): + 2 x 0.9; a3 on 10, 3 waves: + 2 x 0.1
    assert a["high"] == {1: pytest.approx(2.3), 2: pytest.approx(2.3 + 0.4 + 0.3),
                         10: pytest.approx(2.3 + 9 * (0.4 + 0.3) + 2 * 0.9 + 2 * 0.1)}
    assert a["low"] == {1: pytest.approx(2.3), 2: pytest.approx(2.3 + 0.2 + 0.2),
                        10: pytest.approx(2.3 + 9 * (0.2 + 0.2) + 2.0)}
    # free: 2 compute tasks x the per-host work; N=10: 11 hosts, 2 more waves of compute1's chain 1.5 s
    assert p["high"] == {1: pytest.approx(1.5), 2: pytest.approx(1.5 + 2 * 0.4),
                         10: pytest.approx(1.5 + 9 * 2 * 0.4 + 2 * 1.5)}
    assert p["low"][10] == pytest.approx(1.5 + 9 * 2 * 0.2 + 2 * 1.5)
    assert b["high"] == {1: pytest.approx(10.0), 2: pytest.approx(16.0), 10: pytest.approx(64.0)}
    assert b["low"] == {1: pytest.approx(10.0), 2: pytest.approx(15.0), 10: pytest.approx(55.0)}


def test_the_run_walls_by_hand():
    m = deploy.scale_model(*runs(), forks=4, boot=(4.0, 5.0), computes=(1, 2, 10))
    assert m["walls"] == (15.5, 22.0)
    assert m["high"] == {1: pytest.approx(15.5), 2: pytest.approx(23.0), 10: pytest.approx(88.0)}
    assert m["low"] == {1: pytest.approx(15.5), 2: pytest.approx(21.3), 10: pytest.approx(72.7)}


def test_without_the_boot_times_low_takes_the_proofs_whole_growth():
    m = deploy.scale_model(*runs(), forks=4, computes=(1, 2, 10))
    assert m["plays"][2]["low"][10] == pytest.approx(64.0)


def test_more_forks_than_hosts_means_no_waves():
    m = deploy.scale_model(*runs(), forks=25, boot=(4.0, 5.0), computes=(10,))
    assert m["high"][10] == pytest.approx(88.0 - 2.0 - 3.0)     # a2, a3 and the free chain in one wave


def test_low_never_counts_more_per_host_than_high():
    one, two = runs()
    two["tasks"][1]["hosts"]["compute2"].update(start=2.0)     # a2's starts 0.4 s apart: dispatch (0.4 + 0.3) / 2
    m = deploy.scale_model(one, two, forks=4, computes=(1, 10))
    assert m["dispatch"] == pytest.approx(0.35)
    a, p = m["plays"][:2]
    # a2 low 0.35 (high 0.4); a3 low 0.3, its high (the skipped tasks' growth), not the dispatch 0.35
    assert a["low"][10] == pytest.approx(2.3 + 9 * (0.35 + 0.3) + 2.0)
    assert p["low"][10] == pytest.approx(1.5 + 9 * 2 * 0.35 + 2 * 1.5)
    assert all(m["low"][n] <= m["high"][n] for n in (1, 10))


def test_runs_that_do_not_pair_are_refused():
    one, two = runs()
    two["tasks"][1]["name"] = "another"
    with pytest.raises(ValueError, match="same tasks"):
        deploy.scale_model(one, two, forks=4)
    with pytest.raises(ValueError, match="more compute hosts"):
        deploy.scale_model(one, runs()[0], forks=4)


def test_the_boot_seconds_are_the_latest_servers(tmp_path):
    log = tmp_path / "rerun2.log"
    log.write_text('    "msg": [\n'
                   '        "compute1: ACTIVE at 203.0.113.27, ping ok; seconds from create: active 13.0, DHCP 16.2, '
                   'metadata 18.9, ping 19.5; deleted in 6.3",\n'
                   '        "compute2: ACTIVE at 203.0.113.206, ping ok; seconds from create: active 13.0, DHCP 19.2, '
                   'metadata 19.2, ping 19.3; deleted in 6.3"\n    ]\n')
    assert deploy.boot_seconds(str(log)) == 19.5
    assert deploy.boot_seconds(str(tmp_path / "missing.log")) is None
    (tmp_path / "empty.log").write_text("PLAY RECAP\n")
    assert deploy.boot_seconds(str(tmp_path / "empty.log")) is None


def test_forks_come_from_the_environment_then_ansible_cfg(tmp_path):
    assert deploy.forks_setting(str(tmp_path), {}) == (5, "Ansible's default: ansible.cfg sets none")
    (tmp_path / "ansible.cfg").write_text("[defaults]\n# every compute at once\nforks = 25\n")
    assert deploy.forks_setting(str(tmp_path), {}) == (25, "ansible.cfg [defaults] forks")
    assert deploy.forks_setting(str(tmp_path), {"ANSIBLE_FORKS": "7"}) == (7, "ANSIBLE_FORKS")


def test_serial_is_found_in_the_playbooks(tmp_path):
    (tmp_path / "site.yml").write_text("- ansible.builtin.import_playbook: playbooks/a.yml\n")
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "a.yml").write_text("- name: A\n  hosts: compute\n  tasks: []\n")
    assert deploy.serial_playbooks(str(tmp_path)) == []
    (tmp_path / "playbooks" / "b.yml").write_text("- name: B\n  hosts: compute\n  serial: 10\n  tasks: []\n")
    assert deploy.serial_playbooks(str(tmp_path)) == [os.path.join("playbooks", "b.yml")]


def test_model_runs_alone_on_a_folder_of_runs(tmp_path, capsys):
    one, two = runs()
    for name, run in (("rerun1", one), ("rerun2", two)):
        (tmp_path / (name + ".json")).write_text(json.dumps(run))
    (tmp_path / "rerun1.log").write_text("seconds from create: active 2.0, ping 4.0; deleted in 5.0\n")
    (tmp_path / "rerun2.log").write_text("seconds from create: active 2.5, ping 5.0; deleted in 5.0\n")
    assert deploy.main(["model", str(tmp_path), "--forks", "4"]) == 0
    out = capsys.readouterr().out
    assert "forks 4 (--forks)" in out
    assert "once on the controller, 'a4' 0.2 s" in out
    wall = [line.split() for line in out.splitlines() if line.strip().startswith("run wall")]
    # measured 1, high 1, measured 2, high 2, low 2, high 10, high 100, low 10, low 100
    assert wall[0][-9:-4] == ["15.5", "15.5", "22.0", "23.0", "21.3"]
    assert wall[0][-4] == "88.0" and wall[0][-2] == "72.7"
    assert "error with 2 computes: +1.0 s high, -0.7 s low" in out
