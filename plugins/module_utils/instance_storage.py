# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The instance_storage module's logic: what a device holds, and whether a filesystem is made on it.

``read_usage`` and ``is_empty`` read the device (where it is mounted, what
uses it, its partitions, whether its ends are zeros), ``parse_blkid`` reads
blkid's answer, and ``plan`` decides from all of it: use the filesystem that is
there, make one on an empty device, or refuse (ValueError, with what the device
holds and the fix). After mkfs, ``wait_for_udev`` and ``mount_source`` name the
filesystem as every later run will. ``InstanceStorageModule``, the module's
steps, runs blkid and mkfs; the module file is that class with its options.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.osdeploy.nova.plugins.module_utils.base import OsdeployModule

# How much of each end of the device must be zeros for a device without a signature to count as empty.
PROBE_BYTES = 1024 * 1024
# systemd-udevd's control socket: there only where udev runs (not in a container), and makes /dev/disk links.
UDEV_CONTROL = "/run/udev/control"


def device_problem(given, device):
    """Why device (given, symlinks resolved) cannot be used at all, None when it is a block device."""
    if not os.path.exists(device):
        return "device: %s does not exist on this host: name its block device (lsblk lists them)" % given
    if not stat.S_ISBLK(os.stat(device).st_mode):
        return "device: %s is not a block device: name a disk or partition (lsblk lists them)" % given
    return None


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


def read_usage(device):
    """(mount points, holders, partitions) of the block device: who uses it, from the kernel."""
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


def is_empty(device):
    """Whether the device's first and last PROBE_BYTES are all zeros."""
    with open(device, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        for offset in sorted(set([0, max(0, size - PROBE_BYTES)])):
            f.seek(offset)
            if f.read(PROBE_BYTES).strip(b"\0"):
                return False
    return True


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


class InstanceStorageModule(OsdeployModule):
    """Probes the device, plans, runs mkfs where the plan says (the options: the instance_storage module's)."""

    def command(self, argv, allowed=(0,)):
        rc, out, _err = self.run_command(argv, allowed=allowed, missing="%s is not installed on this host (needed "
                                         "to inspect or format %s)" % (argv[0], self.params["device"]))
        return rc, out

    def probe(self, device):
        # -p: read the device itself, not blkid's cache; rc 2: nothing found
        rc, out = self.command(["blkid", "-p", "-o", "export", device], allowed=(0, 2))
        return parse_blkid(out) if rc == 0 else {}

    def run(self):
        p = self.params
        given = p["device"]
        device = os.path.realpath(given)
        problem = device_problem(given, device)
        if problem:
            self.fail(problem)
        probe = self.probe(device)
        mounted, holders, partitions = read_usage(device)
        empty = None if probe else is_empty(device)
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
                wait_for_udev(lambda argv: self.run_command(argv, allowed=None), self.module.get_bin_path("udevadm"),
                              device)
        self.result["mount_source"] = mount_source(given, self.result["uuid"])
        return self.result
