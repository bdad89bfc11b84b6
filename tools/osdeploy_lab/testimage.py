"""The guest test image: a tiny bootable disk that proves a Nova server's network.

    tools/test-image [--rebuild]    print the path of the image (disk.qcow2), building it
                                    when its cache entry is missing
    tools/test-image --key          print the cache key only (no build)

A Debian kernel and a busybox initramfs on a FAT disk booted by SYSLINUX
(tools/test-image.d/build-image says why), from Debian 12's packages fetched with
apt-get download. At boot the guest prints MARKERS on its serial console and
tty0: that it booted, the address DHCP gave it, and the uuid and name it read
from the metadata service; then it stays up answering ping. Upload it with
`openstack image create --disk-format qcow2 --container-format bare --file PATH`.

Cached in $OSDEPLOY_CACHE (default ~/.cache/osdeploy-nova)/test-image/<key>/image/,
key = sha256 of the build inputs in tools/test-image.d and the exact versions of the
packages that end up in the image, as this machine's apt sees them now: a new
kernel in the archive (after apt-get update) or an edited script builds a new
image. Deleting the cache is always safe. Runs with the system's python3
(standard library only) and needs no root, only apt's package lists and the
Debian packages syslinux, mtools, dosfstools, cpio, xz-utils, qemu-utils.
"""

import argparse
import contextlib
import hashlib
import os
import re
import subprocess
import sys

from .common import TOOLS, LabError, cached_build, log

INPUTS_DIR = os.path.join(TOOLS, "test-image.d")
# Every file of tools/test-image.d that decides what the image contains.
INPUTS = ("build-image", "init", "udhcpc.script", "say")
# Debian's cloud kernel: the generic one's drivers for real hardware only slow
# an emulated boot down; both have virtio as modules. The metapackage names no
# version; the key uses the exact package it depends on.
KERNEL_METAPACKAGE = "linux-image-cloud-amd64"
BUSYBOX = "busybox-static"          # static: the initramfs needs no C library
# Installed on this machine; their bootloader files are copied into the image.
BOOTLOADER_PACKAGES = ("syslinux", "syslinux-common")

# The lines the guest prints (with /bin/say: tools/test-image.d/say); a check
# greps for them (the guest's /init and udhcpc.script print the same text).
MARKER_PREFIX = "osdeploy-test-image: "
MARKERS = {
    "boot": re.compile(r"^osdeploy-test-image: boot\s*$", re.M),
    "dhcp": re.compile(r"^osdeploy-test-image: dhcp ok ip=(?P<ip>[0-9.]+) iface=(?P<iface>\S+)\s*$", re.M),
    "metadata": re.compile(r"^osdeploy-test-image: metadata ok uuid=(?P<uuid>\S+) name=(?P<name>.*?)\s*$", re.M),
    "dhcp_failed": re.compile(r"^osdeploy-test-image: dhcp failed.*$", re.M),
    "metadata_failed": re.compile(r"^osdeploy-test-image: metadata failed.*$", re.M),
}


class ImageError(LabError):
    pass


def apt_versions(*packages):
    """{package: its candidate version's fields} from this machine's apt lists (one
    apt-cache call: each costs about a second)."""
    proc = subprocess.run(["apt-cache", "show", "--no-all-versions"] + list(packages),
                          capture_output=True, text=True, check=False)
    records = {}
    for paragraph in proc.stdout.split("\n\n"):
        fields = dict(re.findall(r"^([A-Za-z-]+): ?(.*)$", paragraph, re.M))
        if "Package" in fields and "Version" in fields:
            records[fields["Package"]] = fields
    missing = [p for p in packages if p not in records]
    if proc.returncode != 0 or missing:
        raise ImageError("apt knows no package %s (%s); run apt-get update (tools/install-deps does)"
                         % (", ".join(missing), proc.stderr.strip()))
    return records


def installed_versions(*packages):
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Package}=${Version}\n"] + list(packages),
                          capture_output=True, text=True, check=False)
    found = [line for line in proc.stdout.splitlines() if not line.endswith("=")]
    if proc.returncode != 0 or len(found) != len(packages):
        raise ImageError("not installed: %s; run tools/install-deps" % " ".join(packages))
    return found


def resolve_packages():
    """(kernel, busybox) as 'name=version' for apt-get download, plus the
    bootloader's installed versions: everything from outside this directory
    that lands in the image."""
    records = apt_versions(KERNEL_METAPACKAGE, BUSYBOX)
    depends = records[KERNEL_METAPACKAGE].get("Depends", "")
    match = re.search(r"(linux-image-[^\s,]+)", depends)
    if not match:
        raise ImageError("%s depends on no kernel image: %r" % (KERNEL_METAPACKAGE, depends))
    kernel = match.group(1)
    packages = ["%s=%s" % (kernel, apt_versions(kernel)[kernel]["Version"]),
                "%s=%s" % (BUSYBOX, records[BUSYBOX]["Version"])]
    return packages, installed_versions(*BOOTLOADER_PACKAGES)


def image_key(packages, bootloader, inputs_dir=INPUTS_DIR):
    h = hashlib.sha256()
    for name in INPUTS:
        with open(os.path.join(inputs_dir, name), "rb") as f:
            h.update(name.encode() + b"\0" + f.read() + b"\0")
    for line in list(packages) + list(bootloader):
        h.update(line.encode() + b"\0")
    return h.hexdigest()[:16]


def ensure_image(rebuild=False):
    """Return the path of the cached disk.qcow2, building it when missing."""
    packages, bootloader = resolve_packages()
    key = image_key(packages, bootloader)

    def build(tmp, logf, lockf):
        log("building the test image %s (%s; log in %s)..." % (key, ", ".join(packages), logf.name))
        return subprocess.run([os.path.join(INPUTS_DIR, "build-image"), os.path.join(tmp, "image")] + packages,
                              stdout=logf, stderr=subprocess.STDOUT, check=False,
                              pass_fds=(lockf.fileno(),))

    return os.path.join(cached_build("test-image", key, build, rebuild), "image", "disk.qcow2")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tools/test-image", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rebuild", action="store_true", help="build again even when cached")
    parser.add_argument("--key", action="store_true", help="print the cache key only")
    args = parser.parse_args(argv)
    try:
        if args.key:
            print(image_key(*resolve_packages()))
            return 0
        # stdout carries only the path, so that callers can take it as is.
        with contextlib.redirect_stdout(sys.stderr):
            path = ensure_image(args.rebuild)
    except LabError as e:
        print("test-image: %s" % e, file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
