/* SPDX-License-Identifier: MIT */
/* Cost policies (src/engine/cost.c): BITS_JOB_PROPERTY_ID_COST_FLAGS and DO's CostPolicy and
 * DisallowOnCellular against the network's state, which the tests set through
 * OPENDO_NETWORK_COST and OPENDO_NETWORK_CELLULAR (under Wine the machine reports none). */
#include "testutil.h"

#define TIMEOUT 30000

static IBackgroundCopyManager *manager;
static IBackgroundCopyJob *jobs[2];
static int job_count;

static int setup(void **state)
{
    manager = tu_manager();
    return 0;
}

static int teardown(void **state)
{
    while (job_count)
        tu_cancel_release(jobs[--job_count]);
    IBackgroundCopyManager_Release(manager);
    SetEnvironmentVariableW(L"OPENDO_NETWORK_COST", NULL);
    SetEnvironmentVariableW(L"OPENDO_NETWORK_CELLULAR", NULL);
    return 0;
}

static IBackgroundCopyJob *new_job(const WCHAR *path, const WCHAR *dir, const WCHAR *name)
{
    WCHAR url[MAX_PATH], local[MAX_PATH];

    assert_true(job_count < (int)ARRAY_SIZE(jobs));
    tu_url(url, ARRAY_SIZE(url), path);
    tu_path(local, ARRAY_SIZE(local), dir, name);
    return jobs[job_count++] = tu_job_with_file(manager, url, local);
}

static void set_cost_flags(IBackgroundCopyJob *job, DWORD flags)
{
    BITS_JOB_PROPERTY_VALUE value = {.Dword = flags};
    IBackgroundCopyJob5 *job5;

    assert_hr(S_OK,
              IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob5, (void **)&job5));
    assert_hr(S_OK, IBackgroundCopyJob5_SetProperty(job5, BITS_JOB_PROPERTY_ID_COST_FLAGS, value));
    IBackgroundCopyJob5_Release(job5);
}

/* The job waits in TRANSIENT_ERROR with the cost policy's error and nothing of the file. */
static void assert_blocked(IBackgroundCopyJob *job, const WCHAR *dir)
{
    tu_wait_state(job, BG_JOB_STATE_TRANSIENT_ERROR, TIMEOUT);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_GENERAL_TRANSPORT,
                        BG_E_BLOCKED_BY_COST_TRANSFER_POLICY);
    assert_true(tu_progress(job).BytesTransferred == 0);
}

/* Lets the job run on an unrestricted network and checks the delivered 4m.bin. */
static void unblock_and_finish(IBackgroundCopyJob *job, const WCHAR *dir, const WCHAR *name)
{
    WCHAR local[MAX_PATH], www[MAX_PATH];

    SetEnvironmentVariableW(L"OPENDO_NETWORK_COST", L"0x1");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    tu_path(local, ARRAY_SIZE(local), dir, name);
    tu_www(www, ARRAY_SIZE(www), L"4m.bin");
    assert_true(tu_same_file(www, local));
}

static void default_policy_transfers_on_any_network(void **state)
{
    IBackgroundCopyJob *job;
    WCHAR dir[MAX_PATH];

    /* BITS_COST_STATE_TRANSFER_ALWAYS: a roaming, per-byte network too. */
    tu_scratch("cost_always", dir, ARRAY_SIZE(dir));
    SetEnvironmentVariableW(L"OPENDO_NETWORK_COST", L"0xc0");
    job = new_job(L"4m.bin", dir, L"4m.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
}

static void unrestricted_policy_waits_on_a_capped_network(void **state)
{
    IBackgroundCopyJob *job;
    WCHAR dir[MAX_PATH];

    tu_scratch("cost_unrestricted", dir, ARRAY_SIZE(dir));
    SetEnvironmentVariableW(L"OPENDO_NETWORK_COST", L"0x4"); /* BELOW_CAP */
    job = new_job(L"4m.bin", dir, L"4m.bin");
    set_cost_flags(job, BITS_JOB_TRANSFER_POLICY_UNRESTRICTED);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_blocked(job, dir);
    assert_int_equal(0, tu_count(dir, L"*"));
    unblock_and_finish(job, dir, L"4m.bin");
}

static void not_roaming_policy_waits_while_roaming(void **state)
{
    IBackgroundCopyJob *job;
    WCHAR dir[MAX_PATH];

    tu_scratch("cost_roaming", dir, ARRAY_SIZE(dir));
    SetEnvironmentVariableW(L"OPENDO_NETWORK_COST", L"0x81"); /* UNRESTRICTED | ROAMING */
    job = new_job(L"4m.bin", dir, L"4m.bin");
    set_cost_flags(job, BITS_JOB_TRANSFER_POLICY_NOT_ROAMING);
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    assert_blocked(job, dir);
    unblock_and_finish(job, dir, L"4m.bin");
}

static void policy_changed_while_transferring_applies_at_once(void **state)
{
    WCHAR dir[MAX_PATH], local[MAX_PATH], www[MAX_PATH];
    IBackgroundCopyJob *job;
    UINT64 kept;

    /* A per-byte network: the job may use it until its policy says otherwise. */
    tu_scratch("cost_changed", dir, ARRAY_SIZE(dir));
    SetEnvironmentVariableW(L"OPENDO_NETWORK_COST", L"0x40");
    job = new_job(L"throttled/24m.bin", dir, L"24m.bin");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_bytes(job, 256 * 1024, TIMEOUT);
    set_cost_flags(job, BITS_JOB_TRANSFER_POLICY_UNRESTRICTED);
    tu_wait_state(job, BG_JOB_STATE_TRANSIENT_ERROR, 5000);
    tu_assert_job_error(job, BG_ERROR_CONTEXT_GENERAL_TRANSPORT,
                        BG_E_BLOCKED_BY_COST_TRANSFER_POLICY);
    kept = tu_progress(job).BytesTransferred;
    assert_true(kept >= 256 * 1024);

    /* Back on an unrestricted network it goes on from there. */
    SetEnvironmentVariableW(L"OPENDO_NETWORK_COST", L"1");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    tu_path(local, ARRAY_SIZE(local), dir, L"24m.bin");
    tu_www(www, ARRAY_SIZE(www), L"24m.bin");
    assert_true(tu_same_file(www, local));
}

/* ---- DO downloads ---- */

static IDOManager *do_manager(void)
{
    HRESULT(WINAPI * get_class_object)(REFCLSID, REFIID, void **);
    IDOManager *do_mgr = NULL;
    IClassFactory *factory;

    get_class_object = (void *)GetProcAddress(tu_dll(), "DllGetClassObject");
    assert_non_null(get_class_object);
    assert_hr(S_OK,
              get_class_object(&CLSID_DeliveryOptimization, &IID_IClassFactory, (void **)&factory));
    assert_hr(S_OK, IClassFactory_CreateInstance(factory, NULL, &IID_IDOManager, (void **)&do_mgr));
    IClassFactory_Release(factory);
    return do_mgr;
}

static HRESULT set_variant(IDODownload *download, DODownloadProperty id, VARTYPE type, ULONG n,
                           const WCHAR *text)
{
    VARIANT value;
    HRESULT hr;

    V_VT(&value) = type;
    if (type == VT_BSTR)
        V_BSTR(&value) = SysAllocString(text);
    else if (type == VT_BOOL)
        V_BOOL(&value) = n ? VARIANT_TRUE : VARIANT_FALSE;
    else
        V_UI4(&value) = n;
    hr = IDODownload_SetProperty(download, id, &value);
    VariantClear(&value);
    return hr;
}

/* Starts a download of 4m.bin with one property set; waits until it is Paused by the cost
 * policy, then lets it finish on an unrestricted network. */
static void download_waits(const char *name, DODownloadProperty id, VARTYPE type, ULONG n)
{
    WCHAR dir[MAX_PATH], url[MAX_PATH], local[MAX_PATH], www[MAX_PATH];
    ULONGLONG deadline = GetTickCount64() + TIMEOUT;
    DO_DOWNLOAD_RANGES_INFO whole = {0};
    DO_DOWNLOAD_STATUS status;
    IDODownload *download;
    IDOManager *do_mgr = do_manager();

    tu_scratch(name, dir, ARRAY_SIZE(dir));
    tu_url(url, ARRAY_SIZE(url), L"4m.bin");
    tu_path(local, ARRAY_SIZE(local), dir, L"4m.bin");
    assert_hr(S_OK, IDOManager_CreateDownload(do_mgr, &download));
    assert_hr(S_OK, set_variant(download, DODownloadProperty_Uri, VT_BSTR, 0, url));
    assert_hr(S_OK, set_variant(download, DODownloadProperty_LocalPath, VT_BSTR, 0, local));
    assert_hr(S_OK, set_variant(download, id, type, n, NULL));
    assert_hr(S_OK, IDODownload_Start(download, &whole));
    for (;;)
    {
        assert_hr(S_OK, IDODownload_GetStatus(download, &status));
        if (status.State == DODownloadState_Paused &&
            status.ExtendedError == DO_E_BLOCKED_BY_COST_TRANSFER_POLICY)
            break;
        if (GetTickCount64() > deadline)
            fail_msg("download in state %d (error %08lx, extended %08lx), not paused by cost",
                     status.State, (unsigned long)status.Error,
                     (unsigned long)status.ExtendedError);
        Sleep(10);
    }
    assert_true(status.BytesTransferred == 0);

    SetEnvironmentVariableW(L"OPENDO_NETWORK_COST", L"1");
    SetEnvironmentVariableW(L"OPENDO_NETWORK_CELLULAR", L"0");
    assert_hr(S_OK, IDODownload_Start(download, &whole));
    deadline = GetTickCount64() + TIMEOUT;
    while (IDODownload_GetStatus(download, &status) == S_OK &&
           status.State != DODownloadState_Transferred)
    {
        if (GetTickCount64() > deadline)
            fail_msg("download in state %d after the network changed", status.State);
        Sleep(10);
    }
    assert_hr(S_OK, IDODownload_Finalize(download));
    tu_www(www, ARRAY_SIZE(www), L"4m.bin");
    assert_true(tu_same_file(www, local));
    IDODownload_Release(download);
    IDOManager_Release(do_mgr);
}

static void download_cost_policy(void **state)
{
    SetEnvironmentVariableW(L"OPENDO_NETWORK_COST", L"0x40"); /* USAGE_BASED */
    download_waits("cost_download_policy", DODownloadProperty_CostPolicy, VT_UI4,
                   DODownloadCostPolicy_Unrestricted);
}

static void download_disallowed_on_cellular(void **state)
{
    SetEnvironmentVariableW(L"OPENDO_NETWORK_CELLULAR", L"1");
    download_waits("cost_download_cellular", DODownloadProperty_DisallowOnCellular, VT_BOOL, 1);
}

static void download_no_cellular_policy(void **state)
{
    SetEnvironmentVariableW(L"OPENDO_NETWORK_CELLULAR", L"1");
    download_waits("cost_download_nocellular", DODownloadProperty_CostPolicy, VT_UI4,
                   DODownloadCostPolicy_NoCellular);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(default_policy_transfers_on_any_network, setup, teardown),
        cmocka_unit_test_setup_teardown(unrestricted_policy_waits_on_a_capped_network, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(not_roaming_policy_waits_while_roaming, setup, teardown),
        cmocka_unit_test_setup_teardown(policy_changed_while_transferring_applies_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(download_cost_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(download_disallowed_on_cellular, setup, teardown),
        cmocka_unit_test_setup_teardown(download_no_cellular_policy, setup, teardown),
    };

    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
