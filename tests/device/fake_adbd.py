"""A small adbd that the real adb server can `adb connect` to: the test stand-in for a phone.

Run as a subprocess (``python fake_adbd.py --root DIR --shell DEVSHELL``); it prints its TCP port
on the first stdout line. It speaks the adb transport protocol as AOSP's ``protocol.txt``,
``SERVICES.TXT`` and ``SYNC.TXT`` describe it:

* 24-byte little-endian headers ``command, arg0, arg1, data_length, data_crc32, magic``; we send
  version 0x01000001 so neither side checks the crc; CNXN is answered with CNXN (no AUTH), unless
  ``--unauthorized`` (then AUTH TOKEN forever: the server shows the device as "unauthorized").
* one stream per OPEN; every WRTE we receive is acknowledged with one OKAY, and we wait for the
  peer's OKAY before sending our next WRTE (no delayed-ack feature advertised).
* ``shell,v2,...:CMD``: packets of 1-byte id + 4-byte LE length (0 stdin, 1 stdout, 2 stderr,
  3 exit code, 4 close stdin); ``shell:CMD`` (v1) is raw output only.
* ``sync:``: STAT, LIST, SEND (with DATA/DONE), RECV, QUIT (v1 only: we advertise
  ``shell_v2,cmd,fixed_push_mkdir`` and not stat_v2/ls_v2/sendrecv_v2).

Commands run through ``--shell`` (a POSIX sh wrapper that sets up the emulated device: ``python3``
is the aarch64 CPython under qemu-user) with the device root as working directory.
Fault injection: ``--drop-match TEXT --drop-after S`` makes the device vanish (all connections
closed, listener shut, children killed) S seconds after a shell command containing TEXT starts;
``--max-file-size N`` is a real RLIMIT_FSIZE on everything the device writes ("disk full").
"""
from __future__ import annotations

import argparse
import os
import resource
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
from typing import Dict, Optional

A_CNXN, A_AUTH, A_OPEN, A_OKAY, A_CLSE, A_WRTE = (
    0x4E584E43, 0x48545541, 0x4E45504F, 0x59414B4F, 0x45534C43, 0x45545257)
VERSION = 0x01000001  # "skip checksums" version
MAX_PAYLOAD = 256 * 1024
AUTH_TOKEN, AUTH_SIGNATURE, AUTH_RSAPUBLICKEY = 1, 2, 3
FEATURES = "shell_v2,cmd,fixed_push_mkdir"
SYNC_DATA_MAX = 64 * 1024

CHILDREN: "set[int]" = set()  # process-group ids of running shell commands
CHILD_LOCK = threading.Lock()


def kill_children() -> None:
    with CHILD_LOCK:
        for pgid in list(CHILDREN):
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Stream:
    """One adb stream (service) on a connection; ``feed`` gets the peer's WRTE payloads."""

    def __init__(self, conn: "Connection", local_id: int, remote_id: int) -> None:
        self.conn, self.local_id, self.remote_id = conn, local_id, remote_id
        self.buf = bytearray()
        self.cond = threading.Condition()
        self.closed = False
        self.okay = threading.Semaphore(0)
        self.on_data = None  # optional callback used by shell v2 to forward stdin
        self.proc: Optional[subprocess.Popen] = None

    # incoming ---------------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        with self.cond:
            self.buf.extend(data)
            self.cond.notify_all()

    def read_exact(self, n: int) -> Optional[bytes]:
        with self.cond:
            while len(self.buf) < n and not self.closed:
                self.cond.wait(1.0)
            if len(self.buf) < n:
                return None
            out = bytes(self.buf[:n])
            del self.buf[:n]
            return out

    def close_from_peer(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        self.okay.release()
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    # outgoing ---------------------------------------------------------------------------------
    def write(self, data: bytes) -> bool:
        view = memoryview(data)
        step = self.conn.max_payload
        for i in range(0, len(view), step):
            if self.closed or self.conn.dead:
                return False
            self.conn.send(A_WRTE, self.local_id, self.remote_id, bytes(view[i:i + step]))
            if not self.okay.acquire(timeout=60) or self.closed:
                return False
        return True

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.conn.send(A_CLSE, self.local_id, self.remote_id)
        self.conn.streams.pop(self.local_id, None)


class Connection:
    """One transport connection from the adb server."""

    def __init__(self, sock: socket.socket, server: "Device") -> None:
        self.sock, self.server = sock, server
        self.send_lock = threading.Lock()
        self.streams: Dict[int, Stream] = {}
        self.next_id = 1
        self.max_payload = 4096
        self.dead = False

    def send(self, cmd: int, arg0: int, arg1: int, data: bytes = b"") -> None:
        header = struct.pack("<6I", cmd, arg0, arg1, len(data), 0, cmd ^ 0xFFFFFFFF)
        with self.send_lock:
            try:
                self.sock.sendall(header + data)
            except OSError:
                self.dead = True

    def recv_exact(self, n: int) -> Optional[bytes]:
        chunks = bytearray()
        while len(chunks) < n:
            try:
                part = self.sock.recv(n - len(chunks))
            except OSError:
                return None
            if not part:
                return None
            chunks.extend(part)
        return bytes(chunks)

    def serve(self) -> None:
        try:
            while not self.dead:
                header = self.recv_exact(24)
                if header is None:
                    break
                cmd, arg0, arg1, length, _crc, _magic = struct.unpack("<6I", header)
                data = self.recv_exact(length) if length else b""
                if data is None:
                    break
                self.dispatch(cmd, arg0, arg1, data)
        finally:
            self.dead = True
            for s in list(self.streams.values()):
                s.close_from_peer()
            try:
                self.sock.close()
            except OSError:
                pass

    def dispatch(self, cmd: int, arg0: int, arg1: int, data: bytes) -> None:
        if cmd == A_CNXN:
            self.max_payload = max(4096, min(arg1, MAX_PAYLOAD))
            if self.server.args.unauthorized:
                self.send(A_AUTH, AUTH_TOKEN, 0, os.urandom(20))
            else:
                self.send(A_CNXN, VERSION, MAX_PAYLOAD, self.server.banner())
        elif cmd == A_AUTH:
            if arg0 == AUTH_SIGNATURE:  # no key is ever accepted: ask again, like a phone whose prompt is ignored
                self.send(A_AUTH, AUTH_TOKEN, 0, os.urandom(20))
        elif cmd == A_OPEN:
            service = data.rstrip(b"\0").decode("utf-8", "replace")
            local_id = self.next_id
            self.next_id += 1
            stream = Stream(self, local_id, arg0)
            self.streams[local_id] = stream
            handler = self.server.handler_for(service)
            if handler is None:
                self.send(A_CLSE, 0, arg0)
                self.streams.pop(local_id, None)
                return
            self.send(A_OKAY, local_id, arg0)
            threading.Thread(target=self.server.run_service, args=(handler, stream, service), daemon=True).start()
        elif cmd == A_OKAY:
            s = self.streams.get(arg1)
            if s:
                s.okay.release()
        elif cmd == A_WRTE:
            s = self.streams.get(arg1)
            if s:
                self.send(A_OKAY, arg1, arg0)
                if s.on_data:
                    s.on_data(data)
                else:
                    s.feed(data)
        elif cmd == A_CLSE:
            s = self.streams.pop(arg1, None)
            if s:
                s.close_from_peer()


class Device:
    """The listening device: accepts adb server connections and runs services."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.root = os.path.abspath(args.root)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", args.port))
        self.listener.listen(8)
        self.connections: "list[Connection]" = []
        self.gone = False

    def banner(self) -> bytes:
        props = f"ro.product.name={self.args.product};ro.product.model={self.args.model};ro.product.device={self.args.product};"
        return f"device::{props}features={FEATURES}".encode()

    def serve_forever(self) -> None:
        while not self.gone:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                break
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Connection(sock, self)
            self.connections.append(conn)
            threading.Thread(target=conn.serve, daemon=True).start()

    def vanish(self) -> None:
        """The device 'goes away': children killed, every socket closed, no more connections."""
        self.gone = True
        kill_children()
        try:
            self.listener.close()
        except OSError:
            pass
        for conn in self.connections:
            conn.dead = True
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
                conn.sock.close()
            except OSError:
                pass

    # services ---------------------------------------------------------------------------------
    def handler_for(self, service: str):
        if service.startswith("shell"):
            return self.shell_service
        if service == "sync:":
            return self.sync_service
        return None

    def run_service(self, handler, stream: Stream, service: str) -> None:
        try:
            handler(stream, service)
        except Exception as exc:  # keep the device up; the test sees the stream closing
            sys.stderr.write(f"fake_adbd: {service}: {exc!r}\n")
        finally:
            stream.close()

    def shell_service(self, stream: Stream, service: str) -> None:
        head, _, command = service.partition(":")
        v2 = "v2" in head.split(",")
        argv = [self.args.shell, "-c", command] if command else [self.args.shell]
        proc = subprocess.Popen(argv, cwd=self.root, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE if v2 else subprocess.STDOUT, start_new_session=True)
        stream.proc = proc
        with CHILD_LOCK:
            CHILDREN.add(proc.pid)
        if self.args.drop_match and self.args.drop_match in command:
            timer = threading.Timer(self.args.drop_after, self.vanish)
            timer.daemon = True
            timer.start()
        lock = threading.Lock()

        def send_packet(pid: int, payload: bytes) -> None:
            with lock:
                if v2:
                    stream.write(struct.pack("<BI", pid, len(payload)) + payload)
                else:
                    stream.write(payload)

        pending = bytearray()

        def on_stdin(data: bytes) -> None:
            if not v2:
                _write_stdin(proc, data)
                return
            pending.extend(data)
            while len(pending) >= 5:
                pid, length = struct.unpack("<BI", pending[:5])
                if len(pending) < 5 + length:
                    break
                payload = bytes(pending[5:5 + length])
                del pending[:5 + length]
                if pid == 0:
                    _write_stdin(proc, payload)
                elif pid == 4:
                    _close_stdin(proc)

        stream.on_data = on_stdin

        def pump(fh, pid: int) -> None:
            for chunk in iter(lambda: os.read(fh.fileno(), 65536), b""):
                send_packet(pid, chunk)

        threads = [threading.Thread(target=pump, args=(proc.stdout, 1), daemon=True)]
        if v2:
            threads.append(threading.Thread(target=pump, args=(proc.stderr, 2), daemon=True))
        for t in threads:
            t.start()
        code = proc.wait()
        for t in threads:
            t.join(timeout=5)
        with CHILD_LOCK:
            CHILDREN.discard(proc.pid)
        if v2 and not stream.closed:
            send_packet(3, bytes([code & 0xFF]))

    def sync_service(self, stream: Stream, service: str) -> None:
        while True:
            head = stream.read_exact(8)
            if head is None:
                return
            ident, length = head[:4], struct.unpack("<I", head[4:])[0]
            if ident == b"QUIT":
                return
            arg = stream.read_exact(length) if length else b""
            if arg is None:
                return
            path = arg.decode("utf-8", "surrogateescape")
            if ident == b"STAT":
                try:
                    st = os.stat(path)
                    stream.write(b"STAT" + struct.pack("<3I", st.st_mode & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF,
                                                       int(st.st_mtime)))
                except OSError:
                    stream.write(b"STAT" + struct.pack("<3I", 0, 0, 0))
            elif ident == b"LIST":
                out = bytearray()
                try:
                    names = sorted(os.listdir(path))
                except OSError:
                    names = []
                for name in [".", ".."] + names:
                    try:
                        st = os.lstat(os.path.join(path, name))
                    except OSError:
                        continue
                    raw = name.encode("utf-8", "surrogateescape")
                    out += b"DENT" + struct.pack("<4I", st.st_mode, st.st_size & 0xFFFFFFFF, int(st.st_mtime), len(raw)) + raw
                out += b"DONE" + struct.pack("<4I", 0, 0, 0, 0)
                stream.write(bytes(out))
            elif ident == b"SEND":
                if not self._sync_recv_file(stream, path):
                    return
            elif ident == b"RECV":
                self._sync_send_file(stream, path)
            else:
                self._fail(stream, f"unknown sync request {ident!r}")
                return

    def _sync_recv_file(self, stream: Stream, spec: str) -> bool:
        path, _, mode_s = spec.rpartition(",")
        mode = int(mode_s) if mode_s.isdigit() else 0o644
        error = None
        fh = None
        try:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)  # fixed_push_mkdir
            fh = open(path, "wb")
        except OSError as exc:
            error = f"couldn't create file: {exc.strerror}"
        while True:
            head = stream.read_exact(8)
            if head is None:
                return False
            ident, length = head[:4], struct.unpack("<I", head[4:])[0]
            if ident == b"DATA":
                data = stream.read_exact(length)
                if data is None:
                    return False
                if fh is not None and error is None:
                    try:
                        fh.write(data)
                    except OSError as exc:
                        error = f"write failed: {exc.strerror}"
            elif ident == b"DONE":
                mtime = length
                if fh is not None:
                    try:
                        fh.close()
                    except OSError as exc:
                        error = error or f"write failed: {exc.strerror}"
                if error is None:
                    try:
                        os.chmod(path, stat.S_IMODE(mode) or 0o644)
                        os.utime(path, (mtime, mtime))
                    except OSError:
                        pass
                    stream.write(b"OKAY" + struct.pack("<I", 0))
                    return True
                if fh is not None:
                    try:
                        os.unlink(path)
                    except OSError:
                        pass
                self._fail(stream, error)
                return True
            else:
                self._fail(stream, f"unexpected {ident!r} during SEND")
                return False

    def _sync_send_file(self, stream: Stream, path: str) -> None:
        try:
            with open(path, "rb") as fh:
                while True:
                    block = fh.read(SYNC_DATA_MAX)
                    if not block:
                        break
                    if not stream.write(b"DATA" + struct.pack("<I", len(block)) + block):
                        return
        except OSError as exc:
            self._fail(stream, exc.strerror or str(exc))
            return
        stream.write(b"DONE" + struct.pack("<I", 0))

    @staticmethod
    def _fail(stream: Stream, message: str) -> None:
        raw = message.encode()
        stream.write(b"FAIL" + struct.pack("<I", len(raw)) + raw)


def _write_stdin(proc: subprocess.Popen, data: bytes) -> None:
    try:
        proc.stdin.write(data)
        proc.stdin.flush()
    except (OSError, ValueError):
        pass


def _close_stdin(proc: subprocess.Popen) -> None:
    try:
        proc.stdin.close()
    except OSError:
        pass


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", required=True, help="device root: working directory of shell commands")
    p.add_argument("--shell", default="/bin/sh", help="the device's sh (a wrapper that sets up the emulated device)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--model", default="edgeocr_emulated_arm64")
    p.add_argument("--product", default="edgeocr_qemu_aarch64")
    p.add_argument("--unauthorized", action="store_true", help="never accept the host's key")
    p.add_argument("--drop-match", default="", help="vanish while a shell command containing this text runs")
    p.add_argument("--drop-after", type=float, default=1.0)
    p.add_argument("--max-file-size", type=int, default=0, help="RLIMIT_FSIZE in bytes for the device (disk full)")
    args = p.parse_args()
    if args.max_file_size:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (args.max_file_size, args.max_file_size))
    dev = Device(args)

    def on_term(signum, frame):  # noqa: ARG001
        dev.vanish()
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    sys.stdout.write(f"{dev.listener.getsockname()[1]}\n")
    sys.stdout.flush()
    dev.serve_forever()
    kill_children()


if __name__ == "__main__":
    main()
