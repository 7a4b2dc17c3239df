/* SPDX-License-Identifier: MIT */
/* Calls made in a client's apartment: the agent that BITS callbacks (callback.c) and DO status
 * callbacks (download.c) are delivered through. */

/*
 * A client registers a callback from some apartment, and the calls must reach it there, with
 * OpenDO's own (free-threaded) objects as arguments rather than proxies: a proxy answers only
 * the interfaces that have a proxy registered, and Wine's standard marshaling marshals
 * arguments as for another process even within one. So the calls are made from inside the
 * client's apartment: at registration an agent is made in that apartment and put in the Global
 * Interface Table. A caller on any thread leaves its work in the agent (our own object: a plain
 * pointer reaches it) and calls the agent's IDispatch::Invoke through the table, which for a
 * single-threaded apartment is a proxy call that runs on the client's thread while it pumps
 * messages, and for the multithreaded apartment is the agent itself. The agent then runs the
 * registrant's function there.
 *
 * One call at a time per agent (each registrant delivers from one thread), so `work` needs no
 * lock: it is set before the call and cleared after it, and the agent reads it during the call.
 */

#include "private.h"

/* The agent's one method, called through IDispatch::Invoke. */
#define DISPID_RUN 1

struct agent
{
    IDispatch IDispatch_iface;
    LONG refs;
    agent_run_fn run;               /* immutable */
    void (*release)(void *context); /* immutable, or NULL */
    void *context;                  /* immutable */
    void *work;                     /* set by agent_call around one Invoke */
};

BOOL client_gone(HRESULT hr)
{
    return hr == RPC_E_DISCONNECTED || hr == CO_E_OBJNOTCONNECTED || hr == RPC_E_SERVER_DIED ||
           hr == RPC_E_SERVER_DIED_DNE || hr == HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE);
}

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
        if (agent->release)
            agent->release(agent->context);
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

    if (id != DISPID_RUN || !agent->work)
        return DISP_E_MEMBERNOTFOUND;
    return agent->run(agent->context, agent->work);
}

static const IDispatchVtbl agent_vtbl = {
    agent_QueryInterface, agent_AddRef,        agent_Release, agent_GetTypeInfoCount,
    agent_GetTypeInfo,    agent_GetIDsOfNames, agent_Invoke,
};

HRESULT agent_create(agent_run_fn run, void (*release)(void *context), void *context,
                     struct agent **out, DWORD *cookie)
{
    IGlobalInterfaceTable *git;
    struct agent *agent;
    HRESULT hr;

    *out = NULL;
    *cookie = 0;
    if (!(agent = heap_alloc_zero(sizeof(*agent))))
    {
        if (release)
            release(context);
        return E_OUTOFMEMORY;
    }
    agent->IDispatch_iface.lpVtbl = &agent_vtbl;
    agent->refs = 1;
    agent->run = run;
    agent->release = release;
    agent->context = context;
    module_lock();
    if (SUCCEEDED(hr = git_get(&git)))
    {
        hr = IGlobalInterfaceTable_RegisterInterfaceInGlobal(
            git, (IUnknown *)&agent->IDispatch_iface, &IID_IDispatch, cookie);
        IGlobalInterfaceTable_Release(git);
    }
    if (FAILED(hr))
    {
        *cookie = 0;
        agent_release(agent);
        return hr;
    }
    *out = agent;
    return S_OK;
}

void *agent_context(const struct agent *agent)
{
    return agent->context;
}

void agent_addref(struct agent *agent)
{
    IDispatch_AddRef(&agent->IDispatch_iface);
}

void agent_release(struct agent *agent)
{
    if (agent)
        IDispatch_Release(&agent->IDispatch_iface);
}

HRESULT agent_call(struct agent *agent, DWORD cookie, void *work)
{
    DISPPARAMS none = {0};
    IGlobalInterfaceTable *git;
    IDispatch *reached = NULL;
    HRESULT hr;

    if (SUCCEEDED(hr = git_get(&git)))
    {
        hr = IGlobalInterfaceTable_GetInterfaceFromGlobal(git, cookie, &IID_IDispatch,
                                                          (void **)&reached);
        IGlobalInterfaceTable_Release(git);
    }
    if (FAILED(hr))
        return hr;
    agent->work = work;
    hr = IDispatch_Invoke(reached, DISPID_RUN, &IID_NULL, LOCALE_NEUTRAL, DISPATCH_METHOD, &none,
                          NULL, NULL, NULL);
    agent->work = NULL;
    IDispatch_Release(reached);
    return hr;
}
