#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""doadmin driven as a user drives it: a download, Ctrl-C in the middle of one, bad usage.

usage: test_doadmin.py <wine> <doadmin.exe> <test root>

Ctrl-C is a SIGINT sent to doadmin's Unix process, as a terminal sends it: Wine delivers it to
the program's console control handlers as CTRL_C_EVENT on a new thread. GenerateConsoleCtrlEvent
cannot be used instead: it needs a console, and a Wine program run by ctest has none (nor can it
allocate one without a display)."""
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

DEADLINE_S = 60


def default_sigint():
    """A shell without job control starts background commands with SIGINT ignored; doadmin
    must receive it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def winpath(path):
    return "Z:" + os.path.abspath(path).replace("/", "\\")


class Doadmin:
    """One doadmin run; its output goes to files, which Wine's helpers cannot keep open."""

    def __init__(self, wine, exe, scratch, *args):
        self.out_path = os.path.join(scratch, "stdout.txt")
        self.err_path = os.path.join(scratch, "stderr.txt")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([wine, exe, *args], stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err, preexec_fn=default_sigint)

    def stdout(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait(self):
        try:
            return self.proc.wait(DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail(f"doadmin still running {DEADLINE_S} s later", self)

    def bar(self):
        """The last progress line drawn, or ''."""
        lines = [s for s in re.split(r"[\r\n]+", self.stdout()) if s.startswith("[")]
        return lines[-1] if lines else ""

    def percent(self):
        """The last percentage the progress bar showed, or None."""
        shown = re.search(r"\]\s+(\d+\.\d)%", self.bar())
        return float(shown.group(1)) if shown else None


def fail(message, run=None):
    if run:
        # The progress bar redraws itself every 100 ms: its last line says enough.
        lines = [s for s in re.split(r"[\r\n]+", run.stdout()) if not s.startswith("[")]
        message += (f"\n--- last progress line ---\n{run.bar()}\n--- other output ---\n"
                    + "\n".join(lines) + f"\n--- stderr ---\n{run.stderr()}")
    raise AssertionError(message)


def scratch_dir(root, name):
    path = os.path.join(root, "tmp", name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def test_transfer(wine, exe, root, port):
    """A download ends with exit code 0 and the served bytes at the local name."""
    scratch = scratch_dir(root, "doadmin_transfer")
    dest = os.path.join(scratch, "4m.bin")
    run = Doadmin(wine, exe, scratch, "/transfer", "doadmin test",
                  f"http://127.0.0.1:{port}/4m.bin", winpath(dest))
    code = run.wait()
    if code != 0:
        fail(f"doadmin exited with {code}; expected 0", run)
    with open(os.path.join(root, "www", "4m.bin"), "rb") as f:
        served = f.read()
    with open(dest, "rb") as f:
        if f.read() != served:
            fail(f"{dest} differs from the served file", run)
    if "done: " not in run.stdout():
        fail("no 'done:' line", run)


class TricklingServer:
    """Answers every GET with a 64 MiB body that it sends 4 KiB at a time every 50 ms: a
    transfer that goes on far longer than the test, whatever the machine's speed, so that only
    Ctrl-C ends it. (It keeps sending: after a cancel, a server that has fallen silent holds
    doadmin's exit until the engine's 60 s silence timeout, an engine matter.)"""

    SIZE = 64 << 20

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn):
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                data = conn.recv(4096)
                if not data:
                    return
                request += data
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                         b"Content-Type: application/octet-stream\r\n\r\n" % self.SIZE)
            if request.startswith(b"HEAD "):
                return
            try:
                for _ in range(self.SIZE // 4096):
                    if self.stop.wait(0.05):
                        return
                    conn.sendall(b"x" * 4096)
            except OSError:
                return  # the client went away

    def close(self):
        self.stop.set()
        self.listener.close()


def test_ctrl_c_cancels(wine, exe, root, port):
    """Ctrl-C during a transfer cancels the job: exit code 1, nothing left on disk."""
    scratch = scratch_dir(root, "doadmin_ctrl_c")
    dest = os.path.join(scratch, "trickled.bin")
    server = TricklingServer()
    try:
        ctrl_c_during_transfer(wine, exe, scratch, dest, server.port)
    finally:
        server.close()


def ctrl_c_during_transfer(wine, exe, scratch, dest, port):
    run = Doadmin(wine, exe, scratch, "/transfer", "doadmin ctrl-c",
                  f"http://127.0.0.1:{port}/trickled.bin", winpath(dest))
    deadline = time.monotonic() + DEADLINE_S
    while not (run.percent() or 0) > 0:
        if run.proc.poll() is not None:
            fail(f"doadmin exited with {run.proc.returncode} before any progress", run)
        if time.monotonic() > deadline:
            fail(f"no progress shown within {DEADLINE_S} s", run)
        time.sleep(0.05)
    run.proc.send_signal(signal.SIGINT)
    code = run.wait()
    percent = run.percent()
    if code != 1:
        fail(f"doadmin exited with {code} after Ctrl-C at {percent}%; expected 1", run)
    if "doadmin: transfer cancelled" not in run.stderr():
        fail("no 'transfer cancelled' message", run)
    if "cancelled" not in run.bar():
        fail("the last progress line does not show the job cancelled", run)
    left = sorted(os.listdir(scratch))
    if os.path.exists(dest) or glob.glob(os.path.join(scratch, "BIT*.tmp")):
        fail(f"files left behind after Ctrl-C: {left}", run)


def test_bad_usage(wine, exe, root, port):
    """Wrong arguments: the usage text and exit code 2."""
    scratch = scratch_dir(root, "doadmin_usage")
    run = Doadmin(wine, exe, scratch, "/transfer", "only a name")
    code = run.wait()
    if code != 2 or "usage:" not in run.stderr():
        fail(f"doadmin exited with {code}; expected 2 and the usage text", run)


def main():
    wine, exe, root = sys.argv[1:4]
    with open(os.path.join(root, "nginx", "port")) as f:
        port = int(f.read())
    failed = 0
    for test in (test_transfer, test_ctrl_c_cancels, test_bad_usage):
        print(f"[ RUN      ] {test.__name__}", flush=True)
        start = time.monotonic()
        try:
            test(wine, exe, root, port)
            print(f"[       OK ] {test.__name__} ({time.monotonic() - start:.1f} s)", flush=True)
        except AssertionError as e:
            print(f"{e}\n[  FAILED  ] {test.__name__}", flush=True)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
