#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The benchmark's driver (scripts/bench.sh starts it once nginx, the Wine prefix and its
# wineserver are up): generates the payload, runs every client on every workload, alternating,
# reads the CPU and memory of the prefix's processes from /proc around each run, verifies the
# downloaded bytes, and writes the raw results (JSON), the table and the Markdown report.
#
# The clients (bench/*.c, built into <build>/bin) print one JSON object per run; with --sync they
# stop at named marks (a line "mark <name>" on stderr) until the driver has read /proc and
# answers on stdin, so that the driver's counters cover exactly the client's measured window.
import argparse
import datetime
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
GIB = 1 << 30
MIB = 1 << 20

# Display names and the order of the table's columns.
CLIENTS = ["opendo", "bits", "winhttp", "wininet", "curl", "curl-parallel", "disk"]
NAMES = {
    "opendo": "OpenDO",
    "bits": "Wine BITS",
    "winhttp": "WinHTTP",
    "wininet": "WinINet",
    "curl": "curl",
    "curl-parallel": "curl -Z",
    "disk": "disk (dd, fsync)",
}
# Which clients run which workload.
WORKLOADS = {
    "big": ["opendo", "bits", "winhttp", "wininet", "curl", "disk"],
    "poll": ["opendo", "bits"],
    "small": ["opendo", "bits", "winhttp", "wininet", "curl", "curl-parallel"],
    "jobs": ["opendo", "bits"],
    "throttle": ["opendo"],
}
# Workloads a client has nothing to run for: Wine's BITS has no bandwidth policy.
NOT_APPLICABLE = {
    "throttle": ["bits"],
}


def log(*args):
    print("bench:", *args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# /proc: the prefix's processes, their CPU and memory.


def read_stat_cpu(pid):
    """User + system CPU seconds of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # Fields 14 and 15 of stat(5); the split starts at field 3 (state).
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def read_rss_anon(pid):
    """Resident anonymous memory (heaps, the private bytes that stay) in bytes, or 0."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def prefix_pids(prefix):
    """Every process whose environment names our WINEPREFIX (Wine's services, rpcss, the BITS
    service, the client, the wineserver)."""
    needle = b"WINEPREFIX=" + prefix.encode() + b"\0"
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read():
                    pids.append(int(entry))
        except OSError:
            pass
    return pids


class Snapshot:
    """CPU and anonymous memory of the prefix's processes at one moment."""

    def __init__(self, prefix):
        self.cpu = {}
        self.mem = {}
        for pid in prefix_pids(prefix):
            cpu = read_stat_cpu(pid)
            if cpu is not None:
                self.cpu[pid] = cpu
                self.mem[pid] = read_rss_anon(pid)


def cpu_delta(before, after, pids):
    """CPU seconds spent between two snapshots by the given processes (a process born in between
    counts from zero)."""
    return sum(after.cpu[p] - before.cpu.get(p, 0.0) for p in pids if p in after.cpu)


# ---------------------------------------------------------------------------------------------
# Running one client.


class Runner:
    def __init__(self, args):
        self.args = args
        self.build = args.build
        self.bench = os.path.join(args.build, "bench")
        self.www = os.path.join(self.bench, "www")
        self.out = os.path.join(self.bench, "out")
        # Where each small-files run's output goes once the run is over (see clean_outputs).
        self.kept = os.path.join(self.out, "kept")
        self.kept_runs = 0
        self.prefix = os.environ["WINEPREFIX"]
        self.wineserver = args.wineserver_pid
        self.base = f"http://127.0.0.1:{args.port}/"
        self.out_win = subprocess.run(
            ["winepath", "-w", self.out], capture_output=True, text=True, check=True
        ).stdout.strip()

    def wine_cmd(self, client, workload):
        a = self.args
        if client in ("opendo", "bits"):
            count = {"jobs": a.jobs, "throttle": a.throttle_jobs}.get(workload, a.files)
            cmd = [
                "wine", os.path.join(self.build, "bin", "bench_bits.exe"),
                "--server", client, "--workload", workload, "--base", self.base,
                "--out", self.out_win, "--count", str(count), "--pollers", str(a.pollers),
                "--sync",
            ]
            if workload == "throttle":
                cmd += ["--cap-kib", str(a.throttle_cap_kib),
                        "--warmup-ms", str(a.throttle_warmup_ms),
                        "--window-ms", str(a.throttle_window_ms),
                        "--deadline-ms", str(int(a.timeout * 1000))]
            return cmd
        if workload == "big":
            conns = a.winhttp_conns if client == "winhttp" else a.wininet_big_conns
        else:
            conns = a.winhttp_conns if client == "winhttp" else a.wininet_small_conns
        return [
            "wine", os.path.join(self.build, "bin", f"bench_{client}.exe"),
            "--workload", workload, "--port", str(a.port), "--out", self.out_win,
            "--count", str(a.files), "--conns", str(conns), "--sync",
        ]

    def clean_outputs(self):
        # A small-files run's files are moved aside, not deleted, until the workloads are over
        # (why: "Files" in the report).
        small = os.path.join(self.out, "small")
        if os.path.isdir(small) and os.listdir(small):
            os.makedirs(self.kept, exist_ok=True)
            os.rename(small, os.path.join(self.kept, str(self.kept_runs)))
            self.kept_runs += 1
        for name in os.listdir(self.out) if os.path.isdir(self.out) else []:
            path = os.path.join(self.out, name)
            if path == self.kept:
                continue
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.remove(path)
        for sub in ("small", "jobs"):
            os.makedirs(os.path.join(self.out, sub), exist_ok=True)

    def purge_kept(self):
        """Deletes the small-files outputs kept aside (clean_outputs)."""
        shutil.rmtree(self.kept, ignore_errors=True)

    def clean_opendo_store(self):
        # Jobs a failed run left in OpenDO's per-user store would be adopted (and transferred)
        # by the next OpenDO process: each run starts from an empty store.
        users = os.path.join(self.prefix, "drive_c", "users")
        for user in os.listdir(users) if os.path.isdir(users) else []:
            shutil.rmtree(os.path.join(users, user, "AppData", "Local", "OpenDO"),
                          ignore_errors=True)

    def run_timeout(self, workload):
        """Seconds a run may take before it is killed and counted as failed. A small-files run
        takes seconds (Wine's BITS about 3 s for 1,000 files, the slowest), so a hung one (Wine's
        BITS hung once in 15 runs) ends after a minute and a tenth of a second per file rather
        than after --timeout."""
        if workload == "small":
            return min(self.args.timeout, 60 + 0.1 * self.args.files)
        return self.args.timeout

    def run_wine(self, client, workload):
        """Runs one Windows client, answering its marks; returns its JSON result plus the
        driver's counters."""
        cmd = self.wine_cmd(client, workload)
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=os.path.join(self.build, "bin"))
        killed = threading.Event()

        def kill():
            killed.set()
            proc.kill()

        timer = threading.Timer(self.run_timeout(workload), kill)
        timer.start()
        marks = {}
        noise = []
        try:
            for raw in proc.stderr:
                line = raw.decode(errors="replace").strip()
                if line.startswith("mark "):
                    marks[line[5:]] = Snapshot(self.prefix)
                    try:
                        proc.stdin.write(b"go\n")
                        proc.stdin.flush()
                    except OSError:
                        pass
                elif line:
                    noise.append(line)
            stdout = proc.stdout.read().decode(errors="replace")
            proc.wait()
        finally:
            timer.cancel()
        result = None
        for line in stdout.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    result = json.loads(line)
                except ValueError:
                    pass
        if result is None:
            # What the client printed instead, for the report (a client that fails prints a
            # JSON line with its error: this is something else).
            ended = f", killed after {self.run_timeout(workload):.0f} s" if killed.is_set() else ""
            result = {"ok": False,
                      "error": f"no result (exit {proc.returncode}{ended}); stdout: {stdout[-300:]!r}"}
        result["exit"] = proc.returncode
        if noise:
            result["stderr"] = noise[-5:]
        if proc.returncode != 0:
            result["ok"] = False
        client_pid = proc.pid
        # The client's pid is the Wine process itself (wine execs its loader), so its /proc
        # counters are the client's.
        others = lambda snap: [p for p in snap.cpu if p not in (client_pid, self.wineserver)]
        if "start" in marks and "end" in marks:
            b, e = marks["start"], marks["end"]
            result["cpu_client_s"] = cpu_delta(b, e, [client_pid])
            result["cpu_wineserver_s"] = cpu_delta(b, e, [self.wineserver])
            result["cpu_other_s"] = cpu_delta(b, e, others(e))
        if "before" in marks and "created" in marks:
            b, e = marks["before"], marks["created"]
            jobs = max(1, result.get("jobs", 1))
            total = sum(e.mem.values()) - sum(b.mem.values())
            result["prefix_rss_anon_bytes_per_job"] = total / jobs
            result["client_rss_anon_bytes_per_job"] = (
                e.mem.get(client_pid, 0) - b.mem.get(client_pid, 0)) / jobs
            result["cpu_create_total_s"] = cpu_delta(b, e, list(e.cpu))
        return result

    def run_curl(self, client, workload):
        """curl on Linux into the same folder: one process; its rusage is its CPU."""
        out = self.out
        if workload == "big":
            cmd = ["curl", "-sS", "--fail", "-o", os.path.join(out, "big.bin"),
                   self.base + "big.bin"]
        else:
            config = os.path.join(self.bench, "curl-small.cfg")
            with open(config, "w") as f:
                for i in range(self.args.files):
                    f.write(f'url = "{self.base}small/f{i:05d}.bin"\n')
                    f.write(f'output = "{out}/small/f{i:05d}.bin"\n')
            cmd = ["curl", "-sS", "--fail", "-K", config]
            if client == "curl-parallel":
                cmd[1:1] = ["-Z", "--parallel-max", str(self.args.winhttp_conns)]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        timer = threading.Timer(self.run_timeout(workload), proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code
        err = proc.stderr.read().decode(errors="replace").strip()
        result = {"client": client, "workload": workload, "ok": code == 0, "exit": code,
                  "wall_s": wall, "cpu_client_s": usage.ru_utime + usage.ru_stime,
                  "cpu_wineserver_s": 0.0, "cpu_other_s": 0.0}
        if code != 0:
            result["error"] = err[-200:] or f"curl exited {code}"
        return result

    def run_disk(self, workload):
        """The disk's ceiling for a file that must be on it before the client says it is done
        (OpenDO flushes a file before it reports it transferred; the other clients do not): dd
        copies the served file, read from the page cache, into the same folder and fsyncs it."""
        cmd = ["dd", "if=" + os.path.join(self.www, "big.bin"),
               "of=" + os.path.join(self.out, "big.bin"), "bs=1M", "conv=fsync", "status=none"]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        result = {"client": "disk", "workload": workload, "ok": code == 0, "exit": code,
                  "wall_s": wall, "cpu_client_s": usage.ru_utime + usage.ru_stime,
                  "cpu_wineserver_s": 0.0, "cpu_other_s": 0.0}
        if code != 0:
            result["error"] = proc.stderr.read().decode(errors="replace").strip()[-200:]
        return result

    def run(self, client, workload, verify_big):
        self.clean_outputs()
        if client == "opendo":
            self.clean_opendo_store()
        if client == "disk":
            result = self.run_disk(workload)
        elif client.startswith("curl"):
            result = self.run_curl(client, workload)
        else:
            result = self.run_wine(client, workload)
        result.setdefault("client", client)
        result.setdefault("workload", workload)
        if result.get("ok") and workload in ("big", "poll", "small"):
            problem = self.verify(workload, verify_big)
            result["verified"] = problem is None
            if problem:
                result["ok"] = False
                result["error"] = problem
        if result.get("ok") and workload == "throttle":
            problem = self.verify_throttle(result, verify_big)
            result["verified"] = problem is None
            if problem:
                result["ok"] = False
                result["error"] = problem
        if workload in ("big", "poll") and result.get("ok"):
            result["mb_per_s"] = self.args.big_bytes / MIB / result["wall_s"]
            cpu = sum(result.get(k, 0.0) for k in
                      ("cpu_client_s", "cpu_wineserver_s", "cpu_other_s"))
            result["cpu_total_s"] = cpu
            result["cpu_s_per_gib"] = cpu * GIB / self.args.big_bytes
        self.clean_outputs()
        return result

    def verify_throttle(self, result, verify_big):
        """None when the throttle run's counts are right and the out folder holds the two
        foreground downloads, with the served bytes, and nothing else (the cancelled background
        jobs leave no file), else what is wrong."""
        a = self.args
        throttle_bytes = a.throttle_mib * MIB
        if (result.get("bg_bytes_total_min") != throttle_bytes
                or result.get("bg_bytes_total_max") != throttle_bytes):
            return f"a background job's BytesTotal is not {throttle_bytes}"
        if not result.get("bg_window_bytes"):
            return "the background jobs received nothing in the window"
        for key in ("fg_bytes", "fg_bytes_total", "alone_bytes", "alone_bytes_total"):
            if result.get(key) != a.big_bytes:
                return f"{key} is {result.get(key)}, not {a.big_bytes}"
        left = sorted(os.listdir(self.out))
        extra = [n for n in left if n not in ("fg.bin", "alone.bin", "small", "jobs", "kept")]
        if extra:
            return "left in the out folder: " + ", ".join(extra[:5])
        for name in ("fg.bin", "alone.bin"):
            got = os.path.join(self.out, name)
            if not os.path.exists(got):
                return f"{name} is missing"
            if os.path.getsize(got) != a.big_bytes:
                return f"{name} has {os.path.getsize(got)} bytes, not {a.big_bytes}"
            if verify_big and subprocess.run(["cmp", "-s", got,
                                              os.path.join(self.www, "big.bin")]).returncode:
                return f"{name} differs from the served big.bin"
        return None

    def verify(self, workload, verify_big):
        """None when the downloaded bytes are the served ones, else what is wrong."""
        if workload in ("big", "poll"):
            got = os.path.join(self.out, "big.bin")
            if not os.path.exists(got):
                return "big.bin is missing"
            if os.path.getsize(got) != self.args.big_bytes:
                return f"big.bin has {os.path.getsize(got)} bytes, not {self.args.big_bytes}"
            if verify_big and subprocess.run(["cmp", "-s", got,
                                              os.path.join(self.www, "big.bin")]).returncode:
                return "big.bin differs from the served file"
            return None
        for i in range(self.args.files):
            name = f"f{i:05d}.bin"
            try:
                with open(os.path.join(self.out, "small", name), "rb") as f:
                    got = f.read()
            except OSError:
                return f"small/{name} is missing"
            with open(os.path.join(self.www, "small", name), "rb") as f:
                if got != f.read():
                    return f"small/{name} differs from the served file"
        return None


# ---------------------------------------------------------------------------------------------
# The payload.


def make_payload(args):
    www = os.path.join(args.build, "bench", "www")
    os.makedirs(os.path.join(www, "small"), exist_ok=True)
    big = os.path.join(www, "big.bin")
    if not os.path.exists(big) or os.path.getsize(big) != args.big_bytes:
        log(f"generating big.bin ({args.big_bytes // MIB} MiB)")
        with open(big + ".new", "wb") as f:
            left = args.big_bytes
            while left:
                n = min(left, 8 * MIB)
                f.write(os.urandom(n))
                left -= n
        os.replace(big + ".new", big)
    # The background jobs' file of the throttle workload: made once and kept, as the small files.
    throttle = os.path.join(www, "throttle.bin")
    if not os.path.exists(throttle) or os.path.getsize(throttle) != args.throttle_mib * MIB:
        with open(throttle + ".new", "wb") as f:
            f.write(os.urandom(args.throttle_mib * MIB))
        os.replace(throttle + ".new", throttle)
    for i in range(args.files):
        path = os.path.join(www, "small", f"f{i:05d}.bin")
        if not os.path.exists(path) or os.path.getsize(path) != 4096:
            with open(path, "wb") as f:
                f.write(os.urandom(4096))


# ---------------------------------------------------------------------------------------------
# Summary: medians, ratios, the table.


def median_of(results, client, workload, key):
    values = [r[key] for r in results
              if r["client"] == client and r["workload"] == workload and not r.get("warmup")
              and r.get("ok") and r.get(key) is not None]
    return statistics.median(values) if values else None


# (label, workload, key, higher is better (or the target, in words), format). The throttle rows'
# labels name the configuration's cap and job count through {cap} and {jobs}.
ROWS = [
    ("1 GiB file: throughput, MiB/s", "big", "mb_per_s", True, "{:.0f}"),
    ("1 GiB file: CPU s per GiB (client + wineserver + other prefix processes)", "big",
     "cpu_s_per_gib", False, "{:.2f}"),
    ("  of which the client process", "big", "cpu_client_s", False, "{:.2f}"),
    ("  of which the wineserver", "big", "cpu_wineserver_s", False, "{:.2f}"),
    ("  of which other prefix processes (BITS service, ...)", "big", "cpu_other_s", False,
     "{:.2f}"),
    ("1 GiB file with 4 GetProgress pollers: throughput, MiB/s", "poll", "mb_per_s", True,
     "{:.0f}"),
    ("GetProgress: wall ns per call (poller loop time / calls)", "poll",
     "poll_wall_ns_per_call", False, "{:,.0f}"),
    ("GetProgress: CPU ns per call (poller thread CPU / calls)", "poll",
     "poll_cpu_ns_per_call", False, "{:,.0f}"),
    ("1,000 files of 4 KiB in one job: wall, ms", "small", "wall_ms", False, "{:,.0f}"),
    ("1,000 files of 4 KiB: CPU s (client + wineserver + other)", "small", "cpu_total_s", False,
     "{:.2f}"),
    ("10,000 jobs: CreateJob + AddFile, µs per job", "jobs", "create_us_per_job", False,
     "{:,.0f}"),
    ("10,000 jobs: EnumJobs of all (Next through all), ms", "jobs", "enum_ms", False,
     "{:,.0f}"),
    ("10,000 jobs: Cancel, µs per job", "jobs", "cancel_us_per_job", False, "{:,.0f}"),
    ("One call to Wine's server from the client (CreateEvent or CloseHandle), µs", "jobs",
     "server_call_us", False, "{:.1f}"),
    ("10,000 jobs: memory per idle job, bytes (RssAnon of all prefix processes)", "jobs",
     "prefix_rss_anon_bytes_per_job", False, "{:,.0f}"),
    ("10,000 jobs: client working set per idle job, bytes (GetProcessMemoryInfo)", "jobs",
     "client_working_set_bytes_per_job", False, "{:,.0f}"),
    ("{jobs} background jobs under a {cap} MiB/s background cap: their sum, MiB/s",
     "throttle", "bg_mib_per_s", "{cap} ± 10%", "{:.2f}"),
    ("  the sum ÷ the cap", "throttle", "bg_cap_ratio", "0.90 to 1.10", "{:.3f}"),
    ("  the slowest 1 s of the sum ÷ the cap", "throttle", "bg_slice_min_ratio", "0.90 to 1.10",
     "{:.3f}"),
    ("  the fastest 1 s of the sum ÷ the cap", "throttle", "bg_slice_max_ratio", "0.90 to 1.10",
     "{:.3f}"),
    ("1 GiB foreground job alone (no cap on foreground): MiB/s", "throttle", "alone_mib_per_s",
     True, "{:.0f}"),
    ("1 GiB foreground job started among the {jobs} capped jobs: MiB/s", "throttle",
     "fg_mib_per_s", True, "{:.0f}"),
    ("  among them ÷ alone", "throttle", "fg_ratio", "near 1 (full speed)", "{:.2f}"),
    ("  its wait for its first byte among them, s", "throttle", "fg_first_byte_s", False,
     "{:.1f}"),
    ("Cancel of the {jobs} capped jobs, s (all of them)", "throttle", "bg_cancel_s", False,
     "{:.2f}"),
]


def summarize(args, results):
    """The table's cells: {(row index, client): value} plus derived rows."""
    for r in results:
        if r.get("ok") and r["workload"] == "small":
            r["wall_ms"] = r["wall_s"] * 1e3
            r["cpu_total_s"] = sum(r.get(k, 0.0) for k in
                                   ("cpu_client_s", "cpu_wineserver_s", "cpu_other_s"))
        if r.get("ok") and r["workload"] == "throttle" and r.get("cap_kib"):
            cap = r["cap_kib"] / 1024
            r["bg_slice_min_ratio"] = r["bg_slice_min_mib_per_s"] / cap
            r["bg_slice_max_ratio"] = r["bg_slice_max_mib_per_s"] / cap
    cells = {}
    for i, (label, workload, key, _, _) in enumerate(ROWS):
        for client in WORKLOADS[workload]:
            value = median_of(results, client, workload, key)
            if value is not None and key in ("cpu_client_s", "cpu_wineserver_s",
                                             "cpu_other_s"):
                value = value * GIB / args.big_bytes
            cells[(i, client)] = value
    loss = {}
    for client in WORKLOADS["poll"]:
        plain = cells.get((0, client))
        polled = cells.get((5, client))
        loss[client] = (1 - polled / plain) * 100 if plain and polled else None
    return cells, loss


def ratio(a, b):
    """a ÷ b, two decimals, or two significant digits when smaller than 0.1."""
    if a is None or not b:
        return "–"
    r = a / b
    # (A negative figure is a CPU reading that went backwards by a tick: shown as it is.)
    if r <= 0 or r >= 0.1:
        return f"{r:.2f}"
    return f"{r:.{1 - math.floor(math.log10(r))}f}"


def render_table(args, cells, loss):
    def label_of(text):
        # The table's labels name the full configuration; a smaller one says its own sizes.
        text = text.replace("1 GiB", size_label(args.big_bytes))
        text = text.replace("1,000 files", f"{args.files:,} files")
        text = text.replace("10,000 jobs", f"{args.jobs:,} jobs")
        return text.replace("{jobs}", str(args.throttle_jobs)).replace(
            "{cap}", f"{args.throttle_cap_kib / 1024:g}")

    header = ["Measure", "better"] + [NAMES[c] for c in CLIENTS] + [
        "OpenDO ÷ Wine BITS", "OpenDO ÷ faster stack", "OpenDO ÷ curl", "OpenDO ÷ disk"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i, (label, workload, key, higher, fmt) in enumerate(ROWS):
        if isinstance(higher, str):
            better = label_of(higher)
        else:
            better = "higher" if higher else "lower"
        row = [label_of(label), better]
        for client in CLIENTS:
            v = cells.get((i, client))
            if v is not None:
                row.append(fmt.format(v))
            elif client in WORKLOADS[workload]:
                row.append("fail")
            else:
                row.append("n/a" if client in NOT_APPLICABLE.get(workload, ()) else "")
        od = cells.get((i, "opendo"))
        stacks = [cells.get((i, c)) for c in ("winhttp", "wininet")
                  if cells.get((i, c)) is not None]
        best = (max(stacks) if higher else min(stacks)) if stacks else None
        row += [ratio(od, cells.get((i, "bits"))), ratio(od, best),
                ratio(od, cells.get((i, "curl"))), ratio(od, cells.get((i, "disk")))]
        lines.append("| " + " | ".join(row) + " |")
        if i == 5:
            loss_row = ["Throughput lost to the pollers, %", "lower"]
            for client in CLIENTS:
                v = loss.get(client)
                loss_row.append(f"{v:.0f}" if v is not None else "")
            loss_row += ["", "", "", ""]
            lines.append("| " + " | ".join(loss_row) + " |")
    return "\n".join(lines)


def size_label(n):
    return f"{n // GIB} GiB" if n % GIB == 0 else f"{n // MIB} MiB"


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    wine = subprocess.run(["wine", "--version"], capture_output=True, text=True).stdout.strip()
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    curl = subprocess.run(["curl", "--version"], capture_output=True,
                          text=True).stdout.split("\n")[0]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kib / (1 << 20), 1),
        "kernel": platform.release(),
        "wine": wine,
        "nginx": nginx.replace("nginx version: ", ""),
        "curl": " ".join(curl.split()[:2]),
        "load_before": os.getloadavg()[0],
    }


def cpu_steal_ticks():
    """Clock ticks the machine's CPUs spent stolen by its host (a virtual machine): the 8th
    field of /proc/stat's "cpu" line; 0 if there is none."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) if len(fields) > 8 else 0
    except (OSError, ValueError):
        return 0


def page_cache_speeds(folder, size):
    """MiB/s of `dd` writing `size` bytes of zeros into a new file (no flush) twice: first into
    memory the page cache has not used lately, then right after the first file is deleted, into
    the pages that deletion freed. On a virtual machine whose host backs guest memory lazily (or
    takes free pages back: virtio-balloon's free page reporting) the first is far slower: a
    download's speed then depends on what the machine freed just before it."""
    speeds = []
    path = os.path.join(folder, "page-cache-probe.bin")
    for _ in range(2):
        t0 = time.monotonic()
        subprocess.run(["dd", "if=/dev/zero", "of=" + path, "bs=1M",
                        f"count={size // MIB}", "status=none"], check=True)
        speeds.append(size / MIB / (time.monotonic() - t0))
        os.remove(path)
    return speeds


def git_commit(top):
    out = subprocess.run(["git", "-C", top, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", top, "status", "--porcelain", "--", "src", "idl"],
                           capture_output=True, text=True).stdout.strip()
    return out.stdout.strip() + (" (src/ modified)" if dirty else "")


def render_markdown(args, info, table, results, started, elapsed):
    failures = [r for r in results if not r.get("ok")]
    reps = f"{args.reps} repetition(s) after a warm-up" if args.warmup else \
        f"{args.reps} repetition(s), no warm-up"
    if args.small_reps != args.reps:
        reps += (f"; the small files, {args.small_reps} repetitions (short runs whose times vary"
                 " most from run to run)")
    jobs_reps = f"{args.jobs_reps} repetition(s)" + (
        f" after a warm-up of {args.jobs_warmup:,} jobs" if args.jobs_warmup else "")
    poll_reps = f"{args.poll_reps} repetition(s)"
    throttle_reps = f"{args.throttle_reps} repetition(s)" + (
        f" after {args.throttle_warmup} short warm-up run(s)" if args.throttle_warmup else "")
    cap = f"{args.throttle_cap_kib / 1024:g}"
    md = f"""# Benchmarks

Generated by `scripts/bench.sh` ({args.mode} configuration) on {started} in {elapsed:.0f} s.
Command: `{args.command}`. Raw results: `{os.path.relpath(args.json, args.top)}` (under the
build tree, one JSON object per run).

Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gib']} GiB RAM, Linux
{info['kernel']}, {info['wine']}, nginx {info['nginx']} (sendfile, keep-alive), {info['curl']};
load average {info['load_before']:.2f} at the start (the machine may be shared); the host took
{info['steal_pct']:.1f}% of the CPUs' time during the run (steal, /proc/stat). Writing
{size_label(args.big_bytes)} of zeros into the page cache (`dd`, no flush) after the run:
{info['page_cache_cold_mib_s']:,.0f} MiB/s into memory not used lately, {info['page_cache_freed_mib_s']:,.0f} MiB/s right
after deleting that file (see "Memory" below). OpenDO at commit
{info['commit']}, with its defaults (nothing is switched for the benchmark).

Every figure is the median of {reps} (the warm-up: curl fetches the large file once and every
client runs the small-files workload once, which loads Wine's DLLs, starts Wine's BITS service
and reads the payload into the page cache). Fewer runs, to keep the full run near a quarter of an
hour: the GetProgress pollers' download, {poll_reps} (the pollers make it several times
slower); the {args.jobs:,}-job workload, {jobs_reps}; the bandwidth cap workload,
{throttle_reps}. The clients ran alternating (the order rotates each repetition). Payload: one
file of
{size_label(args.big_bytes)}, {args.files:,} files of 4 KiB, {args.jobs:,} jobs. Ratios are OpenDO's
figure divided by the other's: above 1 is better for OpenDO where higher is better, below 1
where lower is better. "Faster stack" is the better of WinHTTP and WinINet on that line.
Where the "better" column names a target, the figure is judged against it, not against the other
clients; "n/a": the client has nothing of the kind (Wine's BITS has no bandwidth policy).

{table}

## What runs

- **OpenDO**: `bench_bits.exe --server opendo`: `CoCreateInstance(CLSID_OpenDOManager,
  CLSCTX_INPROC_SERVER, IID_IBackgroundCopyManager)`, the DLL registered with `regsvr32` in the
  benchmark's own Wine prefix. Job store (persistence) and callbacks on: the client registers an
  `IBackgroundCopyCallback` with `SetNotifyInterface` for `BG_NOTIFY_JOB_TRANSFERRED |
  BG_NOTIFY_JOB_ERROR`, waits for `JobTransferred`, then calls `Complete`.
- **Wine BITS**: the very same client with `--server bits`: `CLSID_BackgroundCopyManager`,
  `CLSCTX_LOCAL_SERVER | CLSCTX_INPROC_SERVER` (Wine's `qmgr` answers out of process, from its
  BITS service).
- **WinHTTP, WinINet**: `bench_winhttp.exe`, `bench_wininet.exe`: no job model and no temporary
  file, synchronous calls. The large file: a HEAD, then N ranged GETs on N threads, each writing
  its part at its offset of the destination (WinHTTP N = {args.winhttp_conns}, WinINet N =
  {args.wininet_big_conns}). Small files: N threads with a kept-alive connection each, taking
  the next file from a shared counter (WinHTTP {args.winhttp_conns}, WinINet
  {args.wininet_small_conns}).
- **curl**: `curl -o` on Linux into the same folder, one process, one connection (small files:
  one process, a `-K` list, one kept-alive connection); **curl -Z**: the same list with
  `--parallel --parallel-max {args.winhttp_conns}` (small files only).
- **disk (dd, fsync)**: not a download: `dd bs=1M conv=fsync` copies the served file (from the
  page cache) into the same folder and flushes it at the end: what making the file durable
  costs on this disk when all of it is flushed at once. OpenDO flushes every file before it
  reports it transferred (a crash or a power cut then loses no byte it reported), and flushes
  as it goes (every 64 MiB or 500 ms), which lets the disk write while the network reads; the
  stack programs and curl leave their bytes in the page cache and flush nothing.
- **Bandwidth cap** (OpenDO only: Wine's BITS has no bandwidth policy): `bench_bits.exe --server
  opendo --workload throttle` sets `OPENDO_MAX_BACKGROUND_BANDWIDTH={args.throttle_cap_kib}`
  ({cap} MiB/s) in its own environment, which the in-process DLL reads (the foreground and
  percentage caps set to 0: none), and starts {args.throttle_jobs} background jobs
  (`BG_JOB_PRIORITY_NORMAL`), each downloading a file of {args.throttle_mib} MiB. After a
  warm-up of {args.throttle_warmup_ms / 1000:g} s it reads their summed `BytesTransferred`
  (`GetProgress`, every 100 ms) over a window of {args.throttle_window_ms / 1000:g} s. A quarter
  into the window a foreground job (`BG_JOB_PRIORITY_FOREGROUND`) downloads the
  {size_label(args.big_bytes)} file. The background jobs keep running until it is transferred,
  except when it has received no byte by the end of the window (it would be waiting behind them,
  as it did before foreground jobs had workers of their own): they are then cancelled so that the
  run ends (its time includes that wait; `bg_cancelled_for_fg` in the JSON says so). Then the same
  foreground download runs alone. Both foreground jobs are completed and their files compared;
  the background jobs are cancelled and must leave no file.

## Memory

On a virtual machine whose host backs guest memory only when it is touched, or takes free pages
back (virtio-balloon's free page reporting, about 2 s after they are freed), the first write
into such a page is slow: the machine section above gives `dd`'s speed both ways. Every run
of the large file starts right after the previous run's output (the same size) was deleted,
so every client writes into pages freed just before. The bandwidth cap workload's foreground
job that runs alone comes seconds after the first one, into memory no longer backed: its
speed there is bound by the memory, not by the client: compare it with `dd`'s first figure
above, measured by this run.

## Files

The small-files runs' outputs are moved aside, not deleted, until all the workloads are done:
ext4 makes new files slowly among thousands deleted moments before (a profile of the wineserver
showed it searching the inode bitmap past them). Runs of 1,000 files that followed each other,
each deleting the last one's output, got slower with every run (OpenDO, 12 runs in a row: from
0.62 to 2.09 s), the clients that make files fastest the most.

## Definitions

- **Throughput**: bytes of the file ÷ wall time. Wall time (QueryPerformanceCounter, in the
  client) runs from `CreateJob` to the return of `Complete` (the file is in place) for OpenDO and
  BITS, from the HEAD to the last part written for WinHTTP and WinINet, and is the process's
  wall time for curl.
- **CPU**: user + system seconds from `/proc/<pid>/stat` over exactly the measured window (the
  clients stop at marks while the driver reads `/proc`): the client process, the prefix's
  wineserver, and every other process of the prefix (Wine's services, rpcss, the BITS service
  that does Wine BITS's transfers); for curl its `rusage`. Per GiB: scaled to 1 GiB.
- **GetProgress**: {args.pollers} threads call `IBackgroundCopyJob::GetProgress` in a loop from
  `Resume` to `JobTransferred`. Wall ns per call: the pollers' summed loop time ÷ their calls
  (the latency one call sees). CPU ns per call: the pollers' summed thread CPU
  (`GetThreadTimes`) ÷ their calls; it leaves out work done on the pollers' behalf by other
  threads and processes (the wineserver, the BITS service). Throughput lost: 1 − throughput
  with pollers ÷ throughput without.
- **Jobs**: {args.jobs:,} jobs of one file each (suspended, never started): `CreateJob` +
  `AddFile` per job, then `EnumJobs` with `GetCount` and `Next` in batches of 256 through all of
  them, then `Cancel` per job. Memory per idle job: the growth of resident anonymous memory
  (`RssAnon`, the private bytes that stay) summed over all the prefix's processes from before
  the first `CreateJob` to after the last `AddFile`, ÷ jobs: it counts the job wherever it
  lives (in the client for OpenDO, in the BITS service for Wine BITS). The client's own working
  set growth (GetProcessMemoryInfo) is shown too; Wine 8 reports no private bytes.
- **One call to Wine's server**: after the jobs, the client times 10,000 pairs of `CreateEvent`
  and `CloseHandle` (one call to the server each) and reports the mean per call: the floor of
  anything the server must see (a job's named lock, a look at a token, a file's creation).
- **Bandwidth cap**: the sum: the background jobs' bytes in the window ÷ the window's length;
  the slowest and fastest 1 s: the same over each whole second of the window. Foreground job:
  its file's bytes ÷ the time from `CreateJob` to `JobTransferred` (the callback's moment), among
  the capped jobs and alone (no cap applies to foreground jobs); its wait for its first byte is
  the first 100 ms reading of `GetProgress` that shows bytes. The targets: the sum within 10% of
  the cap, the foreground job at full speed (among ÷ alone near 1).
- **Verification**: every small file's bytes in every run; the large file's size in every run
  and its bytes (`cmp`) in the first repetition, in every pollers' run and in every run of the
  smoke configuration; in the bandwidth cap workload, the byte counts the client reports and
  the foreground files as the large file. A run with wrong or missing bytes counts as failed.
"""
    if failures:
        md += "\n## Failed runs\n\n"
        for r in failures:
            md += f"- {NAMES.get(r['client'], r['client'])}, {r['workload']}: " \
                  f"{r.get('error', 'failed')}\n"
    return md


# ---------------------------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--top", required=True)
    p.add_argument("--build", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--wineserver-pid", type=int, required=True)
    p.add_argument("--mode", choices=["full", "smoke"], required=True)
    p.add_argument("--big-mib", type=int, required=True)
    p.add_argument("--files", type=int, required=True)
    p.add_argument("--jobs", type=int, required=True)
    p.add_argument("--reps", type=int, required=True)
    p.add_argument("--small-reps", type=int, default=None,
                   help="repetitions of the small-files workload (default: --reps)")
    p.add_argument("--warmup", type=int, required=True)
    p.add_argument("--jobs-reps", type=int, required=True)
    p.add_argument("--poll-reps", type=int, required=True)
    p.add_argument("--jobs-warmup", type=int, default=0, help="jobs in the warm-up run (0: none)")
    p.add_argument("--throttle-reps", type=int, default=1)
    p.add_argument("--throttle-warmup", type=int, default=0,
                   help="short throttle runs before the measured ones (not counted)")
    p.add_argument("--throttle-jobs", type=int, default=4)
    p.add_argument("--throttle-cap-kib", type=int, default=4096)
    p.add_argument("--throttle-mib", type=int, default=32, help="the background jobs' file")
    p.add_argument("--throttle-warmup-ms", type=int, default=1000)
    p.add_argument("--throttle-window-ms", type=int, default=5000)
    p.add_argument("--pollers", type=int, default=4)
    p.add_argument("--winhttp-conns", type=int, default=16)
    p.add_argument("--wininet-big-conns", type=int, default=4)
    p.add_argument("--wininet-small-conns", type=int, default=16)
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument("--markdown", required=True)
    p.add_argument("--json", required=True)
    p.add_argument("--command", required=True)
    args = p.parse_args()
    args.big_bytes = args.big_mib * MIB
    if args.small_reps is None:
        args.small_reps = args.reps

    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    t0 = time.monotonic()
    info = machine()
    info["commit"] = git_commit(args.top)
    steal_before = cpu_steal_ticks()
    make_payload(args)
    runner = Runner(args)
    results = []

    def record(result, rep, warmup):
        result["rep"] = rep
        result["warmup"] = warmup
        results.append(result)
        shown = {k: result.get(k) for k in ("mb_per_s", "wall_s", "create_us_per_job",
                                            "enum_ms", "cancel_us_per_job", "cpu_s_per_gib",
                                            "poll_wall_ns_per_call", "bg_mib_per_s",
                                            "bg_cap_ratio", "fg_mib_per_s",
                                            "alone_mib_per_s", "fg_ratio") if result.get(k)}
        status = "ok" if result.get("ok") else "FAILED: " + str(result.get("error"))
        log(f"{'warm-up' if warmup else 'rep ' + str(rep)} {result['workload']:5} "
            f"{result['client']:13} {status} " +
            " ".join(f"{k}={v:.4g}" for k, v in shown.items()))

    # The warm-up: Wine's DLLs loaded, the BITS service started, nginx's and the page cache's
    # copies of the payload read once; not counted.
    for rep in range(args.warmup):
        record(runner.run("curl", "big", verify_big=True), rep, True)
        for client in WORKLOADS["small"]:
            record(runner.run(client, "small", verify_big=True), rep, True)

    # Transfers: every repetition runs every client, in an order that rotates. The large file's
    # bytes are compared in full in the first repetition (and in every run of the smoke
    # configuration), its size in every run.
    for rep in range(max(args.reps, args.small_reps)):
        for workload in ("big", "small"):
            if rep >= (args.reps if workload == "big" else args.small_reps):
                continue
            clients = WORKLOADS[workload]
            shift = rep % len(clients)
            for client in clients[shift:] + clients[:shift]:
                full = rep == 0 or args.mode == "smoke"
                record(runner.run(client, workload, verify_big=full), rep, False)

    # Pollers: the download is several times slower with them, so they have their own count.
    for rep in range(args.poll_reps):
        clients = WORKLOADS["poll"]
        shift = rep % len(clients)
        for client in clients[shift:] + clients[:shift]:
            record(runner.run(client, "poll", verify_big=True), rep, False)

    # The bandwidth cap (OpenDO only). The warm-up runs are short ones (the window and the warm-up
    # of the smoke configuration): they read throttle.bin into the page cache.
    saved = args.throttle_warmup_ms, args.throttle_window_ms
    args.throttle_warmup_ms, args.throttle_window_ms = 500, 1500
    for rep in range(args.throttle_warmup):
        for client in WORKLOADS["throttle"]:
            record(runner.run(client, "throttle", False), rep, True)
    args.throttle_warmup_ms, args.throttle_window_ms = saved
    for rep in range(args.throttle_reps):
        for client in WORKLOADS["throttle"]:
            full = rep == 0 or args.mode == "smoke"
            record(runner.run(client, "throttle", verify_big=full), rep, False)

    # Idle jobs: the heaviest workload, repeated as the configuration says.
    saved_jobs = args.jobs
    if args.jobs_warmup:
        args.jobs = args.jobs_warmup
        for client in WORKLOADS["jobs"]:
            record(runner.run(client, "jobs", False), 0, True)
        args.jobs = saved_jobs
    for rep in range(args.jobs_reps):
        clients = WORKLOADS["jobs"]
        shift = rep % len(clients)
        for client in clients[shift:] + clients[:shift]:
            record(runner.run(client, "jobs", False), rep, False)

    elapsed = time.monotonic() - t0
    info["page_cache_cold_mib_s"], info["page_cache_freed_mib_s"] = page_cache_speeds(
        os.path.join(args.build, "bench"), args.big_bytes)
    runner.purge_kept()
    # The share of the CPUs' time that the host took for others while the benchmark ran.
    info["steal_pct"] = 100.0 * (cpu_steal_ticks() - steal_before) / (
        os.sysconf("SC_CLK_TCK") * elapsed * (os.cpu_count() or 1))
    cells, loss = summarize(args, results)
    table = render_table(args, cells, loss)
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"mode": args.mode, "started": started, "elapsed_s": elapsed,
                   "command": args.command, "machine": info,
                   "config": {k: v for k, v in vars(args).items()
                              if k not in ("command", "markdown", "json", "top")},
                   "runs": results}, f, indent=1)
    with open(args.markdown, "w") as f:
        f.write(render_markdown(args, info, table, results, started, elapsed))
    print(table)
    failures = [r for r in results if not r.get("ok")]
    log(f"{len(results)} runs in {elapsed:.0f} s, {len(failures)} failed; "
        f"report {args.markdown}, raw results {args.json}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
