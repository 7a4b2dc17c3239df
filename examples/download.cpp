// SPDX-License-Identifier: MIT
// The same download in C++: interfaces as classes, __uuidof, and a small owning pointer.

//   download_cpp.exe <url> <absolute local path>
//
// Code written against MinGW's <bits.h> mixes with opendo.h: the interfaces are the same
// types, with the same IIDs (tests/abi_static.cpp checks that at compile time).

#include <bits.h>
#include <cstdio>
#include <utility>

#include "opendo.h"

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
    // For out parameters: releases what is held first.
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
    // QueryInterface for another interface of the same object.
    template <class U> HRESULT as(com_ptr<U> &out) const
    {
        return p_->QueryInterface(__uuidof(U), out.put_void());
    }

  private:
    T *p_ = nullptr;
};

// Prints what failed with its code and the manager's text for it.
HRESULT report(IBackgroundCopyManager *manager, const char *what, HRESULT hr)
{
    WCHAR *text = nullptr;

    if (manager && SUCCEEDED(manager->GetErrorDescription(hr, GetUserDefaultUILanguage(), &text)))
    {
        std::fprintf(stderr, "%s failed: 0x%08lx %ls\n", what, static_cast<unsigned long>(hr),
                     text);
        CoTaskMemFree(text);
    }
    else
    {
        std::fprintf(stderr, "%s failed: 0x%08lx\n", what, static_cast<unsigned long>(hr));
    }
    return hr;
}

// Downloads url to path; S_OK once the file is at path.
HRESULT download(const WCHAR *url, const WCHAR *path)
{
    com_ptr<IBackgroundCopyManager> manager;
    com_ptr<IBackgroundCopyJob> job;
    com_ptr<IBackgroundCopyJob2> job2;
    BG_JOB_PROGRESS progress;
    BG_JOB_STATE state;
    GUID id;
    HRESULT hr;

    if (FAILED(hr = CoCreateInstance(CLSID_OpenDOManager, nullptr, CLSCTX_INPROC_SERVER,
                                     __uuidof(IBackgroundCopyManager), manager.put_void())))
        return report(nullptr, "CoCreateInstance (is opendo.dll registered?)", hr);
    if (FAILED(hr =
                   manager->CreateJob(L"OpenDO C++ example", BG_JOB_TYPE_DOWNLOAD, &id, job.put())))
        return report(manager.get(), "CreateJob", hr);
    // A newer interface of the same job, by __uuidof.
    if (FAILED(hr = job.as(job2)))
        return report(manager.get(), "QueryInterface(IBackgroundCopyJob2)", hr);
    if (FAILED(hr = job2->AddFile(url, path)) || FAILED(hr = job->Resume()))
    {
        job->Cancel();
        return report(manager.get(), "AddFile or Resume", hr);
    }

    do
    {
        Sleep(100);
        if (FAILED(hr = job->GetState(&state)) || FAILED(hr = job->GetProgress(&progress)))
        {
            job->Cancel();
            return report(manager.get(), "GetState or GetProgress", hr);
        }
        if (progress.BytesTotal != BG_SIZE_UNKNOWN)
            std::printf("%llu of %llu bytes\n",
                        static_cast<unsigned long long>(progress.BytesTransferred),
                        static_cast<unsigned long long>(progress.BytesTotal));
    } while (state != BG_JOB_STATE_TRANSFERRED && state != BG_JOB_STATE_ERROR);

    if (state == BG_JOB_STATE_ERROR)
    {
        com_ptr<IBackgroundCopyError> error;
        BG_ERROR_CONTEXT context;
        HRESULT code = E_FAIL;

        if (SUCCEEDED(hr = job->GetError(error.put())))
            hr = error->GetError(&context, &code);
        job->Cancel();
        return report(manager.get(), "the transfer", FAILED(hr) ? hr : code);
    }
    if (FAILED(hr = job->Complete()))
    {
        job->Cancel();
        return report(manager.get(), "Complete", hr);
    }
    std::printf("done: %llu bytes in %ls\n",
                static_cast<unsigned long long>(progress.BytesTransferred), path);
    return S_OK;
}

} // namespace

int wmain(int argc, WCHAR **argv)
{
    HRESULT hr;

    if (argc != 3)
    {
        std::fprintf(stderr, "usage: download_cpp <url> <absolute local path>\n");
        return 2;
    }
    if (FAILED(hr = CoInitializeEx(nullptr, COINIT_MULTITHREADED)))
    {
        report(nullptr, "CoInitializeEx", hr);
        return 1;
    }
    // The holders inside release everything before COM goes.
    hr = download(argv[1], argv[2]);
    CoUninitialize();
    return FAILED(hr) ? 1 : 0;
}
