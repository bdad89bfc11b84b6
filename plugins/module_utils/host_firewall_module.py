# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host_firewall module's run: ``HostFirewallModule``, which checks the options, asks firewalld whether it
serves the host, else reads iptables and nftables to find the active firewall (module_utils/firewall.py
decides), and has that backend (firewall_firewalld.py, firewall_iptables.py, firewall_nftables.py) plan and
apply the owned rules. The module file is this class with its options.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.osdeploy.nova.plugins.module_utils import firewall
from ansible_collections.osdeploy.nova.plugins.module_utils.firewall_firewalld import Firewalld
from ansible_collections.osdeploy.nova.plugins.module_utils.firewall_iptables import Iptables, iptables_drops
from ansible_collections.osdeploy.nova.plugins.module_utils.firewall_nftables import (
    Nftables, nft_chain_drops, nft_input_chains)


class HostFirewallModule(firewall.FirewallModule):
    """Opens the ports in the active firewall: module_utils/firewall.py chooses it, firewall_*.py plan and apply."""

    def run(self):
        p = self.params
        try:
            sources, tcp, udp = firewall.validate(p)
        except ValueError as e:
            self.fail(str(e))
        present, explicit = p["state"] == "present", p["backend"] != "auto"
        self.start()
        firewalld = Firewalld(self)
        running = firewalld.running()
        refused = firewall.refusal(p["backend"], present, p["persist"], running)
        if refused:
            self.fail(refused)
        if firewall.uses_firewalld(p["backend"], running):
            self.result.update(backend="firewalld", active=True)
            firewalld.apply(sources, tcp, udp)
            if present or explicit:
                return self.finish(present)
        # state=absent with backend auto goes on: owned rules are removed wherever they are
        iptables, nftables = Iptables(self), Nftables(self)
        ipt = iptables.read(explicit) if p["backend"] in ("auto", "iptables") else {}
        ipt_active = any(iptables_drops(lines) for lines in ipt.values() if lines is not None)
        ruleset = nftables.read(explicit) if firewall.reads_nftables(p["backend"], ipt_active, present) else None
        chains = nft_input_chains(ruleset) if ruleset is not None else []
        backend, active = firewall.choose_backend(p["backend"], ipt_active, any(nft_chain_drops(c) for c in chains))
        if self.result["backend"] != "firewalld":       # state=absent after the firewalld policy: keep it named
            self.result.update(backend=backend, active=active)
        if present and backend == "none":
            self.result["msg"] = ("no active host firewall found (firewalld does not run, iptables INPUT does not "
                                  "drop, no nftables input chain drops): nothing opened; set backend to nftables or "
                                  "iptables to open the ports anyway")
            return self.result
        if backend == "nftables" or (not present and not explicit and ruleset is not None):
            nftables.apply(chains, sources, tcp, udp)
        if backend == "iptables" or (not present and not explicit and any(v is not None for v in ipt.values())):
            iptables.apply(ipt, sources, tcp, udp)
        return self.finish(present)
