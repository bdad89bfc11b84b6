"""Which checksums a guest really puts on the wire, seen as Open vSwitch's userspace datapath sees them.

    python3 checksum_sniffer.py IFACE MAC OUTFILE

Reads every frame on IFACE (a VM's tap) through an AF_PACKET socket, as
ovs-vswitchd's netdev datapath does, and writes one line per IPv4 TCP or UDP
packet sent by MAC: "tcp 192.0.2.50:40000 > 169.254.169.254:80 ok" (or "bad").
A guest that leaves checksums to offload shows "bad" here: the checksum field
still holds only the pseudo-header's sum. Runs until SIGTERM.
"""
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003
PROTOCOLS = {6: "tcp", 17: "udp"}


def ones_complement_sum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def check_frame(frame, mac):
    """(protocol, 'src:port > dst:port', checksum_ok) for an IPv4 TCP/UDP frame from mac, else None."""
    if len(frame) < 34 or frame[6:12] != mac or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    total_length = struct.unpack("!H", ip[2:4])[0]
    proto = ip[9]
    if ip[0] >> 4 != 4 or proto not in PROTOCOLS or total_length > len(ip):
        return None
    segment = ip[ihl:total_length]
    src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
    sport, dport = struct.unpack("!HH", segment[:4])
    flow = "%s:%d > %s:%d" % (src, sport, dst, dport)
    if proto == 17 and segment[6:8] == b"\0\0":
        return PROTOCOLS[proto], flow, True      # UDP without a checksum is valid
    pseudo = ip[12:20] + struct.pack("!BBH", 0, proto, len(segment))
    return PROTOCOLS[proto], flow, ones_complement_sum(pseudo + segment) == 0xFFFF


def main(iface, mac, outfile):
    mac = bytes.fromhex(mac.replace(":", ""))
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((iface, 0))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(outfile, "w", buffering=1) as out:
        out.write("listening\n")
        while True:
            found = check_frame(sock.recv(65535), mac)
            if found:
                out.write("%s %s %s\n" % (found[0], found[1], "ok" if found[2] else "bad"))


if __name__ == "__main__":
    main(*sys.argv[1:4])
