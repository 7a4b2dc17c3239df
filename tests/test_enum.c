/* SPDX-License-Identifier: MIT */
/* The enumerators: IEnumBackgroundCopyFiles (EnumFiles) and IEnumBackgroundCopyJobs (EnumJobs). */
#include "testutil.h"

#define REMOTE L"http://127.0.0.1:1/file.bin"

static const WCHAR *const names[] = {L"first.bin", L"second.bin", L"third.bin"};

struct fixture
{
    IBackgroundCopyManager *manager;
    IBackgroundCopyJob *job;
    WCHAR dir[MAX_PATH];
    WCHAR locals[3][MAX_PATH];
};

static void setup(struct fixture *f, const char *scratch)
{
    GUID id;

    f->manager = tu_manager();
    tu_scratch(scratch, f->dir, ARRAY_SIZE(f->dir));
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(f->manager, L"enum", BG_JOB_TYPE_DOWNLOAD, &id,
                                                     &f->job));
    for (int i = 0; i < 3; i++)
    {
        tu_path(f->locals[i], MAX_PATH, f->dir, names[i]);
        assert_hr(S_OK, IBackgroundCopyJob_AddFile(f->job, REMOTE, f->locals[i]));
    }
}

static void teardown(struct fixture *f)
{
    tu_cancel_release(f->job);
    IBackgroundCopyManager_Release(f->manager);
    tu_remove_tree(f->dir);
}

static IEnumBackgroundCopyFiles *enum_files(struct fixture *f)
{
    IEnumBackgroundCopyFiles *files = NULL;

    assert_hr(S_OK, IBackgroundCopyJob_EnumFiles(f->job, &files));
    return files;
}

/* Asserts that the file is the index'th file of the fixture's job and releases it. */
static void check_file(struct fixture *f, IBackgroundCopyFile *file, int index)
{
    LPWSTR name;

    assert_non_null(file);
    assert_hr(S_OK, IBackgroundCopyFile_GetLocalName(file, &name));
    assert_cotask_str(f->locals[index], name);
    IBackgroundCopyFile_Release(file);
}

static void test_files_next_one_by_one(void **state)
{
    struct fixture f;
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyFile *file;
    ULONG count, fetched;

    setup(&f, "enum_next_one");
    files = enum_files(&f);
    assert_hr(S_OK, IEnumBackgroundCopyFiles_GetCount(files, &count));
    assert_int_equal(count, 3);
    assert_hr(E_INVALIDARG, IEnumBackgroundCopyFiles_GetCount(files, NULL));

    /* Insertion order; a NULL fetched count is allowed for one item. */
    for (int i = 0; i < 3; i++)
    {
        file = NULL;
        assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL));
        check_file(&f, file, i);
    }
    file = NULL;
    fetched = 99;
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Next(files, 1, &file, &fetched));
    assert_int_equal(fetched, 0);
    assert_null(file);
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL));
    assert_null(file);
    /* GetCount is the total, not what is left. */
    assert_hr(S_OK, IEnumBackgroundCopyFiles_GetCount(files, &count));
    assert_int_equal(count, 3);

    IEnumBackgroundCopyFiles_Release(files);
    teardown(&f);
}

static void test_files_next_many(void **state)
{
    struct fixture f;
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyFile *items[5];
    ULONG fetched;

    setup(&f, "enum_next_many");
    files = enum_files(&f);

    memset(items, 0, sizeof(items));
    assert_hr(E_INVALIDARG, IEnumBackgroundCopyFiles_Next(files, 2, items, NULL));
    assert_null(items[0]);
    assert_hr(E_INVALIDARG, IEnumBackgroundCopyFiles_Next(files, 1, NULL, &fetched));

    /* The refused calls did not move the position. */
    fetched = 0;
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Next(files, 5, items, &fetched));
    assert_int_equal(fetched, 3);
    for (int i = 0; i < 3; i++)
        check_file(&f, items[i], i);
    assert_null(items[3]);
    assert_null(items[4]);

    assert_hr(S_OK, IEnumBackgroundCopyFiles_Reset(files));
    memset(items, 0, sizeof(items));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 2, items, &fetched));
    assert_int_equal(fetched, 2);
    check_file(&f, items[0], 0);
    check_file(&f, items[1], 1);
    memset(items, 0, sizeof(items));
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Next(files, 2, items, &fetched));
    assert_int_equal(fetched, 1);
    check_file(&f, items[0], 2);
    assert_null(items[1]);

    IEnumBackgroundCopyFiles_Release(files);
    teardown(&f);
}

static void test_files_skip_reset(void **state)
{
    struct fixture f;
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyFile *file;
    ULONG fetched;

    setup(&f, "enum_skip");
    files = enum_files(&f);

    assert_hr(S_OK, IEnumBackgroundCopyFiles_Skip(files, 0));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Skip(files, 2));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL));
    check_file(&f, file, 2);

    assert_hr(S_OK, IEnumBackgroundCopyFiles_Reset(files));
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Skip(files, 5));
    file = NULL;
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Next(files, 1, &file, &fetched));
    assert_int_equal(fetched, 0);
    assert_null(file);
    /* Skipping at the end stays at the end. */
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Skip(files, 1));

    assert_hr(S_OK, IEnumBackgroundCopyFiles_Reset(files));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL));
    check_file(&f, file, 0);

    /* A huge count must not wrap around to the start. */
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Skip(files, 0xffffffff));
    file = NULL;
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Next(files, 1, &file, &fetched));
    assert_int_equal(fetched, 0);
    assert_null(file);
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Reset(files));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Skip(files, 2));
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Skip(files, 0xfffffffe));
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Next(files, 1, &file, &fetched));
    assert_int_equal(fetched, 0);

    IEnumBackgroundCopyFiles_Release(files);
    teardown(&f);
}

static void test_files_clone(void **state)
{
    struct fixture f;
    IEnumBackgroundCopyFiles *files, *clone;
    IBackgroundCopyFile *file;
    ULONG count;

    setup(&f, "enum_clone");
    files = enum_files(&f);
    assert_hr(E_INVALIDARG, IEnumBackgroundCopyFiles_Clone(files, NULL));

    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL));
    check_file(&f, file, 0);

    /* The clone starts where the original is... */
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Clone(files, &clone));
    assert_ptr_not_equal(clone, files);
    assert_hr(S_OK, IEnumBackgroundCopyFiles_GetCount(clone, &count));
    assert_int_equal(count, 3);
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(clone, 1, &file, NULL));
    check_file(&f, file, 1);

    /* ...and moves on its own. */
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL));
    check_file(&f, file, 1);
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Reset(clone));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL));
    check_file(&f, file, 2);
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(clone, 1, &file, NULL));
    check_file(&f, file, 0);

    /* The clone outlives the original. */
    IEnumBackgroundCopyFiles_Release(files);
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(clone, 1, &file, NULL));
    check_file(&f, file, 1);
    IEnumBackgroundCopyFiles_Release(clone);
    teardown(&f);
}

static void test_files_query_interface(void **state)
{
    struct fixture f;
    IEnumBackgroundCopyFiles *files;
    IUnknown *unknown;
    void *out;

    setup(&f, "enum_qi");
    files = enum_files(&f);
    assert_hr(S_OK,
              IEnumBackgroundCopyFiles_QueryInterface(files, &IID_IUnknown, (void **)&unknown));
    assert_ptr_equal(unknown, files);
    IUnknown_Release(unknown);
    assert_hr(S_OK, IEnumBackgroundCopyFiles_QueryInterface(files, &IID_IEnumBackgroundCopyFiles,
                                                            (void **)&unknown));
    assert_ptr_equal(unknown, files);
    IUnknown_Release(unknown);
    /* A files enumerator is not a jobs enumerator, although both share one implementation. */
    out = (void *)0xdeadbeef;
    assert_hr(E_NOINTERFACE,
              IEnumBackgroundCopyFiles_QueryInterface(files, &IID_IEnumBackgroundCopyJobs, &out));
    assert_null(out);
    out = (void *)0xdeadbeef;
    assert_hr(E_NOINTERFACE,
              IEnumBackgroundCopyFiles_QueryInterface(files, &IID_IEnumUnknown, &out));
    assert_null(out);
    assert_int_equal(IEnumBackgroundCopyFiles_Release(files), 0);
    teardown(&f);
}

static void test_files_empty_job(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyFile *file = NULL;
    IBackgroundCopyJob *job;
    ULONG count, fetched;
    GUID id;

    assert_hr(S_OK,
              IBackgroundCopyManager_CreateJob(manager, L"empty", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_EnumFiles(job, &files));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_GetCount(files, &count));
    assert_int_equal(count, 0);
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Next(files, 1, &file, &fetched));
    assert_int_equal(fetched, 0);
    assert_null(file);
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Skip(files, 0));
    assert_hr(S_FALSE, IEnumBackgroundCopyFiles_Skip(files, 1));
    IEnumBackgroundCopyFiles_Release(files);
    tu_cancel_release(job);
    IBackgroundCopyManager_Release(manager);
}

/* Returns the position of the job with this id in items[], or -1. */
static int find_job(IBackgroundCopyJob **items, ULONG count, const GUID *id)
{
    GUID got;

    for (ULONG i = 0; i < count; i++)
    {
        assert_hr(S_OK, IBackgroundCopyJob_GetId(items[i], &got));
        if (IsEqualGUID(&got, id))
            return (int)i;
    }
    return -1;
}

static void test_jobs(void **state)
{
    IBackgroundCopyManager *manager = tu_manager();
    IEnumBackgroundCopyJobs *jobs, *clone;
    IBackgroundCopyJob *created[3], **items, *job;
    ULONG total, fetched, count;
    GUID ids[3];
    void *out;

    for (int i = 0; i < 3; i++)
        assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"listed", BG_JOB_TYPE_DOWNLOAD,
                                                         &ids[i], &created[i]));
    assert_hr(S_OK, IBackgroundCopyManager_EnumJobs(manager, 0, &jobs));
    assert_hr(S_OK, IEnumBackgroundCopyJobs_GetCount(jobs, &total));
    assert_true(total >= 3);
    items = calloc(total + 2, sizeof(*items));

    /* Asking for more than there is: S_FALSE with what there is. */
    assert_hr(S_FALSE, IEnumBackgroundCopyJobs_Next(jobs, total + 2, items, &fetched));
    assert_int_equal(fetched, total);
    assert_null(items[total]);
    for (int i = 0; i < 3; i++)
        assert_true(find_job(items, total, &ids[i]) >= 0);
    for (ULONG i = 0; i < fetched; i++)
        IBackgroundCopyJob_Release(items[i]);
    job = NULL;
    assert_hr(S_FALSE, IEnumBackgroundCopyJobs_Next(jobs, 1, &job, NULL));
    assert_null(job);

    /* One by one after a Reset, in the same order; then Skip, Clone. */
    assert_hr(S_OK, IEnumBackgroundCopyJobs_Reset(jobs));
    for (ULONG i = 0; i < total; i++)
    {
        assert_hr(S_OK, IEnumBackgroundCopyJobs_Next(jobs, 1, &items[i], NULL));
        assert_non_null(items[i]);
    }
    assert_hr(S_FALSE, IEnumBackgroundCopyJobs_Next(jobs, 1, &job, &fetched));
    assert_int_equal(fetched, 0);
    assert_hr(E_INVALIDARG, IEnumBackgroundCopyJobs_Next(jobs, 2, &job, NULL));

    assert_hr(S_OK, IEnumBackgroundCopyJobs_Reset(jobs));
    assert_hr(S_OK, IEnumBackgroundCopyJobs_Skip(jobs, total - 1));
    assert_hr(S_OK, IEnumBackgroundCopyJobs_Clone(jobs, &clone));
    assert_hr(S_FALSE, IEnumBackgroundCopyJobs_Skip(jobs, 2));
    assert_hr(S_OK, IEnumBackgroundCopyJobs_GetCount(clone, &count));
    assert_int_equal(count, total);
    /* The clone kept the position: its next job is the last one. */
    assert_hr(S_OK, IEnumBackgroundCopyJobs_Next(clone, 1, &job, NULL));
    assert_ptr_equal(job, items[total - 1]);
    IBackgroundCopyJob_Release(job);
    assert_hr(S_FALSE, IEnumBackgroundCopyJobs_Next(clone, 1, &job, NULL));
    IEnumBackgroundCopyJobs_Release(clone);

    out = (void *)0xdeadbeef;
    assert_hr(E_NOINTERFACE,
              IEnumBackgroundCopyJobs_QueryInterface(jobs, &IID_IEnumBackgroundCopyFiles, &out));
    assert_null(out);
    assert_hr(S_OK,
              IEnumBackgroundCopyJobs_QueryInterface(jobs, &IID_IEnumBackgroundCopyJobs, &out));
    assert_ptr_equal(out, jobs);
    IEnumBackgroundCopyJobs_Release((IEnumBackgroundCopyJobs *)out);

    for (ULONG i = 0; i < total; i++)
        IBackgroundCopyJob_Release(items[i]);
    free(items);
    IEnumBackgroundCopyJobs_Release(jobs);
    for (int i = 0; i < 3; i++)
        tu_cancel_release(created[i]);
    IBackgroundCopyManager_Release(manager);
}

static void test_reference_counts(void **state)
{
    IEnumBackgroundCopyFiles *files, *clone;
    IEnumBackgroundCopyJobs *jobs;
    IBackgroundCopyJob *listed;
    IBackgroundCopyFile *file, *again;
    struct fixture f;
    ULONG refs;
    LPWSTR name;

    assert_hr(S_OK, tu_can_unload_now());
    setup(&f, "enum_refs");
    files = enum_files(&f);
    assert_int_equal(tu_refcount(files), 1);

    /* The enumerator holds each item: Next hands out one more reference. */
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL));
    refs = tu_refcount(file);
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Reset(files));
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Next(files, 1, &again, NULL));
    assert_ptr_equal(again, file);
    assert_int_equal(tu_refcount(file), refs + 1);
    IBackgroundCopyFile_Release(again);

    /* A clone takes its own references to the items. */
    assert_hr(S_OK, IEnumBackgroundCopyFiles_Clone(files, &clone));
    assert_int_equal(tu_refcount(file), refs + 1);
    IEnumBackgroundCopyFiles_Release(clone);
    assert_int_equal(tu_refcount(file), refs);

    /* Items outlive the enumerator, the job object and the manager. */
    IEnumBackgroundCopyFiles_Release(files);
    assert_int_equal(tu_refcount(file), 1);

    assert_hr(S_OK, IBackgroundCopyManager_EnumJobs(f.manager, 0, &jobs));
    assert_hr(S_OK, IEnumBackgroundCopyJobs_Next(jobs, 1, &listed, NULL));
    assert_int_equal(tu_refcount(listed), 2);
    IEnumBackgroundCopyJobs_Release(jobs);
    assert_int_equal(tu_refcount(listed), 1);
    IBackgroundCopyJob_Release(listed);

    assert_hr(S_OK, IBackgroundCopyJob_Cancel(f.job));
    assert_int_equal(IBackgroundCopyJob_Release(f.job), 0);
    f.job = NULL;
    assert_int_equal(IBackgroundCopyManager_Release(f.manager), 0);
    assert_hr(S_FALSE, tu_can_unload_now());
    assert_hr(S_OK, IBackgroundCopyFile_GetLocalName(file, &name));
    assert_cotask_str(f.locals[0], name);
    assert_int_equal(IBackgroundCopyFile_Release(file), 0);

    tu_remove_tree(f.dir);
    assert_hr(S_OK, tu_can_unload_now());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files_next_one_by_one),
        cmocka_unit_test(test_files_next_many),
        cmocka_unit_test(test_files_skip_reset),
        cmocka_unit_test(test_files_clone),
        cmocka_unit_test(test_files_query_interface),
        cmocka_unit_test(test_files_empty_job),
        cmocka_unit_test(test_jobs),
        cmocka_unit_test(test_reference_counts),
    };
    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
