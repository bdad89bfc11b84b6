"""A project member's everyday operations on Nova, run on the controller with the member's cloud.

test_member.py copies this file to the controller and runs it there with Debian's python3 and openstacksdk:
    python3 member_operations.py MEMBER_CLOUD ADMIN_CLOUD IMAGE NETWORK FLAVOR
It prints one JSON document: {"operations": [{"op", "ok", "seconds", "detail"}, ...]}, in the order each
chain ran them. The lifecycle and moves chains run at once, each with its own connections, then the groups
chain alone: an affinity group needs room for both its servers on one compute host, which the lab's
compute hosts (a 4 GiB instance disk each) may lack while a resize holds allocations on both hosts:
  lifecycle  create (with a keypair), list, show, stop, start, soft and hard reboot, rebuild, delete
  moves      create, resize to another flavor (onto the other compute host) and confirm, an image of the
             server, a console that answers (the noVNC page, then RFB through the proxy's websocket up to
             the server's framebuffer), delete
  groups     two servers in an affinity group (one host) and two in an anti-affinity group (two hosts)
Everything is the member's (the REST API as the member's token allows it), except what Nova's policy
gives admin alone: reading which host a server runs on, and making the resize's flavor. A failed operation
names the server's fault; the operations after it in the same chain say they were not reached. Whatever
happens, what the run made is deleted (and waited for) before it prints.
"""
import base64
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
import urllib.request

import openstack

WAIT = 300          # seconds an operation may take to settle (it ends as soon as it has)
PREFIX = "osdeploy-member-"


class Failed(Exception):
    pass


class WebSocket:
    """The client side of RFC 6455, as much as RFB through the console proxy needs: binary frames."""

    def __init__(self, scheme, host, port, path, timeout=30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if scheme == "https":
            # the proxy's certificate, checked against Debian's trust store (which holds the deployment's CA)
            self.sock = ssl.create_default_context().wrap_socket(self.sock, server_hostname=host)
        key = base64.b64encode(os.urandom(16)).decode()
        # the proxy accepts the origin of its own base URL only, scheme included
        origin = "%s://%s:%d" % (scheme, host, port)
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n"
                           "Origin: %s\r\n\r\n" % (path, host, port, key, origin)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise Failed("the console proxy closed the connection during the websocket handshake: %r" % head)
            head += chunk
        head, self.buffer = head.split(b"\r\n\r\n", 1)
        self.data = b""
        if not head.startswith(b"HTTP/1.1 101"):
            raise Failed("the console proxy refused the websocket: %s" % head.split(b"\r\n")[0].decode())

    def _raw(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Failed("the console proxy closed the connection (the proxy to compute handshake failed?)")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def read(self, n):
        """n bytes of the frames' payloads (a close frame fails)."""
        while len(self.data) < n:
            first, second = self._raw(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._raw(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._raw(8))[0]
            payload = self._raw(length)
            if first & 0x0F == 8:
                raise Failed("the console proxy closed the websocket: %r" % payload[2:].decode(errors="replace"))
            if first & 0x0F in (1, 2, 0):
                self.data += payload
        out, self.data = self.data[:n], self.data[n:]
        return out

    def send(self, payload):
        mask = os.urandom(4)
        length = len(payload)
        header = bytes([0x82]) + (bytes([0x80 | length]) if length < 126 else
                                  bytes([0x80 | 126]) + struct.pack(">H", length))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def close(self):
        self.sock.close()


def rfb_through_proxy(url):
    """RFB 3.8 through the console proxy's websocket, up to the server's ServerInit: the proxy offers the
    client no authentication once it has authenticated to the compute host's VNC server (VeNCrypt with TLS)."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    # noVNC's page URL carries the token in its query, or in the websocket path it names
    token = query.get("token") or urllib.parse.parse_qs(urllib.parse.urlsplit(query.get("path", [""])[0]).query)["token"]
    ws = WebSocket(parts.scheme, parts.hostname, parts.port or {"https": 443}.get(parts.scheme, 80),
                   "/?token=%s" % urllib.parse.quote(token[0]))
    try:
        version = ws.read(12)
        if not version.startswith(b"RFB 003.00"):
            raise Failed("the console proxy sent %r, not an RFB version" % version)
        ws.send(b"RFB 003.008\n")
        types = ws.read(ws.read(1)[0])
        if 1 not in types:
            raise Failed("the console proxy offers security types %s, not None (1)" % list(types))
        ws.send(b"\x01")
        result = struct.unpack(">I", ws.read(4))[0]
        if result != 0:
            raise Failed("the console proxy's security result is %d" % result)
        ws.send(b"\x01")  # ClientInit, shared
        width, height = struct.unpack(">HH", ws.read(4))
        ws.read(16)  # the pixel format
        name = ws.read(struct.unpack(">I", ws.read(4))[0]).decode(errors="replace")
        return "RFB %s through the proxy: %dx%d framebuffer of %s" % (version[4:11].decode(), width, height, name)
    finally:
        ws.close()


class Cloud:
    """The member's (or admin's) raw REST calls: what the API answers, errors raised with their body."""

    def __init__(self, cloud):
        self.conn = openstack.connect(cloud=cloud)

    def call(self, service, method, url, **kwargs):
        proxy = getattr(self.conn, service)
        resp = getattr(proxy, method)(url, **kwargs)
        if resp.status_code >= 400:
            raise Failed("%s %s: HTTP %s %s" % (method.upper(), url, resp.status_code, resp.text[:400]))
        return resp.json() if resp.content else {}

    def server(self, server_id):
        return self.call("compute", "get", "/servers/%s" % server_id)["server"]

    def action(self, server_id, body):
        return self.call("compute", "post", "/servers/%s/action" % server_id, json=body)

    def wait(self, server_id, status, since):
        """Until the server has status and no task; a server in ERROR fails with its fault."""
        while True:
            s = self.server(server_id)
            if s["status"] == "ERROR":
                raise Failed("server %s is ERROR: %s" % (s["name"], (s.get("fault") or {}).get("message", "no fault")))
            if s["status"] == status and not s.get("OS-EXT-STS:task_state"):
                return s
            if time.monotonic() - since > WAIT:
                raise Failed("server %s is %s (task %s) after %s s, not %s" % (
                    s["name"], s["status"], s.get("OS-EXT-STS:task_state"), WAIT, status))
            time.sleep(1)

    def wait_gone(self, server_id, since):
        while True:
            resp = self.conn.compute.get("/servers/%s" % server_id)
            if resp.status_code == 404:
                return
            if time.monotonic() - since > WAIT:
                raise Failed("server %s still there after %s s" % (server_id, WAIT))
            time.sleep(1)


class Run:
    def __init__(self, member_cloud, admin_cloud, image, network, flavor):
        self.member_cloud, self.admin_cloud = member_cloud, admin_cloud
        admin = Cloud(admin_cloud)
        member = Cloud(member_cloud)
        self.image = self.find(member, "image", "/images?name=%s" % image, "images", image)
        self.network = self.find(member, "network", "/networks?name=%s" % network, "networks", network)
        self.flavor = self.find(member, "compute", "/flavors?limit=1000", "flavors", flavor)
        self.bigger = self.ensure_bigger_flavor(admin, flavor)
        self.results = []
        self.lock = threading.Lock()
        self.made = {"servers": [], "groups": [], "keypairs": [], "images": []}
        self.clear_leftovers(member)

    def clear_leftovers(self, member):
        """What an interrupted earlier run left (everything of this run is named PREFIX...)."""
        servers = member.call("compute", "get", "/servers")["servers"]
        self.made["servers"] = [s["id"] for s in servers if s["name"].startswith(PREFIX)]
        groups = member.call("compute", "get", "/os-server-groups")["server_groups"]
        self.made["groups"] = [g["id"] for g in groups if g["name"].startswith(PREFIX)]
        keypairs = member.call("compute", "get", "/os-keypairs")["keypairs"]
        self.made["keypairs"] = [k["keypair"]["name"] for k in keypairs if k["keypair"]["name"].startswith(PREFIX)]
        images = member.call("image", "get", "/images?name=%s" % (PREFIX + "snapshot"))["images"]
        self.made["images"] = [i["id"] for i in images]
        self.cleanup()
        self.made = {"servers": [], "groups": [], "keypairs": [], "images": []}

    @staticmethod
    def find(cloud, service, url, key, name):
        found = [x for x in cloud.call(service, "get", url)[key] if x["name"] == name]
        if len(found) != 1:
            raise Failed("the member sees %d %s named %s" % (len(found), key[:-1], name))
        return found[0]["id"]

    @staticmethod
    def ensure_bigger_flavor(admin, flavor):
        """The flavor to resize to: the proof's with 64 MB more memory (made once, by admin, kept)."""
        name = PREFIX + "resized"
        flavors = admin.call("compute", "get", "/flavors/detail?limit=1000")["flavors"]
        for f in flavors:
            if f["name"] == name:
                return f["id"]
        base = [f for f in flavors if f["name"] == flavor][0]
        body = {"flavor": {"name": name, "ram": base["ram"] + 64, "vcpus": base["vcpus"], "disk": base["disk"]}}
        return admin.call("compute", "post", "/flavors", json=body)["flavor"]["id"]

    def record(self, chain, op, ok, started, detail=""):
        with self.lock:
            self.results.append(dict(chain=chain, op=op, ok=ok, seconds=round(time.monotonic() - started, 1),
                                     detail=detail))

    def made_one(self, kind, value):
        with self.lock:
            self.made[kind].append(value)

    def server_body(self, name, hints=None, **extra):
        body = {"server": dict(name=name, imageRef=self.image, flavorRef=self.flavor,
                               networks=[{"uuid": self.network}], **extra)}
        if hints:
            body["os:scheduler_hints"] = hints
        return body

    def create(self, member, name, **extra):
        server_id = member.call("compute", "post", "/servers", json=self.server_body(name, **extra))["server"]["id"]
        self.made_one("servers", server_id)
        return server_id

    def create_many(self, member, name, count, **extra):
        """`count` servers in one request (min_count = max_count); their ids, found by reservation id."""
        body = self.server_body(name, min_count=count, max_count=count, return_reservation_id=True, **extra)
        reservation = member.call("compute", "post", "/servers", json=body)["reservation_id"]
        servers = member.call("compute", "get", "/servers?reservation_id=%s" % reservation)["servers"]
        ids = [server["id"] for server in servers]
        for server_id in ids:
            self.made_one("servers", server_id)
        if len(ids) != count:
            raise Failed("asked for %d servers in one request (reservation %s), Nova lists %d"
                         % (count, reservation, len(ids)))
        return ids

    def chain(self, name, steps):
        """Run steps [(op, function)] in order with the chain's own connections; a failure ends the chain."""
        member, admin = Cloud(self.member_cloud), Cloud(self.admin_cloud)
        state = {}
        for i, (op, step) in enumerate(steps):
            started = time.monotonic()
            try:
                detail = step(member, admin, state, started) or ""
            except Exception as exc:  # every failure is reported as the operation's
                self.record(name, op, False, started, str(exc))
                for later in steps[i + 1:]:
                    self.record(name, later[0], False, time.monotonic(), "not reached: %s failed" % op)
                return
            self.record(name, op, True, started, detail)

    # -- lifecycle -------------------------------------------------------------------------------------------
    def lifecycle(self):
        def keypair(member, admin, state, started):
            key = member.call("compute", "post", "/os-keypairs", json={"keypair": {"name": PREFIX + "key"}})
            self.made_one("keypairs", PREFIX + "key")
            state["key"] = key["keypair"]["name"]
            return "fingerprint %s" % key["keypair"]["fingerprint"]

        def create(member, admin, state, started):
            state["id"] = self.create(member, PREFIX + "lifecycle", key_name=state["key"])
            s = member.wait(state["id"], "ACTIVE", started)
            if s.get("key_name") != state["key"]:
                raise Failed("server %s has keypair %r, not %r" % (s["name"], s.get("key_name"), state["key"]))
            return "ACTIVE with keypair %s" % state["key"]

        def listed(member, admin, state, started):
            names = [s["name"] for s in member.call("compute", "get", "/servers")["servers"]]
            if PREFIX + "lifecycle" not in names:
                raise Failed("server list shows %s" % names)
            return "%d servers listed" % len(names)

        def show(member, admin, state, started):
            s = member.server(state["id"])
            if s["status"] != "ACTIVE" or not s["addresses"]:
                raise Failed("server show: %s, addresses %s" % (s["status"], s["addresses"]))
            return "addresses %s" % s["addresses"]

        def act(body, status):
            def step(member, admin, state, started):
                member.action(state["id"], body)
                member.wait(state["id"], status, started)
                return status
            return step

        def rebuild(member, admin, state, started):
            member.action(state["id"], {"rebuild": {"imageRef": self.image}})
            # the rebuild is accepted with status REBUILD; wait for that to pass
            member.wait(state["id"], "ACTIVE", started)
            return "ACTIVE"

        def delete(member, admin, state, started):
            member.call("compute", "delete", "/servers/%s" % state["id"])
            member.wait_gone(state["id"], started)
            return "gone"

        self.chain("lifecycle", [
            ("create a keypair", keypair), ("create a server", create), ("list servers", listed),
            ("show the server", show), ("stop", act({"os-stop": None}, "SHUTOFF")),
            ("start", act({"os-start": None}, "ACTIVE")),
            ("soft reboot", act({"reboot": {"type": "SOFT"}}, "ACTIVE")),
            ("hard reboot", act({"reboot": {"type": "HARD"}}, "ACTIVE")),
            ("rebuild", rebuild), ("delete", delete)])

    # -- moves -----------------------------------------------------------------------------------------------
    def moves(self):
        def create(member, admin, state, started):
            state["id"] = self.create(member, PREFIX + "moves")
            member.wait(state["id"], "ACTIVE", started)
            state["host"] = admin.server(state["id"])["OS-EXT-SRV-ATTR:host"]
            return "ACTIVE on %s" % state["host"]

        def resize(member, admin, state, started):
            member.action(state["id"], {"resize": {"flavorRef": self.bigger}})
            member.wait(state["id"], "VERIFY_RESIZE", started)
            member.action(state["id"], {"confirmResize": None})
            s = member.wait(state["id"], "ACTIVE", started)
            host = admin.server(state["id"])["OS-EXT-SRV-ATTR:host"]
            if s["flavor"].get("original_name", s["flavor"].get("id")) not in (PREFIX + "resized", self.bigger):
                raise Failed("after the resize the flavor is %s" % s["flavor"])
            if host == state["host"]:
                raise Failed("resized on the same host %s" % host)
            return "%s -> %s, confirmed" % (state["host"], host)

        def image(member, admin, state, started):
            member.action(state["id"], {"createImage": {"name": PREFIX + "snapshot"}})
            while True:
                found = member.call("image", "get", "/images?name=%s" % (PREFIX + "snapshot"))["images"]
                for img in found:
                    if img["id"] not in self.made["images"]:
                        self.made_one("images", img["id"])
                if found and found[0]["status"] == "active":
                    return "image %s active, %s bytes, owner %s" % (found[0]["id"], found[0]["size"],
                                                                    found[0]["owner"])
                if found and found[0]["status"] in ("killed", "deleted"):
                    raise Failed("image of the server is %s" % found[0]["status"])
                if time.monotonic() - started > WAIT:
                    raise Failed("no active image of the server after %s s (%s)" % (WAIT, found))
                time.sleep(1)

        def console(member, admin, state, started):
            url = member.action(state["id"], {"os-getVNCConsole": {"type": "novnc"}})["console"]["url"]
            with urllib.request.urlopen(url, timeout=30) as resp:
                if resp.status != 200:
                    raise Failed("console URL %s answered HTTP %s" % (url, resp.status))
            return "noVNC answers at %s; %s" % (url.split("?")[0], rfb_through_proxy(url))

        def delete(member, admin, state, started):
            member.call("compute", "delete", "/servers/%s" % state["id"])
            member.wait_gone(state["id"], started)
            return "gone"

        self.chain("moves", [("create a server", create), ("resize and confirm", resize),
                             ("create an image of the server", image), ("console URL", console),
                             ("delete", delete)])

    # -- server groups ---------------------------------------------------------------------------------------
    def groups(self):
        def group_step(policy, want_hosts):
            def step(member, admin, state, started):
                name = PREFIX + policy
                group = member.call("compute", "post", "/os-server-groups",
                                    json={"server_group": {"name": name, "policies": [policy]}})["server_group"]
                self.made_one("groups", group["id"])
                # both servers in one request, as Nova asks of group members: two requests scheduled at
                # once can both pick a host before either is in the group, and the compute host's late
                # check then reschedules one until every host is exhausted (seen in CI with affinity)
                ids = self.create_many(member, name, 2, hints={"group": group["id"]})
                for server_id in ids:
                    member.wait(server_id, "ACTIVE", started)
                hosts = [admin.server(server_id)["OS-EXT-SRV-ATTR:host"] for server_id in ids]
                if len(set(hosts)) != want_hosts:
                    raise Failed("the %s group's servers run on %s" % (policy, hosts))
                for server_id in ids:
                    member.call("compute", "delete", "/servers/%s" % server_id)
                for server_id in ids:
                    member.wait_gone(server_id, started)
                member.call("compute", "delete", "/os-server-groups/%s" % group["id"])
                return "on %s, deleted" % hosts
            return step

        self.chain("groups", [("server group with affinity", group_step("affinity", 1)),
                              ("server group with anti-affinity", group_step("anti-affinity", 2))])

    def cleanup(self):
        """Delete what the run made (already gone: nothing to do), servers waited for."""
        member = Cloud(self.member_cloud)
        started = time.monotonic()
        for server_id in self.made["servers"]:
            member.conn.compute.delete("/servers/%s" % server_id)
        for server_id in self.made["servers"]:
            member.wait_gone(server_id, started)
        for group_id in self.made["groups"]:
            member.conn.compute.delete("/os-server-groups/%s" % group_id)
        for name in self.made["keypairs"]:
            member.conn.compute.delete("/os-keypairs/%s" % name)
        for image_id in self.made["images"]:
            member.conn.image.delete("/images/%s" % image_id)


def main():
    run = Run(*sys.argv[1:6])
    threads = [threading.Thread(target=chain) for chain in (run.lifecycle, run.moves)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # alone: not while a resize holds disk on both compute hosts (seen in CI: "No valid host was found"
        # for the affinity group's servers, asked for in one request)
        run.groups()
    finally:
        run.cleanup()
    print(json.dumps({"operations": run.results}))


if __name__ == "__main__":
    main()
