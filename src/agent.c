/* SPDX-License-Identifier: MIT */
/* Calls made in a client's apartment: the agent that BITS callbacks (callback.c) and DO status
 * callbacks (download.c) are delivered through. */

/*
 * A client registers a callback from some apartment, and the calls must reach it there, with
 * OpenDO's own (free-threaded) objects as arguments rather than proxies: a proxy answers only
 * the interfaces that have a proxy registered, and Wine's standard marshaling marshals
 * arguments as for another process even within one. So the calls are made from inside the
 * client's apartment, by an agent made there at registration. A caller on any thread leaves
 * its work in the agent (our own object: a plain pointer reaches it) and has the agent run the
 * registrant's function in that apartment:
 *   - in the multithreaded apartment the caller's thread is in it already: the agent runs the
 *     function itself, reached through the Global Interface Table (where it is registered for
 *     every apartment, so that a registration that outlives its apartment is found gone);
 *   - in a single-threaded apartment the agent has a message-only window there and the caller
 *     sends it a message, which the client's thread handles wherever it pumps, as it would a
 *     COM call: its message loop, and any modal wait of COM (CoWaitForMultipleHandles, an
 *     outgoing call). It is not a COM call through the table, because under Wine a call to an
 *     apartment that ends before it takes the call (or before it answers the proxy's closing
 *     release) never returns, and the caller would wait for ever: a sent message instead fails
 *     as soon as the thread ends, which is the client being gone.
 *
 * One call at a time per agent (each registrant delivers from one thread), so `work` needs no
 * lock: it is set before the call and cleared after it, and the agent reads it during the call.
 * The window is destroyed by its own thread: the agent's last release posts it a message to
 * that end, and otherwise it goes with the thread; until then it pins the module (its window
 * procedure is ours).
 */

#include "private.h"

/* The agent's one method, called through IDispatch::Invoke. */
#define DISPID_RUN 1

/* The messages of an agent's window. */
#define WM_AGENT_RUN (WM_APP + 1)   /* lParam: the agent; answers what `run` answered */
#define WM_AGENT_CLOSE (WM_APP + 2) /* the agent is gone: the window goes */

struct agent
{
    IDispatch IDispatch_iface;
    LONG refs;
    agent_run_fn run;               /* immutable */
    void (*release)(void *context); /* immutable, or NULL */
    void *context;                  /* immutable */
    HWND window;                    /* immutable: in a single-threaded apartment, else NULL */
    void *work;                     /* set by agent_call around one call */
    BOOL ran;                       /* set by the window when it ran `work` */
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
        /* Its own thread destroys the window (or already did, ending). */
        if (agent->window)
            PostMessageW(agent->window, WM_AGENT_CLOSE, 0, 0);
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

/* ---- the window of a single-threaded apartment's agent ---- */

static const WCHAR agent_class[] = L"OpenDOAgent";

static LRESULT CALLBACK agent_window_proc(HWND window, UINT message, WPARAM wparam, LPARAM lparam)
{
    struct agent *agent;
    HRESULT hr;

    switch (message)
    {
    case WM_AGENT_RUN:
        agent = (struct agent *)lparam;
        hr = agent->run(agent->context, agent->work);
        agent->ran = TRUE;
        return hr;
    case WM_AGENT_CLOSE:
        DestroyWindow(window);
        return 0;
    case WM_NCDESTROY:
        module_unlock();
        break;
    }
    return DefWindowProcW(window, message, wparam, lparam);
}

static BOOL CALLBACK register_class(INIT_ONCE *once, void *param, void **context)
{
    WNDCLASSW wc = {0};

    wc.lpfnWndProc = agent_window_proc;
    wc.hInstance = param;
    wc.lpszClassName = agent_class;
    if (!RegisterClassW(&wc) && GetLastError() != ERROR_CLASS_ALREADY_EXISTS)
        return FALSE;
    return TRUE;
}

/* A window for the agent on this thread, if it is a single-threaded apartment's. Without one
 * (it could not be made) the agent is called through the table, as in the multithreaded
 * apartment. */
static void make_window(struct agent *agent)
{
    static INIT_ONCE once = INIT_ONCE_STATIC_INIT;
    APTTYPEQUALIFIER qualifier;
    HMODULE module = NULL;
    APTTYPE type;

    if (FAILED(CoGetApartmentType(&type, &qualifier)) ||
        (type != APTTYPE_STA && type != APTTYPE_MAINSTA))
        return;
    GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                           GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                       (const WCHAR *)agent_window_proc, &module);
    if (!InitOnceExecuteOnce(&once, register_class, module, NULL) ||
        !(agent->window = CreateWindowExW(0, agent_class, NULL, 0, 0, 0, 0, 0, HWND_MESSAGE, NULL,
                                          module, NULL)))
    {
        WARN("no window for calls in this apartment (%lu): through the table", GetLastError());
        return;
    }
    module_lock(); /* the window's, until WM_NCDESTROY */
}

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
    make_window(agent);
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

    if (agent->window)
    {
        /* Not through the table: its proxy is a COM call into the apartment. */
        agent->work = work;
        agent->ran = FALSE;
        hr = (HRESULT)SendMessageW(agent->window, WM_AGENT_RUN, 0, (LPARAM)agent);
        if (!agent->ran)
            hr = RPC_E_DISCONNECTED; /* the window is gone, and its thread with it */
        agent->work = NULL;
        return hr;
    }
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
