"""The lab's hosts trust this machine's local CA certificates: the script that `up` runs on each host
over SSH, run here with sh against a temporary directory and a fake update-ca-certificates."""
import shlex
import subprocess

from osdeploy_lab import base, common

PROXY_CA = b"-----BEGIN CERTIFICATE-----\nMIIBproxy\n-----END CERTIFICATE-----\n"
OTHER_CA = b"-----BEGIN CERTIFICATE-----\nMIIBother\n-----END CERTIFICATE-----\n"


def fake_update(tmp_path):
    """A stand-in for update-ca-certificates that counts its runs (the script sends its output to stderr)."""
    return "sh -c %s" % shlex.quote("echo update >> %s" % (tmp_path / "updates"))


def sync(tmp_path, certs):
    """Run the script as a host would (on sh's stdin); return (its output, the updates it ran so far)."""
    updates = tmp_path / "updates"
    script = common.ca_sync_script(certs, target=str(tmp_path / "host" / "osdeploy-lab-host"),
                                   update=fake_update(tmp_path))
    (tmp_path / "host").mkdir(exist_ok=True)
    res = subprocess.run(["sh", "-s"], input=script, capture_output=True, text=True, check=True)
    return res.stdout.strip(), updates.read_text().count("update") if updates.exists() else 0


def held(tmp_path):
    target = tmp_path / "host" / "osdeploy-lab-host"
    if not target.exists():
        return None
    return {str(p.relative_to(target)): p.read_bytes() for p in sorted(target.rglob("*")) if p.is_file()}


def test_only_the_local_crt_files_are_taken_also_in_subdirectories(tmp_path):
    root = tmp_path / "local"
    (root / "corp").mkdir(parents=True)
    (root / "proxy.crt").write_bytes(PROXY_CA)
    (root / "corp" / "other.crt").write_bytes(OTHER_CA)
    (root / "README").write_text("not a certificate")
    (root / "old.pem").write_bytes(OTHER_CA)     # update-ca-certificates takes only *.crt
    assert common.local_ca_certificates(str(root)) == {"corp/other.crt": OTHER_CA, "proxy.crt": PROXY_CA}
    assert common.local_ca_certificates(str(tmp_path / "none")) == {}


def test_the_certificates_are_copied_and_trusted_once(tmp_path):
    certs = {"proxy.crt": PROXY_CA, "corp/other.crt": OTHER_CA}
    assert sync(tmp_path, certs) == ("changed", 1)
    assert held(tmp_path) == certs
    assert sync(tmp_path, certs) == ("unchanged", 1)      # the next `up`: nothing done


def test_a_changed_or_removed_certificate_is_updated(tmp_path):
    sync(tmp_path, {"proxy.crt": PROXY_CA, "other.crt": OTHER_CA})
    assert sync(tmp_path, {"proxy.crt": OTHER_CA}) == ("changed", 2)
    assert held(tmp_path) == {"proxy.crt": OTHER_CA}
    # this machine has none any more: the copies go, and the hosts' trust is updated once
    assert sync(tmp_path, {}) == ("changed", 3)
    assert held(tmp_path) is None
    assert sync(tmp_path, {}) == ("unchanged", 3)


def test_a_machine_without_local_certificates_changes_nothing(tmp_path):
    assert sync(tmp_path, {}) == ("unchanged", 0)
    assert held(tmp_path) is None


def test_a_failed_update_is_tried_again_at_the_next_up(tmp_path):
    target = tmp_path / "host" / "osdeploy-lab-host"
    (tmp_path / "host").mkdir()
    script = common.ca_sync_script({"proxy.crt": PROXY_CA}, target=str(target), update="false")
    res = subprocess.run(["sh", "-s"], input=script, capture_output=True, text=True, check=False)
    assert res.returncode != 0 and not target.exists()
    assert sync(tmp_path, {"proxy.crt": PROXY_CA}) == ("changed", 1)


def test_names_with_odd_characters_are_quoted(tmp_path):
    certs = {"it's a (proxy) CA.crt": PROXY_CA, "sub dir/$x.crt": OTHER_CA}
    assert sync(tmp_path, certs) == ("changed", 1)
    assert held(tmp_path) == certs


class FakeLab(base.Lab):
    """A lab whose hosts are this machine's sh: ssh_cmd runs the command locally."""
    TOOL = "tools/fake"
    DEFAULT_NAME = "osdunit"
    DEFAULT_SUBNET = "192.168.59.0/24"

    def ssh_cmd(self, host, *cmd, tty=False):
        self.asked.append(host)
        return list(cmd)


def test_up_makes_every_host_trust_them_and_reports_only_a_change(tmp_path, monkeypatch):
    monkeypatch.setenv("OSDEPLOY_LAB_DIR", str(tmp_path / "lab"))
    local = tmp_path / "local"
    local.mkdir()
    (local / "proxy.crt").write_bytes(PROXY_CA)
    monkeypatch.setattr(base, "local_ca_certificates", lambda: common.local_ca_certificates(str(local)))
    monkeypatch.setattr(base, "ca_sync_script", lambda certs: common.ca_sync_script(
        certs, target=str(tmp_path / "host" / "osdeploy-lab-host"), update=fake_update(tmp_path)))
    (tmp_path / "host").mkdir()
    lab = FakeLab()
    lab.asked = []
    lab.ensure_host_cas(["controller", "compute1"])
    assert lab.asked == ["controller", "compute1"]
    # one directory stands for both hosts here: the first copy is the change, the second finds it done
    assert lab.changes == ["CA certificates of controller"]
    assert held(tmp_path) == {"proxy.crt": PROXY_CA}
    lab.changes = []
    lab.ensure_host_cas(["controller"])
    assert lab.changes == []


def test_the_script_targets_debians_local_directory():
    script = common.ca_sync_script({"proxy.crt": PROXY_CA})
    assert "target=/usr/local/share/ca-certificates/osdeploy-lab-host\n" in script
    assert "update-ca-certificates --fresh >&2" in script


def test_a_slow_backend_gives_the_update_as_long_as_its_boot(monkeypatch):
    """update-ca-certificates in a TCG VM takes minutes: the VM lab (600 s boot) waits that long, not 120 s."""
    timeouts = []

    def fake_run(cmd, timeout=120, **kwargs):
        timeouts.append(timeout)
        return subprocess.CompletedProcess(cmd, 0, stdout="unchanged\n", stderr="")

    monkeypatch.setattr(base, "run", fake_run)
    monkeypatch.setattr(base, "local_ca_certificates", lambda: {})
    monkeypatch.delenv("OSDEPLOY_LAB_BOOT_TIMEOUT", raising=False)
    lab = FakeLab()
    lab.asked = []
    lab.ensure_host_cas(["controller"])
    monkeypatch.setattr(FakeLab, "DEFAULT_BOOT_TIMEOUT", 600)
    lab.ensure_host_cas(["controller"])
    assert timeouts == [120, 600]
