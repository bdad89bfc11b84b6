# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Can this host run KVM guests? Signals and the decision, as plain functions.

``gather_signals`` reads every signal separately from a root (``/`` on a real
host, a fixture tree in the unit tests); ``decide`` turns the signals into a
virt_type, a suggested cpu_mode and one sentence a person can read. Nothing
here changes the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import platform

# ioctl numbers from linux/kvm.h: _IO(KVMIO=0xAE, nr)
KVM_GET_API_VERSION = 0xAE00
KVM_CREATE_VM = 0xAE01
KVM_API_VERSION = 12

# kernel modules that provide /dev/kvm, and what each one means
HARDWARE_KVM_MODULES = ("kvm_intel", "kvm_amd", "kvm_hv", "kvm_arm")
KNOWN_KVM_MODULES = ("kvm",) + HARDWARE_KVM_MODULES + ("kvm_pvm", "kvm_pr", "kvm_s390")
X86 = ("x86_64", "i386", "i486", "i586", "i686", "amd64")


def _read(root, path):
    """Return the text of root/path, or raise EnvironmentError."""
    with open(os.path.join(root, path.lstrip("/")), "r") as f:
        return f.read()


def parse_cpuinfo(text):
    """Return (vendor, number of CPUs whose flags carry vmx or svm, flags of the first CPU)."""
    vendor = None
    count = 0
    first_flags = None
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip()
        value = value.strip()
        if key in ("vendor_id", "CPU implementer", "vendor") and vendor is None:
            vendor = value
        elif key in ("flags", "Features", "features"):
            flags = value.split()
            if first_flags is None:
                first_flags = flags
            if "vmx" in flags or "svm" in flags:
                count += 1
    return vendor, count, first_flags or []


def _nested(root, modules):
    for mod in ("kvm_intel", "kvm_amd"):
        if mod not in modules:
            continue
        try:
            value = _read(root, "/sys/module/%s/parameters/nested" % mod).strip()
        except EnvironmentError:
            return None
        return value in ("Y", "y", "1")
    return None


def default_kvm_probe(path):
    """Open /dev/kvm and ask it for its API version and for a new VM.

    Returns (opened, vm_created, error). Everything opened is closed again.
    """
    import fcntl  # only on the host; the unit tests replace the whole probe

    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        return False, False, "cannot open %s: %s" % (path, os.strerror(e.errno))
    try:
        try:
            version = fcntl.ioctl(fd, KVM_GET_API_VERSION, 0)
        except (OSError, IOError) as e:
            return True, False, "%s does not answer KVM_GET_API_VERSION: %s" % (path, os.strerror(e.errno or errno.ENOTTY))
        if version != KVM_API_VERSION:
            return True, False, "%s reports KVM API version %s, expected %s" % (path, version, KVM_API_VERSION)
        try:
            vm_fd = fcntl.ioctl(fd, KVM_CREATE_VM, 0)
        except (OSError, IOError) as e:
            return True, False, "KVM_CREATE_VM on %s failed: %s" % (path, os.strerror(e.errno or errno.EINVAL))
        os.close(vm_fd)
        return True, True, None
    finally:
        os.close(fd)


def gather_signals(root="/", machine=None, kvm_probe=default_kvm_probe, run=None):
    """Read every signal. ``run(argv) -> (rc, stdout, stderr)`` runs host commands.

    Commands (systemd-detect-virt, virsh) describe the real host, so they are only
    consulted when ``run`` is given, which the module does only for root ``/``.
    """
    s = {"errors": []}
    if machine is None:
        try:
            machine = _read(root, "/proc/sys/kernel/arch").strip()
        except EnvironmentError:
            machine = platform.machine() if root == "/" else None
    s["architecture"] = machine

    try:
        vendor, count, flags = parse_cpuinfo(_read(root, "/proc/cpuinfo"))
        s["cpu_vendor"] = vendor
        s["vmx_svm_count"] = count
        s["hypervisor_flag"] = "hypervisor" in flags
    except EnvironmentError as e:
        s["cpu_vendor"] = None
        s["vmx_svm_count"] = None
        s["hypervisor_flag"] = None
        s["errors"].append("cannot read /proc/cpuinfo: %s" % (e.strerror or e))

    try:
        present = set(os.listdir(os.path.join(root, "sys/module")))
        s["kvm_modules"] = [m for m in KNOWN_KVM_MODULES if m in present]
    except EnvironmentError as e:
        s["kvm_modules"] = []
        s["errors"].append("cannot list /sys/module: %s" % (e.strerror or e))
    s["nested"] = _nested(root, s["kvm_modules"])

    dev = os.path.join(root, "dev/kvm")
    s["dev_kvm_exists"] = os.path.exists(dev)
    s["dev_kvm_opened"] = False
    s["dev_kvm_vm_created"] = False
    s["dev_kvm_error"] = None
    if s["dev_kvm_exists"]:
        opened, created, error = kvm_probe(dev)
        s["dev_kvm_opened"], s["dev_kvm_vm_created"], s["dev_kvm_error"] = opened, created, error
    s["dev_kvm_usable"] = bool(s["dev_kvm_opened"] and s["dev_kvm_vm_created"])

    s["virtualization"] = None
    s["libvirt_kvm"] = None
    s["libvirt_detail"] = None
    if run is not None:
        rc, out, dummy = run(["systemd-detect-virt", "--vm"])
        if rc is not None:
            # prints "none" with rc 1 on bare metal
            s["virtualization"] = out.strip() or None
        s["libvirt_kvm"], s["libvirt_detail"] = libvirt_offers_kvm(run)
    return s


def libvirt_offers_kvm(run):
    """Ask libvirt for the kvm domain capabilities: True, False or None (cannot tell)."""
    rc, out, err = run(["virsh", "--connect", "qemu:///system", "--readonly",
                        "domcapabilities", "--virttype", "kvm"])
    if rc is None:
        return None, "virsh is not installed"
    if rc == 0 and "<domainCapabilities" in out:
        return True, "libvirt offers domain type kvm"
    text = " ".join((err or out).split())
    if "not supported" in text or "KVM is not" in text:
        return False, "libvirt does not offer kvm: %s" % text[:200]
    return None, "libvirt could not be asked: %s" % (text[:200] or "rc %s" % rc)


def suggested_cpu_mode(virt_type, architecture):
    if virt_type == "kvm":
        # host-model keeps live migration possible between unlike x86 hosts;
        # libvirt has no host-model for most other architectures
        return "host-model" if architecture in X86 else "host-passthrough"
    # under TCG, host-model/host-passthrough describe a CPU that is not there
    return "none"


def _kvm_verdict(s):
    """Return (can_run_kvm, sentence) from the signals alone."""
    arch = s.get("architecture")
    mods = s.get("kvm_modules") or []
    hw_mods = [m for m in mods if m in HARDWARE_KVM_MODULES]
    if not s.get("dev_kvm_exists"):
        if s.get("vmx_svm_count"):
            return False, ("the CPU has vmx/svm but /dev/kvm does not exist "
                           "(KVM module not loaded, or disabled in firmware)")
        return False, "/dev/kvm does not exist"
    if not s.get("dev_kvm_usable"):
        return False, "/dev/kvm exists but is not usable: %s" % (s.get("dev_kvm_error") or "unknown error")
    if "kvm_pvm" in mods and not hw_mods:
        return False, ("/dev/kvm is provided by kvm_pvm, a para-virtualized KVM that boots only "
                       "PVM-aware guest kernels, not the unmodified images Nova runs")
    if arch in X86 or arch is None:
        count = s.get("vmx_svm_count")
        if count is None:
            return False, "cannot tell whether the CPU has vmx/svm (%s)" % "; ".join(s.get("errors") or ["cpuinfo unreadable"])
        if count == 0:
            return False, ("/dev/kvm answers, but the CPU has no vmx/svm flag, so no hardware "
                           "virtualization backs it (modules: %s)" % (", ".join(mods) or "none"))
        if not hw_mods:
            return False, ("the CPU has vmx/svm but neither kvm_intel nor kvm_amd is loaded "
                           "(modules: %s)" % (", ".join(mods) or "none"))
    if s.get("virtualization") == "qemu":
        return False, ("this host is itself a VM under QEMU emulation (TCG): nested KVM there is "
                       "emulated and slower than plain qemu")
    if s.get("libvirt_kvm") is False:
        return False, s.get("libvirt_detail") or "libvirt does not offer kvm"
    what = ", ".join(hw_mods) if hw_mods else "built-in KVM"
    if arch in X86:
        return True, "%d CPUs have vmx/svm, %s is loaded and /dev/kvm created a VM" % (s["vmx_svm_count"], what)
    return True, "%s host with %s: /dev/kvm created a VM" % (arch, what)


def decide(signals, override=None):
    """Return the facts: every signal plus virt_type, cpu_mode, reason, overridden."""
    can_kvm, why = _kvm_verdict(signals)
    detected = "kvm" if can_kvm else "qemu"
    facts = dict(signals)
    facts["detected_virt_type"] = detected
    if override:
        facts["virt_type"] = override
        facts["overridden"] = True
        facts["reason"] = "virt_type %s set by the operator; detection alone would say %s because %s" % (
            override, detected, why)
    else:
        facts["virt_type"] = detected
        facts["overridden"] = False
        facts["reason"] = "%s: %s" % (detected, why)
    facts["cpu_mode"] = suggested_cpu_mode(facts["virt_type"], signals.get("architecture"))
    return facts
