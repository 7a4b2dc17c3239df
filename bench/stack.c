/* SPDX-License-Identifier: MIT */
/* The driver of the plain-stack clients: N threads, each with a connection of its own.
 *
 *   big    HEAD /big.bin, then N ranged GETs of equal parts, each thread writing its part at its
 *          offset of <out>\big.bin (sized first).
 *   small  --count files /small/f00000.bin ...; N threads take the next index from a shared
 *          counter and GET it on their kept-alive connection into <out>\small\.
 *
 * `wall_s` runs from the first request (the HEAD) to the last byte written and the file closed. */
#include <stdio.h>
#include <stdlib.h>

#include "benchutil.h"
#include "stack.h"

struct worker
{
    const struct stack_ops *ops;
    const WCHAR *out;
    HANDLE thread;
    /* big: this worker's part. */
    ULONGLONG first, last;
    /* small: the shared next index and the file count. */
    volatile LONG *next;
    long count;
    ULONGLONG bytes;
    long files;
    HRESULT hr;
};

static HANDLE open_at(const WCHAR *path, DWORD disposition, ULONGLONG offset)
{
    HANDLE file = CreateFileW(path, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                              disposition, FILE_ATTRIBUTE_NORMAL, NULL);
    LARGE_INTEGER position;

    position.QuadPart = (LONGLONG)offset;
    if (file != INVALID_HANDLE_VALUE && offset)
        SetFilePointerEx(file, position, NULL, FILE_BEGIN);
    return file;
}

static DWORD WINAPI big_worker(void *arg)
{
    struct worker *worker = arg;
    WCHAR path[MAX_PATH];
    void *conn = worker->ops->open();
    HANDLE file;

    bench_path(path, worker->out, L"big.bin");
    worker->hr = E_FAIL;
    if (!conn)
        return 0;
    file = open_at(path, OPEN_EXISTING, worker->first);
    if (file != INVALID_HANDLE_VALUE)
    {
        worker->hr = worker->ops->get(conn, L"/big.bin", TRUE, worker->first, worker->last, file,
                                      &worker->bytes);
        if (SUCCEEDED(worker->hr) && worker->bytes != worker->last - worker->first + 1)
            worker->hr = HRESULT_FROM_WIN32(ERROR_HANDLE_EOF);
        CloseHandle(file);
    }
    worker->ops->close(conn);
    return 0;
}

static DWORD WINAPI small_worker(void *arg)
{
    struct worker *worker = arg;
    void *conn = worker->ops->open();
    LONG index;

    worker->hr = conn ? S_OK : E_FAIL;
    while (conn && (index = InterlockedIncrement(worker->next) - 1) < worker->count)
    {
        WCHAR url[64], name[64], path[MAX_PATH];
        ULONGLONG got = 0;
        HANDLE file;

        _snwprintf(url, 64, L"/small/f%05ld.bin", (long)index);
        _snwprintf(name, 64, L"small\\f%05ld.bin", (long)index);
        bench_path(path, worker->out, name);
        file = open_at(path, CREATE_ALWAYS, 0);
        if (file == INVALID_HANDLE_VALUE)
        {
            worker->hr = HRESULT_FROM_WIN32(GetLastError());
            break;
        }
        worker->hr = worker->ops->get(conn, url, FALSE, 0, 0, file, &got);
        CloseHandle(file);
        if (FAILED(worker->hr))
            break;
        worker->bytes += got;
        worker->files++;
    }
    if (conn)
        worker->ops->close(conn);
    return 0;
}

int stack_main(const struct stack_ops *ops, int argc, WCHAR **argv)
{
    const WCHAR *workload = bench_arg(argc, argv, L"--workload", L"big");
    const WCHAR *out = bench_arg(argc, argv, L"--out", NULL);
    long port = bench_arg_long(argc, argv, L"--port", 0);
    long conns = bench_arg_long(argc, argv, L"--conns", 16);
    long count = bench_arg_long(argc, argv, L"--count", 1000);
    BOOL big = !wcscmp(workload, L"big");
    struct worker *workers;
    volatile LONG next = 0;
    ULONGLONG size = 0, bytes = 0;
    long files = 0;
    double start, end, cpu_start;
    HRESULT hr;

    bench_set_sync(argc, argv);
    json_begin();
    json_str("client", ops->name);
    json_wstr("workload", workload);
    json_int("conns", conns);
    if (!out || port <= 0 || conns <= 0 || count <= 0 || (!big && wcscmp(workload, L"small")))
        return bench_fail("usage", E_INVALIDARG);
    if (FAILED(hr = ops->init((WORD)port, (int)conns)))
        return bench_fail("session", hr);
    workers = calloc(conns, sizeof(*workers));

    bench_mark("start");
    cpu_start = bench_process_cpu();
    start = bench_now();
    if (big)
    {
        WCHAR path[MAX_PATH];
        LARGE_INTEGER length;
        void *conn = ops->open();
        HANDLE file;

        if (!conn)
            return bench_fail("connection", E_FAIL);
        hr = ops->head(conn, L"/big.bin", &size);
        ops->close(conn);
        if (FAILED(hr))
            return bench_fail("HEAD", hr);
        bench_path(path, out, L"big.bin");
        file = open_at(path, CREATE_ALWAYS, 0);
        if (file == INVALID_HANDLE_VALUE)
            return bench_fail("CreateFile", HRESULT_FROM_WIN32(GetLastError()));
        length.QuadPart = (LONGLONG)size;
        SetFilePointerEx(file, length, NULL, FILE_BEGIN);
        SetEndOfFile(file);
        CloseHandle(file);
        if ((ULONGLONG)conns > size)
            conns = size ? (long)size : 1;
    }
    for (long i = 0; i < conns; i++)
    {
        struct worker *worker = &workers[i];

        worker->ops = ops;
        worker->out = out;
        worker->next = &next;
        worker->count = count;
        worker->first = size * i / conns;
        worker->last = size * (i + 1) / conns - 1;
        worker->thread = CreateThread(NULL, 0, big ? big_worker : small_worker, worker, 0, NULL);
    }
    hr = S_OK;
    for (long i = 0; i < conns; i++)
    {
        WaitForSingleObject(workers[i].thread, INFINITE);
        CloseHandle(workers[i].thread);
        bytes += workers[i].bytes;
        files += workers[i].files;
        if (FAILED(workers[i].hr))
            hr = workers[i].hr;
    }
    end = bench_now();
    if (FAILED(hr))
        return bench_fail("GET", hr);
    bench_mark("end");

    json_bool("ok", 1);
    json_int("bytes", (long long)bytes);
    json_int("files", big ? 1 : files);
    json_num("wall_s", end - start);
    json_num("client_cpu_s", bench_process_cpu() - cpu_start);
    json_end();
    free(workers);
    return 0;
}
