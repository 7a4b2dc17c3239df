/* SPDX-License-Identifier: MIT */
/* Bandwidth policy: caps on the download rate of foreground and background transfers. */

/*
 * DO's group policy caps what it downloads, across all its downloads at once, separately for
 * foreground and background work (HKLM\SOFTWARE\Policies\Microsoft\Windows\DeliveryOptimization):
 *   DOMaxForegroundDownloadBandwidth, DOMaxBackgroundDownloadBandwidth   KB/s (1 KB = 1,024
 *                                                                        bytes), 0: no cap;
 *   DOPercentageMaxForegroundBandwidth, DOPercentageMaxBackgroundBandwidth  percent of the
 *                                                                        available bandwidth.
 * The environment variables OPENDO_MAX_FOREGROUND_BANDWIDTH, OPENDO_MAX_BACKGROUND_BANDWIDTH,
 * OPENDO_PERCENTAGE_MAX_FOREGROUND_BANDWIDTH and OPENDO_PERCENTAGE_MAX_BACKGROUND_BANDWIDTH
 * (decimal, same units) replace the value of the same name when set, so that a test or a
 * single program can choose without touching the machine's policy. A class with both forms set
 * gets the lower cap. The available bandwidth is the receive link speed of the fastest network
 * interface that is up (loopback aside); when no interface reports one, a percentage caps
 * nothing (logged once).
 *
 * A foreground job (BG_JOB_PRIORITY_FOREGROUND; a download with ForegroundPriority) is under
 * the foreground cap, every other job under the background cap. Only bytes that come over the
 * network count (http and https, from the origin or a cache host); file copies do not.
 *
 * The cap holds for all the jobs of every process that uses the same job store: each class has
 * one clock (core/pacer.h) in a block of shared memory named after the store's folder, which
 * every such process maps; a process without a store keeps the clocks to itself. The clocks
 * count in QueryPerformanceCounter ticks, which every process of the machine reads alike. A
 * fetch moves its class's clock by what it read, then sleeps until the clock is within
 * TOLERANCE_MS of now, looking every WAIT_SLICE_MS whether its job was stopped; while a cap
 * applies, reads are kept to READ_SLICE_MS of the cap so that one read does not take the class's
 * budget for long. A capped job opens one connection per CONNECTION_SHARE of its class's cap
 * (transfer.c asks bandwidth_connections), and a fetch under a low cap goes to WinHTTP
 * (transport.c asks bandwidth_cap): neither the connections nor WinINet's speed would be used,
 * and both would cost the jobs that are not capped.
 *
 * The registry and the interfaces' speeds are read at most every POLICY_TTL_MS, as the cache
 * host policy is; the environment at every read. A change applies to the next read of every
 * running fetch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <wctype.h>
#include "engine/engine.h"
#include "core/pacer.h"

#define POLICY_KEY L"SOFTWARE\\Policies\\Microsoft\\Windows\\DeliveryOptimization"
#define POLICY_TTL_MS 2000
#define TOLERANCE_MS 50
#define WAIT_SLICE_MS 100
#define READ_SLICE_MS 100
#define READ_MIN 4096
/* What one connection of a capped job is given to carry: more connections than the cap needs
 * only take the process's connections from jobs that are not capped. */
#define CONNECTION_SHARE (8 * 1024 * 1024)
/* A clock further ahead than this was not moved by reads made since (see pacer_advance). */
#define HORIZON_S 600
#define BLOCK_MAGIC 0x31574244444f504fLL /* "OPODDBW1" */

enum traffic
{
    TRAFFIC_BACKGROUND,
    TRAFFIC_FOREGROUND,
    TRAFFIC_CLASSES
};

static const struct
{
    const WCHAR *value; /* the policy's value name */
    const WCHAR *env;   /* the environment variable that replaces it */
    BOOL percent;       /* a percentage, else KB/s */
    enum traffic traffic;
} settings[] = {
    {L"DOMaxForegroundDownloadBandwidth", L"OPENDO_MAX_FOREGROUND_BANDWIDTH", FALSE,
     TRAFFIC_FOREGROUND},
    {L"DOMaxBackgroundDownloadBandwidth", L"OPENDO_MAX_BACKGROUND_BANDWIDTH", FALSE,
     TRAFFIC_BACKGROUND},
    {L"DOPercentageMaxForegroundBandwidth", L"OPENDO_PERCENTAGE_MAX_FOREGROUND_BANDWIDTH", TRUE,
     TRAFFIC_FOREGROUND},
    {L"DOPercentageMaxBackgroundBandwidth", L"OPENDO_PERCENTAGE_MAX_BACKGROUND_BANDWIDTH", TRUE,
     TRAFFIC_BACKGROUND},
};

/* The shared memory: written only with interlocked operations. */
struct clocks
{
    LONG64 magic;
    LONG64 clock[TRAFFIC_CLASSES];
};

static SRWLOCK policy_lock = SRWLOCK_INIT;
static DWORD policy_values[ARRAY_SIZE(settings)]; /* policy_lock: the registry's, 0 if unset */
static ULONGLONG policy_read_at;                  /* policy_lock: tick of the last read, or 0 */
static UINT64 link_bytes;                         /* policy_lock: network_link_speed's answer */
static ULONGLONG link_read_at;                    /* policy_lock: tick of that answer, or 0 */

static INIT_ONCE clocks_once = INIT_ONCE_STATIC_INIT;
static struct clocks private_clocks;
static struct clocks *clocks; /* set once (clocks_once), never unmapped: fetches may use it */
static LARGE_INTEGER frequency;

/* The environment's value for a setting: FALSE when it has none. */
static BOOL env_value(const WCHAR *env, DWORD *out)
{
    WCHAR text[16], *end;
    DWORD len;

    len = GetEnvironmentVariableW(env, text, ARRAY_SIZE(text));
    if (!len || len >= ARRAY_SIZE(text))
        return FALSE;
    *out = wcstoul(text, &end, 10);
    if (!*end)
        return TRUE;
    WARN("%s=%s is not a number: ignored", debugstr_w(env), debugstr_w(text));
    return FALSE;
}

static void read_policy(DWORD *values)
{
    DWORD size, type;
    HKEY key;

    memset(values, 0, sizeof(policy_values));
    if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, POLICY_KEY, 0, KEY_QUERY_VALUE, &key))
        return;
    for (size_t i = 0; i < ARRAY_SIZE(settings); i++)
    {
        size = sizeof(values[i]);
        if (RegQueryValueExW(key, settings[i].value, NULL, &type, (BYTE *)&values[i], &size) ||
            type != REG_DWORD)
            values[i] = 0;
    }
    RegCloseKey(key);
}

void bandwidth_reload(void)
{
    AcquireSRWLockExclusive(&policy_lock);
    policy_read_at = link_read_at = 0;
    ReleaseSRWLockExclusive(&policy_lock);
}

/* The registry's values, read again when POLICY_TTL_MS passed (registry calls are I/O: they
 * are made outside the lock). */
static void registry_values(DWORD *values)
{
    ULONGLONG now = GetTickCount64();
    DWORD fresh[ARRAY_SIZE(settings)];

    AcquireSRWLockShared(&policy_lock);
    if (policy_read_at && now - policy_read_at < POLICY_TTL_MS)
    {
        memcpy(values, policy_values, sizeof(policy_values));
        ReleaseSRWLockShared(&policy_lock);
        return;
    }
    ReleaseSRWLockShared(&policy_lock);
    read_policy(fresh);
    AcquireSRWLockExclusive(&policy_lock);
    memcpy(policy_values, fresh, sizeof(policy_values));
    policy_read_at = now ? now : 1;
    ReleaseSRWLockExclusive(&policy_lock);
    memcpy(values, fresh, sizeof(policy_values));
}

/* network_link_speed, asked again when POLICY_TTL_MS passed. */
static UINT64 current_link(void)
{
    ULONGLONG now = GetTickCount64();
    UINT64 speed;

    AcquireSRWLockShared(&policy_lock);
    if (link_read_at && now - link_read_at < POLICY_TTL_MS)
    {
        speed = link_bytes;
        ReleaseSRWLockShared(&policy_lock);
        return speed;
    }
    ReleaseSRWLockShared(&policy_lock);
    speed = network_link_speed();
    AcquireSRWLockExclusive(&policy_lock);
    link_bytes = speed;
    link_read_at = now ? now : 1;
    ReleaseSRWLockExclusive(&policy_lock);
    return speed;
}

/* The class's cap in bytes per second, 0 for none. The environment is read each time (it
 * costs no I/O), so that a test's change applies to the next read. */
static UINT64 current_cap(enum traffic traffic)
{
    DWORD values[ARRAY_SIZE(settings)], kilobytes = 0, percent = 0;

    registry_values(values);
    for (size_t i = 0; i < ARRAY_SIZE(settings); i++)
    {
        if (settings[i].traffic != traffic)
            continue;
        env_value(settings[i].env, &values[i]);
        if (settings[i].percent)
            percent = values[i];
        else
            kilobytes = values[i];
    }
    return pacer_cap(kilobytes, percent, percent ? current_link() : 0);
}

/* FNV-1a over the folder's name, case folded: one name per store, whatever its spelling. */
static UINT64 name_hash(const WCHAR *folder)
{
    UINT64 hash = 0xcbf29ce484222325ULL;

    for (; *folder; folder++)
    {
        hash ^= (UINT64)towlower(*folder);
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

static BOOL CALLBACK map_clocks(INIT_ONCE *once, void *param, void **context)
{
    const WCHAR *folder = store_folder();
    struct clocks *shared;
    WCHAR name[64];
    HANDLE mapping;

    QueryPerformanceFrequency(&frequency);
    clocks = &private_clocks;
    if (!folder)
        return TRUE;
    swprintf(name, ARRAY_SIZE(name), L"Local\\OpenDO-bandwidth-%016I64x", name_hash(folder));
    /* Made zeroed by the first process. */
    if (!(mapping = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                                       sizeof(struct clocks), name)))
    {
        WARN("cannot share the bandwidth clocks (%lu): this process keeps its own", GetLastError());
        return TRUE;
    }
    /* The handle stays open for the process's life: under Wine 8 the name goes with the last
     * handle, though views remain, and another process would make a new block. */
    if (!(shared =
              MapViewOfFile(mapping, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, sizeof(struct clocks))))
    {
        WARN("cannot map the bandwidth clocks (%lu): this process keeps its own", GetLastError());
        CloseHandle(mapping);
        return TRUE;
    }
    InterlockedCompareExchange64(&shared->magic, BLOCK_MAGIC, 0);
    if (shared->magic == BLOCK_MAGIC)
    {
        TRACE("bandwidth clocks shared as %s", debugstr_w(name));
        clocks = shared;
    }
    else
        WARN("%s holds something else: this process keeps its own clocks", debugstr_w(name));
    return TRUE;
}

static struct clocks *the_clocks(void)
{
    InitOnceExecuteOnce(&clocks_once, map_clocks, NULL, NULL);
    return clocks;
}

static enum traffic traffic_of(struct ejob *job)
{
    BOOL foreground;

    AcquireSRWLockShared(&job->lock);
    foreground = job->priority == BG_JOB_PRIORITY_FOREGROUND;
    ReleaseSRWLockShared(&job->lock);
    return foreground ? TRAFFIC_FOREGROUND : TRAFFIC_BACKGROUND;
}

UINT64 bandwidth_cap(struct transfer_ctx *ctx)
{
    return ctx->http ? current_cap(traffic_of(ctx->job)) : 0;
}

ULONG bandwidth_connections(struct ejob *job)
{
    UINT64 rate = current_cap(traffic_of(job));

    if (!rate)
        return 0;
    return (ULONG)max(1, min(rate / CONNECTION_SHARE, 64));
}

DWORD bandwidth_read_limit(struct transfer_ctx *ctx, DWORD size)
{
    UINT64 rate, slice;

    if (!ctx->http || !(rate = current_cap(traffic_of(ctx->job))))
        return size;
    slice = max(rate * READ_SLICE_MS / 1000, READ_MIN);
    return (DWORD)min(size, slice);
}

HRESULT bandwidth_take(struct transfer_ctx *ctx, DWORD bytes)
{
    enum traffic traffic;
    struct clocks *shared;
    LARGE_INTEGER counter;
    LONG64 old, next, cost, wait;
    ULONGLONG due, now;
    UINT64 rate;
    HRESULT hr;

    if (!ctx->http || !bytes)
        return S_OK;
    traffic = traffic_of(ctx->job);
    if (!(rate = current_cap(traffic)))
        return S_OK;
    shared = the_clocks();
    cost = pacer_cost(bytes, rate, frequency.QuadPart);
    QueryPerformanceCounter(&counter);
    do
    {
        old = shared->clock[traffic];
        next = pacer_advance(old, counter.QuadPart, cost, HORIZON_S * frequency.QuadPart);
    } while (InterlockedCompareExchange64(&shared->clock[traffic], next, old) != old);
    wait = pacer_wait(next, counter.QuadPart, TOLERANCE_MS * frequency.QuadPart / 1000);
    if (!wait)
        return S_OK;
    due = GetTickCount64() + (ULONGLONG)(wait * 1000 / frequency.QuadPart);
    while ((now = GetTickCount64()) < due)
    {
        if ((hr = transfer_check(ctx)) != S_OK)
            return hr;
        Sleep((DWORD)min(due - now, WAIT_SLICE_MS));
    }
    return S_OK;
}
