#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""doadmin driven as a user drives it: every verb, one process a command, against the test nginx.

usage: test_doadmin.py <wine> <doadmin.exe> <test root>

The job store is the folder OPENDO_STATE_DIR names (ctest sets it to <test root>/state/test_doadmin,
emptied here first), so the commands of one test share their jobs through it as separate
processes do.

Ctrl-C is a SIGINT sent to doadmin's Unix process, as a terminal sends it: Wine delivers it to
the program's console control handlers as CTRL_C_EVENT on a new thread. GenerateConsoleCtrlEvent
cannot be used instead: it needs a console, and a Wine program run by ctest has none (nor can it
allocate one without a display). A console does exist when Wine runs on a pseudo-terminal: that
is how test_console_progress sees the console output."""
import concurrent.futures
import glob
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

DEADLINE_S = 60
GUID_RE = re.compile(r"^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$")
NOT_FOUND = "0x80200001"  # BG_E_NOT_FOUND


def default_sigint():
    """A shell without job control starts background commands with SIGINT ignored; doadmin
    must receive it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wine_env():
    """Wine maps arguments and file names through the Unix locale: a UTF-8 one keeps every
    character (as scripts/utf8locale.sh does for the scripts)."""
    env = dict(os.environ)
    codeset = (env.get("LC_ALL") or env.get("LC_CTYPE") or env.get("LANG") or "").upper()
    if "UTF-8" not in codeset and "UTF8" not in codeset:
        env["LC_ALL"] = "C.UTF-8"
    return env


def winpath(path):
    return "Z:" + os.path.abspath(path).replace("/", "\\")


class Doadmin:
    """One doadmin run; its output goes to files, which Wine's helpers cannot keep open."""

    count = 0
    lock = threading.Lock()

    def __init__(self, env, *args):
        with Doadmin.lock:
            Doadmin.count += 1
            n = Doadmin.count
        self.args = args
        self.out_path = os.path.join(env.scratch, f"stdout.{n}.txt")
        self.err_path = os.path.join(env.scratch, f"stderr.{n}.txt")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([env.wine, env.exe, *args], stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err, env=wine_env(),
                                         preexec_fn=default_sigint)

    def raw_stdout(self):
        with open(self.out_path, "rb") as f:
            return f.read()

    def stdout(self):
        return self.raw_stdout().decode("utf-8")

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

    def percent(self):
        """The last percentage a progress line showed, or None."""
        shown = re.findall(r"(\d+\.\d)%", self.stdout())
        return float(shown[-1]) if shown else None


def fail(message, run=None):
    if run:
        message += (f"\n--- doadmin {' '.join(run.args)} ---\n{run.stdout()}"
                    f"--- stderr ---\n{run.stderr()}")
    raise AssertionError(message)


class Env:
    def __init__(self, wine, exe, root, port):
        self.wine, self.exe, self.root, self.port = wine, exe, root, port
        self.scratch = None

    def url(self, path):
        return f"http://127.0.0.1:{self.port}/{path}"

    def served(self, name):
        with open(os.path.join(self.root, "www", name), "rb") as f:
            return f.read()

    def start(self, *args):
        return Doadmin(self, *args)

    def run(self, *args, code=0, out=None, err=None):
        """Runs doadmin to its end; checks its exit code and that stdout/stderr contain the
        given texts. Returns the run."""
        run = Doadmin(self, *args)
        got = run.wait()
        if got != code:
            fail(f"exit code {got}; expected {code}", run)
        for text in [out] if isinstance(out, str) else (out or []):
            if text not in run.stdout():
                fail(f"no {text!r} in stdout", run)
        for text in [err] if isinstance(err, str) else (err or []):
            if text not in run.stderr():
                fail(f"no {text!r} in stderr", run)
        if b"\r" in run.raw_stdout() or b"\x1b" in run.raw_stdout():
            fail("a carriage return or an escape code in redirected output", run)
        return run

    def create(self, name):
        guid = self.run("/rawreturn", "/create", name).stdout()
        if not GUID_RE.match(guid):
            fail(f"/rawreturn /create printed {guid!r}, not a bare GUID")
        return guid

    def info(self, job):
        run = self.run("--json", "/info", job)
        try:
            return json.loads(run.stdout())
        except ValueError as e:
            fail(f"/info --json is not JSON: {e}", run)

    def get(self, verb, job):
        return self.run("/rawreturn", verb, job).stdout()


def scratch_dir(root, name):
    path = os.path.join(root, "tmp", name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def same_bytes(env, path, expected, run=None):
    if not os.path.exists(path):
        fail(f"{path} does not exist", run)
    with open(path, "rb") as f:
        data = f.read()
    if data != expected:
        fail(f"{path}: {len(data)} bytes differ from the {len(expected)} expected", run)


def test_transfer(env):
    """/transfer of two files at a given priority: exit code 0, the served bytes at both local
    names, plain progress lines (no '\\r') since the output is a file."""
    hello, big = os.path.join(env.scratch, "hello.txt"), os.path.join(env.scratch, "4m.bin")
    run = env.run("/transfer", "doadmin test", "/download", "/priority", "high",
                  env.url("hello.txt"), winpath(hello), env.url("4m.bin"), winpath(big),
                  out=["done: " + winpath(hello), "done: " + winpath(big), "Transfer complete."])
    same_bytes(env, hello, env.served("hello.txt"), run)
    same_bytes(env, big, env.served("4m.bin"), run)
    if not re.search(r"^100\.0%.*TRANSFERRED$", run.stdout(), re.M):
        fail("no final progress line at 100% TRANSFERRED", run)
    env.run("/info", "doadmin test", code=3, err="no job is named 'doadmin test'")


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


def wait_for(run, what, condition):
    """Polls run's output until condition() holds, with a deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if run.proc.poll() is not None:
            fail(f"doadmin exited with {run.proc.returncode} before {what}", run)
        if time.monotonic() > deadline:
            fail(f"no {what} within {DEADLINE_S} s", run)
        time.sleep(0.05)


def test_ctrl_c_cancels(env):
    """Ctrl-C during a transfer cancels the job: exit code 1, nothing left on disk."""
    dest = os.path.join(env.scratch, "trickled.bin")
    server = TricklingServer()
    try:
        run = env.start("/transfer", "doadmin ctrl-c",
                        f"http://127.0.0.1:{server.port}/trickled.bin", winpath(dest))
        wait_for(run, "progress", lambda: (run.percent() or 0) > 0)
        run.proc.send_signal(signal.SIGINT)
        code = run.wait()
    finally:
        server.close()
    if code != 1:
        fail(f"doadmin exited with {code} after Ctrl-C at {run.percent()}%; expected 1", run)
    if "doadmin: transfer cancelled" not in run.stderr():
        fail("no 'transfer cancelled' message", run)
    if not run.stdout().rstrip().endswith("CANCELLED"):
        fail("the last progress line does not show the job CANCELLED", run)
    left = sorted(os.listdir(env.scratch))
    if os.path.exists(dest) or glob.glob(os.path.join(env.scratch, "BIT*.tmp")):
        fail(f"files left behind after Ctrl-C: {left}", run)


def test_shared_store(env):
    """A job made by one doadmin process is filled, started, watched and completed by later
    ones: /create, /addfile by name, /addfilewithranges and /addfileset by GUID, /resume,
    /wait, /complete, each its own process."""
    big = os.path.join(env.scratch, "4m.bin")
    ranged = os.path.join(env.scratch, "ranged.bin")
    spaced = os.path.join(env.scratch, "with space.txt")
    listed = os.path.join(env.scratch, "listed.bin")
    job = env.create("shared job")
    env.run("/addfile", "shared job", env.url("4m.bin"), winpath(big), out="Added")
    env.run("/addfilewithranges", job, env.url("ranges.bin"), winpath(ranged), "0:8,4000:eof",
            out="(2 ranges)")
    fileset = os.path.join(env.scratch, "files.txt")
    with open(fileset, "w", encoding="utf-8") as f:
        f.write(f'{env.url("hello.txt")} "{winpath(spaced)}"\n\n'
                f'{env.url("slow/8m.bin")} {winpath(listed)}\n')
    env.run("/addfileset", job, winpath(fileset), out="Added 2 file(s)")
    env.run("/listfiles", job, out=["Listed 4 file(s).", winpath(spaced)])
    info = env.info(job)
    if (info["id"], info["name"], info["state"], info["files_total"]) != \
            (job, "shared job", "SUSPENDED", 4):
        fail(f"/info after the adds: {info}")
    env.run("/resume", job, out="Job resumed.")
    if env.get("/getstate", job) not in ("QUEUED", "CONNECTING", "TRANSFERRING", "TRANSFERRED"):
        fail(f"state after /resume: {env.get('/getstate', job)}")
    run = env.run("/wait", job, "/timeout", "50")
    if "TRANSFERRED" not in run.stdout().splitlines()[-1]:
        fail("the last line of /wait does not say TRANSFERRED", run)
    ranges = env.served("ranges.bin")
    expected = {big: env.served("4m.bin"), ranged: ranges[:8] + ranges[4000:],
                spaced: env.served("hello.txt"), listed: env.served("slow/8m.bin")}
    total = sum(len(v) for v in expected.values())
    if env.get("/getbytestransferred", job) != str(total):
        fail(f"/getbytestransferred: {env.get('/getbytestransferred', job)}; expected {total}")
    info = env.info(job)
    if (info["state"], info["bytes_total"], info["bytes_transferred"], info["files_transferred"],
            info["completion_time"] is None) != ("TRANSFERRED", total, total, 4, False):
        fail(f"/info of the transferred job: {info}")
    if os.path.exists(big):
        fail("a file appeared before /complete")
    env.run("/complete", job, out="Job completed.")
    for path, data in expected.items():
        same_bytes(env, path, data)
    env.run("/getstate", job, code=3, err=NOT_FOUND)


def test_json(env):
    """--json output parses with Python's json module and matches the job, whatever characters
    its strings hold; /list --json holds every job."""
    odd = 'jsön "quoted" back\\slash\ttab \u65e5\u672c'
    first = env.create(odd)
    second = env.create("plain json")
    env.run("/setdescription", first, "line one\nline two")
    env.run("/addfile", second, env.url("4m.bin"), winpath(os.path.join(env.scratch, "j.bin")))
    run = env.run("--json", "/list")
    try:
        listed = json.loads(run.stdout())
    except ValueError as e:
        fail(f"/list --json is not JSON: {e}", run)
    jobs = {j["id"]: j for j in listed["jobs"]}
    if first not in jobs or second not in jobs:
        fail(f"/list --json lacks a job: {sorted(jobs)}", run)
    a, b = jobs[first], jobs[second]
    if a["name"] != odd or a["description"] != "line one\nline two":
        fail(f"strings came back as {a['name']!r}, {a['description']!r}", run)
    if (b["files_total"], b["bytes_total"], b["files"][0]["remote"], b["error"]) != \
            (1, None, env.url("4m.bin"), None):
        fail(f"/list --json shows the second job as {b}", run)
    if env.info(odd)["id"] != first:
        fail("/info by a display name of odd characters found another job")
    text = env.run("/list").stdout()
    if f"{first} '{odd}' SUSPENDED 0 / 0 0 / 0" not in text or "Listed" not in text:
        fail("/list's line of the job", None)
    env.run("/json", "/info", "plain json", "/verbose")
    env.run("--json", "/resume", second, code=2, err="has no JSON output")
    env.run("/cancel", first, out="Job canceled.")
    env.run("/cancel", second)


def test_settings(env):
    """Every setter, read back through /info --json and the getters; custom headers reach the
    server."""
    echo = os.path.join(env.scratch, "echo.txt")
    job = env.create("settings")
    for args in (("/setdisplayname", job, "settings two"),
                 ("/setdescription", job, "described"),
                 ("/setpriority", job, "low"),
                 ("/setnotifyflags", job, "0x9"),
                 ("/setnotifycmdline", job, "C:\\windows\\system32\\cmd.exe", "/c exit"),
                 ("/setminretrydelay", job, "7"),
                 ("/setnoprogresstimeout", job, "45"),
                 ("/setmaxdownloadtime", job, "3600"),
                 ("/setproxysettings", job, "OVERRIDE", "proxy1:80", "NULL"),
                 ("/setcredentials", job, "SERVER", "BASIC", "opendo", "secret"),
                 ("/removecredentials", job, "SERVER", "BASIC"),
                 ("/setcustomheaders", job, "X-OpenDO-Test: from-doadmin", "X-Second: 2"),
                 ("/takeownership", job)):
        env.run(*args)
    info = env.info(job)
    want = {"name": "settings two", "description": "described", "priority": "LOW",
            "notify_flags": 9, "notify_program": "C:\\windows\\system32\\cmd.exe",
            "notify_parameters": "/c exit", "min_retry_delay": 7, "no_progress_timeout": 45,
            "proxy_usage": "OVERRIDE", "proxy_list": "proxy1:80", "proxy_bypass_list": None,
            "custom_headers": "X-OpenDO-Test: from-doadmin\r\nX-Second: 2"}
    for key, value in want.items():
        if info[key] != value:
            fail(f"/info --json {key}: {info[key]!r}; expected {value!r}")
    getters = {"/getdisplayname": "settings two", "/getdescription": "described",
               "/getpriority": "LOW", "/getnotifyflags": "9", "/getminretrydelay": "7",
               "/getnoprogresstimeout": "45", "/getproxyusage": "OVERRIDE",
               "/getproxylist": "proxy1:80", "/getproxybypasslist": "NULL",
               "/gettype": "DOWNLOAD", "/getstate": "SUSPENDED", "/getfilestotal": "0",
               "/getfilestransferred": "0", "/getbytestotal": "0", "/geterrorcount": "0",
               "/getnotifycmdline": "'C:\\windows\\system32\\cmd.exe' '/c exit'",
               "/getcustomheaders": "X-OpenDO-Test: from-doadmin\nX-Second: 2\n"}
    getters.update({"/getcompletiontime": "UNKNOWN", "/getprogress": "0.0% 0 / 0 bytes, 0 / 0 files",
                    "/getowner": None, "/getcreationtime": None, "/getmodificationtime": None})

    def check(verb, value):
        got = env.get(verb, job)
        if got != value and not (value is None and got):
            fail(f"{verb}: {got!r}; expected {value if value is not None else 'a value'!r}")

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for f in [pool.submit(check, *item) for item in getters.items()]:
            f.result()
    env.run("/setproxysettings", job, "NO_PROXY")
    env.run("/setcustomheaders", job, "X-OpenDO-Test: from-doadmin")
    env.run("/addfile", job, env.url("echo/header"), winpath(echo))
    env.run("/resume", job)
    env.run("/wait", job, "/timeout", "50")
    env.run("/complete", job)
    with open(echo, "rb") as f:
        if f.read() != b"from-doadmin\n":
            fail("the server did not get the custom header")


def test_suspend_and_errors(env):
    """/suspend stops a job, /wait says so; a 404 ends in ERROR with its code from /geterror,
    /info and /transfer; /cancel leaves nothing."""
    job = env.create("throttled")
    dest = os.path.join(env.scratch, "throttled.bin")
    env.run("/addfile", job, env.url("throttled/24m.bin"), winpath(dest))
    env.run("/resume", job)
    env.run("/suspend", job, out="Job suspended.")
    env.run("/getstate", job, out="SUSPENDED")
    env.run("/wait", job, code=1, err="is SUSPENDED")
    env.run("/cancel", job)
    # Wine's server deletes a file marked for deletion once it has seen the last handle to it
    # close, which for a process that ended may be a moment after the process is gone.
    deadline = time.monotonic() + 5
    while glob.glob(os.path.join(env.scratch, "BIT*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.05)
    if glob.glob(os.path.join(env.scratch, "BIT*.tmp")):
        fail(f"temporary files left after /cancel: {os.listdir(env.scratch)}")

    missing = env.create("missing")
    env.run("/addfile", missing, env.url("no-such-file"), winpath(dest))
    env.run("/geterror", missing, code=1, err="has no error")
    env.run("/resume", missing)
    env.run("/wait", missing, "/timeout", "50", code=1, err="0x80190194")
    env.run("/geterror", missing, out=["ERROR CODE: 0x80190194", env.url("no-such-file")])
    env.run("/info", missing, out=["STATE: ERROR", "ERROR CODE: 0x80190194"])
    error = env.info(missing)["error"]
    if error["code"] != "0x80190194" or error["remote"] != env.url("no-such-file"):
        fail(f"/info --json error: {error}")
    env.run("/cancel", missing)
    env.run("/transfer", "404", env.url("status/404"), winpath(dest), code=1,
            err="transfer failed: 0x80190194")
    if os.path.exists(dest):
        fail("a failed transfer left its file")


def test_usage_errors(env):
    """Bad usage is exit code 2, an unknown job 3, a failed call 1, each with its message."""
    job = env.create("errors")
    env.create("twin")
    env.create("twin")
    checks = [
        (("/frobnicate",), 2, "unknown verb '/frobnicate'"),
        ((), 2, "no verb given"),
        (("/transfer", "only a name"), 2, "usage: doadmin /transfer"),
        (("/transfer", "odd", env.url("hello.txt")), 2, "wrong number of arguments"),
        (("/setpriority", job, "URGENT"), 2, "bad priority 'URGENT'"),
        (("/setpriority", "no such job", "LOW"), 3, "no job is named 'no such job'"),
        (("/transfer", "p", "/priority", "urgent", "a", "b"), 2, "bad priority 'urgent'"),
        (("/info", "{00000000-0000-0000-0000-000000000001}"), 3, NOT_FOUND),
        (("/info", "twin"), 3, "2 jobs are named 'twin'"),
        (("/addfile", job, "htp:/not a url", "x.bin"), 1, "0x80070057"),
        (("/addfilewithranges", job, env.url("4m.bin"), "r.bin", "0:x"), 2, "bad range list"),
        (("/setnotifyflags", job, "many"), 2, "bad number 'many'"),
        (("/setproxysettings", job, "OVERRIDE"), 2, "OVERRIDE needs a proxy list"),
        (("/setcredentials", job, "SERVER", "SECRET", "u", "p"), 2, "bad scheme"),
        (("/resume", job), 1, "0x80200003"),
        (("/monitor", "/refresh", "0"), 2, "bad refresh interval"),
        (("/addfileset", job, "Z:\\no\\such\\list.txt"), 1, "cannot read"),
        (("/help", "/frobnicate"), 2, "unknown verb"),
    ]

    def check(args, code, message):
        env.run(*args, code=code, err=message)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for f in [pool.submit(check, *c) for c in checks]:
            f.result()
    bad_list = os.path.join(env.scratch, "bad.txt")
    with open(bad_list, "w") as f:
        f.write("only-one-word\n")
    env.run("/addfileset", job, winpath(bad_list), code=2, err="bad.txt:1: expected")


def test_help(env):
    """/help lists every verb; /help <verb> (and /? <verb>, and the verb without its slash)
    shows that verb's syntax."""
    listing = env.run("/help", out="Exit codes:").stdout()
    verbs = re.findall(r"^  doadmin (/\w+)", listing, re.M)
    required = {"/transfer", "/create", "/addfile", "/addfilewithranges", "/addfileset",
                "/resume", "/suspend", "/cancel", "/complete", "/info", "/list", "/monitor",
                "/getstate", "/getprogress", "/getbytestransferred", "/geterror",
                "/setpriority", "/setnotifyflags", "/setnotifycmdline", "/setminretrydelay",
                "/setnoprogresstimeout", "/setproxysettings", "/setcredentials",
                "/setcustomheaders", "/reset", "/help", "/wait", "/listfiles"}
    if not required <= set(verbs):
        fail(f"/help lacks {sorted(required - set(verbs))}")

    def check(verb):
        run = env.run("/help", verb, out="doadmin " + verb)
        if len(run.stdout().splitlines()) < 3:
            fail(f"/help {verb} explains nothing", run)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for f in [pool.submit(check, v) for v in verbs]:
            f.result()
    env.run("/?", "setpriority", out="doadmin /setpriority <job> <FOREGROUND|HIGH|NORMAL|LOW>")


def test_monitor(env):
    """/monitor to a file: a block of plain lines per refresh with every job, until Ctrl-C
    (exit code 0)."""
    job = env.create("monitored")
    run = env.start("/monitor", "/refresh", "1")
    wait_for(run, "a second refresh",
             lambda: run.stdout().count("MONITORING") >= 2 and job in run.stdout())
    run.proc.send_signal(signal.SIGINT)
    if run.wait() != 0:
        fail(f"/monitor exited with {run.proc.returncode} after Ctrl-C", run)
    if f"{job} 'monitored'" not in run.stdout() or "SUSPENDED" not in run.stdout():
        fail("/monitor does not show the job", run)
    if b"\r" in run.raw_stdout():
        fail("a carriage return in /monitor's redirected output", run)


def test_console_progress(env):
    """On a console (a pseudo-terminal, which Wine turns into one) /transfer draws a bar that
    it redraws with carriage returns."""
    dest = os.path.join(env.scratch, "tty.bin")
    main, sub = pty.openpty()
    proc = subprocess.Popen([env.wine, env.exe, "/transfer", "console", env.url("slow/8m.bin"),
                             winpath(dest)], stdin=sub, stdout=sub, stderr=sub,
                            env=wine_env(), preexec_fn=default_sigint)
    os.close(sub)
    output = b""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if not select.select([main], [], [], 0.5)[0]:
            if proc.poll() is not None:
                break
            continue
        try:
            data = os.read(main, 65536)
        except OSError:  # the other side closed
            break
        if not data:
            break
        output += data
    os.close(main)
    try:
        code = proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        fail(f"/transfer on a console still running {DEADLINE_S} s later:\n{output[-2000:]}")
    text = output.decode("utf-8", "replace")
    if code != 0:
        fail(f"/transfer on a console exited with {code}:\n{text[-2000:]}")
    if "\r[" not in text or "[###" not in text or "Transfer complete." not in text:
        fail(f"no redrawn progress bar on the console:\n{text[-2000:]}")
    same_bytes(env, dest, env.served("slow/8m.bin"))


def test_reset(env):
    """/reset cancels every job; /list then shows none."""
    env.create("reset one")
    env.create("reset two")
    count = len(json.loads(env.run("--json", "/list").stdout())["jobs"])
    env.run("/reset", out=f"{count} out of {count} jobs canceled.")
    env.run("/list", out="Listed 0 job(s).")
    env.run("/reset", "/everything", code=2, err="unknown option")


TESTS = (test_transfer, test_ctrl_c_cancels, test_shared_store, test_json, test_settings,
         test_suspend_and_errors, test_usage_errors, test_help, test_monitor,
         test_console_progress, test_reset)


def main():
    wine, exe, root = sys.argv[1:4]
    with open(os.path.join(root, "nginx", "port")) as f:
        port = int(f.read())
    # The job store of this test (OPENDO_STATE_DIR), emptied: no job of an earlier run counts.
    shutil.rmtree(os.path.join(root, "state", "test_doadmin"), ignore_errors=True)
    env = Env(wine, exe, root, port)
    only = set(sys.argv[4:])
    failed = 0
    for test in TESTS:
        if only and test.__name__ not in only:
            continue
        print(f"[ RUN      ] {test.__name__}", flush=True)
        start = time.monotonic()
        env.scratch = scratch_dir(root, "doadmin_" + test.__name__)
        try:
            test(env)
            print(f"[       OK ] {test.__name__} ({time.monotonic() - start:.1f} s)", flush=True)
        except AssertionError as e:
            print(f"{e}\n[  FAILED  ] {test.__name__}", flush=True)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
