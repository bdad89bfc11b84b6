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
version_added: 0.3.0
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

import os
import stat

from ansible_collections.osdeploy.nova.plugins.module_utils import base

# How much of each end of the device must be zeros for a device without a signature to count as empty.
PROBE_BYTES = 1024 * 1024
# systemd-udevd's control socket: there only where udev runs (not in a container), and makes /dev/disk links.
UDEV_CONTROL = "/run/udev/control"


def parse_blkid(text):
    """blkid -p -o export output -> dict (TYPE, UUID, PTTYPE, USAGE, ...)."""
    found = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            found[key.strip()] = value.strip()
    return found


def mount_points(mountinfo, rdev_major, rdev_minor):
    """Where the device major:minor is mounted, from /proc/self/mountinfo's text."""
    want = "%d:%d" % (rdev_major, rdev_minor)
    points = []
    for line in (mountinfo or "").splitlines():
        fields = line.split()
        if len(fields) > 4 and fields[2] == want:
            # octal escapes (\040 for a space) as the kernel writes them
            points.append(fields[4].encode("ascii", "replace").decode("unicode_escape"))
    return points


def mount_source(given, uuid, exists=os.path.exists):
    """The by-uuid link where udev made one, else the device as given."""
    if uuid:
        link = "/dev/disk/by-uuid/%s" % uuid
        if exists(link):
            return link
    return given


def wait_for_udev(run_command, udevadm, device):
    """After mkfs: make udev see the new filesystem now, and wait until it has (its by-uuid link made).

    udev learns of it from an event of its own when mkfs closes the device, which may come after this
    run has looked for the link: the run that formats would name the device as given and the next run
    the link, and rewrite what names it. Returns the commands run.
    """
    if not udevadm:
        return []
    done = [[udevadm, "trigger", "--action=change", "--settle", device]]
    if run_command(done[0])[0] != 0:
        # a udevadm older than trigger --settle (systemd 238): wait for its whole queue instead
        done.append([udevadm, "settle", "--timeout=60"])
        run_command(done[1])
    return done


def plan(device, fstype, path, probe, mounted, holders, partitions, empty):
    """('use' | 'make', reason) for the device, or raises ValueError with what it holds and the fix.

    probe: parse_blkid's dict; mounted: mount points; holders, partitions: device names;
    empty: whether the first and last MiB are zeros (None when not read).
    """
    others = [m for m in mounted if os.path.normpath(m) != os.path.normpath(path)]
    if others:
        raise ValueError("device %s is mounted at %s: unmount it, or name another device" % (
            device, ", ".join(others)))
    if holders:
        raise ValueError("device %s is in use by %s (LVM, RAID or dm-crypt): name a device nothing else uses" % (
            device, ", ".join(holders)))
    if partitions:
        raise ValueError("device %s has partitions (%s): name the partition to use, e.g. /dev/%s" % (
            device, ", ".join(partitions), partitions[0]))
    if probe.get("PTTYPE"):
        raise ValueError("device %s holds a %s partition table: name a partition, or remove the table "
                         "yourself (wipefs) if nothing on it is needed" % (device, probe["PTTYPE"]))
    found = probe.get("TYPE")
    if found == fstype:
        return "use", "device %s already holds an %s filesystem (UUID %s): kept with its data" % (
            device, fstype, probe.get("UUID"))
    if found:
        usage = probe.get("USAGE", "filesystem")
        what = "%s %s" % (found, "filesystem" if usage == "filesystem" else "signature (%s)" % usage)
        hint = "; or set fstype: %s to use it as it is" % found if found in ("ext4", "xfs") else ""
        raise ValueError("device %s holds a %s, not %s: it is never reformatted; wipe it yourself (wipefs -a) "
                         "if its data can go%s" % (device, what, fstype, hint))
    if not empty:
        raise ValueError("device %s holds data without a known signature (its first or last MiB is not zeros): "
                         "it is never overwritten; clear it yourself if its data can go" % device)
    return "make", "device %s is empty: an %s filesystem is made on it" % (device, fstype)


class InstanceStorage(base.OsdeployModule):
    argument_spec = dict(
        device=dict(type="path", required=True),
        fstype=dict(type="str", choices=["ext4", "xfs"], default="ext4"),
        path=dict(type="path", default="/var/lib/nova/instances"),
    )
    module_kwargs = dict(supports_check_mode=True)

    def command(self, argv, allowed=(0,)):
        path = self.module.get_bin_path(argv[0])
        if path is None:
            self.fail("%s is not installed on this host (needed to inspect or format %s)" % (
                argv[0], self.params["device"]))
        rc, out, err = self.module.run_command([path] + argv[1:])
        if rc not in allowed:
            self.fail("%s failed (rc %s): %s" % (" ".join(argv), rc, (err or out).strip()))
        return rc, out

    def probe(self, device):
        # -p: read the device itself, not blkid's cache; rc 2: nothing found
        rc, out = self.command(["blkid", "-p", "-o", "export", device], allowed=(0, 2))
        return parse_blkid(out) if rc == 0 else {}

    def read(self, device):
        st = os.stat(device)
        major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
        with open("/proc/self/mountinfo") as f:
            mounted = mount_points(f.read(), major, minor)
        sysdir = "/sys/dev/block/%d:%d" % (major, minor)
        holders = sorted(os.listdir(os.path.join(sysdir, "holders"))) if os.path.isdir(
            os.path.join(sysdir, "holders")) else []
        partitions = sorted(name for name in (os.listdir(sysdir) if os.path.isdir(sysdir) else [])
                            if os.path.isfile(os.path.join(sysdir, name, "partition")))
        return mounted, holders, partitions

    def is_empty(self, device):
        with open(device, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            for offset in sorted(set([0, max(0, size - PROBE_BYTES)])):
                f.seek(offset)
                if f.read(PROBE_BYTES).strip(b"\0"):
                    return False
        return True

    def run(self):
        p = self.params
        given = p["device"]
        device = os.path.realpath(given)
        if not os.path.exists(device):
            self.fail("device: %s does not exist on this host: name its block device (lsblk lists them)" % given)
        if not stat.S_ISBLK(os.stat(device).st_mode):
            self.fail("device: %s is not a block device: name a disk or partition (lsblk lists them)" % given)
        probe = self.probe(device)
        mounted, holders, partitions = self.read(device)
        empty = None if probe else self.is_empty(device)
        try:
            action, reason = plan(device, p["fstype"], p["path"], probe, mounted, holders, partitions, empty)
        except ValueError as e:
            self.fail("device: %s" % e)
        self.result = dict(changed=action == "make", device=device, fstype=p["fstype"], created=action == "make",
                           uuid=probe.get("UUID"), mounted_at=mounted, msg=reason)
        if self.module._diff:
            self.result["diff"] = dict(before={"device": device, "fstype": probe.get("TYPE")},
                                       after={"device": device, "fstype": p["fstype"]})
        if action == "make" and not self.check_mode:
            self.command(["mkfs.%s" % p["fstype"], "-q", device])
            made = self.probe(device)
            if made.get("TYPE") != p["fstype"]:
                self.fail("device: mkfs.%s ran on %s but blkid finds %s there" % (
                    p["fstype"], device, made.get("TYPE") or "no filesystem"))
            self.result["uuid"] = made.get("UUID")
            if os.path.exists(UDEV_CONTROL):
                wait_for_udev(self.module.run_command, self.module.get_bin_path("udevadm"), device)
        self.result["mount_source"] = mount_source(given, self.result["uuid"])
        return self.result


def main():
    base.main(InstanceStorage)


if __name__ == "__main__":
    main()
