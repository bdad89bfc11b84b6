"""hw_accel_fact as a module: arguments, result shape, and no host commands for a fixture root."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.osdeploy.nova.plugins.modules import hw_accel_fact


def run_main(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            hw_accel_fact.main()
    out = json.loads(capsys.readouterr().out)
    return exc.value.code, out


def make_root(tmp_path):
    root = tmp_path / "root"
    (root / "proc/sys/kernel").mkdir(parents=True)
    (root / "proc/sys/kernel/arch").write_text("x86_64\n")
    (root / "proc/cpuinfo").write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu hypervisor\n")
    for mod in ("kvm", "kvm_pvm"):
        (root / "sys/module" / mod).mkdir(parents=True)
    (root / "dev").mkdir()
    return str(root)


def test_fixture_root_runs_no_host_command(tmp_path, capsys, monkeypatch):
    def boom(*a, **kw):
        raise AssertionError("a host command was run for a fixture root")
    monkeypatch.setattr(AnsibleModule, "run_command", boom)
    rc, out = run_main(capsys, {"root": make_root(tmp_path)})
    assert rc == 0
    assert out["changed"] is False
    facts = out["ansible_facts"]["hw_accel"]
    assert out["virt_type"] == facts["virt_type"] == "qemu"
    assert out["reason"] == facts["reason"]
    for key in ("virt_type", "cpu_mode", "reason", "vmx_svm_count", "kvm_modules",
                "dev_kvm_usable", "overridden"):
        assert key in facts
    assert facts["kvm_modules"] == ["kvm", "kvm_pvm"]
    assert facts["virtualization"] is None


def test_override_is_reported(tmp_path, capsys):
    rc, out = run_main(capsys, {"root": make_root(tmp_path), "virt_type": "kvm"})
    assert rc == 0
    assert out["virt_type"] == "kvm"
    assert out["ansible_facts"]["hw_accel"]["overridden"] is True
    assert out["ansible_facts"]["hw_accel"]["detected_virt_type"] == "qemu"


def test_bad_override_is_rejected_naming_the_parameter(tmp_path, capsys):
    rc, out = run_main(capsys, {"root": make_root(tmp_path), "virt_type": "xen"})
    assert rc == 1
    assert out["failed"] is True
    assert "virt_type" in out["msg"] and "kvm, qemu" in out["msg"]
