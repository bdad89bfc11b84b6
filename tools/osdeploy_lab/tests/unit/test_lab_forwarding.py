"""osdeploy_lab.nspawn.foreign_nat: what `down` reads before switching net.ipv4.ip_forward back off."""
from osdeploy_lab.nspawn import foreign_nat

# libvirt's default network through iptables (Debian 12), once the lab's own chain is removed
LIBVIRT_IPTABLES = """-P PREROUTING ACCEPT
-P POSTROUTING ACCEPT
-N LIBVIRT_PRT
-A POSTROUTING -j LIBVIRT_PRT
-A LIBVIRT_PRT -s 192.168.121.0/24 -d 224.0.0.0/24 -j RETURN
-A LIBVIRT_PRT -s 192.168.121.0/24 ! -d 192.168.121.0/24 -p tcp -j MASQUERADE --to-ports 1024-65535
"""

# the same through nft only (libvirt's nftables backend)
LIBVIRT_NFT = """table ip libvirt_network {
\tchain postrouting {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\tip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter packets 0 bytes 0 masquerade
\t}
}
"""

NOTHING_ROUTES = """-P PREROUTING ACCEPT
-P POSTROUTING ACCEPT
-N DOCKER_LIKE_NAME
-A POSTROUTING -d 10.0.0.0/8 -j RETURN
"""


def test_libvirts_iptables_masquerade_is_found():
    found = foreign_nat(LIBVIRT_IPTABLES, LIBVIRT_NFT)
    assert found == ["-A LIBVIRT_PRT -s 192.168.121.0/24 ! -d 192.168.121.0/24 -p tcp -j MASQUERADE "
                     "--to-ports 1024-65535"]


def test_nft_only_masquerade_is_found():
    found = foreign_nat("-P POSTROUTING ACCEPT\n", LIBVIRT_NFT)
    assert found == ["ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter packets 0 bytes 0 masquerade"]


def test_no_masquerade_means_nobody_else_routes():
    assert foreign_nat(NOTHING_ROUTES, "table ip filter {\n}\n") == []
    assert foreign_nat("", "") == []
