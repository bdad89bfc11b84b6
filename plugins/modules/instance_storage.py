#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: instance_storage
short_description: Make the filesystem for Nova's instances on a device of its own, never over data
version_added: 0.1.0
description:
  - The first half of the install guides' step that gives C(/var/lib/nova/instances) a disk of its own. It
    checks that O(device) can hold Nova's instances and makes an O(fstype) filesystem on it when it has none.
    Mounting it (a systemd mount unit, by UUID) is the compute role's next task.
  - A device that already holds an O(fstype) filesystem is kept as it is, with its data (a re-run, or a disk
    moved from another compute host).
  - A device that holds nothing at all (no filesystem, RAID, LVM or partition table signature, no partitions,
    and its first and last MiB all zeros) gets an O(fstype) filesystem.
  - Anything else is refused, before any change, with an error that names the device and what it holds, namely
    another filesystem or signature, a partition table or partitions (name the partition), data without a
    signature, a device mounted somewhere other than O(path), or used by another device (LVM, RAID,
    dm-crypt). The module never reformats, wipes or partitions.
author:
  - osdeploy.nova developers (@osdeploy)
options:
  device:
    description:
      - The block device, e.g. C(/dev/vdb) or a stable C(/dev/disk/by-id/...) name (symlinks are followed).
    type: path
    required: true
  fstype:
    description: The filesystem to make, or to accept when the device already holds one.
    type: str
    choices: [ext4, xfs]
    default: ext4
  path:
    description:
      - Where the filesystem is to be mounted (Nova's C([DEFAULT] instances_path)). A device mounted there
        already is accepted; mounted anywhere else, it is refused.
    type: path
    default: /var/lib/nova/instances
attributes:
  check_mode:
    support: full
    description: Reports whether a filesystem would be made; makes none.
  diff_mode:
    support: full
    description: The device's filesystem type before and after.
notes:
  - Needs C(blkid) (util-linux) and C(mkfs.ext4) (e2fsprogs) or C(mkfs.xfs) (xfsprogs) on the host.
  - Where udev runs, a new filesystem is announced to it (C(udevadm trigger --settle)) before RV(mount_source)
    is chosen, so that the run that makes it and every later run name the same C(/dev/disk/by-uuid) link.
seealso:
  - name: The compute role's instance storage
    description: C(nova_instances_device) mounts the result at the instances path before nova-compute starts.
    link: https://docs.openstack.org/nova/latest/configuration/config.html#DEFAULT.instances_path
"""

EXAMPLES = r"""
- name: Make the instances filesystem on the second disk
  osdeploy.nova.instance_storage:
    device: /dev/vdb
  register: instances_fs

- name: The same with xfs and a stable device name
  osdeploy.nova.instance_storage:
    device: /dev/disk/by-id/virtio-instances
    fstype: xfs
"""

RETURN = r"""
device:
  description: The block device, symlinks resolved.
  returned: always
  type: str
  sample: /dev/vdb
uuid:
  description: The filesystem's UUID (what a mount unit or fstab should name). None in check mode before it exists.
  returned: always
  type: str
  sample: 3f1c2a7e-5d0b-4a57-9a7e-0f4f1b2c3d4e
mount_source:
  description:
    - What a mount unit or fstab should name, C(/dev/disk/by-uuid/UUID) where udev made that link (device names
      may change between boots), else the device as given (hosts without udev, such as containers).
    - Before the filesystem exists (check mode), the device as given.
  returned: always
  type: str
  sample: /dev/disk/by-uuid/3f1c2a7e-5d0b-4a57-9a7e-0f4f1b2c3d4e
fstype:
  description: The filesystem type on the device.
  returned: always
  type: str
  sample: ext4
created:
  description: Whether this run made the filesystem (or would, in check mode).
  returned: always
  type: bool
mounted_at:
  description: Where the device is mounted now (empty when it is not).
  returned: always
  type: list
  elements: str
  sample: [/var/lib/nova/instances]
"""

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils.instance_storage import InstanceStorageModule


class InstanceStorage(InstanceStorageModule):
    """The filesystem step with its options: the steps are module_utils/instance_storage.py's."""

    argument_spec = dict(
        device=dict(type="path", required=True),
        fstype=dict(type="str", choices=["ext4", "xfs"], default="ext4"),
        path=dict(type="path", default="/var/lib/nova/instances"),
    )
    module_kwargs = dict(supports_check_mode=True)


def main():
    base.main(InstanceStorage)


if __name__ == "__main__":
    main()
