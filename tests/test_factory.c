/* SPDX-License-Identifier: MIT */
/* The class factory and the unload rule: DllGetClassObject, IClassFactory, DllCanUnloadNow. */
#include "testutil.h"

/* A class id that no one serves. */
static const CLSID clsid_nobody = {
    0x2f4b8a51, 0x6c3e, 0x4d2a, {0x9b, 0x61, 0x0e, 0x7d, 0x53, 0xa8, 0x14, 0xc2}};
/* {4991d34b-80a1-4291-83b6-3328366b9097}: BITS' own class, served for regsvr32 /n /i:bits. */
static const CLSID clsid_bits_manager = {
    0x4991d34b, 0x80a1, 0x4291, {0x83, 0xb6, 0x33, 0x28, 0x36, 0x6b, 0x90, 0x97}};

static HRESULT get_class_object(REFCLSID clsid, REFIID riid, void **out)
{
    HRESULT(WINAPI * func)(REFCLSID, REFIID, void **);

    func = (void *)GetProcAddress(tu_dll(), "DllGetClassObject");
    assert_non_null(func);
    return func(clsid, riid, out);
}

static IClassFactory *factory(void)
{
    IClassFactory *factory = NULL;

    assert_hr(S_OK, get_class_object(&CLSID_OpenDOManager, &IID_IClassFactory, (void **)&factory));
    assert_non_null(factory);
    return factory;
}

static void test_unknown_clsid(void **state)
{
    void *out = (void *)0xdeadbeef;

    /* The system's BITS class is served (for `regsvr32 /n /i:bits`); a class of no one is not. */
    assert_hr(S_OK, get_class_object(&clsid_bits_manager, &IID_IClassFactory, &out));
    assert_non_null(out);
    IClassFactory_Release((IClassFactory *)out);
    out = (void *)0xdeadbeef;
    assert_hr(CLASS_E_CLASSNOTAVAILABLE, get_class_object(&clsid_nobody, &IID_IClassFactory, &out));
    assert_null(out);
    out = (void *)0xdeadbeef;
    assert_hr(CLASS_E_CLASSNOTAVAILABLE, get_class_object(&IID_IUnknown, &IID_IUnknown, &out));
    assert_null(out);
    /* The DLL's own type library id is not a class either. */
    assert_hr(CLASS_E_CLASSNOTAVAILABLE,
              get_class_object(&LIBID_OpenDOLib, &IID_IClassFactory, &out));
    assert_hr(E_POINTER, get_class_object(&CLSID_OpenDOManager, &IID_IClassFactory, NULL));
    assert_hr(S_OK, tu_can_unload_now());
}

static void test_factory_query_interface(void **state)
{
    IClassFactory *cf = factory();
    IUnknown *unknown = NULL;
    void *out;

    assert_hr(S_OK, IClassFactory_QueryInterface(cf, &IID_IUnknown, (void **)&unknown));
    assert_ptr_equal(unknown, cf);
    IUnknown_Release(unknown);

    /* DllGetClassObject hands out IUnknown as well as IClassFactory. */
    assert_hr(S_OK, get_class_object(&CLSID_OpenDOManager, &IID_IUnknown, (void **)&unknown));
    assert_ptr_equal(unknown, cf);
    IUnknown_Release(unknown);

    out = (void *)0xdeadbeef;
    assert_hr(E_NOINTERFACE, IClassFactory_QueryInterface(cf, &IID_IDispatch, &out));
    assert_null(out);
    out = (void *)0xdeadbeef;
    assert_hr(E_NOINTERFACE, IClassFactory_QueryInterface(cf, &IID_IBackgroundCopyManager, &out));
    assert_null(out);
    out = (void *)0xdeadbeef;
    assert_hr(E_NOINTERFACE,
              get_class_object(&CLSID_OpenDOManager, &IID_IBackgroundCopyManager, &out));
    assert_null(out);
    assert_hr(E_POINTER, IClassFactory_QueryInterface(cf, &IID_IUnknown, NULL));

    IClassFactory_Release(cf);
    assert_hr(S_OK, tu_can_unload_now());
}

static void test_create_instance_aggregation(void **state)
{
    IClassFactory *cf = factory();
    void *out = (void *)0xdeadbeef;

    /* Any non-NULL outer is refused before it is used; the factory itself will do. */
    assert_hr(CLASS_E_NOAGGREGATION,
              IClassFactory_CreateInstance(cf, (IUnknown *)cf, &IID_IUnknown, &out));
    assert_null(out);
    out = (void *)0xdeadbeef;
    assert_hr(CLASS_E_NOAGGREGATION,
              IClassFactory_CreateInstance(cf, (IUnknown *)cf, &IID_IBackgroundCopyManager, &out));
    assert_null(out);
    IClassFactory_Release(cf);
    /* A refused creation leaves no object behind. */
    assert_hr(S_OK, tu_can_unload_now());
}

static void test_create_instance_interfaces(void **state)
{
    IClassFactory *cf = factory();
    IBackgroundCopyManager *manager = NULL;
    IUnknown *unknown = NULL;
    void *out = (void *)0xdeadbeef;

    assert_hr(E_NOINTERFACE, IClassFactory_CreateInstance(cf, NULL, &IID_IBackgroundCopyJob, &out));
    assert_null(out);
    out = (void *)0xdeadbeef;
    assert_hr(E_NOINTERFACE, IClassFactory_CreateInstance(cf, NULL, &IID_IClassFactory, &out));
    assert_null(out);
    assert_hr(E_POINTER, IClassFactory_CreateInstance(cf, NULL, &IID_IUnknown, NULL));

    assert_hr(S_OK, IClassFactory_CreateInstance(cf, NULL, &IID_IUnknown, (void **)&unknown));
    assert_hr(S_OK,
              IUnknown_QueryInterface(unknown, &IID_IBackgroundCopyManager, (void **)&manager));
    assert_ptr_equal(manager, unknown);
    assert_int_equal(IBackgroundCopyManager_Release(manager), 1);
    assert_int_equal(IUnknown_Release(unknown), 0);

    IClassFactory_Release(cf);
    /* The failed creations above must not have kept the module busy. */
    assert_hr(S_OK, tu_can_unload_now());
}

static void test_lock_server(void **state)
{
    IClassFactory *cf;

    assert_hr(S_OK, tu_can_unload_now());
    cf = factory();
    assert_hr(S_OK, IClassFactory_LockServer(cf, TRUE));
    IClassFactory_Release(cf);
    assert_hr(S_FALSE, tu_can_unload_now());

    cf = factory();
    assert_hr(S_OK, IClassFactory_LockServer(cf, TRUE));
    assert_hr(S_OK, IClassFactory_LockServer(cf, FALSE));
    IClassFactory_Release(cf);
    /* One lock is still held. */
    assert_hr(S_FALSE, tu_can_unload_now());

    cf = factory();
    assert_hr(S_OK, IClassFactory_LockServer(cf, FALSE));
    IClassFactory_Release(cf);
    assert_hr(S_OK, tu_can_unload_now());
}

static void test_can_unload_with_children(void **state)
{
    IEnumBackgroundCopyFiles *files, *files_clone;
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyManager *manager;
    IBackgroundCopyJob *job, *listed = NULL;
    IBackgroundCopyFile *file;
    WCHAR dir[MAX_PATH], local[MAX_PATH];
    ULONG fetched;
    GUID id;

    assert_hr(S_OK, tu_can_unload_now());
    manager = tu_manager();
    assert_hr(S_FALSE, tu_can_unload_now());

    tu_scratch("factory_children", dir, ARRAY_SIZE(dir));
    tu_path(local, ARRAY_SIZE(local), dir, L"file.bin");
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"children", BG_JOB_TYPE_DOWNLOAD,
                                                     &id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, L"http://127.0.0.1:1/file.bin", local));
    assert_hr(S_OK, IBackgroundCopyJob_EnumFiles(job, &files));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Clone(files, &files_clone));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, &fetched));
    assert_hr(S_OK, IBackgroundCopyManager_EnumJobs(manager, 0, &jobs));
    assert_hr(S_OK, IBackgroundCopyManager_GetJob(manager, &id, &listed));

    /* Release in an order where every step but the last leaves something alive. */
    IBackgroundCopyManager_Release(manager);
    assert_hr(S_FALSE, tu_can_unload_now());
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    IBackgroundCopyJob_Release(job);
    assert_hr(S_FALSE, tu_can_unload_now());
    IBackgroundCopyJob_Release(listed);
    assert_hr(S_FALSE, tu_can_unload_now());
    IEnumBackgroundCopyFiles_Release(files);
    assert_hr(S_FALSE, tu_can_unload_now());
    IEnumBackgroundCopyJobs_Release(jobs);
    assert_hr(S_FALSE, tu_can_unload_now());
    IEnumBackgroundCopyFiles_Release(files_clone);
    /* The file object is the last one alive: it alone keeps the module. */
    assert_hr(S_FALSE, tu_can_unload_now());
    IBackgroundCopyFile_Release(file);
    assert_hr(S_OK, tu_can_unload_now());
    tu_remove_tree(dir);
}

/* A job that is neither cancelled nor completed outlives every client pointer (it is still in
 * the queue), so the DLL must stay loaded until it ends. */
static void test_live_job_keeps_module(void **state)
{
    IBackgroundCopyManager *manager;
    IBackgroundCopyJob *job;
    GUID id;

    assert_hr(S_OK, tu_can_unload_now());
    manager = tu_manager();
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"lives on", BG_JOB_TYPE_DOWNLOAD,
                                                     &id, &job));
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    assert_hr(S_FALSE, tu_can_unload_now());

    /* Found again by id, cancelled: now nothing holds the module. */
    manager = tu_manager();
    assert_hr(S_OK, IBackgroundCopyManager_GetJob(manager, &id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    assert_hr(S_OK, tu_can_unload_now());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_clsid),
        cmocka_unit_test(test_factory_query_interface),
        cmocka_unit_test(test_create_instance_aggregation),
        cmocka_unit_test(test_create_instance_interfaces),
        cmocka_unit_test(test_lock_server),
        cmocka_unit_test(test_can_unload_with_children),
        cmocka_unit_test(test_live_job_keeps_module),
    };
    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
