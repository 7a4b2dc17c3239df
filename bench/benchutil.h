/* SPDX-License-Identifier: MIT */
/* Shared helpers of the benchmark clients: arguments, timers, CPU and memory, JSON results. */
#ifndef BENCHUTIL_H
#define BENCHUTIL_H

#include <windows.h>

/* The value after `--name` in the command line, or fallback when it is absent. The result
 * points into argv. */
const WCHAR *bench_arg(int argc, WCHAR **argv, const WCHAR *name, const WCHAR *fallback);

/* The same as a number. */
long bench_arg_long(int argc, WCHAR **argv, const WCHAR *name, long fallback);

/* Seconds on QueryPerformanceCounter's clock (monotonic, high resolution). */
double bench_now(void);

/* User plus kernel CPU seconds of this process, and of one thread (GetProcessTimes,
 * GetThreadTimes). */
double bench_process_cpu(void);
double bench_thread_cpu(HANDLE thread);

/* This process's private bytes and working set, in bytes (GetProcessMemoryInfo). */
void bench_memory(SIZE_T *private_bytes, SIZE_T *working_set);

/* With `--sync` on the command line, tells the driver that the client reached `name` (a line
 * "mark <name>" on stderr) and waits for the driver's go-ahead (one line on stdin): the driver
 * reads the CPU and memory of the prefix's processes at that moment. Without `--sync`, nothing. */
void bench_mark(const char *name);
void bench_set_sync(int argc, WCHAR **argv);

/* The result: one JSON object on one line of stdout, built field by field. Keys and string
 * values are plain ASCII without quotes or backslashes (the clients only write their own). */
void json_begin(void);
void json_str(const char *key, const char *value);
void json_wstr(const char *key, const WCHAR *value);
void json_num(const char *key, double value);
void json_int(const char *key, long long value);
void json_bool(const char *key, int value);
/* Prints the object and a newline, flushes stdout. */
void json_end(void);

/* A failure: prints {"ok": false, "error": "<what> 0x<hr>"} plus the fields collected so far
 * and returns 1 (the exit code the clients use for a failed run). */
int bench_fail(const char *what, HRESULT hr);

/* Joins a folder and a name with a backslash into out (MAX_PATH WCHARs). */
void bench_path(WCHAR *out, const WCHAR *dir, const WCHAR *name);

#endif
