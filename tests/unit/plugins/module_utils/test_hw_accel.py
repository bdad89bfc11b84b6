"""hw_accel: every case of issue 2 driven with fixture trees (fake /proc, /sys, /dev)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils import hw_accel

AMD_NO_SVM = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu vme de pse tsc msr hypervisor\n\n"
INTEL_VMX = "".join(
    "processor\t: %d\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme vmx sse2 ept\n\n" % i for i in range(4))
ARM64 = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes\nCPU implementer\t: 0x41\n\n"

USABLE = (True, True, None)
PVM_IOCTLS_WORK = USABLE  # kvm_pvm answers the ioctls: that is the trap


def tree(tmp_path, cpuinfo=INTEL_VMX, modules=("kvm", "kvm_intel"), dev_kvm=True, nested=None, arch="x86_64"):
    root = tmp_path / "root"
    (root / "proc/sys/kernel").mkdir(parents=True)
    if arch is not None:
        (root / "proc/sys/kernel/arch").write_text(arch + "\n")
    if cpuinfo is not None:
        (root / "proc/cpuinfo").write_text(cpuinfo)
    (root / "sys/module").mkdir(parents=True)
    for mod in modules:
        (root / "sys/module" / mod / "parameters").mkdir(parents=True)
    if nested is not None:
        for mod in modules:
            if mod in ("kvm_intel", "kvm_amd"):
                (root / "sys/module" / mod / "parameters/nested").write_text(nested + "\n")
    (root / "dev").mkdir()
    if dev_kvm:
        (root / "dev/kvm").write_text("")
    return str(root)


def probe(result):
    calls = []

    def fake(path):
        calls.append(path)
        return result
    fake.calls = calls
    return fake


def facts_for(root, kvm_probe=probe(USABLE), run=None, override=None):
    return hw_accel.decide(hw_accel.gather_signals(root=root, kvm_probe=kvm_probe, run=run), override=override)


def test_this_machine_kvm_pvm_without_svm_says_qemu_and_names_kvm_pvm(tmp_path):
    root = tree(tmp_path, cpuinfo=AMD_NO_SVM, modules=("kvm", "kvm_pvm"))
    f = facts_for(root, kvm_probe=probe(PVM_IOCTLS_WORK))
    assert f["dev_kvm_usable"] is True          # the ioctl-level check passes...
    assert f["vmx_svm_count"] == 0
    assert f["kvm_modules"] == ["kvm", "kvm_pvm"]
    assert f["virt_type"] == "qemu"              # ...and yet it must say qemu
    assert "kvm_pvm" in f["reason"]
    assert f["cpu_mode"] == "none"
    assert f["overridden"] is False
    assert f["cpu_vendor"] == "AuthenticAMD"
    assert f["hypervisor_flag"] is True


def test_kvm_pvm_even_with_a_vmx_flag_is_not_hardware_kvm(tmp_path):
    root = tree(tmp_path, cpuinfo=INTEL_VMX, modules=("kvm", "kvm_pvm"))
    f = facts_for(root)
    assert f["virt_type"] == "qemu"
    assert "kvm_pvm" in f["reason"]


def test_vmx_kvm_intel_usable_dev_kvm_says_kvm(tmp_path):
    root = tree(tmp_path, nested="Y")
    f = facts_for(root)
    assert f["virt_type"] == "kvm"
    assert f["cpu_mode"] == "host-model"
    assert f["vmx_svm_count"] == 4
    assert f["nested"] is True
    assert f["reason"].startswith("kvm: 4 CPUs have vmx/svm, kvm_intel is loaded")


def test_svm_kvm_amd_nested_zero(tmp_path):
    cpu = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu svm npt\n\n"
    root = tree(tmp_path, cpuinfo=cpu, modules=("kvm", "kvm_amd"), nested="0")
    f = facts_for(root)
    assert (f["virt_type"], f["nested"], f["vmx_svm_count"]) == ("kvm", False, 1)


def test_vmx_but_no_dev_kvm_says_qemu(tmp_path):
    root = tree(tmp_path, modules=(), dev_kvm=False)
    p = probe(USABLE)
    f = facts_for(root, kvm_probe=p)
    assert f["virt_type"] == "qemu"
    assert "/dev/kvm does not exist" in f["reason"]
    assert "vmx/svm" in f["reason"]
    assert p.calls == []  # nothing to open
    assert f["dev_kvm_exists"] is False


def test_vmx_but_dev_kvm_unusable_says_qemu(tmp_path):
    root = tree(tmp_path)
    f = facts_for(root, kvm_probe=probe((False, False, "cannot open /dev/kvm: Permission denied")))
    assert f["virt_type"] == "qemu"
    assert "Permission denied" in f["reason"]
    assert f["dev_kvm_opened"] is False


def test_vmx_but_create_vm_fails_says_qemu(tmp_path):
    root = tree(tmp_path)
    f = facts_for(root, kvm_probe=probe((True, False, "KVM_CREATE_VM on /dev/kvm failed: Device or resource busy")))
    assert f["virt_type"] == "qemu"
    assert f["dev_kvm_usable"] is False
    assert "KVM_CREATE_VM" in f["reason"]


def test_vmx_without_vendor_module_says_qemu(tmp_path):
    root = tree(tmp_path, modules=("kvm",))
    f = facts_for(root)
    assert f["virt_type"] == "qemu"
    assert "neither kvm_intel nor kvm_amd" in f["reason"]


def test_aarch64_with_usable_dev_kvm_says_kvm(tmp_path):
    root = tree(tmp_path, cpuinfo=ARM64, modules=(), arch="aarch64")
    f = facts_for(root)
    assert f["virt_type"] == "kvm"
    assert f["cpu_mode"] == "host-passthrough"
    assert f["architecture"] == "aarch64"
    assert f["cpu_vendor"] == "0x41"
    assert f["vmx_svm_count"] == 0


def test_aarch64_without_dev_kvm_says_qemu(tmp_path):
    root = tree(tmp_path, cpuinfo=ARM64, modules=(), arch="aarch64", dev_kvm=False)
    assert facts_for(root)["virt_type"] == "qemu"


def test_nested_kvm_inside_a_tcg_vm_says_qemu(tmp_path):
    # a TCG guest started with -cpu max has vmx, kvm_intel and a working /dev/kvm
    root = tree(tmp_path)

    def run(argv):
        if argv[0] == "systemd-detect-virt":
            return 0, "qemu\n", ""
        return None, "", ""
    f = facts_for(root, run=run)
    assert f["virtualization"] == "qemu"
    assert f["virt_type"] == "qemu"
    assert "TCG" in f["reason"]


def test_kvm_accelerated_vm_with_nested_vmx_says_kvm(tmp_path):
    root = tree(tmp_path, nested="Y")

    def run(argv):
        if argv[0] == "systemd-detect-virt":
            return 0, "kvm\n", ""
        return 0, "<domainCapabilities>\n<domain>kvm</domain>", ""
    f = facts_for(root, run=run)
    assert (f["virt_type"], f["virtualization"], f["libvirt_kvm"]) == ("kvm", "kvm", True)


def test_libvirt_refusing_kvm_says_qemu(tmp_path):
    root = tree(tmp_path)

    def run(argv):
        if argv[0] == "systemd-detect-virt":
            return 1, "none\n", ""
        return 1, "", "error: invalid argument: KVM is not supported by '/usr/bin/qemu-system-x86_64' on this host"
    f = facts_for(root, run=run)
    assert f["libvirt_kvm"] is False
    assert f["virt_type"] == "qemu"
    assert "libvirt does not offer kvm" in f["reason"]


def test_libvirt_not_running_is_unknown_not_a_veto(tmp_path):
    root = tree(tmp_path)

    def run(argv):
        if argv[0] == "systemd-detect-virt":
            return 1, "none\n", ""
        return 1, "", "error: failed to connect to the hypervisor\nerror: Failed to connect socket"
    f = facts_for(root, run=run)
    assert f["libvirt_kvm"] is None
    assert "could not be asked" in f["libvirt_detail"]
    assert f["virt_type"] == "kvm"


def test_missing_commands_are_unknown(tmp_path):
    f = facts_for(tree(tmp_path), run=lambda argv: (None, "", ""))
    assert f["virtualization"] is None and f["libvirt_kvm"] is None
    assert f["libvirt_detail"] == "virsh is not installed"


def test_missing_cpuinfo_gives_qemu_with_reason_not_a_traceback(tmp_path):
    root = tree(tmp_path, cpuinfo=None)
    f = facts_for(root)
    assert f["virt_type"] == "qemu"
    assert f["vmx_svm_count"] is None
    assert "cannot read /proc/cpuinfo" in f["reason"]
    assert f["errors"]


def test_unreadable_cpuinfo_gives_qemu(tmp_path):
    root = tree(tmp_path, cpuinfo=None)
    os.mkdir(os.path.join(root, "proc/cpuinfo"))  # reading a directory fails even as root
    f = facts_for(root)
    assert f["virt_type"] == "qemu"
    assert "cannot read /proc/cpuinfo" in f["errors"][0]


def test_missing_sys_module_is_reported(tmp_path):
    root = tree(tmp_path)
    os.rename(os.path.join(root, "sys/module"), os.path.join(root, "sys/gone"))
    f = facts_for(root)
    assert f["kvm_modules"] == []
    assert any("/sys/module" in e for e in f["errors"])
    assert f["virt_type"] == "qemu"


def test_empty_root_is_qemu(tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    f = hw_accel.decide(hw_accel.gather_signals(root=str(root), machine="x86_64"))
    assert f["virt_type"] == "qemu"
    assert f["dev_kvm_exists"] is False


@pytest.mark.parametrize("override", ["kvm", "qemu"])
def test_override_wins_and_is_reported(tmp_path, override):
    root = tree(tmp_path, cpuinfo=AMD_NO_SVM, modules=("kvm", "kvm_pvm"))
    f = facts_for(root, override=override)
    assert f["virt_type"] == override
    assert f["overridden"] is True
    assert f["detected_virt_type"] == "qemu"
    assert "set by the operator" in f["reason"] and "kvm_pvm" in f["reason"]


def test_probe_on_a_regular_file_opens_but_creates_no_vm(tmp_path):
    fake = tmp_path / "kvm"
    fake.write_text("")
    opened, created, error = hw_accel.default_kvm_probe(str(fake))
    assert opened is True and created is False
    assert "KVM_GET_API_VERSION" in error


def test_probe_on_a_missing_device(tmp_path):
    opened, created, error = hw_accel.default_kvm_probe(str(tmp_path / "nope"))
    assert (opened, created) == (False, False)
    assert "cannot open" in error


def test_parse_cpuinfo_counts_like_egrep_c():
    vendor, count, flags = hw_accel.parse_cpuinfo(INTEL_VMX + AMD_NO_SVM)
    assert vendor == "GenuineIntel"
    assert count == 4
    assert "vmx" in flags
