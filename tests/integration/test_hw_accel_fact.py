"""hw_accel_fact on the real machine that runs the tests, through Ansible."""
import os
import re


def test_decision_on_this_host_has_evidence(ansible_module):
    res = ansible_module("hw_accel_fact", {})
    assert not res.failed, res.output
    assert res["changed"] is False
    facts = res["ansible_facts"]["hw_accel"]
    assert res["virt_type"] == facts["virt_type"]
    assert facts["virt_type"] in ("kvm", "qemu")
    with open("/proc/cpuinfo") as f:
        vmx = len(re.findall(r"^flags\s*:.*\b(vmx|svm)\b", f.read(), re.M))
    assert facts["vmx_svm_count"] == vmx
    assert facts["dev_kvm_exists"] == os.path.exists("/dev/kvm")
    if os.path.isdir("/sys/module/kvm_pvm") and not vmx:
        # the machines of this project: /dev/kvm answers the ioctls but is kvm_pvm
        assert facts["dev_kvm_usable"] is True
        assert facts["virt_type"] == "qemu"
        assert "kvm_pvm" in facts["reason"]
    if facts["virt_type"] == "kvm":
        assert facts["dev_kvm_usable"] is True


def test_check_mode_and_override(ansible_module):
    res = ansible_module("hw_accel_fact", {"virt_type": "kvm"}, check=True)
    assert not res.failed, res.output
    assert res["changed"] is False
    facts = res["ansible_facts"]["hw_accel"]
    assert facts["overridden"] is True and facts["virt_type"] == "kvm"
    assert "set by the operator" in facts["reason"]
