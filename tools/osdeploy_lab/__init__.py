"""The project's lab: the test hosts of Molecule, `make deploy` and the integration tier.

    base.py       the one Lab interface: naming, state, SSH, inventory, secrets, and the one
                  up(), down(), status() and report() flow; cli(), the command line of every backend
    nspawn.py     backend: systemd-nspawn machines on this machine (tools/lab)
    qemu.py       backend: qemu virtual machines (tools/vmlab)
    vagrant.py    backend: Vagrant's libvirt VMs of the Molecule scenario vagrant, which Vagrant starts;
                  this writes their inventory, host keys and secrets (tools/vagrant.d/inventory)
    common.py     what the backends and the test image share: commands, files, cached builds, the
                  Debian releases and their apt sources, the lab secrets (made by the collection's
                  module_utils/secrets.py, which it imports from this checkout), the accelerator decision
    testimage.py  the guest test image (tools/test-image)
    hub.py        the qemu lab's private network, a script tools/vmlab starts
    tests/        the lab's own tests (unit/, integration/), run by tools/test in its unit and
                  integration tiers

Standard library only: runs with the system's python3, as root where it must. The shell
scripts and data files the backends run and hash stay beside the entry points in tools/
(lab.d/, vm.d/, test-image.d/, vagrant.d/). Import it with tools/ on the path: the entry
points set PYTHONPATH for their python3, pytest.ini does it for the tests.
"""
