/* SPDX-License-Identifier: MIT */
/* Tests of cache hosts (src/engine/cachehost.c) against the test nginx's caching server. */
#include <stdlib.h>
#include "enginetest.h"

#define MIB (1024 * 1024)
#define BIG_SIZE (64 * MIB)
#define BIG_TIMEOUT 180000
#define TIMEOUT 30000
#define POLICY_KEY L"SOFTWARE\\Policies\\Microsoft\\Windows\\DeliveryOptimization"

/* Sets OPENDO_CACHE_HOST to the given ports on loopback, in order (0 ends the list). */
static void use_cache_hosts(int first, int second)
{
    WCHAR list[64];

    if (second)
        swprintf(list, ARRAY_SIZE(list), L"127.0.0.1:%d, 127.0.0.1:%d", first, second);
    else
        swprintf(list, ARRAY_SIZE(list), L"127.0.0.1:%d", first);
    assert_true(SetEnvironmentVariableW(L"OPENDO_CACHE_HOST", list));
    cachehost_reload();
}

/* Writes a value into DO's policy key: a REG_DWORD, or the REG_SZ `text` when it is not NULL. */
static void set_policy(const WCHAR *name, DWORD number, const WCHAR *text)
{
    HKEY key;

    assert_int_equal(ERROR_SUCCESS, RegCreateKeyExW(HKEY_LOCAL_MACHINE, POLICY_KEY, 0, NULL, 0,
                                                    KEY_SET_VALUE, NULL, &key, NULL));
    if (text)
        assert_int_equal(ERROR_SUCCESS,
                         RegSetValueExW(key, name, 0, REG_SZ, (const BYTE *)text,
                                        (DWORD)((wcslen(text) + 1) * sizeof(WCHAR))));
    else
        assert_int_equal(ERROR_SUCCESS, RegSetValueExW(key, name, 0, REG_DWORD,
                                                       (const BYTE *)&number, sizeof(number)));
    RegCloseKey(key);
    cachehost_reload();
}

static void set_background_delay(DWORD seconds)
{
    set_policy(L"DODelayCacheServerFallbackBackground", seconds, NULL);
}

/* Removes what set_policy wrote (also what a test that crashed left behind). */
static void clear_policy(void)
{
    HKEY key;

    SetEnvironmentVariableW(L"OPENDO_CACHE_HOST", NULL);
    if (!RegOpenKeyExW(HKEY_LOCAL_MACHINE, POLICY_KEY, 0, KEY_SET_VALUE, &key))
    {
        RegDeleteValueW(key, L"DODelayCacheServerFallbackBackground");
        RegDeleteValueW(key, L"DODelayCacheServerFallbackForeground");
        RegDeleteValueW(key, L"DOCacheHost");
        RegCloseKey(key);
    }
    cachehost_reload();
}

static int setup_group(void **state)
{
    clear_policy();
    return 0;
}

static int teardown(void **state)
{
    clear_policy();
    return et_cleanup(state);
}

/* File 0's byte counters, read under the job's lock. */
static void file_bytes(struct ejob *job, UINT64 *from_http, UINT64 *from_cache)
{
    AcquireSRWLockShared(&job->lock);
    *from_http = job->files[0]->bytes_from_http;
    *from_cache = job->files[0]->bytes_from_cache;
    ReleaseSRWLockShared(&job->lock);
}

/* Completes the job and checks that its file equals the served one. */
static void check_file(struct ejob *job, const WCHAR *local, const WCHAR *name)
{
    WCHAR www[MAX_PATH];

    assert_hr(S_OK, ejob_complete(job));
    tu_www(www, ARRAY_SIZE(www), name);
    if (!tu_same_file(www, local))
        fail_msg("%ls is missing or differs from %ls", local, www);
}

/* The URL of the request a cache host makes to the origin for `url` (scripts/nginx.sh passes
 * the whole query on). */
static void origin_request(WCHAR *out, size_t size, const WCHAR *url)
{
    int port = tu_nginx_port(L"port");

    swprintf(out, size, L"%ls%lscacheHostOrigin=127.0.0.1:%d", url, wcschr(url, L'?') ? L"&" : L"?",
             port);
}

static void cache_url_form(void **state)
{
    static const struct
    {
        const WCHAR *url, *host, *expected;
    } cases[] = {
        {L"http://example.com/a/b.bin?x=1&y=2", L"cache:8080",
         L"http://cache:8080/a/b.bin?x=1&y=2&cacheHostOrigin=example.com"},
        {L"http://example.com:81/a.bin", L"10.0.0.5",
         L"http://10.0.0.5/a.bin?cacheHostOrigin=example.com:81"},
        {L"https://example.com/a.bin#part", L"cache",
         L"https://cache/a.bin?cacheHostOrigin=example.com"},
        {L"https://example.com/a.bin", L"http://cache:80/",
         L"http://cache:80/a.bin?cacheHostOrigin=example.com"},
        {L"http://example.com", L"cache", L"http://cache/?cacheHostOrigin=example.com"},
        {L"http://example.com?q", L"cache", L"http://cache/?q&cacheHostOrigin=example.com"},
    };
    WCHAR out[256];

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
    {
        if (!cachehost_url(cases[i].url, cases[i].host, wcslen(cases[i].host), out,
                           ARRAY_SIZE(out)))
            fail_msg("no cache URL for %ls through %ls", cases[i].url, cases[i].host);
        if (wcscmp(out, cases[i].expected))
            fail_msg("%ls through %ls: %ls, expected %ls", cases[i].url, cases[i].host, out,
                     cases[i].expected);
    }
    /* Only http(s) goes through a cache host; a URL that does not fit is not shortened. */
    assert_false(cachehost_url(L"file://server/share/a.bin", L"cache", 5, out, ARRAY_SIZE(out)));
    assert_false(cachehost_url(L"http://example.com/a.bin", L"cache", 5, out, 20));
    assert_false(
        cachehost_url(L"http://example.com/a.bin", L"ftp://cache", 11, out, ARRAY_SIZE(out)));
    assert_false(cachehost_url(L"http://example.com/a.bin", L"ca che", 6, out, ARRAY_SIZE(out)));
}

/* Two jobs fetch the same 64 MiB file through the cache at once: the origin sends it once. */
static void two_downloads_one_origin_fetch(void **state)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[2][MAX_PATH], upstream[MAX_PATH];
    UINT64 from_http, from_cache;
    struct ejob *jobs[2];

    use_cache_hosts(tu_nginx_port(L"cache_port"), 0);
    tu_scratch("cachehost_twice", dir, ARRAY_SIZE(dir));
    tu_unique_url(url, ARRAY_SIZE(url), L"64m.bin");
    for (int i = 0; i < 2; i++)
    {
        tu_path(local[i], ARRAY_SIZE(local[i]), dir, i ? L"second.bin" : L"first.bin");
        jobs[i] = et_job_with_file(url, local[i]);
    }
    for (int i = 0; i < 2; i++)
        assert_hr(S_OK, ejob_resume(jobs[i]));
    for (int i = 0; i < 2; i++)
    {
        et_wait_state(jobs[i], BG_JOB_STATE_TRANSFERRED, BIG_TIMEOUT);
        file_bytes(jobs[i], &from_http, &from_cache);
        assert_int_equal(BIG_SIZE, from_cache);
        assert_int_equal(from_http, from_cache);
        check_file(jobs[i], local[i], L"64m.bin");
    }
    /* Nothing asked the origin directly, and the cache's requests carried the file once. */
    assert_int_equal(0, tu_access_bytes(url));
    origin_request(upstream, ARRAY_SIZE(upstream), url);
    assert_int_equal(BIG_SIZE, tu_access_bytes(upstream));
}

/* Downloads `path` (4m.bin's bytes) at `priority` with the cache hosts set; answers the
 * milliseconds it took and the bytes the cache hosts served. */
static ULONGLONG download_small(const char *name, const WCHAR *path, UINT64 *from_cache, WCHAR *url,
                                size_t size, BG_JOB_PRIORITY priority)
{
    WCHAR dir[MAX_PATH], local[MAX_PATH];
    UINT64 from_http;
    ULONGLONG start;
    struct ejob *job;

    tu_scratch(name, dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"4m.bin");
    tu_unique_url(url, size, path);
    job = et_job_with_file(url, local);
    AcquireSRWLockExclusive(&job->lock);
    job->priority = priority;
    ReleaseSRWLockExclusive(&job->lock);
    start = GetTickCount64();
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    start = GetTickCount64() - start;
    file_bytes(job, &from_http, from_cache);
    assert_int_equal(4 * MIB, from_http);
    check_file(job, local, L"4m.bin");
    return start;
}

/* A cache host nobody listens on: the file comes from the origin once the delay has passed. */
static void dead_cache_falls_back_after_the_delay(void **state)
{
    WCHAR url[MAX_PATH];
    UINT64 from_cache;
    ULONGLONG took;

    use_cache_hosts(tu_nginx_port(L"dead_port"), 0);
    set_background_delay(3);
    took = download_small("cachehost_dead", L"4m.bin", &from_cache, url, ARRAY_SIZE(url),
                          BG_JOB_PRIORITY_NORMAL);
    assert_int_equal(0, from_cache);
    assert_int_equal(4 * MIB, tu_access_bytes(url));
    if (took < 3000 || took > 3000 + TIMEOUT / 2)
        fail_msg("the fallback took %I64u ms with a delay of 3 s", took);

    /* A delay of 0: at once. */
    set_background_delay(0);
    took = download_small("cachehost_dead_now", L"4m.bin", &from_cache, url, ARRAY_SIZE(url),
                          BG_JOB_PRIORITY_NORMAL);
    assert_int_equal(0, from_cache);
    assert_int_equal(4 * MIB, tu_access_bytes(url));
    if (took >= 3000)
        fail_msg("the fallback took %I64u ms with a delay of 0", took);
}

/* The hosts are tried in order, and a failed one hands over to the next without the delay. */
static void next_cache_host_serves(void **state)
{
    WCHAR url[MAX_PATH], upstream[MAX_PATH];
    UINT64 from_cache;
    ULONGLONG took;

    use_cache_hosts(tu_nginx_port(L"dead_port"), tu_nginx_port(L"cache_port"));
    set_background_delay(60);
    took = download_small("cachehost_next", L"4m.bin", &from_cache, url, ARRAY_SIZE(url),
                          BG_JOB_PRIORITY_NORMAL);
    assert_int_equal(4 * MIB, from_cache);
    assert_int_equal(0, tu_access_bytes(url));
    origin_request(upstream, ARRAY_SIZE(upstream), url);
    assert_int_equal(4 * MIB, tu_access_bytes(upstream));
    if (took >= TIMEOUT)
        fail_msg("the second cache host took %I64u ms", took);
}

/* A cache host that answers 5xx: the origin serves the file, at once with a delay of 0. */
static void failing_cache_falls_back(void **state)
{
    WCHAR url[MAX_PATH];
    UINT64 from_cache;

    use_cache_hosts(tu_nginx_port(L"cache_port"), 0);
    set_background_delay(0);
    download_small("cachehost_5xx", L"cache-fails/4m.bin", &from_cache, url, ARRAY_SIZE(url),
                   BG_JOB_PRIORITY_NORMAL);
    assert_int_equal(0, from_cache);
    assert_int_equal(4 * MIB, tu_access_bytes(url));
}

/* Starts slow/8m.bin (2 MB/s) and suspends it after its first MiB. */
static struct ejob *start_and_suspend(const char *name, WCHAR *url, size_t size, WCHAR *local)
{
    ULONGLONG deadline = GetTickCount64() + TIMEOUT;
    WCHAR dir[MAX_PATH];
    struct ejob *job;

    tu_scratch(name, dir, ARRAY_SIZE(dir));
    tu_path(local, MAX_PATH, dir, L"8m.bin");
    tu_unique_url(url, size, L"slow/8m.bin");
    job = et_job_with_file(url, local);
    assert_hr(S_OK, ejob_resume(job));
    while (et_progress(job).BytesTransferred < MIB)
    {
        if (et_state(job) != BG_JOB_STATE_QUEUED && et_state(job) != BG_JOB_STATE_TRANSFERRING)
            fail_msg("the job went %s before its first MiB", tu_state_name(et_state(job)));
        if (GetTickCount64() > deadline)
            fail_msg("no MiB arrived within %u ms", TIMEOUT);
        Sleep(10);
    }
    assert_hr(S_OK, ejob_suspend(job));
    et_wait_idle(job, TIMEOUT);
    return job;
}

/* Resumes the job and checks that the file is whole, that it did not start again (8 MiB came
 * over HTTP in all), and that the cache hosts served a part of it, the origin the rest. */
static void resume_and_check(struct ejob *job, const WCHAR *url, const WCHAR *local)
{
    WCHAR upstream[MAX_PATH];
    UINT64 from_http, from_cache, direct;

    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT * 2);
    file_bytes(job, &from_http, &from_cache);
    direct = tu_access_bytes(url);
    assert_int_equal(8 * MIB, from_http);
    /* The origin's log counts what it sent, which may include bytes in flight when the job was
     * suspended: at least the rest. */
    assert_true(from_cache > 0 && from_cache < 8 * MIB);
    assert_true(direct >= 8 * MIB - from_cache);
    origin_request(upstream, ARRAY_SIZE(upstream), url);
    assert_true(tu_access_bytes(upstream) >= from_cache);
    check_file(job, local, L"slow\\8m.bin");
}

/* Bytes from the origin, then the rest from the cache host, with a range. */
static void resume_from_origin_through_cache(void **state)
{
    WCHAR url[MAX_PATH], local[MAX_PATH];
    struct ejob *job;

    SetEnvironmentVariableW(L"OPENDO_CACHE_HOST", NULL);
    cachehost_reload();
    job = start_and_suspend("cachehost_to_cache", url, ARRAY_SIZE(url), local);
    use_cache_hosts(tu_nginx_port(L"cache_port"), 0);
    resume_and_check(job, url, local);
}

/* Bytes from the cache host, which then is down: the rest from the origin, with a range. */
static void resume_from_cache_at_origin(void **state)
{
    WCHAR url[MAX_PATH], local[MAX_PATH];
    struct ejob *job;

    use_cache_hosts(tu_nginx_port(L"cache_port"), 0);
    job = start_and_suspend("cachehost_to_origin", url, ARRAY_SIZE(url), local);
    use_cache_hosts(tu_nginx_port(L"dead_port"), 0);
    set_background_delay(0);
    resume_and_check(job, url, local);
}

/* Downloads cache-corrupt/4m.bin through the cache host, which serves 4m-other.bin for it,
 * with or without integrity information; answers the bytes the cache host served. */
static UINT64 download_corrupt(const char *name, BOOL integrity, const WCHAR *expected)
{
    WCHAR dir[MAX_PATH], local[MAX_PATH], url[MAX_PATH], www[MAX_PATH];
    UINT64 from_http, from_cache;
    struct ejob *job;

    tu_scratch(name, dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"4m.bin");
    tu_unique_url(url, ARRAY_SIZE(url), L"cache-corrupt/4m.bin");
    job = et_job_with_file(url, local);
    if (integrity)
    {
        /* What DOFilePropertyId_IntegrityCheckInfo stores (src/file_do.c). */
        AcquireSRWLockExclusive(&job->lock);
        job->files[0]->integrity_info = heap_strdup(L"https://example.invalid/4m.phf");
        ReleaseSRWLockExclusive(&job->lock);
    }
    assert_hr(S_OK, ejob_resume(job));
    et_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    file_bytes(job, &from_http, &from_cache);
    assert_hr(S_OK, ejob_complete(job));
    tu_www(www, ARRAY_SIZE(www), expected);
    if (!tu_same_file(www, local))
        fail_msg("%ls is missing or differs from %ls", local, www);
    return from_cache;
}

/* A cache host that serves another file: with integrity information the origin's size and
 * validator expose it and the origin serves the file; without, it goes unnoticed. */
static void other_version_from_cache_is_detected(void **state)
{
    use_cache_hosts(tu_nginx_port(L"cache_port"), 0);
    set_background_delay(0);
    download_corrupt("cachehost_corrupt", TRUE, L"4m.bin");
    assert_int_equal(4 * MIB,
                     download_corrupt("cachehost_corrupt_unchecked", FALSE, L"4m-other.bin"));
}

/* DOCacheHost and the foreground delay come from the policy key when nothing overrides them. */
static void policy_from_the_registry(void **state)
{
    WCHAR hosts[64], url[MAX_PATH];
    UINT64 from_cache;

    SetEnvironmentVariableW(L"OPENDO_CACHE_HOST", NULL);
    swprintf(hosts, ARRAY_SIZE(hosts), L"127.0.0.1:%d", tu_nginx_port(L"cache_port"));
    set_policy(L"DOCacheHost", 0, hosts);
    download_small("cachehost_policy", L"4m.bin", &from_cache, url, ARRAY_SIZE(url),
                   BG_JOB_PRIORITY_NORMAL);
    assert_int_equal(4 * MIB, from_cache);

    /* A foreground job waits for the foreground delay, not the background one (which would
     * outlast the test's wait). */
    swprintf(hosts, ARRAY_SIZE(hosts), L"127.0.0.1:%d", tu_nginx_port(L"dead_port"));
    set_policy(L"DOCacheHost", 0, hosts);
    set_policy(L"DODelayCacheServerFallbackForeground", 0, NULL);
    set_background_delay(90);
    download_small("cachehost_policy_fg", L"4m.bin", &from_cache, url, ARRAY_SIZE(url),
                   BG_JOB_PRIORITY_FOREGROUND);
    assert_int_equal(0, from_cache);
    assert_int_equal(4 * MIB, tu_access_bytes(url));
}

/* Through the DLL's objects: IDeliveryOptimizationFile::GetStats tells the cache host's bytes
 * and connections (DO's "DOINC" fields) from the origin's. */
static void stats_tell_cache_from_origin(void **state)
{
    WCHAR dir[MAX_PATH], local[MAX_PATH], url[MAX_PATH];
    IBackgroundCopyManager *manager;
    IDeliveryOptimizationFile *do_file;
    IBackgroundCopyJob *job;
    IBackgroundCopyFile *file;
    DOSwarmStats stats;

    assert_hr(S_OK, CoInitializeEx(NULL, COINIT_MULTITHREADED));
    manager = tu_manager();
    use_cache_hosts(tu_nginx_port(L"cache_port"), 0);
    tu_scratch("cachehost_stats", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"4m.bin");
    tu_unique_url(url, ARRAY_SIZE(url), L"4m.bin");
    job = tu_job_with_file(manager, url, local);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    file = tu_job_file(job, 0);
    assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(file, &IID_IDeliveryOptimizationFile,
                                                       (void **)&do_file));
    assert_hr(S_OK, IDeliveryOptimizationFile_GetStats(do_file, &stats));
    assert_true(stats.totalBytesDownloaded == 4 * MIB);
    assert_true(stats.bytesFromDoinc == 4 * MIB);
    assert_true(stats.bytesFromHttp == 0);
    /* Connections are counted when opened: the cache host's may be one WinINet kept from the
     * engine tests above. None went to the origin. */
    assert_int_equal(0, stats.httpConnectionCount);
    CoTaskMemFree(stats.fileId);
    CoTaskMemFree(stats.sourceURL);
    IDeliveryOptimizationFile_Release(do_file);
    IBackgroundCopyFile_Release(file);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    CoUninitialize();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cache_url_form),
        cmocka_unit_test_teardown(dead_cache_falls_back_after_the_delay, teardown),
        cmocka_unit_test_teardown(next_cache_host_serves, teardown),
        cmocka_unit_test_teardown(failing_cache_falls_back, teardown),
        cmocka_unit_test_teardown(resume_from_origin_through_cache, teardown),
        cmocka_unit_test_teardown(resume_from_cache_at_origin, teardown),
        cmocka_unit_test_teardown(other_version_from_cache_is_detected, teardown),
        cmocka_unit_test_teardown(policy_from_the_registry, teardown),
        cmocka_unit_test_teardown(two_downloads_one_origin_fetch, teardown),
        cmocka_unit_test_teardown(stats_tell_cache_from_origin, teardown),
    };

    return cmocka_run_group_tests(tests, setup_group, NULL);
}
