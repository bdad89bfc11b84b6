"""The guest test image: a tiny bootable disk that proves a Nova server's network.

    tools/test-image [--rebuild]    print the path of the image (disk.qcow2), building it
                                    when its cache entry is missing
    tools/test-image --key          print the cache key only (no build)

A Debian kernel and a busybox initramfs on a FAT disk booted by SYSLINUX
(tools/test-image.d/build-image says why), from Debian 12's packages fetched with
apt-get download, plus Debian's dropbear SSH server with the shared libraries it
needs. At boot the guest prints MARKERS on its serial console and tty0: that it
booted, the address DHCP gave each of its NICs (only the first NIC's lease sets
the default route and option 121's routes), the uuid and name it read from the
metadata service, the hostname it took from there (as cloud-init does), and that
it serves SSH on port 22 to root with the public key the server was booted with
(Nova's keypair, from the metadata; no password logins), as a cloud image does. Then it stays up answering ping and SSH:

    ssh root@ADDRESS 'cat /run/osdeploy/uuid; ip -4 -o addr; ping -c1 ...'

(busybox's applets are on the PATH of a remote command; /run/osdeploy/uuid and
/run/osdeploy/name hold what the metadata said). Upload it with
`openstack image create --disk-format qcow2 --container-format bare --file PATH`.

Cached in $OSDEPLOY_CACHE (default ~/.cache/osdeploy-nova)/test-image/<key>/image/,
key = sha256 of the build inputs in tools/test-image.d and the exact versions of the
packages that end up in the image (the kernel, busybox-static, dropbear-bin and
what it depends on, recursively), as this machine's apt sees them now: a new
kernel or C library in the archive (after apt-get update) or an edited script
builds a new image. Deleting the cache is always safe. Runs with the system's
python3 (standard library only) and needs no root, only apt's package lists and
the Debian packages syslinux, mtools, dosfstools, cpio, xz-utils, qemu-utils and
binutils (readelf).
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
BUSYBOX = "busybox-static"          # static: /init and its tools need no C library
# The SSH server: dynamically linked. The image takes the binary and the shared
# libraries it needs (build-image follows the ELF NEEDED entries) from the
# packages of its Depends and theirs, recursively: all of them join the key.
DROPBEAR = "dropbear-bin"
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
    "hostname": re.compile(r"^osdeploy-test-image: hostname ok name=(?P<hostname>[A-Za-z0-9-]+)\s*$", re.M),
    "hostname_failed": re.compile(r"^osdeploy-test-image: hostname failed.*$", re.M),
    "ssh": re.compile(r"^osdeploy-test-image: ssh ok key=(?P<key_type>\S+)\s*$", re.M),
    "ssh_failed": re.compile(r"^osdeploy-test-image: ssh failed.*$", re.M),
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


def depended_on(fields):
    """The names of the packages a record's Pre-Depends and Depends name (the first
    of each set of alternatives, which apt prefers)."""
    names = []
    for field in ("Pre-Depends", "Depends"):
        for item in fields.get(field, "").split(","):
            name = re.sub(r"\(.*?\)|\[.*?\]", "", item.split("|")[0]).strip().split(":")[0]
            if name and name not in names:
                names.append(name)
    return names


def resolve_packages():
    """The kernel, busybox, dropbear and the packages dropbear depends on
    (recursively) as 'name=version' for apt-get download (build-image's order:
    kernel, busybox, dropbear, then the others by name), plus the bootloader's
    installed versions: everything from outside this directory that can land in
    the image. One apt-cache call per level of dependencies."""
    records = apt_versions(KERNEL_METAPACKAGE, BUSYBOX, DROPBEAR)
    depends = records[KERNEL_METAPACKAGE].get("Depends", "")
    match = re.search(r"(linux-image-[^\s,]+)", depends)
    if not match:
        raise ImageError("%s depends on no kernel image: %r" % (KERNEL_METAPACKAGE, depends))
    kernel = match.group(1)
    # dropbear's dependencies, level by level (the first call also asks for the
    # kernel's exact version).
    found = apt_versions(kernel, *depended_on(records[DROPBEAR]))
    records[kernel] = found.pop(kernel)
    libraries = {}
    while found:
        libraries.update(found)
        deeper = {dep for fields in found.values() for dep in depended_on(fields)}
        deeper -= set(libraries) | {DROPBEAR}
        found = apt_versions(*sorted(deeper)) if deeper else {}
    packages = ["%s=%s" % (name, records[name]["Version"]) for name in (kernel, BUSYBOX, DROPBEAR)]
    packages += ["%s=%s" % (name, libraries[name]["Version"]) for name in sorted(libraries)]
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
