/* SPDX-License-Identifier: MIT */
/* The automation (IDispatch) faces of OpenDO's objects, for VBScript, JScript and PowerShell. */
#ifndef OPENDO_AUTOMATION_H
#define OPENDO_AUTOMATION_H

#include "private.h"

/*
 * One automation face: a dual interface answered through the type library, and
 * ISupportErrorInfo. The manager object embeds one (manager.c): the manager answers
 * QueryInterface(IID_IDispatch) with it, so CreateObject("OpenDO.Manager") works. Jobs, files
 * and collections that scripts see are objects of automation.c that wrap the vtable ones.
 */
struct dispatch
{
    union
    {
        IDispatch IDispatch_iface;
        IOpenDOManager IOpenDOManager_iface;
        IOpenDOJob IOpenDOJob_iface;
        IOpenDOFile IOpenDOFile_iface;
        IOpenDOCollection IOpenDOCollection_iface;
    };
    ISupportErrorInfo ISupportErrorInfo_iface;
    const IID *iid;  /* the dual interface */
    IUnknown *outer; /* embedded: the object's IUnknown (not counted); NULL: an object of its own */
    LONG refs;       /* an object of its own only */
    IUnknown *ftm;   /* an object of its own only */
    /* An object of its own: frees what it holds and the object itself. */
    void (*destroy)(struct dispatch *dispatch);
};

/* The manager's automation face. */
struct manager_dispatch
{
    struct dispatch dispatch;
    IBackgroundCopyManager *manager; /* the object that embeds this: not counted */
};

/* Makes `dispatch`, embedded in the manager object, its IOpenDOManager face; `manager` is the
 * object's IBackgroundCopyManager (its IUnknown too), to which it forwards IUnknown and every
 * call. */
void automation_manager_init(struct manager_dispatch *dispatch, IBackgroundCopyManager *manager);
/* QueryInterface for the interfaces of the manager's automation face (IDispatch,
 * IOpenDOManager, ISupportErrorInfo): S_OK with *out AddRef'ed, or E_NOINTERFACE with *out
 * untouched. */
HRESULT automation_manager_query(struct manager_dispatch *dispatch, REFIID riid, void **out);

#endif /* OPENDO_AUTOMATION_H */
