// SPDX-License-Identifier: MIT
// opendo.h from C++, in one translation unit with MinGW's <bits.h>: __uuidof, an owning pointer,
// and a download through the C++ interfaces.

#include <windows.h>
#include <bits.h>
#include <bits1_5.h>
#include <bits2_0.h>
#include <bits2_5.h>
#include <bits3_0.h>
#include <bits5_0.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <type_traits>
#include <utility>
#include <vector>

#include "opendo.h"

// CMocka 1.1 and testutil.h declare C functions without extern "C" of their own.
extern "C"
{
#include <cmocka.h>
#include "testutil.h"
}

namespace
{

// Owns one reference to a COM object: released when the holder goes, moved not copied.
template <class T> class com_ptr
{
  public:
    com_ptr() = default;
    com_ptr(const com_ptr &) = delete;
    com_ptr &operator=(const com_ptr &) = delete;
    com_ptr(com_ptr &&other) noexcept : p_(std::exchange(other.p_, nullptr))
    {
    }
    ~com_ptr()
    {
        if (p_)
            p_->Release();
    }
    T *operator->() const
    {
        return p_;
    }
    T *get() const
    {
        return p_;
    }
    T **put()
    {
        if (p_)
            p_->Release();
        p_ = nullptr;
        return &p_;
    }
    void **put_void()
    {
        return reinterpret_cast<void **>(put());
    }
    template <class U> HRESULT as(com_ptr<U> &out) const
    {
        return p_->QueryInterface(__uuidof(U), out.put_void());
    }

  private:
    T *p_ = nullptr;
};

// The object's reference count, as AddRef and Release report it.
ULONG refs(IUnknown *unknown)
{
    unknown->AddRef();
    return unknown->Release();
}

com_ptr<IBackgroundCopyManager> new_manager()
{
    using get_class_object_fn = HRESULT(WINAPI *)(REFCLSID, REFIID, void **);
    // Through void (*)(void), the one function type any other converts from without a warning.
    auto get_class_object = reinterpret_cast<get_class_object_fn>(
        reinterpret_cast<void (*)(void)>(GetProcAddress(tu_dll(), "DllGetClassObject")));
    com_ptr<IClassFactory> factory;
    com_ptr<IBackgroundCopyManager> manager;

    assert_non_null(get_class_object);
    assert_hr(S_OK,
              get_class_object(CLSID_OpenDOManager, __uuidof(IClassFactory), factory.put_void()));
    assert_hr(S_OK, factory->CreateInstance(nullptr, __uuidof(IBackgroundCopyManager),
                                            manager.put_void()));
    return manager;
}

void assert_uuid(const GUID &actual, const WCHAR *expected)
{
    GUID want;

    assert_hr(S_OK, IIDFromString(expected, &want));
    if (!IsEqualGUID(actual, want))
        fail_msg("__uuidof gives another IID than %ls", expected);
}

// Reads a whole file, failing the test when it cannot.
std::vector<char> read_file(const WCHAR *path)
{
    HANDLE file =
        CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING, 0, nullptr);
    LARGE_INTEGER size;
    DWORD read = 0;

    if (file == INVALID_HANDLE_VALUE)
        fail_msg("cannot open %ls: %lu", path, GetLastError());
    assert_true(GetFileSizeEx(file, &size));
    std::vector<char> data(static_cast<size_t>(size.QuadPart));
    assert_true(ReadFile(file, data.data(), static_cast<DWORD>(data.size()), &read, nullptr));
    CloseHandle(file);
    assert_int_equal(read, data.size());
    return data;
}

} // namespace

// <bits.h> and opendo.h declare the same interfaces: one type each, IIDs of the spec.
static void test_uuidof(void **state)
{
    static_assert(std::is_base_of<IBackgroundCopyJob4, IBackgroundCopyJob5>::value,
                  "Job5 derives from MinGW's Job4");
    static_assert(std::is_base_of<IBackgroundCopyFile2, IBackgroundCopyFile3>::value,
                  "File3 derives from MinGW's File2");
    static_assert(std::is_abstract<IDeliveryOptimizationJob2>::value, "a C++ interface");

    assert_uuid(__uuidof(IBackgroundCopyManager), L"{5ce34c0d-0dc9-4c1f-897c-daa1b78cee7c}");
    assert_uuid(__uuidof(IBackgroundCopyJob), L"{37668d37-507e-4160-9316-26306d150b12}");
    assert_uuid(__uuidof(IBackgroundCopyJob5), L"{e847030c-bbba-4657-af6d-484aa42bf1fe}");
    assert_uuid(__uuidof(IBackgroundCopyFile5), L"{85c1657f-dafc-40e8-8834-df18ea25717e}");
    assert_uuid(__uuidof(IDeliveryOptimizationJob), L"{ee2584cf-a69c-4848-b633-2649962b3ef7}");
    assert_uuid(__uuidof(IDODownload), L"{fbbd7fc0-c147-4727-a38d-827ef071ee77}");
    assert_true(IsEqualGUID(__uuidof(IBackgroundCopyJob3), IID_IBackgroundCopyJob3));
}

// The holder keeps exactly one reference and gives it back when it goes.
static void test_holder(void **state)
{
    com_ptr<IBackgroundCopyManager> manager = new_manager();
    com_ptr<IBackgroundCopyJob> job;
    GUID id;

    assert_hr(S_OK, manager->CreateJob(L"C++ holder", BG_JOB_TYPE_DOWNLOAD, &id, job.put()));
    ULONG before = refs(job.get());
    {
        com_ptr<IBackgroundCopyJob5> job5;
        assert_hr(S_OK, job.as(job5));
        assert_int_equal(refs(job.get()), before + 1);
        com_ptr<IBackgroundCopyJob5> moved(std::move(job5));
        assert_null(job5.get());
        assert_int_equal(refs(job.get()), before + 1);
    }
    assert_int_equal(refs(job.get()), before);
    com_ptr<IDeliveryOptimizationJob> unrelated;
    assert_hr(S_OK, job.as(unrelated));
    assert_hr(S_OK, job->Cancel());
}

// A download through the C++ interfaces: the bytes on disk are the server's.
static void test_download(void **state)
{
    com_ptr<IBackgroundCopyManager> manager = new_manager();
    com_ptr<IBackgroundCopyJob> job;
    com_ptr<IBackgroundCopyJob3> job3;
    com_ptr<IEnumBackgroundCopyFiles> files;
    com_ptr<IBackgroundCopyFile> file;
    WCHAR dir[MAX_PATH], path[MAX_PATH], url[512], www[MAX_PATH], *name = nullptr;
    BG_JOB_PROGRESS progress;
    BG_JOB_STATE job_state;
    ULONG count = 0;
    GUID id;

    tu_scratch("test_cpp", dir, ARRAY_SIZE(dir));
    tu_path(path, ARRAY_SIZE(path), dir, L"4m.bin");
    tu_url(url, ARRAY_SIZE(url), L"4m.bin");
    tu_www(www, ARRAY_SIZE(www), L"4m.bin");

    assert_hr(S_OK, manager->CreateJob(L"C++ download", BG_JOB_TYPE_DOWNLOAD, &id, job.put()));
    assert_hr(S_OK, job.as(job3));
    assert_hr(S_OK, job3->AddFile(url, path));
    assert_hr(S_OK, job->EnumFiles(files.put()));
    assert_hr(S_OK, files->GetCount(&count));
    assert_int_equal(count, 1);
    assert_hr(S_OK, files->Next(1, file.put(), nullptr));
    assert_hr(S_OK, file->GetLocalName(&name));
    tu_assert_cotask_str(path, name, __FILE__, __LINE__);
    assert_hr(S_OK, job->Resume());

    tu_wait_state(job.get(), BG_JOB_STATE_TRANSFERRED, 60000);
    assert_hr(S_OK, job->GetProgress(&progress));
    assert_int_equal(progress.BytesTotal, 4 << 20);
    assert_int_equal(progress.BytesTransferred, 4 << 20);
    assert_int_equal(progress.FilesTransferred, 1);
    assert_hr(S_OK, job->Complete());
    assert_hr(S_OK, job->GetState(&job_state));
    assert_int_equal(job_state, BG_JOB_STATE_ACKNOWLEDGED);

    std::vector<char> got = read_file(path), want = read_file(www);
    assert_int_equal(got.size(), 4 << 20);
    assert_true(got == want);
    tu_remove_tree(dir);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuidof),
        cmocka_unit_test(test_holder),
        cmocka_unit_test(test_download),
    };

    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
