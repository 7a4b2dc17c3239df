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
 * The calls must reach the callback in the apartment that registered it, with OpenDO's own job,
 * file and error objects: they are made there through an agent (agent.c), made at
 * registration. For a multithreaded client everything runs on the notifier thread, as any
 * thread of the MTA may.
 *
 * The callback is also in the table, so that GetNotifyInterface answers with a pointer that is
 * valid in the caller's apartment. The subscription's destroy (any thread, no lock held)
 * revokes both entries.
 */

#include "private.h"
#include "engine/engine.h"

/* What an agent of a subscription works with. */
struct target
{
    IBackgroundCopyCallback *callback; /* the client's object, in the agent's apartment */
    enum dialect dialect;              /* what the job, file and error objects speak */
};

/* The notifier's work for the agent: the job and what to tell of it. */
struct work
{
    struct ejob *job;
    struct notify_delivery *delivery;
};

struct subscription
{
    struct notify_sink sink;
    struct agent *agent;   /* a reference: what work is posted through */
    DWORD agent_cookie;    /* the agent in the Global Interface Table */
    DWORD callback_cookie; /* the callback in the Global Interface Table */
};

/* ---- the calls themselves (in the client's apartment) ---- */

/* Records how the client answered JobTransferred or JobError. */
static void record(struct notify_delivery *d, ULONG event, HRESULT hr)
{
    if (hr == S_OK)
        d->delivered |= event;
    else if (client_gone(hr))
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
            if (client_gone(hr))
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
        client_gone(IBackgroundCopyCallback_JobModification(callback, job, 0)))
        d->dropped = TRUE;
    IBackgroundCopyJob_Release(job);
}

/* agent_run_fn: in the client's apartment. */
static HRESULT run_in_apartment(void *context, void *work)
{
    struct target *target = context;
    struct work *w = work;

    call_client(target->callback, w->job, target->dialect, w->delivery);
    return S_OK;
}

static void target_free(void *context)
{
    struct target *target = context;

    IBackgroundCopyCallback_Release(target->callback);
    heap_free(target);
}

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
    agent_release(subscription->agent);
    heap_free(subscription);
}

/* Makes the subscription on the calling thread, in its apartment. */
static HRESULT subscription_create(IBackgroundCopyCallback *callback, enum dialect dialect,
                                   struct subscription **out)
{
    struct subscription *subscription;
    IGlobalInterfaceTable *git;
    struct target *target;
    HRESULT hr;

    if (!(subscription = heap_alloc_zero(sizeof(*subscription))))
        return E_OUTOFMEMORY;
    subscription->sink.refs = 1;
    subscription->sink.destroy = subscription_destroy;
    if (!(target = heap_alloc_zero(sizeof(*target))))
    {
        heap_free(subscription);
        return E_OUTOFMEMORY;
    }
    target->dialect = dialect;
    target->callback = callback;
    IBackgroundCopyCallback_AddRef(callback);
    hr = agent_create(run_in_apartment, target_free, target, &subscription->agent,
                      &subscription->agent_cookie);
    if (SUCCEEDED(hr) && SUCCEEDED(hr = git_get(&git)))
    {
        hr = IGlobalInterfaceTable_RegisterInterfaceInGlobal(git, (IUnknown *)callback,
                                                             &IID_IBackgroundCopyCallback,
                                                             &subscription->callback_cookie);
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
    struct work work = {ejob, d};
    HRESULT hr;

    if (FAILED(hr = agent_call(subscription->agent, subscription->agent_cookie, &work)))
    {
        /* The client's apartment is gone (its thread left without unregistering). */
        WARN("job %s: the callback's apartment answered %08lx", debugstr_guid(&ejob->id), hr);
        d->dropped = client_gone(hr) || d->dropped;
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
