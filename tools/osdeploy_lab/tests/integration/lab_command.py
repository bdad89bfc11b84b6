"""Running tools/lab or tools/vmlab for a test's own lab (own name and subnet)."""
import os
import subprocess


class LabCommand:
    def __init__(self, tool, name, subnet):
        self.tool = tool
        self.name = name
        self.env = dict(os.environ, OSDEPLOY_LAB_NAME=name, OSDEPLOY_LAB_SUBNET=str(subnet))
        self.env.pop("OSDEPLOY_LAB_DIR", None)
        cache = os.environ.get("OSDEPLOY_CACHE") or os.path.expanduser("~/.cache/osdeploy-nova")
        self.dir = os.path.join(cache, "lab", name)

    def run(self, *args, check=True, timeout=1500):
        proc = subprocess.run([self.tool] + list(args), capture_output=True, text=True, env=self.env,
                              timeout=timeout, check=False)
        if check:
            assert proc.returncode == 0, "%s %s: rc %s\n%s\n%s" % (
                os.path.basename(self.tool), " ".join(args), proc.returncode, proc.stdout, proc.stderr)
        return proc

    def ssh(self, host, command, check=True, timeout=300):
        proc = self.run("ssh", host, "--", command, check=False, timeout=timeout)
        if check:
            assert proc.returncode == 0, "%s: %r: rc %s\n%s\n%s" % (host, command, proc.returncode,
                                                                    proc.stdout, proc.stderr)
        return proc
