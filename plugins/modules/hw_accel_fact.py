#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hw_accel_fact
short_description: Decide with evidence whether a compute host can run KVM guests
version_added: 0.1.0
description:
  - Reads every signal that bears on hardware acceleration separately and decides which
    C([libvirt] virt_type) Nova should use on this host, C(kvm) or C(qemu), with a suggested
    C(cpu_mode) and one sentence that explains the decision.
  - The signals are the CPU architecture and vendor, the number of CPUs with the C(vmx) or
    C(svm) flag, the KVM kernel modules that are loaded (C(kvm_intel), C(kvm_amd), C(kvm_pvm),
    ...), the nested parameter, whether C(/dev/kvm) exists, can be opened and creates a VM
    (C(KVM_CREATE_VM) ioctl), whether the host itself is an emulated VM (C(systemd-detect-virt)),
    and, where libvirt runs, whether its domain capabilities offer C(kvm).
  - It says C(kvm) only when all of them agree. A para-virtualized C(kvm_pvm) C(/dev/kvm), which
    answers the ioctls but cannot boot unmodified guests, gives C(qemu); so does a CPU with
    C(vmx) whose C(/dev/kvm) is missing or unusable, and nested KVM inside a TCG-emulated VM.
  - A pure read. It changes nothing on the host.
author:
  - osdeploy.nova developers (@osdeploy)
options:
  virt_type:
    description:
      - Operator override. When set, it is returned as the decision, with C(overridden=true)
        and a reason that also says what detection alone would have chosen.
    type: str
    choices: [kvm, qemu]
  root:
    description:
      - Prefix under which C(/proc), C(/sys) and C(/dev) are read. For tests with fixture trees.
      - When it is not C(/), host commands (C(systemd-detect-virt), C(virsh)) are not run,
        since they would describe the real host.
    type: path
    default: /
attributes:
  check_mode:
    support: full
    description: The module only reads, so check mode runs it unchanged.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to diff.
  facts:
    support: full
    description: Sets C(ansible_facts.hw_accel).
notes:
  - Run it with privileges (C(become)) so that C(/dev/kvm) can be opened as libvirt's qemu would.
seealso:
  - name: Nova libvirt virt_type
    description: Nova's configuration reference for the libvirt driver.
    link: https://docs.openstack.org/nova/latest/configuration/config.html#libvirt.virt_type
"""

EXAMPLES = r"""
- name: Decide the virt_type of each compute host
  osdeploy.nova.hw_accel_fact:

- name: Show why
  ansible.builtin.debug:
    msg: "{{ ansible_facts.hw_accel.virt_type }}: {{ ansible_facts.hw_accel.reason }}"

- name: Force qemu (TCG) on a host, still reporting what detection says
  osdeploy.nova.hw_accel_fact:
    virt_type: qemu
"""

RETURN = r"""
virt_type:
  description: The virt_type Nova should use, C(kvm) or C(qemu) (the override when one is given).
  returned: always
  type: str
  sample: qemu
reason:
  description: One sentence that explains the decision.
  returned: always
  type: str
  sample: "qemu: /dev/kvm is provided by kvm_pvm, a para-virtualized KVM that boots only PVM-aware guest kernels, not the unmodified images Nova runs"
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    hw_accel:
      description: The decision and every signal it was made from.
      returned: always
      type: dict
      contains:
        virt_type:
          description: The virt_type to use.
          type: str
          sample: kvm
        detected_virt_type:
          description: What detection alone decided, regardless of an override.
          type: str
          sample: kvm
        cpu_mode:
          description: Suggested C([libvirt] cpu_mode) for that virt_type.
          type: str
          sample: host-model
        reason:
          description: One sentence that explains the decision.
          type: str
        overridden:
          description: Whether the operator's C(virt_type) decided.
          type: bool
        architecture:
          description: CPU architecture.
          type: str
          sample: x86_64
        cpu_vendor:
          description: CPU vendor from C(/proc/cpuinfo), null when unreadable.
          type: str
          sample: GenuineIntel
        vmx_svm_count:
          description: Number of CPUs whose flags carry C(vmx) or C(svm) (what C(egrep -c '(vmx|svm)') counts), null when unreadable.
          type: int
        hypervisor_flag:
          description: Whether the CPU flags say the host is itself a virtual machine.
          type: bool
        kvm_modules:
          description: KVM kernel modules present in C(/sys/module).
          type: list
          elements: str
          sample: [kvm, kvm_intel]
        nested:
          description: The C(nested) parameter of kvm_intel or kvm_amd, null when neither is loaded.
          type: bool
        dev_kvm_exists:
          description: Whether C(/dev/kvm) exists.
          type: bool
        dev_kvm_opened:
          description: Whether C(/dev/kvm) could be opened read-write.
          type: bool
        dev_kvm_vm_created:
          description: Whether C(KVM_CREATE_VM) succeeded on C(/dev/kvm).
          type: bool
        dev_kvm_usable:
          description: Opened and created a VM.
          type: bool
        dev_kvm_error:
          description: Why C(/dev/kvm) is not usable, null when it is or does not exist.
          type: str
        virtualization:
          description: What C(systemd-detect-virt --vm) says the host runs on (C(none) on bare metal, C(qemu) under emulation), null when not asked.
          type: str
        libvirt_kvm:
          description: Whether libvirt's domain capabilities offer kvm; null when libvirt could not be asked.
          type: bool
        libvirt_detail:
          description: What libvirt answered, in short.
          type: str
        errors:
          description: Signals that could not be read.
          type: list
          elements: str
"""

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils.hw_accel import decide, gather_signals


class HwAccelFact(base.OsdeployModule):
    argument_spec = dict(
        virt_type=dict(type="str", choices=["kvm", "qemu"]),
        root=dict(type="path", default="/"),
    )
    module_kwargs = dict(supports_check_mode=True)

    def command(self, argv):
        """(rc, out, err) of argv, whatever its exit code; rc None when the command is not installed."""
        if self.module.get_bin_path(argv[0]) is None:
            return None, "", ""
        return self.run_command(argv, allowed=None)

    def run(self):
        root = self.params["root"]
        signals = gather_signals(root=root, run=self.command if root == "/" else None)
        facts = decide(signals, override=self.params["virt_type"])
        return dict(changed=False, virt_type=facts["virt_type"], reason=facts["reason"],
                    ansible_facts={"hw_accel": facts})


def main():
    base.main(HwAccelFact)


if __name__ == "__main__":
    main()
