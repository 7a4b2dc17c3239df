/* SPDX-License-Identifier: MIT */
/* The two dialects (src/dialect.c): the same calls through OpenDO's class (BITS codes) and
 * through CLSID_DeliveryOptimization (DO codes), and DO's defaults. */
#include "testutil.h"

static IBackgroundCopyManager *manager_of(const CLSID *clsid)
{
    HRESULT(WINAPI * get_class_object)(REFCLSID, REFIID, void **);
    IBackgroundCopyManager *manager = NULL;
    IClassFactory *factory;

    get_class_object = (void *)GetProcAddress(tu_dll(), "DllGetClassObject");
    assert_non_null(get_class_object);
    assert_hr(S_OK, get_class_object(clsid, &IID_IClassFactory, (void **)&factory));
    assert_hr(S_OK, IClassFactory_CreateInstance(factory, NULL, &IID_IBackgroundCopyManager,
                                                 (void **)&manager));
    IClassFactory_Release(factory);
    return manager;
}

struct dialect_case
{
    const char *name;
    HRESULT bits;
    HRESULT dos;
    HRESULT (*call)(IBackgroundCopyJob *job);
};

static HRESULT call_resume(IBackgroundCopyJob *job)
{
    return IBackgroundCopyJob_Resume(job);
}

static HRESULT call_suspend(IBackgroundCopyJob *job)
{
    return IBackgroundCopyJob_Suspend(job);
}

static HRESULT call_cancel(IBackgroundCopyJob *job)
{
    return IBackgroundCopyJob_Cancel(job);
}

static HRESULT call_complete(IBackgroundCopyJob *job)
{
    return IBackgroundCopyJob_Complete(job);
}

static HRESULT call_add_file(IBackgroundCopyJob *job)
{
    return IBackgroundCopyJob_AddFile(job, L"http://127.0.0.1/x", L"C:\\x.bin");
}

static HRESULT call_set_display_name(IBackgroundCopyJob *job)
{
    return IBackgroundCopyJob_SetDisplayName(job, L"late");
}

static HRESULT call_set_description(IBackgroundCopyJob *job)
{
    return IBackgroundCopyJob_SetDescription(job, L"late");
}

static HRESULT call_set_priority(IBackgroundCopyJob *job)
{
    return IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_HIGH);
}

static HRESULT call_set_notify_flags(IBackgroundCopyJob *job)
{
    return IBackgroundCopyJob_SetNotifyFlags(job, BG_NOTIFY_JOB_TRANSFERRED);
}

static HRESULT call_set_retry_delay(IBackgroundCopyJob *job)
{
    return IBackgroundCopyJob_SetMinimumRetryDelay(job, 60);
}

static HRESULT call_set_no_progress(IBackgroundCopyJob *job)
{
    return IBackgroundCopyJob_SetNoProgressTimeout(job, 60);
}

static HRESULT call_get_error(IBackgroundCopyJob *job)
{
    IBackgroundCopyError *error = NULL;
    HRESULT hr = IBackgroundCopyJob_GetError(job, &error);

    if (error)
        IBackgroundCopyError_Release(error);
    return hr;
}

static HRESULT call_get_state_null(IBackgroundCopyJob *job)
{
    return IBackgroundCopyJob_GetState(job, NULL);
}

/* The legality matrix (spec 10.3) for a final job, in both dialects. */
static const struct dialect_case final_job_cases[] = {
    {"Resume", BG_E_INVALID_STATE, DO_E_INVALID_STATE, call_resume},
    {"Suspend", BG_E_INVALID_STATE, DO_E_INVALID_STATE, call_suspend},
    {"Cancel", BG_E_INVALID_STATE, DO_E_INVALID_STATE, call_cancel},
    {"Complete", BG_E_INVALID_STATE, DO_E_INVALID_STATE, call_complete},
    {"AddFile", BG_E_INVALID_STATE, DO_E_INVALID_STATE, call_add_file},
    {"SetDisplayName", BG_E_INVALID_STATE, DO_E_INVALID_STATE, call_set_display_name},
    {"SetDescription", BG_E_INVALID_STATE, DO_E_INVALID_STATE, call_set_description},
    {"SetPriority", BG_E_INVALID_STATE, DO_E_INVALID_STATE, call_set_priority},
    {"SetNotifyFlags", BG_E_INVALID_STATE, DO_E_INVALID_STATE, call_set_notify_flags},
    {"SetMinimumRetryDelay", BG_E_INVALID_STATE, DO_E_INVALID_STATE, call_set_retry_delay},
    {"SetNoProgressTimeout", BG_E_INVALID_STATE, DO_E_INVALID_STATE, call_set_no_progress},
    {"GetError", BG_E_ERROR_INFORMATION_UNAVAILABLE, DO_E_ERROR_INFORMATION_UNAVAILABLE,
     call_get_error},
    /* Argument errors are the standard ones in both. */
    {"GetState(NULL)", E_INVALIDARG, E_INVALIDARG, call_get_state_null},
};

/* One job, reached through both classes, cancelled: every call answers in its dialect. */
static void test_final_job_both_dialects(void **state)
{
    IBackgroundCopyManager *bits = manager_of(&CLSID_OpenDOManager);
    IBackgroundCopyManager *dos = manager_of(&CLSID_DeliveryOptimization);
    IBackgroundCopyJob *bits_job, *do_job;
    int wrong = 0;
    GUID id;

    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(bits, L"dialects", BG_JOB_TYPE_DOWNLOAD, &id,
                                                     &bits_job));
    assert_hr(S_OK, IBackgroundCopyManager_GetJob(dos, &id, &do_job));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(bits_job));
    for (size_t i = 0; i < ARRAY_SIZE(final_job_cases); i++)
    {
        const struct dialect_case *c = &final_job_cases[i];
        HRESULT got_bits = c->call(bits_job), got_do = c->call(do_job);

        if (got_bits != c->bits || got_do != c->dos)
        {
            print_error("%s: BITS 0x%08lx (expected 0x%08lx), DO 0x%08lx (expected 0x%08lx)\n",
                        c->name, (unsigned long)got_bits, (unsigned long)c->bits,
                        (unsigned long)got_do, (unsigned long)c->dos);
            wrong++;
        }
    }
    IBackgroundCopyJob_Release(bits_job);
    IBackgroundCopyJob_Release(do_job);
    IBackgroundCopyManager_Release(bits);
    IBackgroundCopyManager_Release(dos);
    assert_int_equal(wrong, 0);
}

/* Lookups and empty jobs: the not-found and empty codes of each dialect. */
static void test_not_found_and_empty(void **state)
{
    IBackgroundCopyManager *bits = manager_of(&CLSID_OpenDOManager);
    IBackgroundCopyManager *dos = manager_of(&CLSID_DeliveryOptimization);
    IBackgroundCopyJob *job = (void *)0xdeadbeef;
    GUID unknown;

    assert_hr(S_OK, CoCreateGuid(&unknown));
    assert_hr(BG_E_NOT_FOUND, IBackgroundCopyManager_GetJob(bits, &unknown, &job));
    assert_hr(DO_E_JOB_NOT_FOUND, IBackgroundCopyManager_GetJob(dos, &unknown, &job));
    assert_null(job);

    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(dos, L"empty", BG_JOB_TYPE_DOWNLOAD, &unknown,
                                                     &job));
    assert_hr(DO_E_JOB_EMPTY, IBackgroundCopyJob_Resume(job));
    tu_cancel_release(job);
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(bits, L"empty", BG_JOB_TYPE_DOWNLOAD, &unknown,
                                                     &job));
    assert_hr(BG_E_EMPTY, IBackgroundCopyJob_Resume(job));
    tu_cancel_release(job);
    IBackgroundCopyManager_Release(bits);
    IBackgroundCopyManager_Release(dos);
}

/* DO's defaults: a day without progress for background jobs, an hour for foreground ones,
 * until the client chooses; BITS keeps its 14 days. */
static void test_do_defaults(void **state)
{
    IBackgroundCopyManager *bits = manager_of(&CLSID_OpenDOManager);
    IBackgroundCopyManager *dos = manager_of(&CLSID_DeliveryOptimization);
    IBackgroundCopyJob *job;
    ULONG seconds = 0;
    GUID id;

    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(dos, L"do", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_GetNoProgressTimeout(job, &seconds));
    assert_int_equal(seconds, 86400);
    assert_hr(S_OK, IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_FOREGROUND));
    assert_hr(S_OK, IBackgroundCopyJob_GetNoProgressTimeout(job, &seconds));
    assert_int_equal(seconds, 3600);
    assert_hr(S_OK, IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_LOW));
    assert_hr(S_OK, IBackgroundCopyJob_GetNoProgressTimeout(job, &seconds));
    assert_int_equal(seconds, 86400);
    /* A value the client set stays, whatever the priority. */
    assert_hr(S_OK, IBackgroundCopyJob_SetNoProgressTimeout(job, 120));
    assert_hr(S_OK, IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_FOREGROUND));
    assert_hr(S_OK, IBackgroundCopyJob_GetNoProgressTimeout(job, &seconds));
    assert_int_equal(seconds, 120);
    tu_cancel_release(job);

    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(bits, L"bits", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_SetPriority(job, BG_JOB_PRIORITY_FOREGROUND));
    assert_hr(S_OK, IBackgroundCopyJob_GetNoProgressTimeout(job, &seconds));
    assert_int_equal(seconds, 1209600);
    tu_cancel_release(job);
    IBackgroundCopyManager_Release(bits);
    IBackgroundCopyManager_Release(dos);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_final_job_both_dialects),
        cmocka_unit_test(test_not_found_and_empty),
        cmocka_unit_test(test_do_defaults),
    };
    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
