/* SPDX-License-Identifier: MIT */
/* The automation interfaces (automation.c): IDispatch through the type library, VARIANT types
 * of sizes, error info, collections and IEnumVARIANT. */
#include "testutil.h"

#define assert_string_equal_w(a, b) assert_int_equal(0, wcscmp((a), (b)))

/* The manager's IDispatch, as a script host gets it. */
static IDispatch *dispatch_manager(IBackgroundCopyManager **vtable)
{
    IBackgroundCopyManager *manager = tu_manager();
    IDispatch *dispatch = NULL;

    assert_hr(S_OK,
              IBackgroundCopyManager_QueryInterface(manager, &IID_IDispatch, (void **)&dispatch));
    if (vtable)
        *vtable = manager;
    else
        IBackgroundCopyManager_Release(manager);
    return dispatch;
}

static DISPID dispid(IDispatch *dispatch, const WCHAR *name)
{
    DISPID id = 12345;

    assert_hr(S_OK, IDispatch_GetIDsOfNames(dispatch, &IID_NULL, (LPOLESTR *)&name, 1,
                                            LOCALE_USER_DEFAULT, &id));
    return id;
}

/* IDispatch::Invoke of member `name` with up to three arguments (in their natural order, NULL
 * ends them), as a script host calls it. */
static HRESULT invoke(IDispatch *dispatch, const WCHAR *name, WORD flags, VARIANT *result,
                      EXCEPINFO *excepinfo, VARIANT *arg0, VARIANT *arg1, VARIANT *arg2)
{
    VARIANT *given[] = {arg0, arg1, arg2}, args[3];
    DISPID put = DISPID_PROPERTYPUT;
    DISPPARAMS params = {args, NULL, 0, 0};
    UINT argerr = 0;

    while (params.cArgs < 3 && given[params.cArgs])
        params.cArgs++;
    /* DISPPARAMS holds the arguments last first. */
    for (UINT i = 0; i < params.cArgs; i++)
        args[params.cArgs - 1 - i] = *given[i];
    if (flags == DISPATCH_PROPERTYPUT)
    {
        params.rgdispidNamedArgs = &put;
        params.cNamedArgs = 1;
    }
    if (result)
        VariantInit(result);
    if (excepinfo)
        memset(excepinfo, 0, sizeof(*excepinfo));
    return IDispatch_Invoke(dispatch, dispid(dispatch, name), &IID_NULL, LOCALE_USER_DEFAULT, flags,
                            &params, result, excepinfo, &argerr);
}

/* Reads a property; fails the test unless it succeeds with a value of type `vt`. */
static VARIANT get(IDispatch *dispatch, const WCHAR *name, VARTYPE vt)
{
    VARIANT value;

    assert_hr(S_OK, invoke(dispatch, name, DISPATCH_PROPERTYGET, &value, NULL, NULL, NULL, NULL));
    if (V_VT(&value) != vt)
        fail_msg("%ls: VARIANT type %d, expected %d", name, V_VT(&value), vt);
    return value;
}

static VARIANT bstr_arg(const WCHAR *s)
{
    VARIANT v;

    V_VT(&v) = VT_BSTR;
    V_BSTR(&v) = SysAllocString(s);
    return v;
}

static VARIANT long_arg(LONG n)
{
    VARIANT v;

    V_VT(&v) = VT_I4;
    V_I4(&v) = n;
    return v;
}

/* manager.CreateJob(name) through Invoke: the job's IDispatch. */
static IDispatch *create_job(IDispatch *manager, const WCHAR *name)
{
    VARIANT arg = bstr_arg(name), result;

    assert_hr(S_OK,
              invoke(manager, L"CreateJob", DISPATCH_METHOD, &result, NULL, &arg, NULL, NULL));
    VariantClear(&arg);
    assert_int_equal(V_VT(&result), VT_DISPATCH);
    assert_non_null(V_DISPATCH(&result));
    return V_DISPATCH(&result);
}

static void call(IDispatch *dispatch, const WCHAR *name)
{
    assert_hr(S_OK, invoke(dispatch, name, DISPATCH_METHOD, NULL, NULL, NULL, NULL, NULL));
}

static void add_file(IDispatch *job, const WCHAR *remote, const WCHAR *local)
{
    VARIANT a = bstr_arg(remote), b = bstr_arg(local);

    assert_hr(S_OK, invoke(job, L"AddFile", DISPATCH_METHOD, NULL, NULL, &a, &b, NULL));
    VariantClear(&a);
    VariantClear(&b);
}

/* The vtable job behind a script's job, found by its Id. */
static IBackgroundCopyJob *vtable_job(IBackgroundCopyManager *manager, IDispatch *job)
{
    VARIANT id = get(job, L"Id", VT_BSTR);
    IBackgroundCopyJob *found = NULL;
    GUID guid;

    assert_hr(S_OK, IIDFromString(V_BSTR(&id), &guid));
    VariantClear(&id);
    assert_hr(S_OK, IBackgroundCopyManager_GetJob(manager, &guid, &found));
    return found;
}

static LONG get_long(IDispatch *dispatch, const WCHAR *name)
{
    VARIANT v = get(dispatch, name, VT_I4);
    return V_I4(&v);
}

static double get_double(IDispatch *dispatch, const WCHAR *name)
{
    VARIANT v = get(dispatch, name, VT_R8);
    return V_R8(&v);
}

/* Asserts a BSTR property's value. */
static void check_string(IDispatch *dispatch, const WCHAR *name, const WCHAR *expected)
{
    VARIANT v = get(dispatch, name, VT_BSTR);

    if (wcscmp(V_BSTR(&v), expected))
        fail_msg("%ls = \"%ls\", expected \"%ls\"", name, V_BSTR(&v), expected);
    VariantClear(&v);
}

/* Polls job.StateName through Invoke until it is `state`; fails naming the state seen. */
static void wait_state_name(IDispatch *job, const WCHAR *state, DWORD timeout_ms)
{
    DWORD start = GetTickCount();
    VARIANT v;

    for (;;)
    {
        v = get(job, L"StateName", VT_BSTR);
        if (!wcscmp(V_BSTR(&v), state))
            break;
        if (GetTickCount() - start > timeout_ms)
            fail_msg("job state %ls after %lu ms, expected %ls", V_BSTR(&v), timeout_ms, state);
        VariantClear(&v);
        Sleep(10);
    }
    VariantClear(&v);
}

static void test_manager_dispatch(void **state)
{
    IBackgroundCopyManager *manager, *back;
    IDispatch *dispatch = dispatch_manager(&manager);
    IOpenDOManager *dual = NULL;
    IUnknown *identity, *unknown;
    const WCHAR *name = L"NoSuchMember";
    ITypeInfo *info;
    TYPEATTR *attr;
    DISPID id;
    UINT count = 0;

    /* IDispatch is the dual interface, on the same object. */
    assert_hr(S_OK, IDispatch_QueryInterface(dispatch, &IID_IOpenDOManager, (void **)&dual));
    assert_ptr_equal(dual, dispatch);
    IOpenDOManager_Release(dual);
    assert_hr(S_OK,
              IBackgroundCopyManager_QueryInterface(manager, &IID_IUnknown, (void **)&identity));
    assert_hr(S_OK, IDispatch_QueryInterface(dispatch, &IID_IUnknown, (void **)&unknown));
    assert_ptr_equal(unknown, identity);
    IUnknown_Release(unknown);
    IUnknown_Release(identity);
    assert_hr(S_OK,
              IDispatch_QueryInterface(dispatch, &IID_IBackgroundCopyManager, (void **)&back));
    assert_ptr_equal(back, manager);
    IBackgroundCopyManager_Release(back);

    assert_hr(S_OK, IDispatch_GetTypeInfoCount(dispatch, &count));
    assert_int_equal(count, 1);
    assert_hr(DISP_E_BADINDEX, IDispatch_GetTypeInfo(dispatch, 1, LOCALE_USER_DEFAULT, &info));
    assert_hr(S_OK, IDispatch_GetTypeInfo(dispatch, 0, LOCALE_USER_DEFAULT, &info));
    assert_hr(S_OK, ITypeInfo_GetTypeAttr(info, &attr));
    assert_true(IsEqualGUID(&attr->guid, &IID_IOpenDOManager));
    assert_true(attr->wTypeFlags & TYPEFLAG_FDUAL);
    ITypeInfo_ReleaseTypeAttr(info, attr);
    ITypeInfo_Release(info);

    assert_int_equal(dispid(dispatch, L"CreateJob"), 1);
    assert_int_equal(dispid(dispatch, L"getjob"), 2); /* names are case-insensitive */
    assert_int_equal(dispid(dispatch, L"Jobs"), 3);
    assert_hr(DISP_E_UNKNOWNNAME, IDispatch_GetIDsOfNames(dispatch, &IID_NULL, (LPOLESTR *)&name, 1,
                                                          LOCALE_USER_DEFAULT, &id));
    assert_hr(DISP_E_UNKNOWNINTERFACE,
              IDispatch_Invoke(dispatch, 1, &IID_IDispatch, LOCALE_USER_DEFAULT, DISPATCH_METHOD,
                               NULL, NULL, NULL, NULL));
    IDispatch_Release(dispatch);
    IBackgroundCopyManager_Release(manager);
}

static void test_job_properties(void **state)
{
    IBackgroundCopyManager *manager;
    IDispatch *dispatch = dispatch_manager(&manager), *job = create_job(dispatch, L"props");
    IBackgroundCopyJob *vtable = vtable_job(manager, job);
    BG_JOB_PRIORITY priority;
    WCHAR dir[MAX_PATH], local[MAX_PATH], remote[300], *name;
    VARIANT v, arg;
    EXCEPINFO excepinfo;
    GUID guid, parsed;

    /* The same job, seen through both faces. */
    v = get(job, L"Id", VT_BSTR);
    assert_hr(S_OK, IBackgroundCopyJob_GetId(vtable, &guid));
    assert_hr(S_OK, IIDFromString(V_BSTR(&v), &parsed));
    assert_true(IsEqualGUID(&guid, &parsed));
    VariantClear(&v);
    check_string(job, L"DisplayName", L"props");
    arg = bstr_arg(L"renamed by a script");
    assert_hr(S_OK,
              invoke(job, L"DisplayName", DISPATCH_PROPERTYPUT, NULL, NULL, &arg, NULL, NULL));
    VariantClear(&arg);
    assert_hr(S_OK, IBackgroundCopyJob_GetDisplayName(vtable, &name));
    assert_cotask_str(L"renamed by a script", name);

    assert_int_equal(get_long(job, L"State"), BG_JOB_STATE_SUSPENDED);
    check_string(job, L"StateName", L"SUSPENDED");
    assert_int_equal(get_long(job, L"Priority"), BG_JOB_PRIORITY_NORMAL);
    arg = long_arg(BG_JOB_PRIORITY_HIGH);
    assert_hr(S_OK, invoke(job, L"Priority", DISPATCH_PROPERTYPUT, NULL, NULL, &arg, NULL, NULL));
    assert_hr(S_OK, IBackgroundCopyJob_GetPriority(vtable, &priority));
    assert_int_equal(priority, BG_JOB_PRIORITY_HIGH);
    /* A priority BITS does not know: the vtable's E_NOTIMPL, as a script exception. */
    arg = long_arg(7);
    assert_hr(DISP_E_EXCEPTION,
              invoke(job, L"Priority", DISPATCH_PROPERTYPUT, NULL, &excepinfo, &arg, NULL, NULL));
    assert_hr(E_NOTIMPL, excepinfo.scode);
    SysFreeString(excepinfo.bstrDescription);
    SysFreeString(excepinfo.bstrSource);
    SysFreeString(excepinfo.bstrHelpFile);

    /* Sizes are doubles (VT_R8): 0 without files, -1 while a file's size is not known. */
    assert_true(get_double(job, L"BytesTotal") == 0.0);
    assert_true(get_double(job, L"BytesTransferred") == 0.0);
    assert_int_equal(get_long(job, L"FilesTotal"), 0);
    tu_scratch("automation_props", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"hello.txt");
    tu_url(remote, ARRAY_SIZE(remote), L"hello.txt");
    add_file(job, remote, local);
    assert_true(get_double(job, L"BytesTotal") == -1.0);
    assert_int_equal(get_long(job, L"FilesTotal"), 1);
    assert_int_equal(get_long(job, L"FilesTransferred"), 0);
    /* No error yet: 0 and "". */
    assert_int_equal(get_long(job, L"ErrorCode"), 0);
    check_string(job, L"ErrorDescription", L"");

    call(job, L"Cancel");
    check_string(job, L"StateName", L"CANCELLED");
    IBackgroundCopyJob_Release(vtable);
    IDispatch_Release(job);
    IDispatch_Release(dispatch);
    IBackgroundCopyManager_Release(manager);
    tu_remove_tree(dir);
}

static void test_download(void **state)
{
    IDispatch *manager = dispatch_manager(NULL), *job = create_job(manager, L"download");
    IDispatch *files, *file;
    WCHAR dir[MAX_PATH], local[MAX_PATH], remote[300], served[MAX_PATH];
    double total = -1, transferred = 0;
    DWORD start = GetTickCount();
    int polls = 0;
    VARIANT v, index;

    tu_scratch("automation_download", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"4m.bin");
    /* 2 MB/s: two seconds of progress to watch. */
    tu_url(remote, ARRAY_SIZE(remote), L"throttled/4m.bin");
    add_file(job, remote, local);
    call(job, L"Resume");
    for (;;)
    {
        v = get(job, L"StateName", VT_BSTR);
        if (!wcscmp(V_BSTR(&v), L"TRANSFERRED") || !wcscmp(V_BSTR(&v), L"ERROR"))
            break;
        VariantClear(&v);
        transferred = get_double(job, L"BytesTransferred");
        total = get_double(job, L"BytesTotal");
        /* Seen in the middle: the total is known and the count below it. */
        if (total > 0 && transferred > 0 && transferred < total)
            polls++;
        if (GetTickCount() - start > 120000)
            fail_msg("not transferred after 120 s: %.0f of %.0f bytes", transferred, total);
        Sleep(50);
    }
    assert_string_equal_w(V_BSTR(&v), L"TRANSFERRED");
    VariantClear(&v);
    assert_true(polls > 0);
    assert_true(get_double(job, L"BytesTotal") == 4.0 * 1024 * 1024);
    assert_true(get_double(job, L"BytesTransferred") == 4.0 * 1024 * 1024);
    assert_int_equal(get_long(job, L"FilesTransferred"), 1);

    v = get(job, L"Files", VT_DISPATCH);
    files = V_DISPATCH(&v);
    assert_int_equal(get_long(files, L"Count"), 1);
    index = long_arg(0);
    assert_hr(S_OK, invoke(files, L"Item", DISPATCH_PROPERTYGET, &v, NULL, &index, NULL, NULL));
    assert_int_equal(V_VT(&v), VT_DISPATCH);
    file = V_DISPATCH(&v);
    check_string(file, L"RemoteName", remote);
    check_string(file, L"LocalName", local);
    assert_true(get_double(file, L"BytesTotal") == 4.0 * 1024 * 1024);
    assert_true(get_double(file, L"BytesTransferred") == 4.0 * 1024 * 1024);
    v = get(file, L"Completed", VT_BOOL);

    /* The file appears at its name on Complete. */
    assert_false(tu_exists(local));
    call(job, L"Complete");
    check_string(job, L"StateName", L"ACKNOWLEDGED");
    tu_www(served, ARRAY_SIZE(served), L"4m.bin");
    assert_true(tu_same_file(local, served));
    v = get(file, L"Completed", VT_BOOL);
    assert_int_equal(V_BOOL(&v), VARIANT_TRUE);

    IDispatch_Release(file);
    IDispatch_Release(files);
    IDispatch_Release(job);
    IDispatch_Release(manager);
    tu_remove_tree(dir);
}

/* Drops the error info the last failed call left. */
static void clear_error_info(void)
{
    IErrorInfo *info = NULL;

    if (GetErrorInfo(0, &info) == S_OK)
        IErrorInfo_Release(info);
}

/* The error info the last failed call left, checked and consumed. */
static void check_error_info(const IID *iid, const WCHAR *expected_description)
{
    IErrorInfo *info = NULL;
    BSTR description, source;
    GUID guid;

    assert_hr(S_OK, GetErrorInfo(0, &info));
    assert_non_null(info);
    assert_hr(S_OK, IErrorInfo_GetDescription(info, &description));
    if (wcscmp(description, expected_description))
        fail_msg("error description \"%ls\", expected \"%ls\"", description, expected_description);
    SysFreeString(description);
    assert_hr(S_OK, IErrorInfo_GetSource(info, &source));
    assert_string_equal_w(source, L"OpenDO.Manager");
    SysFreeString(source);
    assert_hr(S_OK, IErrorInfo_GetGUID(info, &guid));
    assert_true(IsEqualGUID(&guid, iid));
    IErrorInfo_Release(info);
    /* GetErrorInfo took it. */
    assert_hr(S_FALSE, GetErrorInfo(0, &info));
}

static void test_errors(void **state)
{
    IBackgroundCopyManager *vtable;
    IDispatch *dispatch = dispatch_manager(&vtable), *job = create_job(dispatch, L"errors");
    IOpenDOManager *manager;
    IOpenDOJob *dual_job;
    ISupportErrorInfo *support;
    WCHAR dir[MAX_PATH], local[MAX_PATH], remote[300], *text;
    EXCEPINFO excepinfo;
    IDispatch *out;
    VARIANT arg, result;
    BSTR id = SysAllocString(L"{0BADC0DE-1234-5678-9ABC-DEF012345678}");

    assert_hr(S_OK, IDispatch_QueryInterface(dispatch, &IID_IOpenDOManager, (void **)&manager));
    assert_hr(S_OK, IDispatch_QueryInterface(dispatch, &IID_ISupportErrorInfo, (void **)&support));
    assert_hr(S_OK, ISupportErrorInfo_InterfaceSupportsErrorInfo(support, &IID_IOpenDOManager));
    assert_hr(S_FALSE,
              ISupportErrorInfo_InterfaceSupportsErrorInfo(support, &IID_IBackgroundCopyManager));
    ISupportErrorInfo_Release(support);

    /* Through the dual interface: the code, and the error info with its text. */
    assert_hr(S_OK, IBackgroundCopyManager_GetErrorDescription(vtable, BG_E_NOT_FOUND, 0, &text));
    out = (void *)0xdeadbeef;
    assert_hr(BG_E_NOT_FOUND, IOpenDOManager_GetJob(manager, id, &out));
    assert_null(out);
    check_error_info(&IID_IOpenDOManager, text);
    assert_hr(E_INVALIDARG, IOpenDOManager_GetJob(manager, NULL, &out));
    check_error_info(&IID_IOpenDOManager,
                     L"The job id is not a GUID such as {01234567-89AB-CDEF-0123-456789ABCDEF}.");

    /* Through Invoke: an exception with the same code and text (what VBScript's Err shows). */
    arg = bstr_arg(L"0badc0de-1234-5678-9abc-def012345678");
    assert_hr(DISP_E_EXCEPTION,
              invoke(dispatch, L"GetJob", DISPATCH_METHOD, &result, &excepinfo, &arg, NULL, NULL));
    VariantClear(&arg);
    assert_hr(BG_E_NOT_FOUND, excepinfo.scode);
    assert_non_null(excepinfo.bstrDescription);
    assert_string_equal_w(excepinfo.bstrDescription, text);
    SysFreeString(excepinfo.bstrDescription);
    SysFreeString(excepinfo.bstrSource);
    SysFreeString(excepinfo.bstrHelpFile);
    CoTaskMemFree(text);

    /* Ranges: a malformed string is refused before the job sees it; a good one reaches it. */
    tu_scratch("automation_errors", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"ranges.bin");
    tu_url(remote, ARRAY_SIZE(remote), L"ranges.bin");
    assert_hr(S_OK, IDispatch_QueryInterface(job, &IID_IOpenDOJob, (void **)&dual_job));
    {
        static const WCHAR *const bad[] = {
            L"",     L"1",    L"1:",
            L":2",   L"1:2,", L"1:2;3:4",
            L"-1:2", L"1:2x", L"18446744073709551616:1",
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        {
            BSTR ranges = SysAllocString(bad[i]);
            BSTR r = SysAllocString(remote), l = SysAllocString(local);
            HRESULT hr = IOpenDOJob_AddFileWithRanges(dual_job, r, l, ranges);
            if (hr != E_INVALIDARG)
                fail_msg("ranges \"%ls\": 0x%08lx, expected E_INVALIDARG", bad[i], hr);
            SysFreeString(ranges);
            SysFreeString(r);
            SysFreeString(l);
            clear_error_info();
        }
    }
    {
        BSTR ranges = SysAllocString(L" 16:4 , 4096 : 8,1048576:eof");
        BSTR r = SysAllocString(remote), l = SysAllocString(local);
        IBackgroundCopyJob *found = vtable_job(vtable, job);
        IBackgroundCopyFile *file;
        IBackgroundCopyFile2 *file2;
        BG_FILE_RANGE *got;
        DWORD count;

        assert_hr(S_OK, IOpenDOJob_AddFileWithRanges(dual_job, r, l, ranges));
        file = tu_job_file(found, 0);
        assert_hr(S_OK, IBackgroundCopyFile_QueryInterface(file, &IID_IBackgroundCopyFile2,
                                                           (void **)&file2));
        assert_hr(S_OK, IBackgroundCopyFile2_GetFileRanges(file2, &count, &got));
        assert_int_equal(count, 3);
        assert_true(got[0].InitialOffset == 16 && got[0].Length == 4);
        assert_true(got[1].InitialOffset == 4096 && got[1].Length == 8);
        assert_true(got[2].InitialOffset == 1048576 && got[2].Length == BG_LENGTH_TO_EOF);
        CoTaskMemFree(got);
        IBackgroundCopyFile2_Release(file2);
        IBackgroundCopyFile_Release(file);
        IBackgroundCopyJob_Release(found);
        SysFreeString(ranges);
        SysFreeString(r);
        SysFreeString(l);
    }
    call(job, L"Cancel");
    /* A final job refuses what changes it: BG_E_INVALID_STATE with its text. */
    assert_hr(DISP_E_EXCEPTION,
              invoke(job, L"Resume", DISPATCH_METHOD, NULL, &excepinfo, NULL, NULL, NULL));
    assert_hr(BG_E_INVALID_STATE, excepinfo.scode);
    assert_true(excepinfo.bstrDescription && excepinfo.bstrDescription[0]);
    SysFreeString(excepinfo.bstrDescription);
    SysFreeString(excepinfo.bstrSource);
    SysFreeString(excepinfo.bstrHelpFile);
    IOpenDOJob_Release(dual_job);
    IDispatch_Release(job);

    /* A job that failed: ErrorCode is the HTTP error, ErrorDescription its text. */
    job = create_job(dispatch, L"not found");
    tu_path(local, ARRAY_SIZE(local), dir, L"missing.bin");
    tu_url(remote, ARRAY_SIZE(remote), L"no-such-file.bin");
    add_file(job, remote, local);
    call(job, L"Resume");
    wait_state_name(job, L"ERROR", 20000);
    assert_int_equal(get_long(job, L"State"), BG_JOB_STATE_ERROR);
    assert_int_equal(get_long(job, L"ErrorCode"), (LONG)BG_E_HTTP_ERROR_404);
    assert_hr(S_OK,
              IBackgroundCopyManager_GetErrorDescription(vtable, BG_E_HTTP_ERROR_404, 0, &text));
    check_string(job, L"ErrorDescription", text);
    CoTaskMemFree(text);
    call(job, L"Cancel");
    IDispatch_Release(job);

    SysFreeString(id);
    IOpenDOManager_Release(manager);
    IDispatch_Release(dispatch);
    IBackgroundCopyManager_Release(vtable);
    tu_remove_tree(dir);
}

/* The Id of the IDispatch in a VARIANT. */
static void variant_id(VARIANT *v, WCHAR *id, size_t size)
{
    VARIANT value;

    assert_int_equal(V_VT(v), VT_DISPATCH);
    value = get(V_DISPATCH(v), L"Id", VT_BSTR);
    wcsncpy(id, V_BSTR(&value), size - 1);
    id[size - 1] = 0;
    VariantClear(&value);
}

static void test_enumerator(void **state)
{
    IDispatch *manager = dispatch_manager(NULL), *jobs, *created[3];
    IOpenDOCollection *collection;
    IEnumVARIANT *enumerator, *clone;
    WCHAR first[40], second[40], id[40];
    VARIANT v, items[4];
    IDispatch *item;
    ULONG fetched;
    LONG count;

    for (int i = 0; i < 3; i++)
        created[i] = create_job(manager, L"listed");
    v = get(manager, L"Jobs", VT_DISPATCH);
    jobs = V_DISPATCH(&v);
    count = get_long(jobs, L"Count");
    assert_true(count >= 3);

    /* For Each: _NewEnum (DISPID_NEWENUM) as VBScript asks it, and as JScript does. */
    {
        DISPPARAMS none = {NULL, NULL, 0, 0};

        VariantInit(&v);
        assert_hr(S_OK, IDispatch_Invoke(jobs, DISPID_NEWENUM, &IID_NULL, LOCALE_USER_DEFAULT,
                                         DISPATCH_METHOD, &none, &v, NULL, NULL));
        VariantClear(&v);
        assert_hr(S_OK,
                  IDispatch_Invoke(jobs, DISPID_NEWENUM, &IID_NULL, LOCALE_USER_DEFAULT,
                                   DISPATCH_METHOD | DISPATCH_PROPERTYGET, &none, &v, NULL, NULL));
    }
    assert_true(V_VT(&v) == VT_UNKNOWN || V_VT(&v) == VT_DISPATCH);
    assert_hr(S_OK,
              IUnknown_QueryInterface(V_UNKNOWN(&v), &IID_IEnumVARIANT, (void **)&enumerator));
    VariantClear(&v);

    /* Next gives every job once, then S_FALSE. */
    assert_hr(S_OK, IEnumVARIANT_Next(enumerator, 2, items, &fetched));
    assert_int_equal(fetched, 2);
    variant_id(&items[0], first, ARRAY_SIZE(first));
    variant_id(&items[1], second, ARRAY_SIZE(second));
    assert_true(wcscmp(first, second) != 0);
    VariantClear(&items[0]);
    VariantClear(&items[1]);
    assert_hr(S_OK, IEnumVARIANT_Skip(enumerator, count - 3));
    assert_hr(S_FALSE, IEnumVARIANT_Next(enumerator, 4, items, &fetched));
    assert_int_equal(fetched, 1);
    VariantClear(&items[0]);
    assert_hr(S_FALSE, IEnumVARIANT_Next(enumerator, 1, items, NULL));
    assert_hr(S_FALSE, IEnumVARIANT_Skip(enumerator, 1));

    /* Reset starts over; a clone goes on from where its original stood, on its own. */
    assert_hr(S_OK, IEnumVARIANT_Reset(enumerator));
    assert_hr(S_OK, IEnumVARIANT_Next(enumerator, 1, items, NULL));
    variant_id(&items[0], id, ARRAY_SIZE(id));
    assert_string_equal_w(id, first);
    VariantClear(&items[0]);
    assert_hr(S_OK, IEnumVARIANT_Clone(enumerator, &clone));
    assert_hr(S_OK, IEnumVARIANT_Next(clone, 1, items, NULL));
    variant_id(&items[0], id, ARRAY_SIZE(id));
    assert_string_equal_w(id, second);
    VariantClear(&items[0]);
    assert_hr(S_OK, IEnumVARIANT_Next(enumerator, 1, items, NULL));
    variant_id(&items[0], id, ARRAY_SIZE(id));
    assert_string_equal_w(id, second);
    VariantClear(&items[0]);
    assert_hr(S_FALSE, IEnumVARIANT_Skip(clone, count));
    assert_hr(S_FALSE, IEnumVARIANT_Next(clone, 1, items, NULL));
    assert_hr(S_OK, IEnumVARIANT_Skip(enumerator, 0));
    IEnumVARIANT_Release(clone);
    IEnumVARIANT_Release(enumerator);

    /* Item counts from 0, and refuses what is outside. */
    assert_hr(S_OK, IDispatch_QueryInterface(jobs, &IID_IOpenDOCollection, (void **)&collection));
    assert_hr(S_OK, IOpenDOCollection_get_Item(collection, 1, &item));
    v = get(item, L"Id", VT_BSTR);
    assert_string_equal_w(V_BSTR(&v), second);
    VariantClear(&v);
    IDispatch_Release(item);
    item = (void *)0xdeadbeef;
    assert_hr(DISP_E_BADINDEX, IOpenDOCollection_get_Item(collection, count, &item));
    assert_null(item);
    check_error_info(&IID_IOpenDOCollection,
                     L"The index is outside the collection (the first item is 0).");
    assert_hr(DISP_E_BADINDEX, IOpenDOCollection_get_Item(collection, -1, &item));
    clear_error_info();
    IOpenDOCollection_Release(collection);
    IDispatch_Release(jobs);

    /* The collection is a snapshot; a new read sees the jobs as they are now. */
    for (int i = 0; i < 3; i++)
    {
        call(created[i], L"Cancel");
        IDispatch_Release(created[i]);
    }
    v = get(manager, L"Jobs", VT_DISPATCH);
    assert_int_equal(get_long(V_DISPATCH(&v), L"Count"), count - 3);
    VariantClear(&v);
    IDispatch_Release(manager);
}

static void test_unknown_member(void **state)
{
    IDispatch *manager = dispatch_manager(NULL), *job = create_job(manager, L"members");
    DISPPARAMS none = {NULL, NULL, 0, 0};
    IOpenDOJob *dual;
    VARIANT v;

    VariantInit(&v);
    assert_hr(DISP_E_MEMBERNOTFOUND, IDispatch_Invoke(job, 999, &IID_NULL, LOCALE_USER_DEFAULT,
                                                      DISPATCH_METHOD, &none, &v, NULL, NULL));
    /* A read-only property cannot be set. */
    {
        VARIANT arg = long_arg(5);
        HRESULT hr = invoke(job, L"State", DISPATCH_PROPERTYPUT, NULL, NULL, &arg, NULL, NULL);
        assert_true(FAILED(hr));
    }
    assert_hr(S_OK, IDispatch_QueryInterface(job, &IID_IOpenDOJob, (void **)&dual));
    assert_hr(E_POINTER, IOpenDOJob_get_BytesTotal(dual, NULL));
    assert_hr(E_POINTER, IOpenDOJob_get_Files(dual, NULL));
    IOpenDOJob_Release(dual);
    call(job, L"Cancel");
    IDispatch_Release(job);
    IDispatch_Release(manager);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manager_dispatch), cmocka_unit_test(test_job_properties),
        cmocka_unit_test(test_download),         cmocka_unit_test(test_errors),
        cmocka_unit_test(test_enumerator),       cmocka_unit_test(test_unknown_member),
    };
    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
