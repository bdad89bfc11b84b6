"""What the module tests share: running a module's main() in-process."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args


@pytest.fixture
def run_main(capsys):
    """run_main(module, args, check=False) -> (exit code, result): ``module.main()`` with ``args``."""
    def run(module, args, check=False):
        args = dict(args)
        if check:
            args["_ansible_check_mode"] = True
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exc:
                module.main()
        return exc.value.code, json.loads(capsys.readouterr().out)
    return run
