/* SPDX-License-Identifier: MIT */
/* doadmin: what a job holds, read once (job_info) and shown as text or JSON: /info, /list,
 * /listfiles and the /get* verbs. */
#include <stdio.h>
#include <stdlib.h>
#include "doadmin.h"

struct file_info
{
    WCHAR *remote, *local;
    BG_FILE_PROGRESS progress;
};

/* Strings are the job's (CoTaskMemAlloc); job_info_free frees them. */
struct job_info
{
    WCHAR id[40];
    WCHAR *name, *description, *owner;
    BG_JOB_TYPE type;
    BG_JOB_STATE state;
    BG_JOB_PRIORITY priority;
    BG_JOB_PROGRESS progress;
    BG_JOB_TIMES times;
    ULONG error_count, retry_delay, no_progress_timeout, notify_flags;
    WCHAR *notify_program, *notify_parameters; /* IBackgroundCopyJob2 */
    BG_JOB_PROXY_USAGE proxy_usage;
    WCHAR *proxy_list, *proxy_bypass;
    WCHAR *custom_headers; /* IBackgroundCopyJobHttpOptions */
    struct file_info *files;
    ULONG file_count;
    BOOL has_error;
    BG_ERROR_CONTEXT error_context;
    HRESULT error_code;
    WCHAR *error_description, *error_context_description, *error_remote, *error_local;
};

static const WCHAR *const type_names[] = {L"DOWNLOAD", L"UPLOAD", L"UPLOAD_REPLY"};
static const WCHAR *const proxy_names[] = {L"PRECONFIG", L"NO_PROXY", L"OVERRIDE", L"AUTODETECT"};

static const WCHAR *name_of(const WCHAR *const *names, size_t count, unsigned int value)
{
    return value < count ? names[value] : L"UNKNOWN";
}

static void job_info_free(struct job_info *info)
{
    CoTaskMemFree(info->name);
    CoTaskMemFree(info->description);
    CoTaskMemFree(info->owner);
    CoTaskMemFree(info->notify_program);
    CoTaskMemFree(info->notify_parameters);
    CoTaskMemFree(info->proxy_list);
    CoTaskMemFree(info->proxy_bypass);
    CoTaskMemFree(info->custom_headers);
    for (ULONG i = 0; i < info->file_count; i++)
    {
        CoTaskMemFree(info->files[i].remote);
        CoTaskMemFree(info->files[i].local);
    }
    free(info->files);
    CoTaskMemFree(info->error_description);
    CoTaskMemFree(info->error_context_description);
    CoTaskMemFree(info->error_remote);
    CoTaskMemFree(info->error_local);
    memset(info, 0, sizeof(*info));
}

static HRESULT read_files(IBackgroundCopyJob *job, struct job_info *info)
{
    IEnumBackgroundCopyFiles *files;
    IBackgroundCopyFile *file;
    ULONG count = 0;
    HRESULT hr;

    if (FAILED(hr = IBackgroundCopyJob_EnumFiles(job, &files)))
        return hr;
    if (FAILED(hr = IEnumBackgroundCopyFiles_GetCount(files, &count)))
        goto out;
    if (count && !(info->files = calloc(count, sizeof(*info->files))))
    {
        hr = E_OUTOFMEMORY;
        goto out;
    }
    while (info->file_count < count &&
           (hr = IEnumBackgroundCopyFiles_Next(files, 1, &file, NULL)) == S_OK)
    {
        struct file_info *f = &info->files[info->file_count++];

        if (SUCCEEDED(hr = IBackgroundCopyFile_GetRemoteName(file, &f->remote)) &&
            SUCCEEDED(hr = IBackgroundCopyFile_GetLocalName(file, &f->local)))
            hr = IBackgroundCopyFile_GetProgress(file, &f->progress);
        IBackgroundCopyFile_Release(file);
        if (FAILED(hr))
            goto out;
    }
    hr = SUCCEEDED(hr) ? S_OK : hr;
out:
    IEnumBackgroundCopyFiles_Release(files);
    return hr;
}

static void read_error(IBackgroundCopyJob *job, struct job_info *info)
{
    DWORD lang = LANGIDFROMLCID(GetThreadLocale());
    IBackgroundCopyError *error;
    IBackgroundCopyFile *file;

    if (FAILED(IBackgroundCopyJob_GetError(job, &error)))
        return;
    if (SUCCEEDED(IBackgroundCopyError_GetError(error, &info->error_context, &info->error_code)))
    {
        info->has_error = TRUE;
        IBackgroundCopyError_GetErrorDescription(error, lang, &info->error_description);
        IBackgroundCopyError_GetErrorContextDescription(error, lang,
                                                        &info->error_context_description);
        if (SUCCEEDED(IBackgroundCopyError_GetFile(error, &file)))
        {
            IBackgroundCopyFile_GetRemoteName(file, &info->error_remote);
            IBackgroundCopyFile_GetLocalName(file, &info->error_local);
            IBackgroundCopyFile_Release(file);
        }
    }
    IBackgroundCopyError_Release(error);
}

/* Reads everything /info shows. The optional interfaces (Job2, HTTP options) may be missing. */
static HRESULT job_info_read(IBackgroundCopyJob *job, struct job_info *info)
{
    IBackgroundCopyJobHttpOptions *http;
    IBackgroundCopyJob2 *job2;
    GUID id;
    HRESULT hr;

    memset(info, 0, sizeof(*info));
    if (FAILED(hr = IBackgroundCopyJob_GetId(job, &id)) ||
        FAILED(hr = IBackgroundCopyJob_GetDisplayName(job, &info->name)) ||
        FAILED(hr = IBackgroundCopyJob_GetDescription(job, &info->description)) ||
        FAILED(hr = IBackgroundCopyJob_GetOwner(job, &info->owner)) ||
        FAILED(hr = IBackgroundCopyJob_GetType(job, &info->type)) ||
        FAILED(hr = IBackgroundCopyJob_GetState(job, &info->state)) ||
        FAILED(hr = IBackgroundCopyJob_GetPriority(job, &info->priority)) ||
        FAILED(hr = IBackgroundCopyJob_GetProgress(job, &info->progress)) ||
        FAILED(hr = IBackgroundCopyJob_GetTimes(job, &info->times)) ||
        FAILED(hr = IBackgroundCopyJob_GetErrorCount(job, &info->error_count)) ||
        FAILED(hr = IBackgroundCopyJob_GetMinimumRetryDelay(job, &info->retry_delay)) ||
        FAILED(hr = IBackgroundCopyJob_GetNoProgressTimeout(job, &info->no_progress_timeout)) ||
        FAILED(hr = IBackgroundCopyJob_GetNotifyFlags(job, &info->notify_flags)) ||
        FAILED(hr = IBackgroundCopyJob_GetProxySettings(job, &info->proxy_usage, &info->proxy_list,
                                                        &info->proxy_bypass)) ||
        FAILED(hr = read_files(job, info)))
        goto err;
    StringFromGUID2(&id, info->id, ARRAYSIZE(info->id));
    if (SUCCEEDED(IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2)))
    {
        hr = IBackgroundCopyJob2_GetNotifyCmdLine(job2, &info->notify_program,
                                                  &info->notify_parameters);
        IBackgroundCopyJob2_Release(job2);
        if (FAILED(hr))
            goto err;
        /* No command line reads back as empty strings. */
        if (info->notify_program && !info->notify_program[0])
        {
            CoTaskMemFree(info->notify_program);
            CoTaskMemFree(info->notify_parameters);
            info->notify_program = info->notify_parameters = NULL;
        }
    }
    if (SUCCEEDED(IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions,
                                                    (void **)&http)))
    {
        hr = IBackgroundCopyJobHttpOptions_GetCustomHeaders(http, &info->custom_headers);
        IBackgroundCopyJobHttpOptions_Release(http);
        /* S_FALSE or a failure: no headers are set. */
        if (hr != S_OK)
        {
            CoTaskMemFree(info->custom_headers);
            info->custom_headers = NULL;
        }
    }
    read_error(job, info);
    return S_OK;

err:
    job_info_free(info);
    return hr;
}

static void print_bytes_pair(UINT64 done, UINT64 total)
{
    if (total == BG_SIZE_UNKNOWN)
        out(L"%llu / UNKNOWN", (unsigned long long)done);
    else
        out(L"%llu / %llu", (unsigned long long)done, (unsigned long long)total);
}

/* One line of /list: GUID, name, state, files and bytes. */
static void print_summary(const struct job_info *info)
{
    out(L"%ls '%ls' %ls %lu / %lu ", info->id, info->name, state_name(info->state),
        info->progress.FilesTransferred, info->progress.FilesTotal);
    print_bytes_pair(info->progress.BytesTransferred, info->progress.BytesTotal);
    out(L"\n");
}

static void print_files(const struct job_info *info)
{
    for (ULONG i = 0; i < info->file_count; i++)
    {
        const struct file_info *f = &info->files[i];

        out(L"  ");
        print_bytes_pair(f->progress.BytesTransferred, f->progress.BytesTotal);
        out(L" %ls %ls -> %ls\n", f->progress.Completed ? L"COMPLETED" : L"WORKING", f->remote,
            f->local);
    }
}

/* Custom headers one a line (they are CRLF-separated), so that no '\r' reaches the output. */
static void print_headers(const WCHAR *label, const WCHAR *headers)
{
    const WCHAR *p = headers;

    if (!headers)
    {
        out(L"%lsNULL\n", label);
        return;
    }
    while (*p)
    {
        size_t length = wcscspn(p, L"\r\n");

        if (length)
            out(L"%ls%.*ls\n", label, (int)length, p);
        p += length;
        while (*p == L'\r' || *p == L'\n')
            p++;
    }
}

static void print_error(struct cli *cli, const struct job_info *info)
{
    if (!info->has_error)
        return;
    if (info->error_remote)
        out(L"ERROR FILE: %ls -> %ls\n", info->error_remote,
            info->error_local ? info->error_local : L"");
    out(L"ERROR CODE: 0x%08lx - %ls\n", (unsigned long)info->error_code,
        info->error_description ? info->error_description : L"");
    out(L"ERROR CONTEXT: 0x%08lx - %ls\n", (unsigned long)info->error_context,
        info->error_context_description ? info->error_context_description : L"");
}

static void print_info(struct cli *cli, const struct job_info *info, BOOL verbose)
{
    WCHAR time[40];

    out(L"GUID: %ls\nDISPLAY: '%ls'\nTYPE: %ls\nSTATE: %ls\nOWNER: %ls\nPRIORITY: %ls\n", info->id,
        info->name, name_of(type_names, ARRAYSIZE(type_names), info->type), state_name(info->state),
        info->owner, priority_name(info->priority));
    out(L"FILES: %lu / %lu\nBYTES: ", info->progress.FilesTransferred, info->progress.FilesTotal);
    print_bytes_pair(info->progress.BytesTransferred, info->progress.BytesTotal);
    out(L"\n");
    if (verbose)
    {
        format_time(&info->times.CreationTime, time, ARRAYSIZE(time));
        out(L"CREATION TIME: %ls\n", time);
        format_time(&info->times.ModificationTime, time, ARRAYSIZE(time));
        out(L"MODIFICATION TIME: %ls\n", time);
        format_time(&info->times.TransferCompletionTime, time, ARRAYSIZE(time));
        out(L"COMPLETION TIME: %ls\n", time[0] ? time : L"UNKNOWN");
        out(L"DESCRIPTION: %ls\n", info->description);
        out(L"NOTIFY FLAGS: 0x%lx\n", info->notify_flags);
        if (info->notify_program)
            out(L"NOTIFY COMMAND LINE: '%ls' '%ls'\n", info->notify_program,
                info->notify_parameters ? info->notify_parameters : L"");
        else
            out(L"NOTIFY COMMAND LINE: NULL\n");
        out(L"RETRY DELAY: %lu\nNO PROGRESS TIMEOUT: %lu\nERROR COUNT: %lu\n", info->retry_delay,
            info->no_progress_timeout, info->error_count);
        out(L"PROXY USAGE: %ls\nPROXY LIST: %ls\nPROXY BYPASS LIST: %ls\n",
            name_of(proxy_names, ARRAYSIZE(proxy_names), info->proxy_usage),
            info->proxy_list ? info->proxy_list : L"NULL",
            info->proxy_bypass ? info->proxy_bypass : L"NULL");
        print_headers(L"CUSTOM HEADER: ", info->custom_headers);
    }
    print_error(cli, info);
    if (verbose)
    {
        out(L"JOB FILES:\n");
        print_files(info);
    }
}

static void json_time(struct json *json, const WCHAR *key, const FILETIME *time)
{
    WCHAR text[40];

    format_time(time, text, ARRAYSIZE(text));
    json_string(json, key, text[0] ? text : NULL);
}

static void json_size(struct json *json, const WCHAR *key, UINT64 size)
{
    if (size == BG_SIZE_UNKNOWN)
        json_null(json, key);
    else
        json_u64(json, key, size);
}

static void json_job(struct json *json, const struct job_info *info)
{
    WCHAR code[16];

    json_object_begin(json, NULL);
    json_string(json, L"id", info->id);
    json_string(json, L"name", info->name);
    json_string(json, L"description", info->description);
    json_string(json, L"type", name_of(type_names, ARRAYSIZE(type_names), info->type));
    json_string(json, L"state", state_name(info->state));
    json_string(json, L"owner", info->owner);
    json_string(json, L"priority", priority_name(info->priority));
    json_u64(json, L"files_total", info->progress.FilesTotal);
    json_u64(json, L"files_transferred", info->progress.FilesTransferred);
    json_size(json, L"bytes_total", info->progress.BytesTotal);
    json_u64(json, L"bytes_transferred", info->progress.BytesTransferred);
    json_time(json, L"creation_time", &info->times.CreationTime);
    json_time(json, L"modification_time", &info->times.ModificationTime);
    json_time(json, L"completion_time", &info->times.TransferCompletionTime);
    json_u64(json, L"error_count", info->error_count);
    json_u64(json, L"min_retry_delay", info->retry_delay);
    json_u64(json, L"no_progress_timeout", info->no_progress_timeout);
    json_u64(json, L"notify_flags", info->notify_flags);
    json_string(json, L"notify_program", info->notify_program);
    json_string(json, L"notify_parameters", info->notify_parameters);
    json_string(json, L"proxy_usage",
                name_of(proxy_names, ARRAYSIZE(proxy_names), info->proxy_usage));
    json_string(json, L"proxy_list", info->proxy_list);
    json_string(json, L"proxy_bypass_list", info->proxy_bypass);
    json_string(json, L"custom_headers", info->custom_headers);
    json_array_begin(json, L"files");
    for (ULONG i = 0; i < info->file_count; i++)
    {
        const struct file_info *f = &info->files[i];

        json_object_begin(json, NULL);
        json_string(json, L"remote", f->remote);
        json_string(json, L"local", f->local);
        json_size(json, L"bytes_total", f->progress.BytesTotal);
        json_u64(json, L"bytes_transferred", f->progress.BytesTransferred);
        json_bool(json, L"completed", f->progress.Completed);
        json_object_end(json);
    }
    json_array_end(json);
    if (info->has_error)
    {
        json_object_begin(json, L"error");
        swprintf(code, ARRAYSIZE(code), L"0x%08lx", (unsigned long)info->error_code);
        json_string(json, L"code", code);
        json_u64(json, L"context", info->error_context);
        json_string(json, L"description", info->error_description);
        json_string(json, L"context_description", info->error_context_description);
        json_string(json, L"remote", info->error_remote);
        json_string(json, L"local", info->error_local);
        json_object_end(json);
    }
    else
    {
        json_null(json, L"error");
    }
    json_object_end(json);
}

/* What the job named `name` (its id or display name) is now, in *info (job_info_free): 0, or
 * the exit status after saying why not. */
static int read_named_job(struct cli *cli, const WCHAR *name, struct job_info *info)
{
    IBackgroundCopyJob *job;
    HRESULT hr;
    int status;

    if ((status = find_job(cli, name, &job)))
        return status;
    hr = job_info_read(job, info);
    IBackgroundCopyJob_Release(job);
    if (FAILED(hr))
        return fail_hr(cli, hr, L"cannot read job %ls", name);
    return 0;
}

/* Takes the options that follow the fixed arguments; FALSE on an unknown one. */
static BOOL take_flags(const struct verb *verb, int argc, WCHAR **argv, BOOL *verbose,
                       BOOL *all_users)
{
    for (int i = 0; i < argc; i++)
    {
        if (verbose && !_wcsicmp(argv[i], L"/verbose"))
            *verbose = TRUE;
        else if (all_users && !_wcsicmp(argv[i], L"/allusers"))
            *all_users = TRUE;
        else
            return FALSE;
    }
    return TRUE;
}

int verb_info(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv)
{
    struct job_info info;
    struct json json;
    BOOL verbose = FALSE;
    int status;

    if (!take_flags(verb, argc - 1, argv + 1, &verbose, NULL))
        return usage_error(verb, L"unknown option '%ls'", argv[argc - 1]);
    if ((status = read_named_job(cli, argv[0], &info)))
        return status;
    if (cli->json)
    {
        json_init(&json);
        json_job(&json, &info);
        status = json_print(&json);
    }
    else
    {
        print_info(cli, &info, verbose);
    }
    job_info_free(&info);
    return status;
}

int verb_list(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv)
{
    IBackgroundCopyJob **jobs;
    BOOL verbose = FALSE, all_users = FALSE;
    struct json json;
    ULONG count, shown = 0;
    int status;

    if (!take_flags(verb, argc, argv, &verbose, &all_users))
        return usage_error(verb, L"unknown option");
    if ((status = list_jobs(cli, all_users, &jobs, &count)))
        return status;
    json_init(&json);
    json_object_begin(&json, NULL);
    json_array_begin(&json, L"jobs");
    for (ULONG i = 0; i < count; i++)
    {
        struct job_info info;

        /* A job that ended (cancelled or completed meanwhile) is no longer listed. */
        if (FAILED(job_info_read(jobs[i], &info)))
            continue;
        shown++;
        if (cli->json)
            json_job(&json, &info);
        else if (verbose)
        {
            print_info(cli, &info, TRUE);
            out(L"\n");
        }
        else
            print_summary(&info);
        job_info_free(&info);
    }
    json_array_end(&json);
    json_object_end(&json);
    free_jobs(jobs, count);
    if (cli->json)
        return json_print(&json);
    free(json.text);
    out(L"Listed %lu job(s).\n", shown);
    return EXIT_OK;
}

int verb_listfiles(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv)
{
    struct job_info info;
    int status;

    if ((status = read_named_job(cli, argv[0], &info)))
        return status;
    print_files(&info);
    out(L"Listed %lu file(s).\n", info.file_count);
    job_info_free(&info);
    return EXIT_OK;
}

/* The /get* verbs: one value each, bare with /rawreturn. */
int verb_get(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv)
{
    const WCHAR *name = verb->name + 4; /* after "/get" */
    WCHAR value[1024], time[40];
    struct job_info info;
    int status;

    if ((status = read_named_job(cli, argv[0], &info)))
        return status;

#define IS(n) (!_wcsicmp(name, n))
    if (IS(L"state"))
        swprintf(value, ARRAYSIZE(value), L"%ls", state_name(info.state));
    else if (IS(L"type"))
        swprintf(value, ARRAYSIZE(value), L"%ls",
                 name_of(type_names, ARRAYSIZE(type_names), info.type));
    else if (IS(L"priority"))
        swprintf(value, ARRAYSIZE(value), L"%ls", priority_name(info.priority));
    else if (IS(L"displayname"))
        swprintf(value, ARRAYSIZE(value), L"%ls", info.name);
    else if (IS(L"description"))
        swprintf(value, ARRAYSIZE(value), L"%ls", info.description);
    else if (IS(L"owner"))
        swprintf(value, ARRAYSIZE(value), L"%ls", info.owner);
    else if (IS(L"bytestotal"))
    {
        if (info.progress.BytesTotal == BG_SIZE_UNKNOWN)
            swprintf(value, ARRAYSIZE(value), L"UNKNOWN");
        else
            swprintf(value, ARRAYSIZE(value), L"%llu",
                     (unsigned long long)info.progress.BytesTotal);
    }
    else if (IS(L"bytestransferred"))
        swprintf(value, ARRAYSIZE(value), L"%llu",
                 (unsigned long long)info.progress.BytesTransferred);
    else if (IS(L"filestotal"))
        swprintf(value, ARRAYSIZE(value), L"%lu", info.progress.FilesTotal);
    else if (IS(L"filestransferred"))
        swprintf(value, ARRAYSIZE(value), L"%lu", info.progress.FilesTransferred);
    else if (IS(L"progress"))
    {
        double percent = 0;

        if (info.progress.BytesTotal != BG_SIZE_UNKNOWN && info.progress.BytesTotal)
            percent = 100.0 * info.progress.BytesTransferred / info.progress.BytesTotal;
        else if (info.state == BG_JOB_STATE_TRANSFERRED)
            percent = 100;
        swprintf(value, ARRAYSIZE(value), L"%.1f%% %llu / ", percent,
                 (unsigned long long)info.progress.BytesTransferred);
        if (info.progress.BytesTotal == BG_SIZE_UNKNOWN)
            wcscat(value, L"UNKNOWN");
        else
            swprintf(value + wcslen(value), ARRAYSIZE(value) - wcslen(value), L"%llu",
                     (unsigned long long)info.progress.BytesTotal);
        swprintf(value + wcslen(value), ARRAYSIZE(value) - wcslen(value),
                 L" bytes, %lu / %lu files", info.progress.FilesTransferred,
                 info.progress.FilesTotal);
    }
    else if (IS(L"creationtime") || IS(L"modificationtime") || IS(L"completiontime"))
    {
        const FILETIME *t = IS(L"creationtime")       ? &info.times.CreationTime
                            : IS(L"modificationtime") ? &info.times.ModificationTime
                                                      : &info.times.TransferCompletionTime;
        format_time(t, time, ARRAYSIZE(time));
        swprintf(value, ARRAYSIZE(value), L"%ls", time[0] ? time : L"UNKNOWN");
    }
    else if (IS(L"errorcount"))
        swprintf(value, ARRAYSIZE(value), L"%lu", info.error_count);
    else if (IS(L"minretrydelay"))
        swprintf(value, ARRAYSIZE(value), L"%lu", info.retry_delay);
    else if (IS(L"noprogresstimeout"))
        swprintf(value, ARRAYSIZE(value), L"%lu", info.no_progress_timeout);
    else if (IS(L"notifyflags"))
        swprintf(value, ARRAYSIZE(value), L"%lu", info.notify_flags);
    else if (IS(L"notifycmdline"))
    {
        if (info.notify_program)
            swprintf(value, ARRAYSIZE(value), L"'%ls' '%ls'", info.notify_program,
                     info.notify_parameters ? info.notify_parameters : L"");
        else
            swprintf(value, ARRAYSIZE(value), L"NULL");
    }
    else if (IS(L"proxyusage"))
        swprintf(value, ARRAYSIZE(value), L"%ls",
                 name_of(proxy_names, ARRAYSIZE(proxy_names), info.proxy_usage));
    else if (IS(L"proxylist"))
        swprintf(value, ARRAYSIZE(value), L"%ls", info.proxy_list ? info.proxy_list : L"NULL");
    else if (IS(L"proxybypasslist"))
        swprintf(value, ARRAYSIZE(value), L"%ls", info.proxy_bypass ? info.proxy_bypass : L"NULL");
    else if (IS(L"customheaders"))
    {
        print_headers(L"", info.custom_headers);
        job_info_free(&info);
        return EXIT_OK;
    }
    else if (IS(L"error"))
    {
        if (!info.has_error)
        {
            out_error(L"doadmin: job %ls has no error (state %ls)\n", argv[0],
                      state_name(info.state));
            job_info_free(&info);
            return EXIT_FAILED;
        }
        print_error(cli, &info);
        job_info_free(&info);
        return EXIT_OK;
    }
    else
        swprintf(value, ARRAYSIZE(value), L"?");
#undef IS
    out(cli->raw ? L"%ls" : L"%ls\n", value);
    job_info_free(&info);
    return EXIT_OK;
}
