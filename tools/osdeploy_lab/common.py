"""What the lab's backends and the guest test image share: running commands, writing files,
cached builds, the Debian releases and their apt sources, the lab's secrets, the
accelerator decision of hw_accel_fact, and the CA certificates the hosts trust."""

import base64
import fcntl
import functools
import glob
import hashlib
import importlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import types

PACKAGE = os.path.dirname(os.path.realpath(__file__))     # tools/osdeploy_lab
TOOLS = os.path.dirname(PACKAGE)                          # tools/
ROOT = os.path.dirname(TOOLS)                             # the checkout
LABD = os.path.join(TOOLS, "lab.d")       # the nspawn lab's scripts and package lists
VMD = os.path.join(TOOLS, "vm.d")         # the VM image's scripts and package lists
SUITE = "bookworm"      # the default release of every backend
# The Debian releases the lab's hosts can run, and what differs between them, as
# data: the package lists (files in tools/lab.d) installed on top of minbase. A
# list only one release needs goes beside packages.txt and is named here. (Debian
# 13's systemd 257 boots in this machine's systemd-nspawn 252 as Debian 12's does.)
RELEASES = {
    "bookworm": {"packages": ("packages.txt",)},
    "trixie": {"packages": ("packages.txt",)},
}
HOST_RE = re.compile(r"^(controller|compute[1-9][0-9]*)$")
NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,9}$")
# Each compute host's second disk, for Nova's instances: a sparse image of this size.
INSTANCES_DISK_BYTES = 4 * 1024 ** 3
# This machine's own CA certificates (those update-ca-certificates adds to Debian's bundle: a
# TLS-intercepting proxy's, say), and where each lab host gets a copy of them.
LOCAL_CA_DIR = "/usr/local/share/ca-certificates"
LAB_CA_DIR = LOCAL_CA_DIR + "/osdeploy-lab-host"


class LabError(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def run(cmd, check=True, capture=True, timeout=120, input_text=None):
    """Run a command (list); return CompletedProcess; raise LabError on failure."""
    try:
        proc = subprocess.run(cmd, capture_output=capture, text=True, timeout=timeout,
                              input=input_text, check=False)
    except subprocess.TimeoutExpired:
        raise LabError("timed out after %ss: %s" % (timeout, shlex.join(cmd)))
    if check and proc.returncode != 0:
        raise LabError("command failed (rc %s): %s\n%s" % (
            proc.returncode, shlex.join(cmd), ((proc.stderr or "") + (proc.stdout or "")).strip()))
    return proc


CHECKOUT_PACKAGE = "ansible_collections.osdeploy.nova"


@functools.lru_cache(maxsize=None)
def import_checkout():
    """Make `import ansible_collections.osdeploy.nova...` import this checkout.

    The lab runs as root with the system's python3, also without tools/collection-env
    (`sudo tools/lab up`, Molecule's create.yml), so the collection's import path
    (build/collections) may be missing, or another copy of the collection may be found.
    Then this checkout is registered as the package itself: the collection's
    module_utils import each other by that name (secrets.py imports inputs.py, which
    imports credentials.py), and those the lab uses need the standard library only."""
    try:
        package = importlib.import_module(CHECKOUT_PACKAGE)
        if ROOT in [os.path.realpath(path) for path in package.__path__]:
            return
    except ImportError:
        pass
    for name in [name for name in sys.modules if name.startswith(CHECKOUT_PACKAGE + ".")]:
        del sys.modules[name]  # what came from another copy
    for name, path in (("ansible_collections", []), ("ansible_collections.osdeploy", []), (CHECKOUT_PACKAGE, [ROOT])):
        package = types.ModuleType(name)
        package.__path__ = path  # a package: its modules are looked for there (plugins/ is found in ROOT)
        sys.modules[name] = package


def collection_module_utils(name):
    """The collection's plugins/module_utils/NAME.py of this checkout."""
    import_checkout()
    return importlib.import_module(CHECKOUT_PACKAGE + ".plugins.module_utils." + name)


def mask_credentials(text):
    """TEXT with URL passwords and the values of password, secret and token settings masked
    (the collection's own mask_log)."""
    return collection_module_utils("credentials").mask_log(text)


def choose_accel():
    """('kvm'|'tcg', reason): what this machine runs unmodified guests with (hw_accel_fact's
    decision; OSDEPLOY_VM_ACCEL=kvm|tcg forces one)."""
    forced = os.environ.get("OSDEPLOY_VM_ACCEL", "").strip()
    if forced:
        if forced not in ("kvm", "tcg"):
            raise LabError("OSDEPLOY_VM_ACCEL=%s: use kvm or tcg (or leave it unset to decide)" % forced)
        return forced, "forced by OSDEPLOY_VM_ACCEL"
    hw_accel = collection_module_utils("hw_accel")
    verdict = hw_accel.decide(hw_accel.gather_signals())
    return ("kvm" if verdict["virt_type"] == "kvm" else "tcg"), verdict["reason"]


def write_file(path, content, mode=0o644):
    """Write atomically; return True when the content changed."""
    try:
        with open(path) as f:
            if f.read() == content:
                os.chmod(path, mode)
                return False
    except FileNotFoundError:
        pass
    tmp = "%s.tmp%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(content)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    return True


def read_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def rm_tree(path):
    """rm -rf that never crosses into another file system (a mount left inside)."""
    if os.path.lexists(path):
        run(["rm", "-rf", "--one-file-system", "--", path], timeout=600)


def mounts_under(path):
    """Mount points at or below path, deepest first."""
    path = os.path.realpath(path)
    found = []
    with open("/proc/self/mounts") as f:
        for line in f:
            mnt = line.split()[1].replace("\\040", " ")
            if mnt == path or mnt.startswith(path + "/"):
                found.append(mnt)
    return sorted(set(found), key=len, reverse=True)


def umount_all_under(path):
    for mnt in mounts_under(path):
        if run(["umount", mnt], check=False).returncode != 0:
            run(["umount", "-l", mnt], check=False)


def cache_root():
    return os.environ.get("OSDEPLOY_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "osdeploy-nova")


def proc_cmdlines():
    """{pid: [argv...]} of every process."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                raw = f.read()
        except OSError:
            continue
        if raw:
            out[int(entry)] = [a.decode(errors="replace") for a in raw.rstrip(b"\0").split(b"\0")]
    return out


def end_processes(pids, what, first=signal.SIGTERM, more=None):
    """Kill the lab's disposable processes (first SIGTERM, or `first`, then SIGKILL) and wait until they are gone:
    a caller that reports them gone must not race their exit (seen under load: the hub still alive after `down`).
    more: a callable giving pids found again at each attempt (a machine's namespace, where processes may still
    appear)."""
    left = list(pids)
    for attempt in range(50):
        left = [p for p in dict.fromkeys(left + (more() if more else [])) if pid_alive(p)]
        if not left:
            return
        for p in left:
            try:
                os.kill(p, signal.SIGKILL if attempt else first)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    raise LabError("%s: still running after SIGKILL: %s" % (what, left))


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def accel_inventory_vars(accel):
    """[all:vars] lines of a lab whose hosts run with this accelerator (kvm or tcg).

    Under TCG emulation Python runs 15-25 times slower than on hardware: starting
    a Nova service or registering a compute takes minutes, so the roles' waits
    get the bounds an operator would give such hosts.
    """
    out = ["lab_accel=%s" % accel]
    if accel == "tcg":
        out += ["baseline_service_timeout=1800", "nova_service_timeout=1800",
                "nova_cell_discovery_timeout=1800"]
    return out


# ---------------------------------------------------------------- the lab's secrets

def missing_secrets(text):
    """{name: new random value} of the secrets the roles need that a secrets file of `text` (None: no file)
    lacks: the collection's own catalogue and generator (module_utils/secrets.py, which osdeploy.nova.secrets_file
    uses), so that the lab's secrets follow the same rules as an operator's. Only the names are read (the
    first word of each `name: value` line): a value there is never changed, whatever its form."""
    names = set()
    for line in (text or "").splitlines():
        key, sep, dummy = line.partition(":")
        if sep and key.strip() and not line.startswith(("#", " ", "\t")):
            names.add(key.strip().strip("'\""))
    return collection_module_utils("secrets").missing(dict.fromkeys(names))


def secrets_lines(values):
    """The `name: "value"` lines of `values` (JSON strings: YAML reads them back exactly)."""
    return [collection_module_utils("secrets").yaml_line(name, value) for name, value in values.items()]


# ---------------------------------------------------------------- the example inventory

# The settings an operator edits in a copy of inventories/example (the collection ships it).
EXAMPLE_VARS = os.path.join(ROOT, "inventories", "example", "group_vars", "all", "main.yml")


def example_inventory_vars(values, tool):
    """The example inventory's group_vars/all/main.yml with `values` in place of its own, comments kept: what an
    operator's copy holds once edited. A variable the example does not set is refused, so that the lab deploys
    from the example's settings and nothing beside them."""
    with open(EXAMPLE_VARS) as f:
        text = f.read()
    for name, value in values.items():
        text, count = re.subn(r"(?m)^%s: .*$" % re.escape(name), "%s: %s" % (name, json.dumps(value)), text)
        if count != 1:
            raise LabError("%s sets %s %d times, the lab expects it once" % (EXAMPLE_VARS, name, count))
    return "# Written by `%s up`: %s with the lab's values.\n%s" % (tool, os.path.relpath(EXAMPLE_VARS, ROOT), text)


# ---------------------------------------------------------------- releases and their apt sources

def rootfs_sources():
    """This machine's apt sources file, from which every root filesystem and image is built."""
    src = os.environ.get("OSDEPLOY_LAB_SOURCES")
    if src:
        if not os.path.isfile(src):
            raise LabError("OSDEPLOY_LAB_SOURCES=%s: no such file" % src)
        return src
    for cand in ("/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"):
        if os.path.isfile(cand) and os.path.getsize(cand) > 0:
            return cand
    raise LabError("no apt sources found: set OSDEPLOY_LAB_SOURCES to a deb822 .sources or sources.list file")


# What the lab's hosts get of OpenStack (`up --openstack`): Debian's packages of
# the platform's release, or a release installed from source; written as the
# collection's contract variables into the lab's group_vars (the collection
# refuses a release it has no data for).
OPENSTACK_RE = re.compile(r"^(distro|source:[0-9]{4}\.[12])$")


def check_openstack(spec):
    if not OPENSTACK_RE.match(spec):
        raise LabError("openstack %r: use distro (Debian's packages) or source:RELEASE (e.g. source:2026.2)" % spec)
    return spec


def openstack_group_vars(spec):
    """The YAML of the collection's contract variables that `spec` stands for."""
    method, dummy, release = spec.partition(":")
    lines = ["# Written by the lab tool (up --openstack %s): how the hosts get OpenStack." % spec,
             "osdeploy_install_method: %s" % method]
    if release:
        lines.append('osdeploy_openstack_release: "%s"' % release)
    return "\n".join(lines) + "\n"


def check_release(release):
    if release not in RELEASES:
        raise LabError("release %r: use one of %s" % (release, ", ".join(RELEASES)))
    return release


def release_sources(sources, release):
    """The text of the apt sources file `sources` (deb822 or one-line) for `release`:
    each suite of a release the lab knows renamed to `release`, its suffix kept
    (bookworm -> trixie, bookworm-updates -> trixie-updates, bookworm-security ->
    trixie-security). URIs, components, keys and comments stay as they are."""
    with open(sources) as f:
        text = f.read()
    others = "|".join(re.escape(r) for r in sorted(RELEASES) if r != release)
    suite = re.compile(r"(?<![^\s])(?:%s)(?=[-/]|\s|$)" % others)

    def deb822(m):
        return m.group(1) + suite.sub(release, m.group(2))

    def one_line(m):
        return m.group(1) + suite.sub(release, m.group(2)) + m.group(3)

    text = re.sub(r"(?im)^(Suites:[ \t]*)(.*)$", deb822, text)
    return re.sub(r"(?m)^(\s*deb(?:-src)?\s+(?:\[[^\]]*\]\s+)?\S+\s+)(\S+)(.*)$", one_line, text)


# ---------------------------------------------------------------- cached builds

def content_key(files, sources, release):
    """The cache key of a build: files [(label, path)] (label and content each), the release's apt
    sources (release_sources) and the release, in 16 hex digits of SHA-256."""
    h = hashlib.sha256()
    for label, path in files:
        with open(path, "rb") as f:
            h.update(label.encode() + b"\0" + f.read() + b"\0")
    h.update(b"sources\0" + release_sources(sources, release).encode() + b"\0" + release.encode())
    return h.hexdigest()[:16]


def cached_build(kind, key, build, rebuild=False, in_use=None):
    """Return $OSDEPLOY_CACHE/<kind>/<key>, calling build(tmpdir, logfile, lockfile) to make it
    when missing (or when rebuild): built in a temporary directory, renamed into
    place only when complete, under a lock so that parallel callers build once.
    in_use(dir) lists who uses an existing build (rebuild refuses then)."""
    base = os.path.join(cache_root(), kind)
    final = os.path.join(base, key)
    os.makedirs(base, exist_ok=True)
    with open(os.path.join(base, ".%s.lock" % key), "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        if is_cached(final) and not rebuild:
            return final
        if rebuild and in_use:
            users = in_use(final)
            if users:
                raise LabError("%s %s is in use by lab machines (%s): take them down first"
                               % (kind, key, ", ".join(users)))
        # Left-overs of an interrupted build: unmount (mmdebstrap binds /dev,
        # /proc, /sys inside) before deleting anything.
        for entry in os.listdir(base):
            if entry.startswith(".build-%s-" % key) or (entry == key and rebuild):
                umount_all_under(os.path.join(base, entry))
                rm_tree(os.path.join(base, entry))
        if rebuild and os.path.isdir(final):
            raise LabError("cannot remove %s" % final)
        tmp = os.path.join(base, ".build-%s-%d" % (key, os.getpid()))
        os.makedirs(tmp)
        start = time.monotonic()
        logpath = os.path.join(base, "%s.build.log" % key)
        with open(logpath, "w") as logf:
            proc = build(tmp, logf, lockf)
        if proc.returncode != 0:
            umount_all_under(tmp)
            rm_tree(tmp)
            with open(logpath) as f:
                tail = f.read().splitlines()[-25:]
            raise LabError("building the %s failed (rc %s); log %s, last lines:\n%s" % (
                kind, proc.returncode, logpath, "\n".join(tail)))
        seconds = round(time.monotonic() - start, 1)
        write_file(os.path.join(tmp, "meta.json"), json.dumps({
            "key": key, "kind": kind, "build_seconds": seconds,
            "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=1) + "\n")
        os.rename(tmp, final)
        log("%s %s built in %ss" % (kind, key, seconds))
        return final


def is_cached(directory):
    """Whether DIRECTORY is a complete entry of cached_build (its meta.json is written last)."""
    return os.path.isfile(os.path.join(directory, "meta.json"))


def prune_cache(kind, current, in_use):
    """Delete the entries of $OSDEPLOY_CACHE/<kind> whose key is not in `current` (the keys of
    today's inputs) and that no lab uses (in_use(directory)); say what went."""
    base = os.path.join(cache_root(), kind)
    removed = []
    if os.path.isdir(base):
        for entry in sorted(os.listdir(base)):
            path = os.path.join(base, entry)
            if entry.startswith(".") or not os.path.isdir(path) or entry in current or in_use(path):
                continue
            umount_all_under(path)
            rm_tree(path)
            for extra in (os.path.join(base, ".%s.lock" % entry), os.path.join(base, "%s.build.log" % entry)):
                if os.path.exists(extra):
                    os.unlink(extra)
            removed.append(entry)
    log("prune: removed %s" % (", ".join(removed) or "nothing"))


def local_ca_certificates(root=LOCAL_CA_DIR):
    """{path relative to root: content} of this machine's local CA certificates (root/**/*.crt)."""
    certs = {}
    for path in sorted(glob.glob(os.path.join(glob.escape(root), "**", "*.crt"), recursive=True)):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                certs[os.path.relpath(path, root)] = f.read()
    return certs


def ca_sync_script(certs, target=LAB_CA_DIR, update="update-ca-certificates --fresh"):
    """A sh script (for a lab host's root, on its stdin) that makes `target` hold exactly `certs`
    ({relative path: bytes}) and then runs `update` (--fresh: a certificate that went also leaves
    /etc/ssl/certs); when target already holds them it does nothing. It prints `changed` or `unchanged`."""
    lines = ["set -eu", "umask 022", "target=%s" % shlex.quote(target),
             'new=$(mktemp -d)', "trap 'rm -rf \"$new\"' EXIT"]
    for rel, content in sorted(certs.items()):
        path = '"$new"/%s' % shlex.quote(rel)
        if os.path.dirname(rel):
            lines.append('mkdir -p "$new"/%s' % shlex.quote(os.path.dirname(rel)))
        lines += ["base64 -d > %s <<'OSDEPLOY_CA_EOF'" % path,
                  base64.encodebytes(content).decode("ascii").rstrip("\n"), "OSDEPLOY_CA_EOF"]
    if not certs:   # nothing to trust, and nothing trusted before: nothing to do
        lines.append('[ -e "$target" ] || { echo unchanged; exit 0; }')
    lines += ['if [ -d "$target" ] && diff -r "$new" "$target" >/dev/null 2>&1; then echo unchanged; exit 0; fi',
              'rm -rf "$target"']
    if certs:
        lines += ['mkdir -p "$target"', 'cp -R "$new"/. "$target"/']
    # a failed update leaves no target, so that the next run tries again
    lines += ['%s >&2 || { rm -rf "$target"; exit 1; }' % update, "echo changed"]
    return "\n".join(lines) + "\n"
