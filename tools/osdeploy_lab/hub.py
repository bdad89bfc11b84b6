"""hub.py --lab=NAME DIR: the private network of a VM lab, as a hub.

Each VM's second NIC is a qemu `-netdev dgram` whose local end is the unix
datagram socket DIR/<host>.sock and whose remote end is DIR/hub.sock, bound
here. Every frame received is sent on to every other VM's socket in DIR (an
Ethernet hub: a handful of VMs, no need to learn addresses). A VM that is not
running yet (or any more) is skipped. Started and stopped by tools/vmlab
(the --lab argument is how `tools/vmlab down` finds this process).
"""
import errno
import os
import signal
import socket
import sys


def main(argv):
    if len(argv) != 3 or not argv[1].startswith("--lab="):
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    directory = argv[2]
    own = os.path.join(directory, "hub.sock")
    if os.path.exists(own):
        os.unlink(own)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind(own + ".tmp")
    os.rename(own + ".tmp", own)         # appears only when ready
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        frame, sender = sock.recvfrom(65536)
        for name in os.listdir(directory):
            peer = os.path.join(directory, name)
            if not name.endswith(".sock") or peer in (own, sender):
                continue
            try:
                sock.sendto(frame, peer)
            except OSError as exc:
                if exc.errno not in (errno.ECONNREFUSED, errno.ENOENT, errno.EAGAIN, errno.ENOBUFS):
                    raise


if __name__ == "__main__":
    sys.exit(main(sys.argv))
