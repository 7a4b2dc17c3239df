/* SPDX-License-Identifier: MIT */
/* Cost policy: whether a job may use the network the machine is on now. */

/*
 * A BITS job carries a BITS_COST_STATE_* mask (BITS_JOB_PROPERTY_ID_COST_FLAGS: the network
 * states it may transfer on; BITS_COST_STATE_TRANSFER_ALWAYS by default), a DO download a
 * DODownloadCostPolicy, which maps onto the masks of BITS_JOB_TRANSFER_POLICY, and
 * DisallowOnCellular. The network's state comes from GetNetworkConnectivityHint (Windows 10
 * 2004 and later, looked up at run time): its cost hint, data limit and roaming flags give one
 * BITS_COST_STATE_* bit, plus ROAMING. Where the function is missing (Wine 8, older Windows)
 * the network counts as unrestricted, so a cost policy never stops a job there. Cellular means
 * that every network interface that is up (loopback and tunnels aside) is a mobile broadband
 * one. The environment variables OPENDO_NETWORK_COST (a BITS_COST_STATE_* mask, decimal or
 * 0x-hex) and OPENDO_NETWORK_CELLULAR (1 or 0) replace what the machine says, for tests.
 *
 * A job whose policy excludes the network fails transiently with
 * BG_E_BLOCKED_BY_COST_TRANSFER_POLICY (which DO's objects show as
 * DO_E_BLOCKED_BY_COST_TRANSFER_POLICY): TRANSIENT_ERROR (Paused for a download), retried after
 * the job's retry delay, as BITS does.
 * The check is made before every network fetch and with every buffer a fetch stores, so a
 * policy changed while the job transfers applies at once. The machine's state is asked at most
 * every STATE_TTL_MS.
 */
#include <stdlib.h>
#include <winsock2.h>
#include <ws2ipdef.h>
#include <iphlpapi.h>
#include "engine/engine.h"

#define STATE_TTL_MS 2000
/* Mobile broadband interfaces (ipifcons.h; MinGW's lacks them). */
#ifndef IF_TYPE_WWANPP
#define IF_TYPE_WWANPP 243
#endif
#ifndef IF_TYPE_WWANPP2
#define IF_TYPE_WWANPP2 244
#endif

/* nldef.h of Windows 10 2004, which MinGW's headers lack. */
struct connectivity_hint
{
    int level;
    int cost; /* 0 unknown, 1 unrestricted, 2 fixed (up to a limit), 3 variable (per byte) */
    BOOLEAN approaching_data_limit;
    BOOLEAN over_data_limit;
    BOOLEAN roaming;
};
enum
{
    COST_HINT_UNKNOWN,
    COST_HINT_UNRESTRICTED,
    COST_HINT_FIXED,
    COST_HINT_VARIABLE
};
typedef DWORD(WINAPI *connectivity_hint_fn)(struct connectivity_hint *hint);
typedef DWORD(WINAPI *if_table_fn)(MIB_IF_TABLE2 **table);
typedef void(WINAPI *free_table_fn)(void *table);

#define COST_STATES 0xff /* the BITS_COST_STATE_* bits that describe a network */

static SRWLOCK state_lock = SRWLOCK_INIT;
static DWORD machine_state;        /* state_lock: BITS_COST_STATE_* of the network */
static ULONGLONG state_read_at;    /* state_lock: tick of the last look, 0 for never */
static BOOL machine_cellular;      /* state_lock */
static ULONGLONG cellular_read_at; /* state_lock: tick of the last look, 0 for never */

/* iphlpapi.dll is loaded on first use (and kept): a process whose jobs ask nothing of the
 * network does not load it, nor, under Wine, wake the network driver process it talks to. */
static INIT_ONCE iphlpapi_once = INIT_ONCE_STATIC_INIT;
static connectivity_hint_fn connectivity_hint; /* set once (iphlpapi_once), or NULL */
static if_table_fn if_table;                   /* set once (iphlpapi_once), or NULL */
static free_table_fn free_table;               /* set once (iphlpapi_once), or NULL */

static BOOL CALLBACK load_iphlpapi(INIT_ONCE *once, void *param, void **context)
{
    HMODULE iphlpapi = LoadLibraryW(L"iphlpapi.dll");

    if (!iphlpapi)
    {
        WARN("cannot load iphlpapi.dll (%lu)", GetLastError());
        return TRUE;
    }
    connectivity_hint =
        (connectivity_hint_fn)(void *)GetProcAddress(iphlpapi, "GetNetworkConnectivityHint");
    if_table = (if_table_fn)(void *)GetProcAddress(iphlpapi, "GetIfTable2");
    free_table = (free_table_fn)(void *)GetProcAddress(iphlpapi, "FreeMibTable");
    if (!connectivity_hint)
        TRACE("GetNetworkConnectivityHint is missing: networks count as unrestricted");
    return TRUE;
}

/* The machine's interface table (GetIfTable2), or NULL; freed with free_table. */
static MIB_IF_TABLE2 *interfaces(void)
{
    MIB_IF_TABLE2 *table = NULL;

    InitOnceExecuteOnce(&iphlpapi_once, load_iphlpapi, NULL, NULL);
    if (!if_table || !free_table || if_table(&table) != NO_ERROR)
        return NULL;
    return table;
}

UINT64 network_link_speed(void)
{
    static LONG warned;
    MIB_IF_TABLE2 *table;
    UINT64 fastest = 0;

    if (!(table = interfaces()))
        return 0;
    for (ULONG i = 0; i < table->NumEntries; i++)
    {
        const MIB_IF_ROW2 *row = &table->Table[i];
        if (row->OperStatus != IfOperStatusUp || row->Type == IF_TYPE_SOFTWARE_LOOPBACK ||
            row->ReceiveLinkSpeed == (ULONG64)-1)
            continue;
        fastest = max(fastest, row->ReceiveLinkSpeed / 8);
    }
    free_table(table);
    if (!fastest && !InterlockedExchange(&warned, 1))
        WARN("no network interface reports its speed: the percentage caps cap nothing");
    return fastest;
}

static DWORD hint_state(void)
{
    struct connectivity_hint hint = {0};
    DWORD state;

    InitOnceExecuteOnce(&iphlpapi_once, load_iphlpapi, NULL, NULL);
    if (!connectivity_hint || connectivity_hint(&hint) != NO_ERROR)
        return BITS_COST_STATE_UNRESTRICTED;
    switch (hint.cost)
    {
    case COST_HINT_FIXED:
        if (hint.over_data_limit)
            state = BITS_COST_STATE_OVERCAP_CHARGED;
        else if (hint.approaching_data_limit)
            state = BITS_COST_STATE_NEAR_CAP;
        else
            state = BITS_COST_STATE_BELOW_CAP;
        break;
    case COST_HINT_VARIABLE:
        state = BITS_COST_STATE_USAGE_BASED;
        break;
    default:
        state = BITS_COST_STATE_UNRESTRICTED;
        break;
    }
    return hint.roaming ? state | BITS_COST_STATE_ROAMING : state;
}

static BOOL all_cellular(void)
{
    MIB_IF_TABLE2 *table;
    BOOL cellular = FALSE, other = FALSE;

    if (!(table = interfaces()))
        return FALSE;
    for (ULONG i = 0; i < table->NumEntries; i++)
    {
        const MIB_IF_ROW2 *row = &table->Table[i];
        if (row->OperStatus != IfOperStatusUp || row->Type == IF_TYPE_SOFTWARE_LOOPBACK ||
            row->Type == IF_TYPE_TUNNEL)
            continue;
        if (row->Type == IF_TYPE_WWANPP || row->Type == IF_TYPE_WWANPP2)
            cellular = TRUE;
        else
            other = TRUE;
    }
    free_table(table);
    return cellular && !other;
}

static BOOL env_number(const WCHAR *name, DWORD *out)
{
    WCHAR text[16], *end;
    DWORD len;

    len = GetEnvironmentVariableW(name, text, ARRAY_SIZE(text));
    if (!len || len >= ARRAY_SIZE(text))
        return FALSE;
    *out = wcstoul(text, &end, 0);
    if (!*end)
        return TRUE;
    WARN("%s=%s is not a number: ignored", debugstr_w(name), debugstr_w(text));
    return FALSE;
}

/* The network's BITS_COST_STATE_* bits. */
static DWORD network_state(void)
{
    ULONGLONG now = GetTickCount64();
    DWORD state, value;

    if (env_number(L"OPENDO_NETWORK_COST", &value))
        return value & COST_STATES;
    AcquireSRWLockShared(&state_lock);
    if (state_read_at && now - state_read_at < STATE_TTL_MS)
    {
        state = machine_state;
        ReleaseSRWLockShared(&state_lock);
        return state;
    }
    ReleaseSRWLockShared(&state_lock);
    /* Asked outside the lock: a call into the system. */
    state = hint_state();
    AcquireSRWLockExclusive(&state_lock);
    machine_state = state;
    state_read_at = now ? now : 1;
    ReleaseSRWLockExclusive(&state_lock);
    return state;
}

/* Is the machine on a cellular network? Asked only for the jobs that care: the interface table
 * is a call into Wine's network driver process, which other jobs need not wait for. */
static BOOL network_cellular(void)
{
    ULONGLONG now = GetTickCount64();
    DWORD value;
    BOOL cellular;

    if (env_number(L"OPENDO_NETWORK_CELLULAR", &value))
        return !!value;
    AcquireSRWLockShared(&state_lock);
    if (cellular_read_at && now - cellular_read_at < STATE_TTL_MS)
    {
        cellular = machine_cellular;
        ReleaseSRWLockShared(&state_lock);
        return cellular;
    }
    ReleaseSRWLockShared(&state_lock);
    cellular = all_cellular();
    AcquireSRWLockExclusive(&state_lock);
    machine_cellular = cellular;
    cellular_read_at = now ? now : 1;
    ReleaseSRWLockExclusive(&state_lock);
    return cellular;
}

/* The BITS_COST_STATE_* mask (a BITS_JOB_TRANSFER_POLICY value) a DODownloadCostPolicy allows. */
static DWORD flags_of_policy(ULONG policy)
{
    switch (policy)
    {
    case DODownloadCostPolicy_Unrestricted:
        return BITS_JOB_TRANSFER_POLICY_UNRESTRICTED;
    case DODownloadCostPolicy_Standard:
        return BITS_JOB_TRANSFER_POLICY_STANDARD;
    case DODownloadCostPolicy_NoRoaming:
        return BITS_JOB_TRANSFER_POLICY_NOT_ROAMING;
    case DODownloadCostPolicy_NoSurcharge:
        return BITS_JOB_TRANSFER_POLICY_NO_SURCHARGE;
    default: /* Always; NoCellular is Always off cellular networks. */
        return BITS_JOB_TRANSFER_POLICY_ALWAYS;
    }
}

HRESULT cost_check(struct transfer_ctx *ctx)
{
    struct ejob *job = ctx->job;
    BOOL cellular, download, no_cellular;
    DWORD network, flags;

    if (!ctx->http)
        return S_OK;
    AcquireSRWLockShared(&job->lock);
    download = job->download.present;
    flags = download ? flags_of_policy(job->download.cost_policy) : job->options.cost_flags;
    no_cellular = download && (job->download.cost_policy == DODownloadCostPolicy_NoCellular ||
                               (job->download.flags & EJOB_DL_NO_CELLULAR));
    ReleaseSRWLockShared(&job->lock);
    /* TRANSFER_ALWAYS takes every state: nothing to ask. */
    network = (flags & COST_STATES) == COST_STATES ? 0 : network_state();
    cellular = no_cellular && network_cellular();
    /* The job may use the network when it allows every state the network is in: roaming is a
     * state of its own, which NOT_ROAMING and the stricter policies leave out. */
    if ((network & flags & COST_STATES) == (network & COST_STATES) && !(no_cellular && cellular))
        return S_OK;
    TRACE("job %s: network state %#lx%s, job allows %#lx", debugstr_guid(&job->id), network,
          cellular ? " (cellular)" : "", flags);
    ctx->context = BG_ERROR_CONTEXT_GENERAL_TRANSPORT;
    ctx->transient = TRUE;
    return BG_E_BLOCKED_BY_COST_TRANSFER_POLICY;
}
