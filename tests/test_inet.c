/* SPDX-License-Identifier: MIT */
/* Tests of the HTTP transports driven directly (src/engine/inet.c, http.c, httpsem.c and
 * transport.c): segments, kept connections, and the jobs that only WinHTTP carries. */
#include "tusock.h"
#include "enginetest.h"

#define MIB (1024 * 1024)

typedef HRESULT (*fetch_fn)(struct transfer_ctx *ctx, const WCHAR *url);

/* Both stacks, by name, for the messages. */
static const struct
{
    const char *name;
    fetch_fn fetch;
} stacks[] = {{"WinINet", inet_fetch}, {"WinHTTP", http_fetch}};

static WCHAR scratch[MAX_PATH];

/* A fetch context for file 0 of `job` (a new job of the remote file when NULL), writing into a
 * file of the scratch folder positioned at `offset`. */
static struct ejob *job_ctx(struct ejob *job, struct transfer_ctx *ctx, const WCHAR *remote,
                            const WCHAR *name, UINT64 offset, UINT64 end, UINT64 total)
{
    WCHAR local[MAX_PATH], out[MAX_PATH];
    LARGE_INTEGER pos;

    tu_path(local, ARRAY_SIZE(local), scratch, name);
    if (!job)
        job = et_job_with_file(remote, local);
    memset(ctx, 0, sizeof(*ctx));
    ctx->job = job;
    ctx->generation = job->generation;
    ctx->offset = ctx->position = offset;
    ctx->end = end;
    ctx->total = total;
    ctx->remote_size = BG_SIZE_UNKNOWN;
    ctx->http = TRUE;
    swprintf(out, ARRAY_SIZE(out), L"%ls.out", local);
    ctx->out = CreateFileW(out, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ, NULL, CREATE_ALWAYS,
                           0, NULL);
    assert_true(ctx->out != INVALID_HANDLE_VALUE);
    pos.QuadPart = offset;
    assert_true(SetFilePointerEx(ctx->out, pos, NULL, FILE_BEGIN));
    return job;
}

static struct ejob *new_ctx(struct transfer_ctx *ctx, const WCHAR *remote, const WCHAR *name,
                            UINT64 offset, UINT64 end, UINT64 total)
{
    return job_ctx(NULL, ctx, remote, name, offset, end, total);
}

/* Asserts that ctx->out holds bytes [first, end) of the served file at the same offsets. */
static void check_part(struct transfer_ctx *ctx, const WCHAR *served, UINT64 first, UINT64 end)
{
    DWORD size = (DWORD)(end - first), read = 0;
    BYTE *want = malloc(size), *got = malloc(size);
    LARGE_INTEGER pos;
    HANDLE file;

    file = CreateFileW(served, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(file != INVALID_HANDLE_VALUE);
    pos.QuadPart = first;
    SetFilePointerEx(file, pos, NULL, FILE_BEGIN);
    assert_true(ReadFile(file, want, size, &read, NULL) && read == size);
    CloseHandle(file);
    SetFilePointerEx(ctx->out, pos, NULL, FILE_BEGIN);
    assert_true(ReadFile(ctx->out, got, size, &read, NULL));
    if (read != size || memcmp(want, got, size))
        fail_msg("bytes %I64u-%I64u differ from the served file (%lu read)", first, end, read);
    free(want);
    free(got);
}

static void close_ctx(struct transfer_ctx *ctx)
{
    CloseHandle(ctx->out);
    ctx->out = INVALID_HANDLE_VALUE;
}

static UINT64 file_bytes(struct ejob *job)
{
    return et_file_progress(job, 0).BytesTransferred;
}

static ULONG file_connections(struct ejob *job)
{
    ULONG count;

    AcquireSRWLockShared(&job->lock);
    count = job->files[0]->http_connections;
    ReleaseSRWLockShared(&job->lock);
    return count;
}

/* A segment asks for exactly its bytes and takes the 206 that brings them. */
static void segment_fetches_its_bytes(void **state)
{
    WCHAR url[MAX_PATH], served[MAX_PATH];
    struct transfer_ctx ctx;
    struct ejob *job;

    tu_scratch("inet_segment", scratch, ARRAY_SIZE(scratch));
    tu_www(served, ARRAY_SIZE(served), L"4m.bin");
    for (int i = 0; i < (int)ARRAY_SIZE(stacks); i++)
    {
        tu_unique_url(url, ARRAY_SIZE(url), L"4m.bin");
        job = new_ctx(&ctx, url, i ? L"b.bin" : L"a.bin", MIB, 2 * MIB, 4 * MIB);
        if (FAILED(stacks[i].fetch(&ctx, url)))
            fail_msg("%s: the segment failed (context %d)", stacks[i].name, ctx.context);
        if (!ctx.accepts_ranges)
            fail_msg("%s: a 206 did not set accepts_ranges", stacks[i].name);
        assert_int_equal(file_bytes(job), MIB);
        check_part(&ctx, served, MIB, 2 * MIB);
        assert_int_equal(tu_access_count_wait(url, 206, 1), 1);
        close_ctx(&ctx);
    }
}

/* A segment from a file that has another size now: the file changed (transient). */
static void segment_of_another_size_is_a_changed_file(void **state)
{
    WCHAR url[MAX_PATH];
    struct transfer_ctx ctx;
    struct ejob *job;
    HRESULT hr;

    tu_scratch("inet_segment_size", scratch, ARRAY_SIZE(scratch));
    for (int i = 0; i < (int)ARRAY_SIZE(stacks); i++)
    {
        tu_unique_url(url, ARRAY_SIZE(url), L"4m.bin");
        job = new_ctx(&ctx, url, i ? L"b.bin" : L"a.bin", MIB, 2 * MIB, 4 * MIB + 1);
        hr = stacks[i].fetch(&ctx, url);
        if (hr != (HRESULT)BG_E_REMOTE_FILE_CHANGED || !ctx.transient)
            fail_msg("%s: answered 0x%08lx (transient %d); expected a transient "
                     "BG_E_REMOTE_FILE_CHANGED",
                     stacks[i].name, hr, ctx.transient);
        assert_int_equal(file_bytes(job), 0);
        close_ctx(&ctx);
    }
}

/* A segment that the server answers with the whole file (200): BG_E_INSUFFICIENT_RANGE_SUPPORT,
 * fatal, nothing stored, the file's bytes and validator left alone (no restart). */
static void segment_answered_200_stores_nothing(void **state)
{
    WCHAR url[MAX_PATH];
    struct transfer_ctx ctx;
    struct ejob *job;
    HRESULT hr;

    tu_scratch("inet_segment_200", scratch, ARRAY_SIZE(scratch));
    for (int i = 0; i < (int)ARRAY_SIZE(stacks); i++)
    {
        tu_unique_url(url, ARRAY_SIZE(url), L"norange/hello.txt");
        job = new_ctx(&ctx, url, i ? L"b.bin" : L"a.bin", 2, 4, 5);
        wcscpy(ctx.validator, L"\"kept\"");
        hr = stacks[i].fetch(&ctx, url);
        if (hr != (HRESULT)BG_E_INSUFFICIENT_RANGE_SUPPORT || ctx.transient ||
            ctx.context != BG_ERROR_CONTEXT_REMOTE_FILE)
            fail_msg("%s: answered 0x%08lx (context %d, transient %d); expected a fatal "
                     "BG_E_INSUFFICIENT_RANGE_SUPPORT of the remote file",
                     stacks[i].name, hr, ctx.context, ctx.transient);
        assert_int_equal(file_bytes(job), 0);
        assert_int_equal(ctx.offset, 2);
        assert_true(!wcscmp(ctx.validator, L"\"kept\""));
        {
            LARGE_INTEGER size;
            assert_true(GetFileSizeEx(ctx.out, &size));
            assert_int_equal(size.QuadPart, 0);
        }
        close_ctx(&ctx);
    }
}

/* A whole file from a server that serves ranges says so (Accept-Ranges: bytes); the same file
 * from one that does not, does not. */
static void whole_file_tells_accepts_ranges(void **state)
{
    WCHAR url[MAX_PATH];
    struct transfer_ctx ctx;

    tu_scratch("inet_accepts", scratch, ARRAY_SIZE(scratch));
    for (int i = 0; i < (int)ARRAY_SIZE(stacks); i++)
    {
        tu_unique_url(url, ARRAY_SIZE(url), L"hello.txt");
        new_ctx(&ctx, url, L"a.txt", 0, BG_SIZE_UNKNOWN, BG_SIZE_UNKNOWN);
        assert_hr(S_OK, stacks[i].fetch(&ctx, url));
        if (!ctx.accepts_ranges)
            fail_msg("%s: nginx's Accept-Ranges was not seen", stacks[i].name);
        close_ctx(&ctx);

        tu_unique_url(url, ARRAY_SIZE(url), L"norange/hello.txt");
        new_ctx(&ctx, url, L"b.txt", 0, BG_SIZE_UNKNOWN, BG_SIZE_UNKNOWN);
        ctx.accepts_ranges = TRUE;
        assert_hr(S_OK, stacks[i].fetch(&ctx, url));
        if (ctx.accepts_ranges)
            fail_msg("%s: a server without ranges was taken for one with", stacks[i].name);
        close_ctx(&ctx);
    }
}

/* Twenty small files fetched one after the other with a thread's kept connections travel over
 * one connection: at most one is counted (none when the stack still kept one to the server
 * from an earlier test). */
static void kept_connection_serves_many_files(void **state)
{
    struct fetch_cache cache = {0};
    WCHAR url[MAX_PATH];
    struct transfer_ctx ctx;
    ULONG connections;
    struct ejob *job;

    tu_scratch("inet_kept", scratch, ARRAY_SIZE(scratch));
    for (int i = 0; i < (int)ARRAY_SIZE(stacks); i++)
    {
        /* One job's file fetched 20 times: its count adds up the connections. */
        tu_unique_url(url, ARRAY_SIZE(url), L"hello.txt");
        job = new_ctx(&ctx, url, i ? L"b.txt" : L"a.txt", 0, BG_SIZE_UNKNOWN, BG_SIZE_UNKNOWN);
        close_ctx(&ctx);
        for (int n = 0; n < 20; n++)
        {
            tu_unique_url(url, ARRAY_SIZE(url), L"hello.txt");
            job_ctx(job, &ctx, url, i ? L"b.txt" : L"a.txt", 0, BG_SIZE_UNKNOWN, BG_SIZE_UNKNOWN);
            ctx.cache = &cache;
            assert_hr(S_OK, stacks[i].fetch(&ctx, url));
            close_ctx(&ctx);
        }
        connections = file_connections(job);
        if (connections > 1)
            fail_msg("%s: 20 files counted %lu connections; expected at most 1", stacks[i].name,
                     connections);
        fetch_cache_clear(&cache);
        assert_null(cache.winhttp);
        assert_null(cache.wininet);
    }
}

/* A job with credentials goes to WinHTTP through net_fetch, which answers the challenge. */
static void credentials_job_is_carried(void **state)
{
    WCHAR url[MAX_PATH], served[MAX_PATH], user[] = L"opendo", password[] = L"secret";
    struct transfer_ctx ctx;
    struct ejob *job;

    tu_scratch("inet_credentials", scratch, ARRAY_SIZE(scratch));
    tu_unique_url(url, ARRAY_SIZE(url), L"auth/4m.bin");
    job = new_ctx(&ctx, url, L"auth.bin", 0, BG_SIZE_UNKNOWN, BG_SIZE_UNKNOWN);
    ctx.options.credentials[BG_AUTH_TARGET_SERVER - 1][BG_AUTH_SCHEME_BASIC - 1].present = TRUE;
    ctx.options.credentials[BG_AUTH_TARGET_SERVER - 1][BG_AUTH_SCHEME_BASIC - 1].user = user;
    ctx.options.credentials[BG_AUTH_TARGET_SERVER - 1][BG_AUTH_SCHEME_BASIC - 1].password =
        password;
    assert_hr(S_OK, net_fetch(&ctx, url));
    assert_int_equal(file_bytes(job), 4 * MIB);
    tu_www(served, ARRAY_SIZE(served), L"4m.bin");
    check_part(&ctx, served, 0, 4 * MIB);
    close_ctx(&ctx);
}

/* A redirect followed with ALLOW_REPORT renames the file's source; DISALLOW fails with the
 * redirect's status and names where it pointed. Both stacks alike. */
static void redirect_policies_on_both_stacks(void **state)
{
    WCHAR url[MAX_PATH], target[MAX_PATH], *remote;
    struct transfer_ctx ctx;
    struct ejob *job;
    HRESULT hr;

    tu_scratch("inet_redirect", scratch, ARRAY_SIZE(scratch));
    tu_url(target, ARRAY_SIZE(target), L"hello.txt");
    for (int i = 0; i < (int)ARRAY_SIZE(stacks); i++)
    {
        tu_url(url, ARRAY_SIZE(url), L"redirect/hello.txt");
        job = new_ctx(&ctx, url, i ? L"b.txt" : L"a.txt", 0, BG_SIZE_UNKNOWN, BG_SIZE_UNKNOWN);
        ctx.options.security_flags = BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT;
        assert_hr(S_OK, stacks[i].fetch(&ctx, url));
        AcquireSRWLockShared(&job->lock);
        remote = heap_strdup(job->files[0]->remote);
        ReleaseSRWLockShared(&job->lock);
        if (wcscmp(remote, target))
            fail_msg("%s: the source is %ls after ALLOW_REPORT; expected %ls", stacks[i].name,
                     remote, target);
        free_str(remote);
        close_ctx(&ctx);

        job = new_ctx(&ctx, url, i ? L"d.txt" : L"c.txt", 0, BG_SIZE_UNKNOWN, BG_SIZE_UNKNOWN);
        ctx.options.security_flags = BG_HTTP_REDIRECT_POLICY_DISALLOW;
        hr = stacks[i].fetch(&ctx, url);
        if (hr != (HRESULT)HRESULT_FROM_WIN32(302))
            fail_msg("%s: DISALLOW answered 0x%08lx", stacks[i].name, hr);
        AcquireSRWLockShared(&job->lock);
        remote = heap_strdup(job->files[0]->remote);
        ReleaseSRWLockShared(&job->lock);
        if (wcscmp(remote, target))
            fail_msg("%s: the source is %ls after DISALLOW; expected %ls", stacks[i].name, remote,
                     target);
        free_str(remote);
        assert_int_equal(file_bytes(job), 0);
        close_ctx(&ctx);
    }
}

/* One fetch on its own thread (silent_fetch). */
struct background_fetch
{
    struct transfer_ctx *ctx;
    const WCHAR *url;
    HRESULT hr;
};

static DWORD WINAPI background_fetch_main(void *arg)
{
    struct background_fetch *fetch = arg;

    fetch->hr = inet_fetch(fetch->ctx, fetch->url);
    return 0;
}

/* A request closed while its step is in flight is released later, on WinINet's thread, which
 * then takes it off its connection's list while nothing guards that list in Wine (see inet.c):
 * its session and connection must not be kept for the thread's next fetch, which gets new
 * ones and works. The server accepts the connection (into the listening socket's backlog) and
 * never answers; the fetch is stopped as a Suspend stops it. */
static void request_left_in_flight_is_not_kept(void **state)
{
    struct background_fetch fetch;
    struct fetch_cache cache = {0};
    WCHAR url[MAX_PATH], hello[MAX_PATH], served[MAX_PATH];
    struct transfer_ctx ctx;
    struct ejob *job;
    HANDLE thread;
    SOCKET server;

    tu_scratch("inet_in_flight", scratch, ARRAY_SIZE(scratch));
    server = tu_silent_server(url, ARRAY_SIZE(url));
    job = new_ctx(&ctx, url, L"never.bin", 0, BG_SIZE_UNKNOWN, BG_SIZE_UNKNOWN);
    ctx.cache = &cache;
    fetch.ctx = &ctx;
    fetch.url = url;
    fetch.hr = E_FAIL;
    assert_non_null(thread = CreateThread(NULL, 0, background_fetch_main, &fetch, 0, NULL));
    /* Time enough to connect and send: the answer is what the request waits for. */
    Sleep(500);
    AcquireSRWLockExclusive(&job->lock);
    job->generation++;
    ReleaseSRWLockExclusive(&job->lock);
    assert_int_equal(WAIT_OBJECT_0, WaitForSingleObject(thread, 10000));
    CloseHandle(thread);
    assert_hr(E_ABORT, fetch.hr);
    if (cache.wininet)
        fail_msg("the session of a request still in flight was kept for the next fetch");
    close_ctx(&ctx);
    /* The step in flight fails now, and its release comes. */
    tu_ws.closesocket(server);

    tu_url(hello, ARRAY_SIZE(hello), L"hello.txt");
    job_ctx(job, &ctx, hello, L"hello.txt", 0, BG_SIZE_UNKNOWN, BG_SIZE_UNKNOWN);
    ctx.cache = &cache;
    /* (Whether its own handles are kept depends on where WinINet releases its request: not
     * asserted.) */
    assert_hr(S_OK, inet_fetch(&ctx, hello));
    tu_www(served, ARRAY_SIZE(served), L"hello.txt");
    check_part(&ctx, served, 0, sizeof("hello, OpenDO\n") - 1);
    close_ctx(&ctx);
    fetch_cache_clear(&cache);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(segment_fetches_its_bytes, et_cleanup),
        cmocka_unit_test_teardown(segment_of_another_size_is_a_changed_file, et_cleanup),
        cmocka_unit_test_teardown(segment_answered_200_stores_nothing, et_cleanup),
        cmocka_unit_test_teardown(whole_file_tells_accepts_ranges, et_cleanup),
        cmocka_unit_test_teardown(kept_connection_serves_many_files, et_cleanup),
        cmocka_unit_test_teardown(credentials_job_is_carried, et_cleanup),
        cmocka_unit_test_teardown(redirect_policies_on_both_stacks, et_cleanup),
        cmocka_unit_test_teardown(request_left_in_flight_is_not_kept, et_cleanup),
    };

    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
