/* SPDX-License-Identifier: MIT */
/* IBackgroundCopyCallback(2) delivery: SetNotifyInterface's registrations, and the calls the
 * engine's notifier asks for, made in the client's apartment with OpenDO's own objects. */

/*
 * Design
 * ------
 * A client registers its callback from some apartment. The engine only keeps a reference to a
 * `struct subscription` (its notify_sink) and, when events are due, hands it to
 * deliver_events() on the notifier thread, which lives in the multithreaded apartment.
 *
 * The calls must reach the callback in the apartment that registered it, and the job, file
 * and error objects they carry must be OpenDO's own (free-threaded), not proxies: a proxy
 * answers only the interfaces that have a proxy registered (under Wine, not File3 to File5, nor
 * the DO interfaces) and some methods not at all. Calling the callback through a proxy would
 * marshal those arguments, and Wine's standard marshaling marshals them as for another process
 * even within one. So the calls are made from inside the client's apartment instead: at
 * registration, an agent object is created in that apartment and put in the Global Interface
 * Table. The notifier leaves the work in the agent (it is our own object: a plain pointer reaches
 * it from any thread) and calls the agent's IDispatch::Invoke through the table, which for a
 * single-threaded apartment is a proxy call that runs on the client's thread while it pumps
 * messages; the agent then calls the callback directly, with objects made right there. For a
 * multithreaded client the table hands back the agent itself, and everything runs on the
 * notifier thread, as any thread of the MTA may.
 *
 * Only the notifier thread posts work, one call at a time, so `work` needs no lock: it is set
 * before the call and cleared after it, and the agent reads it during the call.
 *
 * The callback is also in the table, so that GetNotifyInterface answers with a pointer that is
 * valid in the caller's apartment. The subscription's destroy (any thread, no lock held)
 * revokes both entries.
 */

#include "private.h"
#include "engine/engine.h"

/* The agent's one method, called through IDispatch::Invoke. */
#define DISPID_DELIVER 1

struct agent
{
    IDispatch IDispatch_iface;
    LONG refs;
    IBackgroundCopyCallback *callback; /* the client's object, in the agent's apartment */
    enum dialect dialect;              /* what the job, file and error objects speak */
    struct ejob *job;                  /* work: set by the notifier around one Invoke */
    struct notify_delivery *work;
};

struct subscription
{
    struct notify_sink sink;
    struct agent *agent;   /* a reference: the pointer through which work is posted */
    DWORD agent_cookie;    /* the agent in the Global Interface Table */
    DWORD callback_cookie; /* the callback in the Global Interface Table */
};

static BOOL disconnected(HRESULT hr)
{
    return hr == RPC_E_DISCONNECTED || hr == CO_E_OBJNOTCONNECTED || hr == RPC_E_SERVER_DIED ||
           hr == RPC_E_SERVER_DIED_DNE || hr == HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE);
}

/* ---- the calls themselves (in the client's apartment) ---- */

/* Records how the client answered JobTransferred or JobError. */
static void record(struct notify_delivery *d, ULONG event, HRESULT hr)
{
    if (hr == S_OK)
        d->delivered |= event;
    else if (disconnected(hr))
        d->dropped = TRUE;
    else
    {
        TRACE("the callback answered %08lx", hr);
        d->failed |= event;
    }
}

/* Calls `callback` for what `d` carries: FileTransferred for each file, then JobTransferred or
 * JobError, then JobModification (changes that come with a state event happened after it). */
static void call_client(IBackgroundCopyCallback *callback, struct ejob *ejob, enum dialect dialect,
                        struct notify_delivery *d)
{
    const ULONG state_events = d->events & (NOTIFY_EVENT_TRANSFERRED | NOTIFY_EVENT_ERROR);
    IBackgroundCopyCallback2 *callback2;
    IBackgroundCopyError *error;
    IBackgroundCopyFile *file;
    IBackgroundCopyJob *job;
    HRESULT hr;

    if (FAILED(hr = job_create(ejob, dialect, &job)))
    {
        d->failed |= state_events;
        return;
    }
    if (d->file_count && SUCCEEDED(IBackgroundCopyCallback_QueryInterface(
                             callback, &IID_IBackgroundCopyCallback2, (void **)&callback2)))
    {
        for (ULONG i = 0; i < d->file_count && !d->dropped; i++)
        {
            if (FAILED(file_create(ejob, d->files[i], dialect, &file)))
                continue;
            hr = IBackgroundCopyCallback2_FileTransferred(callback2, job, file);
            IBackgroundCopyFile_Release(file);
            if (disconnected(hr))
                d->dropped = TRUE;
        }
        IBackgroundCopyCallback2_Release(callback2);
    }
    if ((d->events & NOTIFY_EVENT_TRANSFERRED) && !d->dropped)
        record(d, NOTIFY_EVENT_TRANSFERRED, IBackgroundCopyCallback_JobTransferred(callback, job));
    if ((d->events & NOTIFY_EVENT_ERROR) && !d->dropped)
    {
        if (SUCCEEDED(hr = error_create(ejob, dialect, d->context, d->code, d->file_index, &error)))
        {
            hr = IBackgroundCopyCallback_JobError(callback, job, error);
            IBackgroundCopyError_Release(error);
        }
        record(d, NOTIFY_EVENT_ERROR, hr);
    }
    if ((d->events & NOTIFY_EVENT_MODIFICATION) && !d->dropped &&
        disconnected(IBackgroundCopyCallback_JobModification(callback, job, 0)))
        d->dropped = TRUE;
    IBackgroundCopyJob_Release(job);
}

/* ---- the agent (lives in the registering apartment) ---- */

static inline struct agent *impl_from_IDispatch(IDispatch *iface)
{
    return CONTAINING_RECORD(iface, struct agent, IDispatch_iface);
}

static HRESULT WINAPI agent_QueryInterface(IDispatch *iface, REFIID riid, void **out)
{
    /* No free-threaded marshaler: the agent must be reached in its own apartment. */
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IDispatch))
    {
        *out = iface;
        IDispatch_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI agent_AddRef(IDispatch *iface)
{
    return InterlockedIncrement(&impl_from_IDispatch(iface)->refs);
}

static ULONG WINAPI agent_Release(IDispatch *iface)
{
    struct agent *agent = impl_from_IDispatch(iface);
    ULONG refs = InterlockedDecrement(&agent->refs);

    if (!refs)
    {
        IBackgroundCopyCallback_Release(agent->callback);
        heap_free(agent);
        module_unlock();
    }
    return refs;
}

static HRESULT WINAPI agent_GetTypeInfoCount(IDispatch *iface, UINT *count)
{
    *count = 0;
    return S_OK;
}

static HRESULT WINAPI agent_GetTypeInfo(IDispatch *iface, UINT index, LCID lcid, ITypeInfo **info)
{
    *info = NULL;
    return DISP_E_BADINDEX;
}

static HRESULT WINAPI agent_GetIDsOfNames(IDispatch *iface, REFIID riid, LPOLESTR *names,
                                          UINT count, LCID lcid, DISPID *ids)
{
    for (UINT i = 0; i < count; i++)
        ids[i] = DISPID_UNKNOWN;
    return DISP_E_UNKNOWNNAME;
}

static HRESULT WINAPI agent_Invoke(IDispatch *iface, DISPID id, REFIID riid, LCID lcid, WORD flags,
                                   DISPPARAMS *params, VARIANT *result, EXCEPINFO *excepinfo,
                                   UINT *arg_error)
{
    struct agent *agent = impl_from_IDispatch(iface);

    if (id != DISPID_DELIVER || !agent->work)
        return DISP_E_MEMBERNOTFOUND;
    call_client(agent->callback, agent->job, agent->dialect, agent->work);
    return S_OK;
}

static const IDispatchVtbl agent_vtbl = {
    agent_QueryInterface, agent_AddRef,        agent_Release, agent_GetTypeInfoCount,
    agent_GetTypeInfo,    agent_GetIDsOfNames, agent_Invoke,
};

/* ---- subscriptions ---- */

static inline struct subscription *impl_from_notify_sink(struct notify_sink *sink)
{
    return CONTAINING_RECORD(sink, struct subscription, sink);
}

static void subscription_destroy(struct notify_sink *sink)
{
    struct subscription *subscription = impl_from_notify_sink(sink);

    /* The last reference may go on a thread that never entered an apartment. */
    git_revoke(subscription->agent_cookie);
    git_revoke(subscription->callback_cookie);
    if (subscription->agent)
        IDispatch_Release(&subscription->agent->IDispatch_iface);
    heap_free(subscription);
}

/* Makes the subscription on the calling thread, in its apartment. */
static HRESULT subscription_create(IBackgroundCopyCallback *callback, enum dialect dialect,
                                   struct subscription **out)
{
    struct subscription *subscription;
    IGlobalInterfaceTable *git;
    struct agent *agent;
    HRESULT hr;

    if (!(subscription = heap_alloc_zero(sizeof(*subscription))))
        return E_OUTOFMEMORY;
    subscription->sink.refs = 1;
    subscription->sink.destroy = subscription_destroy;
    if (!(agent = heap_alloc_zero(sizeof(*agent))))
    {
        heap_free(subscription);
        return E_OUTOFMEMORY;
    }
    agent->IDispatch_iface.lpVtbl = &agent_vtbl;
    agent->refs = 1;
    agent->dialect = dialect;
    agent->callback = callback;
    IBackgroundCopyCallback_AddRef(callback);
    module_lock();
    subscription->agent = agent;

    if (SUCCEEDED(hr = git_get(&git)))
    {
        if (SUCCEEDED(hr = IGlobalInterfaceTable_RegisterInterfaceInGlobal(
                          git, (IUnknown *)callback, &IID_IBackgroundCopyCallback,
                          &subscription->callback_cookie)))
            hr = IGlobalInterfaceTable_RegisterInterfaceInGlobal(
                git, (IUnknown *)&agent->IDispatch_iface, &IID_IDispatch,
                &subscription->agent_cookie);
        IGlobalInterfaceTable_Release(git);
    }
    if (FAILED(hr))
    {
        WARN("cannot register the callback: %08lx", hr);
        notify_sink_release(&subscription->sink);
        return hr;
    }
    *out = subscription;
    return S_OK;
}

HRESULT callback_register(struct ejob *ejob, IUnknown *callback, enum dialect dialect)
{
    struct subscription *subscription;
    IBackgroundCopyCallback *typed;
    HRESULT hr;

    if (!callback)
        return notify_set_sink(ejob, NULL);
    /* BITS documents no code for an object that is no callback; it is a bad argument. */
    if (FAILED(IUnknown_QueryInterface(callback, &IID_IBackgroundCopyCallback, (void **)&typed)))
        return E_INVALIDARG;
    hr = subscription_create(typed, dialect, &subscription);
    IBackgroundCopyCallback_Release(typed);
    if (FAILED(hr))
        return hr;
    hr = notify_set_sink(ejob, &subscription->sink);
    notify_sink_release(&subscription->sink);
    return hr;
}

HRESULT callback_registered(struct ejob *ejob, IUnknown **out)
{
    struct notify_sink *sink;
    IGlobalInterfaceTable *git;
    HRESULT hr;

    *out = NULL;
    if (!(sink = notify_get_sink(ejob)))
        return S_OK;
    if (SUCCEEDED(hr = git_get(&git)))
    {
        hr = IGlobalInterfaceTable_GetInterfaceFromGlobal(
            git, impl_from_notify_sink(sink)->callback_cookie, &IID_IBackgroundCopyCallback,
            (void **)out);
        IGlobalInterfaceTable_Release(git);
    }
    notify_sink_release(sink);
    if (FAILED(hr))
        *out = NULL;
    return hr;
}

/* ---- delivery (the notifier thread, no lock held) ---- */

/* Runs the work in the agent's apartment. FALSE if the agent could not be reached. */
static BOOL post_to_agent(struct subscription *subscription, struct ejob *ejob,
                          struct notify_delivery *d)
{
    DISPPARAMS none = {0};
    IGlobalInterfaceTable *git;
    IDispatch *agent = NULL;
    HRESULT hr;

    if (SUCCEEDED(hr = git_get(&git)))
    {
        hr = IGlobalInterfaceTable_GetInterfaceFromGlobal(git, subscription->agent_cookie,
                                                          &IID_IDispatch, (void **)&agent);
        IGlobalInterfaceTable_Release(git);
    }
    if (FAILED(hr))
    {
        WARN("job %s: no callback (%08lx)", debugstr_guid(&ejob->id), hr);
        if (disconnected(hr))
            d->dropped = TRUE;
        return FALSE;
    }
    subscription->agent->job = ejob;
    subscription->agent->work = d;
    hr = IDispatch_Invoke(agent, DISPID_DELIVER, &IID_NULL, LOCALE_NEUTRAL, DISPATCH_METHOD, &none,
                          NULL, NULL, NULL);
    subscription->agent->work = NULL;
    subscription->agent->job = NULL;
    IDispatch_Release(agent);
    if (FAILED(hr))
    {
        /* The client's apartment is gone (its thread left without unregistering). */
        WARN("job %s: the callback's apartment answered %08lx", debugstr_guid(&ejob->id), hr);
        d->dropped = disconnected(hr) || d->dropped;
        return FALSE;
    }
    return TRUE;
}

/* engine_events.deliver. */
static void deliver_events(struct ejob *ejob, struct notify_sink *sink, struct notify_delivery *d)
{
    const ULONG state_events = d->events & (NOTIFY_EVENT_TRANSFERRED | NOTIFY_EVENT_ERROR);
    IBackgroundCopyCallback *callback;
    struct notify_delivery state_only;
    HRESULT hr;

    if (sink && post_to_agent(impl_from_notify_sink(sink), ejob, d))
        return;
    /* No live callback object: as BITS does, a registered notification class is created (out
     * of process) for JobTransferred/JobError. */
    if (!state_events || IsEqualGUID(&d->clsid, &GUID_NULL))
        return;
    hr = CoCreateInstance(&d->clsid, NULL, CLSCTX_LOCAL_SERVER, &IID_IBackgroundCopyCallback,
                          (void **)&callback);
    if (FAILED(hr))
    {
        WARN("job %s: cannot create the notification class %s: %08lx", debugstr_guid(&ejob->id),
             debugstr_guid(&d->clsid), hr);
        return;
    }
    state_only = *d;
    state_only.events = state_events;
    state_only.file_count = 0;
    state_only.dropped = FALSE;
    call_client(callback, ejob, DIALECT_BITS, &state_only);
    IBackgroundCopyCallback_Release(callback);
    d->delivered |= state_only.delivered;
    d->failed |= state_only.failed;
}

static const struct engine_events events = {deliver_events};

void callback_init(void)
{
    engine_set_events(&events);
}
