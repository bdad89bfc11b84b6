# The two commands of the README, and the test tiers one by one.
.PHONY: deploy test unit sanity lint integration molecule molecule-upgrade-epoxy molecule-zed molecule-vm molecule-vagrant clean

# The main job: deploy Nova with site.yml on the local lab and verify it.
deploy:
	bash tools/deploy

# Every test tier (what CI runs).
test:
	bash tools/test

unit sanity lint integration molecule:
	bash tools/test $@

# The default scenario from Debian 13's own packages (OpenStack 2025.1 Epoxy,
# unmaintained upstream: not in CI), taken through both supported hops,
# 2026.1 then 2026.2 from source.
molecule-upgrade-epoxy:
	OSDEPLOY_LAB_OPENSTACK=distro OSDEPLOY_LAB_UPGRADE_TO="source:2026.1 source:2026.2" MOLECULE_SCENARIOS=default bash tools/test molecule

# The default scenario on Debian 12 (OpenStack Zed, end of life: not in CI).
molecule-zed:
	MOLECULE_SCENARIOS=zed bash tools/test molecule

# The Molecule scenario on full VMs (not in `make test`: under TCG emulation
# it takes far longer than CI allows; see README), after the VM lab's own
# integration tests (tools/test's vmlab tier: its image built, VMs booted).
molecule-vm:
	MOLECULE_SCENARIOS=vm bash tools/test vmlab molecule

# The Molecule scenario for Vagrant with the libvirt provider (README,
# "Molecule with Vagrant"); installs Vagrant and libvirt first.
molecule-vagrant:
	bash tools/install-deps --vagrant
	MOLECULE_SCENARIOS=vagrant bash tools/test molecule

clean:
	rm -rf build
