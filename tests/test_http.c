/* SPDX-License-Identifier: MIT */
/* Tests of the http transport (src/engine/http.c) against the test nginx on loopback. */
#include "tusock.h"

#define MIB (1024 * 1024)
#define SLOW_SIZE (8 * MIB)
/* slow/8m.bin comes at 2 MB/s: about 4 s, plus slack for a loaded machine. */
#define SLOW_TIMEOUT 30000
#define FAST_TIMEOUT 15000

static IBackgroundCopyManager *manager;
/* The running test's jobs: cancelled and released by its teardown, even when it fails. */
static IBackgroundCopyJob *jobs[4];
static int job_count;
/* A file the running test added to the web server's folder, deleted by its teardown. */
static WCHAR served_file[MAX_PATH];

static int setup_group(void **state)
{
    if (tu_com_setup(state))
        return -1;
    manager = tu_manager();
    return 0;
}

static int teardown_group(void **state)
{
    IBackgroundCopyManager_Release(manager);
    return tu_com_teardown(state);
}

static void fake_stop(void);
static void error_counter_release(void);

static int teardown(void **state)
{
    while (job_count > 0)
        tu_cancel_release(jobs[--job_count]);
    error_counter_release();
    fake_stop();
    if (served_file[0])
        DeleteFileW(served_file);
    served_file[0] = 0;
    return 0;
}

/* A job with one file from url to `local`, owned by the test's teardown. */
static IBackgroundCopyJob *new_job(const WCHAR *url, const WCHAR *local)
{
    assert_true(job_count < (int)ARRAY_SIZE(jobs));
    return jobs[job_count++] = tu_job_with_file(manager, url, local);
}

/* A job with one file from url to dir\name, resumed. */
static IBackgroundCopyJob *start(const WCHAR *url, const WCHAR *dir, const WCHAR *name)
{
    IBackgroundCopyJob *job;
    WCHAR local[MAX_PATH];

    tu_path(local, ARRAY_SIZE(local), dir, name);
    job = new_job(url, local);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    return job;
}

/* Sets BITS_JOB_PROPERTY_DYNAMIC_CONTENT, which content without a length needs. */
static HRESULT set_dynamic_content(IBackgroundCopyJob *job)
{
    BITS_JOB_PROPERTY_VALUE value = {0};
    IBackgroundCopyJob5 *job5;
    HRESULT hr;

    assert_hr(S_OK,
              IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob5, (void **)&job5));
    value.Enable = TRUE;
    hr = IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_DYNAMIC_CONTENT, value);
    IBackgroundCopyJob5_Release(job5);
    return hr;
}

/* Asserts the four progress numbers. */
static void check_progress(IBackgroundCopyJob *job, UINT64 total, UINT64 transferred,
                           ULONG files_total, ULONG files_transferred)
{
    BG_JOB_PROGRESS p = tu_progress(job);

    if (p.BytesTotal != total || p.BytesTransferred != transferred || p.FilesTotal != files_total ||
        p.FilesTransferred != files_transferred)
        fail_msg("progress is %llu/%llu bytes, %lu/%lu files; expected %llu/%llu, %lu/%lu",
                 (unsigned long long)p.BytesTransferred, (unsigned long long)p.BytesTotal,
                 p.FilesTransferred, p.FilesTotal, (unsigned long long)transferred,
                 (unsigned long long)total, files_transferred, files_total);
}

/* A loopback port that nothing listens on: bound by us a moment ago, then closed. */
static USHORT closed_port(void)
{
    USHORT port;
    SOCKET s = tu_loopback_socket(0, &port);

    tu_ws.closesocket(s);
    return port;
}

/*
 * A scripted HTTP server for answers nginx does not give: it takes connections one after the
 * other, reads each request's head and sends the next canned answer; a stalling answer keeps
 * its connection open, silent, until the test releases it.
 */
struct canned
{
    char head[512]; /* status line and headers, with the blank line */
    const BYTE *body;
    int body_size;
    BOOL stall;
};

static struct
{
    SOCKET listener;
    USHORT port;
    HANDLE thread;
    HANDLE release; /* manual-reset: end the stalled connection */
    struct canned answers[4];
    int count;
    char requests[4][1024]; /* the heads received; read them after fake_stop */
    ULONGLONG ticks[4];     /* when each head was complete */
    int served;
    char out[512 + 256 * 1024]; /* the answer being sent */
} fake;

static DWORD WINAPI fake_main(void *arg)
{
    for (int i = 0; i < fake.count; i++)
    {
        const struct canned *answer = &fake.answers[i];
        SOCKET s = tu_ws.accept(fake.listener, NULL, NULL);
        int got = 0, n;

        if (s == INVALID_SOCKET)
            break;
        while (got < (int)sizeof(fake.requests[i]) - 1 &&
               (n = tu_ws.recv(s, fake.requests[i] + got, sizeof(fake.requests[i]) - 1 - got, 0)) >
                   0)
        {
            got += n;
            fake.requests[i][got] = 0;
            if (strstr(fake.requests[i], "\r\n\r\n"))
                break;
        }
        /* HEAD (OpenDO asks a new file's size first when it has connections to spare) is not
         * something these scripts are about: it is refused, and the script goes on. */
        if (!strncmp(fake.requests[i], "HEAD ", 5))
        {
            static const char refused[] = "HTTP/1.1 405 Method Not Allowed\r\n"
                                          "Content-Length: 0\r\nConnection: close\r\n\r\n";
            tu_ws.send(s, refused, sizeof(refused) - 1, 0);
            tu_ws.shutdown(s, SD_SEND);
            tu_ws.closesocket(s);
            memset(fake.requests[i], 0, sizeof(fake.requests[i]));
            i--;
            continue;
        }
        fake.ticks[i] = GetTickCount64();
        fake.served = i + 1;
        /* Head and body in one piece, so that the client sees all of them arrive at once. The
         * server answers one request per connection, and says so unless the script does: a
         * client that kept the connection would otherwise send its next request into a closed
         * socket (WinHTTP then fails the request when the close comes after its send). */
        n = (int)strlen(answer->head);
        memcpy(fake.out, answer->head, n);
        if (n >= 4 && !strcmp(answer->head + n - 4, "\r\n\r\n") &&
            !strstr(answer->head, "\r\nConnection:"))
        {
            static const char close_line[] = "Connection: close\r\n\r\n";
            memcpy(fake.out + n - 2, close_line, sizeof(close_line) - 1);
            n += sizeof(close_line) - 1 - 2;
        }
        memcpy(fake.out + n, answer->body, answer->body_size);
        tu_ws.send(s, fake.out, n + answer->body_size, 0);
        if (answer->stall)
            WaitForSingleObject(fake.release, INFINITE);
        tu_ws.shutdown(s, SD_SEND);
        tu_ws.closesocket(s);
    }
    return 0;
}

/* Opens the scripted server's port; returns the URL of /file.bin. */
static void fake_listen(WCHAR *url, size_t size)
{
    fake.served = 0;
    memset(fake.requests, 0, sizeof(fake.requests));
    memset(fake.ticks, 0, sizeof(fake.ticks));
    fake.listener = tu_loopback_socket(4, &fake.port);
    fake.release = CreateEventW(NULL, TRUE, FALSE, NULL);
    swprintf(url, size, L"http://127.0.0.1:%u/file.bin", fake.port);
}

/* Starts serving the first `count` answers in fake.answers. */
static void fake_serve(int count)
{
    fake.count = count;
    fake.thread = CreateThread(NULL, 0, fake_main, NULL, 0, NULL);
    assert_non_null(fake.thread);
}

/* fake_listen, then fake_serve. */
static void fake_start(int count, WCHAR *url, size_t size)
{
    fake_listen(url, size);
    fake_serve(count);
}

/* Releases a stalled connection, stops the server and waits for its thread. */
static void fake_stop(void)
{
    if (!fake.release)
        return;
    SetEvent(fake.release);
    tu_ws.closesocket(fake.listener);
    if (fake.thread && WaitForSingleObject(fake.thread, 10000))
        fail_msg("the scripted server did not stop");
    if (fake.thread)
        CloseHandle(fake.thread);
    CloseHandle(fake.release);
    fake.thread = NULL;
    fake.release = NULL;
}

/* Byte i of version `seed` of the scripted server's file. */
static BYTE body_byte(int seed, int i)
{
    return (BYTE)(i * (31 + 2 * seed) + i / 997 + seed);
}

/* Version `seed` of the scripted server's file (the first `size` bytes of it). */
static const BYTE *body(int seed, int size)
{
    static BYTE data[2][256 * 1024];

    assert_true(seed < 2 && size <= (int)sizeof(data[0]));
    for (int i = 0; i < size; i++)
        data[seed][i] = body_byte(seed, i);
    return data[seed];
}

/* Asserts that path holds exactly version `seed` of the file, `size` bytes long. */
static void check_body_file(const WCHAR *path, int seed, int size)
{
    BYTE *data = malloc(size + 1);
    DWORD read = 0;
    HANDLE file;

    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE)
        fail_msg("%ls is missing", path);
    ReadFile(file, data, size + 1, &read, NULL);
    CloseHandle(file);
    if ((int)read != size)
        fail_msg("%ls has %lu bytes; expected %d", path, read, size);
    for (int i = 0; i < size; i++)
    {
        if (data[i] != body_byte(seed, i))
            fail_msg("%ls differs from version %d of the file at byte %d", path, seed, i);
    }
    free(data);
}

static void download_4m(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH], www[MAX_PATH];
    IBackgroundCopyJob *job;

    tu_scratch("http_4m", dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"4m.bin");
    job = start(url, dir, L"4m.bin");
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    check_progress(job, 4 * MIB, 4 * MIB, 1, 1);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    tu_path(local, ARRAY_SIZE(local), dir, L"4m.bin");
    tu_www(www, ARRAY_SIZE(www), L"4m.bin");
    if (!tu_same_file(www, local))
        fail_msg("%ls differs from the served 4m.bin", local);
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
}

static void progress_is_exact_and_monotonic(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH], www[MAX_PATH];
    ULONGLONG deadline = GetTickCount64() + SLOW_TIMEOUT;
    BOOL saw_total_early = FALSE;
    UINT64 last = 0;
    ULONG samples = 0;
    IBackgroundCopyJob *job;
    BG_JOB_PROGRESS p;
    BG_JOB_STATE job_state;

    tu_scratch("http_progress", dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"slow/8m.bin");
    job = start(url, dir, L"8m.bin");
    for (;;)
    {
        /* State first: a job seen TRANSFERRED here has its final numbers below. */
        assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
        p = tu_progress(job);
        samples++;
        if (p.BytesTransferred < last)
            fail_msg("BytesTransferred went back from %llu to %llu", (unsigned long long)last,
                     (unsigned long long)p.BytesTransferred);
        last = p.BytesTransferred;
        if (p.BytesTotal != BG_SIZE_UNKNOWN && p.BytesTotal != SLOW_SIZE)
            fail_msg("BytesTotal is %llu; expected unknown or %u", (unsigned long long)p.BytesTotal,
                     SLOW_SIZE);
        if (p.BytesTotal == BG_SIZE_UNKNOWN && p.BytesTransferred > 0)
            fail_msg("%llu bytes arrived while BytesTotal was still unknown",
                     (unsigned long long)p.BytesTransferred);
        if (p.BytesTotal == SLOW_SIZE && p.BytesTransferred > p.BytesTotal)
            fail_msg("BytesTransferred %llu exceeds BytesTotal", (unsigned long long)last);
        if (p.BytesTotal == SLOW_SIZE && p.BytesTransferred < p.BytesTotal)
        {
            saw_total_early = TRUE;
            if (p.FilesTransferred != 0)
                fail_msg("FilesTransferred is %lu with %llu of %u bytes", p.FilesTransferred,
                         (unsigned long long)p.BytesTransferred, SLOW_SIZE);
        }
        assert_int_equal(1, p.FilesTotal);
        if (job_state == BG_JOB_STATE_TRANSFERRED)
            break;
        if (job_state != BG_JOB_STATE_QUEUED && job_state != BG_JOB_STATE_TRANSFERRING)
            fail_msg("job went to %s during the transfer", tu_state_name(job_state));
        if (GetTickCount64() > deadline)
            fail_msg("job did not finish within %u ms (%llu bytes)", SLOW_TIMEOUT,
                     (unsigned long long)last);
    }
    if (!saw_total_early)
        fail_msg("never saw BytesTotal known while bytes were still missing (%lu samples)",
                 samples);
    check_progress(job, SLOW_SIZE, SLOW_SIZE, 1, 1);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    tu_path(local, ARRAY_SIZE(local), dir, L"8m.bin");
    tu_www(www, ARRAY_SIZE(www), L"slow\\8m.bin");
    assert_true(tu_same_file(www, local));
}

static void nothing_at_destination_before_complete(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH], www[MAX_PATH];
    IBackgroundCopyJob *job;

    tu_scratch("http_destination", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"8m.bin");
    tu_url(url, ARRAY_SIZE(url), L"slow/8m.bin");
    job = start(url, dir, L"8m.bin");

    tu_wait_bytes(job, 1 * MIB, SLOW_TIMEOUT);
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRING, 1000);
    if (tu_exists(local))
        fail_msg("%ls exists while the job is TRANSFERRING", local);
    assert_int_equal(1, tu_count(dir, L"BIT*.tmp"));
    assert_int_equal(1, tu_count(dir, L"*"));

    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, SLOW_TIMEOUT);
    if (tu_exists(local))
        fail_msg("%ls exists while the job is TRANSFERRED, before Complete", local);
    assert_int_equal(1, tu_count(dir, L"BIT*.tmp"));

    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    tu_www(www, ARRAY_SIZE(www), L"slow\\8m.bin");
    if (!tu_same_file(www, local))
        fail_msg("%ls is missing or differs after Complete", local);
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    assert_int_equal(1, tu_count(dir, L"*"));
}

static void empty_file(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;

    tu_scratch("http_empty", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"empty.bin");
    tu_url(url, ARRAY_SIZE(url), L"empty.bin");
    job = start(url, dir, L"empty.bin");
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    check_progress(job, 0, 0, 1, 1);
    assert_false(tu_exists(local));
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    assert_int_equal(0, tu_file_size(local));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
}

static void two_files_in_one_job(void **state)
{
    WCHAR dir[MAX_PATH], url[2][MAX_PATH], local[2][MAX_PATH], www[MAX_PATH];
    BG_FILE_INFO files[2];
    IBackgroundCopyJob *job;
    GUID id;

    tu_scratch("http_two_files", dir, ARRAY_SIZE(dir));
    tu_url(url[0], ARRAY_SIZE(url[0]), L"hello.txt");
    tu_url(url[1], ARRAY_SIZE(url[1]), L"4m.bin");
    tu_path(local[0], ARRAY_SIZE(local[0]), dir, L"hello.txt");
    tu_path(local[1], ARRAY_SIZE(local[1]), dir, L"4m.bin");
    for (int i = 0; i < 2; i++)
    {
        files[i].RemoteName = url[i];
        files[i].LocalName = local[i];
    }
    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(manager, L"two", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    jobs[job_count++] = job;
    assert_hr(S_OK, IBackgroundCopyJob_AddFileSet(job, 2, files));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    check_progress(job, 4 * MIB + 14, 4 * MIB + 14, 2, 2);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    tu_www(www, ARRAY_SIZE(www), L"hello.txt");
    assert_true(tu_same_file(www, local[0]));
    tu_www(www, ARRAY_SIZE(www), L"4m.bin");
    assert_true(tu_same_file(www, local[1]));
    assert_int_equal(0, tu_count(dir, L"BIT*.tmp"));
}

/* An HTTP status that ends in ERROR: the error names it, and nothing is saved as content. */
static void check_fatal_status(const char *scratch, const WCHAR *path, HRESULT code)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;

    tu_scratch(scratch, dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    tu_url(url, ARRAY_SIZE(url), path);
    job = start(url, dir, L"file.bin");
    tu_wait_state(job, BG_JOB_STATE_ERROR, FAST_TIMEOUT);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, code);
    check_progress(job, BG_SIZE_UNKNOWN, 0, 1, 0);
    assert_false(tu_exists(local));
    assert_int_equal(1, tu_count(dir, L"BIT*.tmp"));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_int_equal(0, tu_count(dir, L"*"));
}

static void http_404_is_an_error(void **state)
{
    check_fatal_status("http_404", L"status/404", BG_E_HTTP_ERROR_404);
}

static void http_403_is_an_error(void **state)
{
    check_fatal_status("http_403", L"status/403", BG_E_HTTP_ERROR_403);
}

/* A 5xx status is transient: TRANSIENT_ERROR while the no-progress timeout allows retries,
 * ERROR at once when it is zero. */
static void check_transient_status(const char *scratch, const WCHAR *path, HRESULT code)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;
    ULONG errors;

    tu_scratch(scratch, dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"retry.bin");
    tu_url(url, ARRAY_SIZE(url), path);
    job = new_job(url, local);
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, 5));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSIENT_ERROR, FAST_TIMEOUT);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, code);
    assert_hr(S_OK, IBackgroundCopyJob_GetErrorCount(job, &errors));
    assert_int_equal(1, errors);
    assert_false(tu_exists(local));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));

    tu_path(local, ARRAY_SIZE(local), dir, L"fatal.bin");
    job = new_job(url, local);
    assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(job, 0));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_ERROR, FAST_TIMEOUT);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, code);
    assert_false(tu_exists(local));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_int_equal(0, tu_count(dir, L"*"));
}

static void http_500_is_transient(void **state)
{
    check_transient_status("http_500", L"status/500", BG_E_HTTP_ERROR_500);
}

static void http_503_is_transient(void **state)
{
    check_transient_status("http_503", L"status/503", BG_E_HTTP_ERROR_503);
}

static void connection_refused_is_transient(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;

    tu_scratch("http_refused", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    swprintf(url, ARRAY_SIZE(url), L"http://127.0.0.1:%u/file.bin", closed_port());
    job = new_job(url, local);
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, 5));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSIENT_ERROR, FAST_TIMEOUT);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_GENERAL_TRANSPORT,
                        HRESULT_FROM_WIN32(12029 /* ERROR_WINHTTP_CANNOT_CONNECT */));
    assert_false(tu_exists(local));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_int_equal(0, tu_count(dir, L"*"));
}

static void suspend_and_resume_continue_with_range(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH], www[MAX_PATH];
    ULONGLONG deadline;
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;
    BG_JOB_PROGRESS p;
    UINT64 kept;

    tu_scratch("http_suspend", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"8m.bin");
    tu_unique_url(url, ARRAY_SIZE(url), L"slow/8m.bin");
    job = start(url, dir, L"8m.bin");
    tu_wait_bytes(job, 2 * MIB, SLOW_TIMEOUT);

    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    if (job_state != BG_JOB_STATE_SUSPENDED)
        fail_msg("GetState says %s right after Suspend", tu_state_name(job_state));
    kept = tu_progress(job).BytesTransferred;
    assert_true(kept >= 2 * MIB && kept < SLOW_SIZE);
    /* The worker is gone: nothing moves any more. */
    Sleep(300);
    assert_int_equal(kept, tu_progress(job).BytesTransferred);
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_SUSPENDED, job_state);
    assert_false(tu_exists(local));

    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    deadline = GetTickCount64() + SLOW_TIMEOUT;
    for (;;)
    {
        assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
        p = tu_progress(job);
        if (p.BytesTransferred < kept)
            fail_msg("BytesTransferred dropped from %llu to %llu after Resume",
                     (unsigned long long)kept, (unsigned long long)p.BytesTransferred);
        if (job_state == BG_JOB_STATE_TRANSFERRED)
            break;
        if (job_state != BG_JOB_STATE_QUEUED && job_state != BG_JOB_STATE_TRANSFERRING)
            fail_msg("job went to %s after Resume", tu_state_name(job_state));
        if (GetTickCount64() > deadline)
            fail_msg("job did not finish within %u ms after Resume", SLOW_TIMEOUT);
        Sleep(1);
    }
    check_progress(job, SLOW_SIZE, SLOW_SIZE, 1, 1);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    tu_www(www, ARRAY_SIZE(www), L"slow\\8m.bin");
    if (!tu_same_file(www, local))
        fail_msg("%ls differs from slow/8m.bin after Suspend and Resume", local);
    /* The second request asked for the rest only. */
    assert_int_equal(1, tu_access_count_wait(url, 206, 1));
}

static void cancel_while_server_stalls(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH];
    IBackgroundCopyJob *job;
    BG_JOB_STATE job_state;
    ULONGLONG start_tick;
    SOCKET server;
    DWORD elapsed;

    /* The kernel accepts the connection into the backlog; nobody ever answers the request. */
    tu_scratch("http_stalled", dir, ARRAY_SIZE(dir));
    server = tu_silent_server(url, ARRAY_SIZE(url));
    job = start(url, dir, L"never.bin");
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRING, FAST_TIMEOUT);
    Sleep(200);
    start_tick = GetTickCount64();
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    elapsed = (DWORD)(GetTickCount64() - start_tick);
    tu_ws.closesocket(server);
    if (elapsed > 2000)
        fail_msg("Cancel took %lu ms while the server did not answer; expected under 2000 ms",
                 elapsed);
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_CANCELLED, job_state);
    assert_int_equal(0, tu_count(dir, L"*"));
}

/* Sets scripted answer n. */
static void fake_answer(int n, const char *head, int seed, int from, int size, BOOL stall)
{
    snprintf(fake.answers[n].head, sizeof(fake.answers[n].head), "%s", head);
    assert_true(size <= 256 * 1024);
    fake.answers[n].body = body(seed, from + size) + from;
    fake.answers[n].body_size = size;
    fake.answers[n].stall = stall;
}

/* Suspends the job once `bytes` arrived from a stalled answer, checks that Suspend did not
 * wait for the silent server, and lets the scripted server go on to its next answer. */
static void suspend_on_stall(IBackgroundCopyJob *job, UINT64 bytes)
{
    BG_JOB_STATE job_state;
    ULONGLONG start_tick;
    DWORD elapsed;

    tu_wait_bytes(job, bytes, FAST_TIMEOUT);
    start_tick = GetTickCount64();
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));
    elapsed = (DWORD)(GetTickCount64() - start_tick);
    if (elapsed > 2000)
        fail_msg("Suspend took %lu ms while the server was silent; expected under 2000 ms",
                 elapsed);
    assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
    assert_int_equal(BG_JOB_STATE_SUSPENDED, job_state);
    assert_int_equal(bytes, tu_progress(job).BytesTransferred);
    SetEvent(fake.release);
}

static void resume_after_stall_sends_range(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;

    tu_scratch("http_stall_body", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    fake_answer(0, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nETag: \"v1\"\r\n\r\n", 0, 0, 1000,
                TRUE);
    fake_answer(1,
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 1000-99999/100000\r\n"
                "Content-Length: 99000\r\n\r\n",
                0, 1000, 99000, FALSE);
    fake_start(2, url, ARRAY_SIZE(url));
    job = start(url, dir, L"file.bin");
    suspend_on_stall(job, 1000);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    check_progress(job, 100000, 100000, 1, 1);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    fake_stop();
    check_body_file(local, 0, 100000);
    /* A first request for all of it; then the rest, if the file is still the same. */
    if (strstr(fake.requests[0], "Range:"))
        fail_msg("the first request asked for a range:\n%s", fake.requests[0]);
    if (!strstr(fake.requests[1], "\r\nRange: bytes=1000-\r\n") ||
        !strstr(fake.requests[1], "\r\nIf-Range: \"v1\"\r\n"))
        fail_msg("expected the second request to ask for bytes 1000- if still \"v1\":\n%s",
                 fake.requests[1]);
}

static void weak_etag_resumes_with_date(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH];
    IBackgroundCopyJob *job;

    tu_scratch("http_weak_etag", dir, ARRAY_SIZE(dir));
    fake_answer(0,
                "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nETag: W/\"weak\"\r\n"
                "Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\n",
                0, 0, 1000, TRUE);
    fake_answer(1,
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 1000-4999/5000\r\n"
                "Content-Length: 4000\r\n\r\n",
                0, 1000, 4000, FALSE);
    fake_start(2, url, ARRAY_SIZE(url));
    job = start(url, dir, L"file.bin");
    suspend_on_stall(job, 1000);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    fake_stop();
    /* If-Range takes no weak ETag (RFC 9110 13.1.5). */
    if (!strstr(fake.requests[1], "\r\nIf-Range: Wed, 21 Oct 2015 07:28:00 GMT\r\n"))
        fail_msg("expected If-Range with the date:\n%s", fake.requests[1]);
}

static void resumed_file_of_another_size_restarts(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;

    /* A server without validators: only the size tells that the file changed. */
    tu_scratch("http_changed_size", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    fake_answer(0, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", 0, 0, 1000, TRUE);
    fake_answer(1,
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 1000-59999/60000\r\n"
                "Content-Length: 59000\r\n\r\n",
                1, 1000, 59000, FALSE);
    fake_answer(2, "HTTP/1.1 200 OK\r\nContent-Length: 60000\r\n\r\n", 1, 0, 60000, FALSE);
    fake_start(3, url, ARRAY_SIZE(url));
    job = start(url, dir, L"file.bin");
    suspend_on_stall(job, 1000);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    check_progress(job, 60000, 60000, 1, 1);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    fake_stop();
    check_body_file(local, 1, 60000);
    assert_int_equal(3, fake.served);
    if (strstr(fake.requests[2], "Range:"))
        fail_msg("expected the third request to ask for the whole file:\n%s", fake.requests[2]);
}

static void partial_range_answers_are_continued(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;

    /* The server sends less than asked for: the rest is asked for again. */
    tu_scratch("http_partial_range", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    fake_answer(0, "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n", 0, 0, 1000, TRUE);
    fake_answer(1,
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 1000-1999/3000\r\n"
                "Content-Length: 1000\r\n\r\n",
                0, 1000, 1000, FALSE);
    fake_answer(2,
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 2000-2999/3000\r\n"
                "Content-Length: 1000\r\n\r\n",
                0, 2000, 1000, FALSE);
    fake_start(3, url, ARRAY_SIZE(url));
    job = start(url, dir, L"file.bin");
    suspend_on_stall(job, 1000);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    check_progress(job, 3000, 3000, 1, 1);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    fake_stop();
    check_body_file(local, 0, 3000);
    if (!strstr(fake.requests[2], "\r\nRange: bytes=2000-\r\n"))
        fail_msg("expected the third request to ask for bytes 2000-:\n%s", fake.requests[2]);
}

static void wrong_content_range_is_an_error(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;

    tu_scratch("http_wrong_range", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    fake_answer(0, "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n", 0, 0, 1000, TRUE);
    fake_answer(1,
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-2999/3000\r\n"
                "Content-Length: 3000\r\n\r\n",
                0, 0, 3000, FALSE);
    fake_start(2, url, ARRAY_SIZE(url));
    job = start(url, dir, L"file.bin");
    suspend_on_stall(job, 1000);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_ERROR, FAST_TIMEOUT);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_INVALID_SERVER_RESPONSE);
    /* Nothing of the wrong answer was counted or saved. */
    assert_int_equal(1000, tu_progress(job).BytesTransferred);
    assert_false(tu_exists(local));
}

static void unknown_size_until_the_end(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;
    BG_JOB_PROGRESS p;

    /* No Content-Length (allowed with DYNAMIC_CONTENT): the size is known when the server
     * closes the connection. */
    tu_scratch("http_no_length", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    fake_answer(0, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 0, 0, 5000, TRUE);
    fake_start(1, url, ARRAY_SIZE(url));
    job = new_job(url, local);
    assert_hr(S_OK, set_dynamic_content(job));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_bytes(job, 5000, FAST_TIMEOUT);
    p = tu_progress(job);
    assert_true(p.BytesTotal == BG_SIZE_UNKNOWN);
    assert_int_equal(0, p.FilesTransferred);
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRING, 0);
    SetEvent(fake.release);
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    check_progress(job, 5000, 5000, 1, 1);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    fake_stop();
    check_body_file(local, 0, 5000);
}

static void server_ignoring_range_restarts(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;

    /* A server without ranges answers the resume with all of the file: it starts over. */
    tu_scratch("http_no_ranges", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    fake_answer(0, "HTTP/1.1 200 OK\r\nContent-Length: 50000\r\n\r\n", 0, 0, 1000, TRUE);
    fake_answer(1, "HTTP/1.1 200 OK\r\nContent-Length: 50000\r\n\r\n", 0, 0, 50000, FALSE);
    fake_start(2, url, ARRAY_SIZE(url));
    job = start(url, dir, L"file.bin");
    suspend_on_stall(job, 1000);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    check_progress(job, 50000, 50000, 1, 1);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    fake_stop();
    check_body_file(local, 0, 50000);
    assert_non_null(strstr(fake.requests[1], "\r\nRange: bytes=1000-\r\n"));
}

static void shrunk_temporary_file_restarts(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH], temp[MAX_PATH];
    WIN32_FIND_DATAW data;
    IBackgroundCopyJob *job;
    HANDLE find, file;

    /* The temporary file lost the bytes that were counted: they are fetched again, not
     * taken on trust. */
    tu_scratch("http_shrunk_temp", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    fake_answer(0, "HTTP/1.1 200 OK\r\nContent-Length: 50000\r\n\r\n", 0, 0, 1000, TRUE);
    fake_answer(1, "HTTP/1.1 200 OK\r\nContent-Length: 50000\r\n\r\n", 0, 0, 50000, FALSE);
    fake_start(2, url, ARRAY_SIZE(url));
    job = start(url, dir, L"file.bin");
    suspend_on_stall(job, 1000);

    tu_path(temp, ARRAY_SIZE(temp), dir, L"BIT*.tmp");
    find = FindFirstFileW(temp, &data);
    assert_true(find != INVALID_HANDLE_VALUE);
    FindClose(find);
    tu_path(temp, ARRAY_SIZE(temp), dir, data.cFileName);
    assert_int_equal(1000, tu_file_size(temp));
    file = CreateFileW(temp, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING,
                       0, NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    assert_true(SetFilePointer(file, 500, NULL, FILE_BEGIN) == 500);
    assert_true(SetEndOfFile(file));
    CloseHandle(file);

    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    check_progress(job, 50000, 50000, 1, 1);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    fake_stop();
    check_body_file(local, 0, 50000);
    if (strstr(fake.requests[1], "Range:"))
        fail_msg("resumed from bytes the temporary file no longer has:\n%s", fake.requests[1]);
}

static void early_close_keeps_bytes(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;

    /* The connection ends before Content-Length: a transient error that keeps the bytes. */
    tu_scratch("http_early_close", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    fake_answer(0, "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\nETag: \"e\"\r\n\r\n", 0, 0, 1000,
                FALSE);
    fake_answer(1,
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 1000-2999/3000\r\n"
                "Content-Length: 2000\r\n\r\n",
                0, 1000, 2000, FALSE);
    fake_start(2, url, ARRAY_SIZE(url));
    job = start(url, dir, L"file.bin");
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, 60));
    tu_wait_state(job, BG_JOB_STATE_TRANSIENT_ERROR, FAST_TIMEOUT);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_GENERAL_TRANSPORT, BG_E_CONNECTION_CLOSED);
    check_progress(job, 3000, 1000, 1, 0);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    check_progress(job, 3000, 3000, 1, 1);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    fake_stop();
    check_body_file(local, 0, 3000);
    assert_non_null(strstr(fake.requests[1], "\r\nRange: bytes=1000-\r\n"));
}

static void shorter_file_restarts(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;

    /* The file became shorter than the bytes we have: 416 for the resume, then all of it. */
    tu_scratch("http_shorter", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    fake_answer(0, "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", 0, 0, 1000, TRUE);
    fake_answer(1,
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */500\r\n"
                "Content-Length: 0\r\n\r\n",
                0, 0, 0, FALSE);
    fake_answer(2, "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", 1, 0, 500, FALSE);
    fake_start(3, url, ARRAY_SIZE(url));
    job = start(url, dir, L"file.bin");
    suspend_on_stall(job, 1000);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    check_progress(job, 500, 500, 1, 1);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    fake_stop();
    check_body_file(local, 1, 500);
}

static void redirect_is_followed(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    char head[256];
    IBackgroundCopyJob *job;

    tu_scratch("http_redirect", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    fake_listen(url, ARRAY_SIZE(url));
    snprintf(head, sizeof(head),
             "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%u/moved.bin"
             "\r\nContent-Length: 0\r\n\r\n",
             fake.port);
    fake_answer(0, head, 0, 0, 0, FALSE);
    fake_answer(1, "HTTP/1.1 200 OK\r\nContent-Length: 7000\r\n\r\n", 0, 0, 7000, FALSE);
    fake_serve(2);
    job = start(url, dir, L"file.bin");
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, FAST_TIMEOUT);
    check_progress(job, 7000, 7000, 1, 1);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    fake_stop();
    check_body_file(local, 0, 7000);
    assert_non_null(strstr(fake.requests[1], "GET /moved.bin "));
}

static void changed_file_restarts(void **state)
{
    WCHAR dir[MAX_PATH], name[64], served[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;

    /* A file of the same size that changed between Suspend and Resume: nginx's ETag (mtime and
     * size) differs, so If-Range brings all of the new file instead of the rest of the old. */
    tu_scratch("http_changed", dir, ARRAY_SIZE(dir));
    swprintf(name, ARRAY_SIZE(name), L"slow\\changed-%lx.bin", GetCurrentProcessId());
    tu_www(served, ARRAY_SIZE(served), name);
    wcscpy(served_file, served);
    tu_write_seeded_file(served, 4 * MIB, 10);
    swprintf(name, ARRAY_SIZE(name), L"slow/changed-%lx.bin", GetCurrentProcessId());
    tu_unique_url(url, ARRAY_SIZE(url), name);
    tu_path(local, ARRAY_SIZE(local), dir, L"changed.bin");
    job = start(url, dir, L"changed.bin");
    tu_wait_bytes(job, MIB, SLOW_TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Suspend(job));

    tu_write_seeded_file(served, 4 * MIB, 11);
    tu_date_file(served, 3600);

    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, SLOW_TIMEOUT);
    check_progress(job, 4 * MIB, 4 * MIB, 1, 1);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    if (!tu_same_file(served, local))
        fail_msg("%ls is not the new version of the file", local);
    assert_int_equal(2, tu_access_count_wait(url, 200, 2));
    assert_int_equal(0, tu_access_count(url, 206));
}

/* ---- the no-progress timeout ---- */

/*
 * A callback that counts JobError calls. It aggregates the free-threaded marshaler, so that the
 * notifier calls it directly on its own thread (the test runs in the MTA anyway).
 */
static struct
{
    IBackgroundCopyCallback iface;
    IUnknown *ftm;
    LONG refs;
    LONG errors;  /* JobError calls */
    HANDLE event; /* set by every JobError */
} * counter;

static HRESULT WINAPI counter_QueryInterface(IBackgroundCopyCallback *iface, REFIID riid,
                                             void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IBackgroundCopyCallback))
    {
        *out = iface;
        IBackgroundCopyCallback_AddRef(iface);
        return S_OK;
    }
    if (IsEqualIID(riid, &IID_IMarshal))
        return IUnknown_QueryInterface(counter->ftm, riid, out);
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI counter_AddRef(IBackgroundCopyCallback *iface)
{
    return InterlockedIncrement(&counter->refs);
}

/* The object lives until the test's teardown, which frees it when the job let it go. */
static ULONG WINAPI counter_Release(IBackgroundCopyCallback *iface)
{
    return InterlockedDecrement(&counter->refs);
}

static HRESULT WINAPI counter_JobTransferred(IBackgroundCopyCallback *iface,
                                             IBackgroundCopyJob *job)
{
    return S_OK;
}

static HRESULT WINAPI counter_JobError(IBackgroundCopyCallback *iface, IBackgroundCopyJob *job,
                                       IBackgroundCopyError *error)
{
    InterlockedIncrement(&counter->errors);
    SetEvent(counter->event);
    return S_OK;
}

static HRESULT WINAPI counter_JobModification(IBackgroundCopyCallback *iface,
                                              IBackgroundCopyJob *job, DWORD reserved)
{
    return S_OK;
}

static const IBackgroundCopyCallbackVtbl counter_vtbl = {
    counter_QueryInterface, counter_AddRef,   counter_Release,
    counter_JobTransferred, counter_JobError, counter_JobModification,
};

/* Registers a JobError counter on the job (one per test). */
static void count_job_errors(IBackgroundCopyJob *job)
{
    assert_null(counter);
    assert_non_null(counter = calloc(1, sizeof(*counter)));
    counter->iface.lpVtbl = &counter_vtbl;
    counter->refs = 1;
    counter->event = CreateEventW(NULL, FALSE, FALSE, NULL);
    assert_hr(S_OK, CoCreateFreeThreadedMarshaler((IUnknown *)&counter->iface, &counter->ftm));
    assert_hr(S_OK, IBackgroundCopyJob_SetNotifyInterface(job, (IUnknown *)&counter->iface));
}

/* The teardown's: the jobs are cancelled and released, so the notifier lets go of the counter
 * soon; it is freed once it has (or leaked, if that never happens, rather than freed in use). */
static void error_counter_release(void)
{
    ULONGLONG deadline = GetTickCount64() + 10000;

    if (!counter)
        return;
    while (counter->refs > 1 && GetTickCount64() < deadline)
        Sleep(20);
    if (counter->refs == 1)
    {
        IUnknown_Release(counter->ftm);
        CloseHandle(counter->event);
        free(counter);
    }
    counter = NULL;
}

/* Asserts that JobError came exactly once: the first call within timeout_ms, and no second one
 * within a second after it. */
static void check_one_job_error(DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;

    while (counter->errors < 1)
    {
        if (GetTickCount64() >= deadline)
            fail_msg("JobError was not called within %lu ms", timeout_ms);
        WaitForSingleObject(counter->event, 50);
    }
    WaitForSingleObject(counter->event, 1000);
    if (counter->errors != 1)
        fail_msg("JobError was called %ld times; expected once", counter->errors);
}

/* How far past its no-progress timeout a job may take to reach ERROR on a loaded machine. */
#define NO_PROGRESS_MARGIN 3000

/* Waits until the job is in ERROR, failing if it goes back to retrying on the way; returns the
 * milliseconds since `since`. */
static DWORD wait_error_without_retry(IBackgroundCopyJob *job, ULONGLONG since, DWORD timeout_ms)
{
    ULONGLONG deadline = since + timeout_ms;
    BG_JOB_STATE job_state;

    for (;;)
    {
        assert_hr(S_OK, IBackgroundCopyJob_GetState(job, &job_state));
        if (job_state == BG_JOB_STATE_ERROR)
            return (DWORD)(GetTickCount64() - since);
        if (job_state == BG_JOB_STATE_TRANSIENT_ERROR)
            fail_msg("the job went to TRANSIENT_ERROR after %lu ms; expected ERROR",
                     (DWORD)(GetTickCount64() - since));
        if (GetTickCount64() >= deadline)
            fail_msg("the job is still %s %lu ms later; expected ERROR", tu_state_name(job_state),
                     timeout_ms);
        Sleep(10);
    }
}

static void silent_server_ends_in_error(void **state)
{
    /* Longer than the minimum retry delay: the stall that used the whole window must end in
     * ERROR, not in one more retry. */
    const ULONG timeout = 6;
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;
    ULONGLONG started;
    SOCKET server;
    DWORD elapsed;

    /* The kernel accepts the connection; the headers never come. */
    tu_scratch("http_silent", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"never.bin");
    server = tu_silent_server(url, ARRAY_SIZE(url));
    job = new_job(url, local);
    count_job_errors(job);
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, 5));
    assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(job, timeout));
    started = GetTickCount64();
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    elapsed = wait_error_without_retry(job, started, timeout * 1000 + NO_PROGRESS_MARGIN);
    tu_ws.closesocket(server);
    if (elapsed < timeout * 1000 - 200)
        fail_msg("ERROR after %lu ms; expected no sooner than the %lu s timeout", elapsed, timeout);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_GENERAL_TRANSPORT,
                        HRESULT_FROM_WIN32(12002 /* ERROR_WINHTTP_TIMEOUT */));
    check_one_job_error(FAST_TIMEOUT);
    check_progress(job, BG_SIZE_UNKNOWN, 0, 1, 0);
    assert_false(tu_exists(local));
}

static void stalled_body_ends_in_error(void **state)
{
    const ULONG timeout = 3;
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;
    ULONGLONG progressed;
    DWORD elapsed;

    /* Headers and the first bytes, then silence: the window runs from the last byte. */
    tu_scratch("http_stalled_body", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    fake_answer(0, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", 0, 0, 1000, TRUE);
    fake_start(1, url, ARRAY_SIZE(url));
    job = new_job(url, local);
    count_job_errors(job);
    assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(job, timeout));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_bytes(job, 1000, FAST_TIMEOUT);
    progressed = GetTickCount64();
    elapsed = wait_error_without_retry(job, progressed, timeout * 1000 + NO_PROGRESS_MARGIN);
    if (elapsed < timeout * 1000 - 500)
        fail_msg("ERROR %lu ms after the last byte; expected no sooner than the %lu s timeout",
                 elapsed, timeout);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_GENERAL_TRANSPORT,
                        HRESULT_FROM_WIN32(12002 /* ERROR_WINHTTP_TIMEOUT */));
    check_one_job_error(FAST_TIMEOUT);
    /* The bytes that came are kept for a Resume. */
    check_progress(job, 100000, 1000, 1, 0);
    assert_false(tu_exists(local));
}

/* ---- Retry-After ---- */

/* The minimum retry delay the Retry-After tests set: BITS' smallest. */
#define MIN_RETRY_DELAY_S 5

/* Serves `refusal` (which asks the client to come back later), then the file; asserts that the
 * second request came, and no sooner than `wait_ms` after the tick `since` (0: after the first
 * request). */
static void check_retry_after(const char *scratch, const char *refusal, DWORD wait_ms,
                              ULONGLONG since)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;
    DWORD waited;

    tu_scratch(scratch, dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    fake_answer(0, refusal, 0, 0, 0, FALSE);
    fake_answer(1, "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n", 0, 0, 3000, FALSE);
    fake_start(2, url, ARRAY_SIZE(url));
    job = new_job(url, local);
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, MIN_RETRY_DELAY_S));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSIENT_ERROR, FAST_TIMEOUT);
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, wait_ms + FAST_TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    fake_stop();
    check_body_file(local, 0, 3000);
    assert_int_equal(2, fake.served);
    waited = (DWORD)(fake.ticks[1] - (since ? since : fake.ticks[0]));
    if (waited < wait_ms)
        fail_msg("the retry came after %lu ms; expected at least %lu ms", waited, wait_ms);
}

static void retry_after_seconds_503(void **state)
{
    check_retry_after("http_retry_after_503",
                      "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\n"
                      "Content-Length: 0\r\n\r\n",
                      7000 - 100, 0);
}

static void retry_after_seconds_429(void **state)
{
    check_retry_after("http_retry_after_429",
                      "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n"
                      "Content-Length: 0\r\n\r\n",
                      7000 - 100, 0);
}

static void retry_after_date_503(void **state)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    ULARGE_INTEGER when;
    ULONGLONG now = GetTickCount64();
    SYSTEMTIME st;
    FILETIME ft;
    char head[256];

    /* Eight seconds from now, rounded down to the second: at least seven from now. */
    GetSystemTimeAsFileTime(&ft);
    when.LowPart = ft.dwLowDateTime;
    when.HighPart = ft.dwHighDateTime;
    when.QuadPart += 8 * 10000000ULL;
    ft.dwLowDateTime = when.LowPart;
    ft.dwHighDateTime = when.HighPart;
    FileTimeToSystemTime(&ft, &st);
    snprintf(head, sizeof(head),
             "HTTP/1.1 503 Service Unavailable\r\nRetry-After: %s, %02u %s %04u %02u:%02u:%02u GMT"
             "\r\nContent-Length: 0\r\n\r\n",
             days[st.wDayOfWeek], st.wDay, months[st.wMonth - 1], st.wYear, st.wHour, st.wMinute,
             st.wSecond);
    check_retry_after("http_retry_after_date", head, 7000 - 100, now);
}

static void retry_after_beyond_timeout_is_an_error(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;

    /* The server will not serve within the no-progress timeout: no retry can help. */
    tu_scratch("http_retry_after_late", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    fake_answer(0,
                "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\n"
                "Content-Length: 0\r\n\r\n",
                0, 0, 0, FALSE);
    fake_start(1, url, ARRAY_SIZE(url));
    job = new_job(url, local);
    assert_hr(S_OK, IBackgroundCopyJob_SetMinimumRetryDelay(job, MIN_RETRY_DELAY_S));
    assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(job, 60));
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    wait_error_without_retry(job, GetTickCount64(), FAST_TIMEOUT);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_REMOTE_FILE, BG_E_HTTP_ERROR_503);
    assert_int_equal(1, fake.served);
}

/* ---- proxy auto-detection ---- */

#define DETECT_FILES 40

static void autodetect_job_with_many_files(void **state)
{
    static WCHAR url[DETECT_FILES][MAX_PATH], local[DETECT_FILES][MAX_PATH];
    WCHAR dir[MAX_PATH], fake_url[MAX_PATH], name[32], www[MAX_PATH];
    BG_FILE_INFO files[DETECT_FILES];
    IBackgroundCopyJob *job;
    ULONGLONG started;
    GUID id;

    /* WPAD finds nothing here, so every file goes direct; what matters is that a job of many
     * files, some from a second origin, gets through with the detection it keeps. */
    tu_scratch("http_autodetect", dir, ARRAY_SIZE(dir));
    fake_answer(0, "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n", 0, 0, 3000, FALSE);
    fake_answer(1, "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n", 0, 0, 3000, FALSE);
    fake_start(2, fake_url, ARRAY_SIZE(fake_url));
    for (int i = 0; i < DETECT_FILES; i++)
    {
        if (i == DETECT_FILES / 4 || i == DETECT_FILES * 3 / 4)
            wcscpy(url[i], fake_url);
        else
            tu_url(url[i], ARRAY_SIZE(url[i]), L"hello.txt");
        swprintf(name, ARRAY_SIZE(name), L"f%02d.bin", i);
        tu_path(local[i], ARRAY_SIZE(local[i]), dir, name);
        files[i].RemoteName = url[i];
        files[i].LocalName = local[i];
    }
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"autodetect", BG_JOB_TYPE_DOWNLOAD,
                                                     &id, &job));
    jobs[job_count++] = job;
    assert_hr(S_OK, IBackgroundCopyJob_AddFileSet(job, DETECT_FILES, files));
    assert_hr(S_OK,
              IBackgroundCopyJob_SetProxySettings(job, BG_JOB_PROXY_USAGE_AUTODETECT, NULL, NULL));
    started = GetTickCount64();
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, SLOW_TIMEOUT);
    print_message("%d files with AUTODETECT in %lu ms\n", DETECT_FILES,
                  (DWORD)(GetTickCount64() - started));
    check_progress(job, (DETECT_FILES - 2) * 14 + 2 * 3000, (DETECT_FILES - 2) * 14 + 2 * 3000,
                   DETECT_FILES, DETECT_FILES);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    fake_stop();
    assert_int_equal(2, fake.served);
    tu_www(www, ARRAY_SIZE(www), L"hello.txt");
    for (int i = 0; i < DETECT_FILES; i++)
    {
        if (!wcscmp(url[i], fake_url))
            check_body_file(local[i], 0, 3000);
        else if (!tu_same_file(www, local[i]))
            fail_msg("%ls differs from hello.txt", local[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(download_4m, teardown),
        cmocka_unit_test_teardown(progress_is_exact_and_monotonic, teardown),
        cmocka_unit_test_teardown(nothing_at_destination_before_complete, teardown),
        cmocka_unit_test_teardown(empty_file, teardown),
        cmocka_unit_test_teardown(two_files_in_one_job, teardown),
        cmocka_unit_test_teardown(http_404_is_an_error, teardown),
        cmocka_unit_test_teardown(http_403_is_an_error, teardown),
        cmocka_unit_test_teardown(http_500_is_transient, teardown),
        cmocka_unit_test_teardown(http_503_is_transient, teardown),
        cmocka_unit_test_teardown(connection_refused_is_transient, teardown),
        cmocka_unit_test_teardown(suspend_and_resume_continue_with_range, teardown),
        cmocka_unit_test_teardown(cancel_while_server_stalls, teardown),
        cmocka_unit_test_teardown(resume_after_stall_sends_range, teardown),
        cmocka_unit_test_teardown(weak_etag_resumes_with_date, teardown),
        cmocka_unit_test_teardown(resumed_file_of_another_size_restarts, teardown),
        cmocka_unit_test_teardown(partial_range_answers_are_continued, teardown),
        cmocka_unit_test_teardown(wrong_content_range_is_an_error, teardown),
        cmocka_unit_test_teardown(unknown_size_until_the_end, teardown),
        cmocka_unit_test_teardown(server_ignoring_range_restarts, teardown),
        cmocka_unit_test_teardown(shrunk_temporary_file_restarts, teardown),
        cmocka_unit_test_teardown(early_close_keeps_bytes, teardown),
        cmocka_unit_test_teardown(shorter_file_restarts, teardown),
        cmocka_unit_test_teardown(redirect_is_followed, teardown),
        cmocka_unit_test_teardown(changed_file_restarts, teardown),
        cmocka_unit_test_teardown(silent_server_ends_in_error, teardown),
        cmocka_unit_test_teardown(stalled_body_ends_in_error, teardown),
        cmocka_unit_test_teardown(retry_after_seconds_503, teardown),
        cmocka_unit_test_teardown(retry_after_seconds_429, teardown),
        cmocka_unit_test_teardown(retry_after_date_503, teardown),
        cmocka_unit_test_teardown(retry_after_beyond_timeout_is_an_error, teardown),
        cmocka_unit_test_teardown(autodetect_job_with_many_files, teardown),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
