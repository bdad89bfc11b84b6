"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test fetches get-pip.py from a host that is not reachable here and
caches it as ~/.ansible/test/cache/get_pip_<version>.py; tools/test puts this
file there instead. Like get-pip.py it is run with pip's install arguments
(for example ``pip==24.2 --no-setuptools``): it installs pip from the
interpreter's own ensurepip, then lets that pip install what was asked for
from the package index.
"""
import subprocess
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")


def main():
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"],
                          stdout=subprocess.DEVNULL)
    args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)


if __name__ == "__main__":
    main()
