"""The converge ran as an operator runs site.yml (molecule/default/converge.yml): from the collection's artifact
installed into a collections path of its own, on the example inventory's settings with the lab's values, with the
secrets osdeploy.nova.secrets generated, every host's run ending without a failure and no secret in its output."""
import os
import re
import stat

import yaml

from conftest import ROOT
from playbook_run import recap

LAB = os.environ["OSDEPLOY_LAB_DIR"]
EPHEMERAL = os.path.dirname(LAB)
INSTALLED = os.path.join(EPHEMERAL, "collections", "ansible_collections", "osdeploy", "nova")


def test_the_collection_was_installed_from_its_artifact_with_the_example_inventory():
    assert os.path.isfile(os.path.join(INSTALLED, "MANIFEST.json"))
    assert os.path.isfile(os.path.join(INSTALLED, "inventories", "example", "group_vars", "all", "main.yml"))
    # an installed copy, not a link to the checkout
    assert not os.path.islink(INSTALLED) and os.path.realpath(INSTALLED) != os.path.realpath(ROOT)


def test_the_lab_deployed_from_the_example_inventorys_settings():
    with open(os.path.join(ROOT, "inventories", "example", "group_vars", "all", "main.yml")) as f:
        example = yaml.safe_load(f)
    with open(os.path.join(LAB, "group_vars", "all", "main.yml")) as f:
        ours = yaml.safe_load(f)
    assert set(ours) == set(example)
    secrets = os.path.join(LAB, "group_vars", "all", "secrets.yml")
    assert stat.S_IMODE(os.stat(secrets).st_mode) == 0o600


def test_the_converge_ran_osdeploy_nova_site_to_the_end_on_every_host(secret_forms):
    with open(os.path.join(EPHEMERAL, "converge.log")) as f:
        log = f.read()
    # the recap's lines as the scenario's runs print them, whatever colours the log holds
    hosts = recap(re.sub(r"\x1b\[[0-9;]*m", "", log))
    assert {"controller", "compute1"} <= set(hosts), log[-3000:]
    assert all(host["unreachable"] == host["failed"] == 0 for host in hosts.values()), hosts
    leaked = sorted({name for name, form in secret_forms if form in log})
    assert leaked == [], "secrets in the converge's output: %s" % leaked
