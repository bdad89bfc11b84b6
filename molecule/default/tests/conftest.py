"""What the scenario's test files share."""
import os
from urllib.parse import quote

import pytest
import yaml


@pytest.fixture(name="secret_forms")
def fixture_secret_forms():
    """[(name, form)]: each lab secret as it may appear in output, as is and percent-encoded."""
    with open(os.path.join(os.environ["OSDEPLOY_LAB_DIR"], "group_vars", "all", "secrets.yml")) as f:
        secrets = yaml.safe_load(f)
    return [(name, form) for name, value in secrets.items() if value
            for form in (str(value), quote(str(value), safe=""))]
