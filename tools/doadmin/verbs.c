/* SPDX-License-Identifier: MIT */
/* doadmin: verbs that make jobs, add files and change a job's state. */
#include <stdio.h>
#include <stdlib.h>
#include "doadmin.h"

/* /create [/download | /upload] <name>: prints the new job's GUID. */
int verb_create(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv)
{
    BG_JOB_TYPE type = BG_JOB_TYPE_DOWNLOAD;
    IBackgroundCopyJob *job;
    WCHAR text[40];
    GUID id;
    HRESULT hr;
    int i;

    for (i = 0; i < argc - 1; i++)
    {
        if (!_wcsicmp(argv[i], L"/download"))
            type = BG_JOB_TYPE_DOWNLOAD;
        else if (!_wcsicmp(argv[i], L"/upload"))
            type = BG_JOB_TYPE_UPLOAD;
        else if (!_wcsicmp(argv[i], L"/upload-reply"))
            type = BG_JOB_TYPE_UPLOAD_REPLY;
        else
            return usage_error(verb, L"unknown option '%ls'", argv[i]);
    }
    if (FAILED(hr = IBackgroundCopyManager_CreateJob(cli->manager, argv[i], type, &id, &job)))
        return fail_hr(cli, hr, L"cannot create job '%ls'", argv[i]);
    IBackgroundCopyJob_Release(job);
    StringFromGUID2(&id, text, ARRAYSIZE(text));
    if (cli->raw)
        out(L"%ls", text);
    else
        out(L"Created job %ls.\n", text);
    return EXIT_OK;
}

/* /addfile <job> <remote> <local> */
int verb_addfile(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv)
{
    IBackgroundCopyJob *job;
    WCHAR local[MAX_PATH];
    HRESULT hr;
    int status;

    if (!full_local_path(argv[2], local, ARRAYSIZE(local)))
        return EXIT_USAGE;
    if ((status = find_job(cli, argv[0], &job)))
        return status;
    hr = IBackgroundCopyJob_AddFile(job, argv[1], local);
    IBackgroundCopyJob_Release(job);
    if (FAILED(hr))
        return fail_hr(cli, hr, L"cannot add %ls to job %ls", argv[1], argv[0]);
    out(L"Added %ls -> %ls to job.\n", argv[1], local);
    return EXIT_OK;
}

/* bitsadmin's range list: "offset:length,offset:length", length "eof" for the rest. */
static BOOL parse_ranges(const WCHAR *text, BG_FILE_RANGE **out_ranges, DWORD *out_count)
{
    BG_FILE_RANGE *ranges;
    DWORD count = 1, n = 0;
    const WCHAR *p = text;

    for (const WCHAR *c = text; *c; c++)
        count += *c == L',';
    if (!(ranges = calloc(count, sizeof(*ranges))))
        return FALSE;
    while (n < count)
    {
        WCHAR *end;

        if (!iswdigit(*p))
            goto bad;
        ranges[n].InitialOffset = wcstoull(p, &end, 10);
        if (*end != L':')
            goto bad;
        p = end + 1;
        if (!_wcsnicmp(p, L"eof", 3))
        {
            ranges[n].Length = BG_LENGTH_TO_EOF;
            end = (WCHAR *)p + 3;
        }
        else if (iswdigit(*p))
        {
            ranges[n].Length = wcstoull(p, &end, 10);
        }
        else
        {
            goto bad;
        }
        n++;
        if (*end == L',' && n < count)
            p = end + 1;
        else if (*end || n < count)
            goto bad;
    }
    *out_ranges = ranges;
    *out_count = count;
    return TRUE;
bad:
    free(ranges);
    return FALSE;
}

/* /addfilewithranges <job> <remote> <local> <ranges> */
int verb_addfilewithranges(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv)
{
    IBackgroundCopyJob3 *job3;
    IBackgroundCopyJob *job;
    BG_FILE_RANGE *ranges;
    WCHAR local[MAX_PATH];
    DWORD count;
    HRESULT hr;
    int status;

    if (!parse_ranges(argv[3], &ranges, &count))
        return usage_error(verb,
                           L"bad range list '%ls' (expected offset:length,... with "
                           L"length a number or eof)",
                           argv[3]);
    if (!full_local_path(argv[2], local, ARRAYSIZE(local)))
    {
        free(ranges);
        return EXIT_USAGE;
    }
    if ((status = find_job(cli, argv[0], &job)))
    {
        free(ranges);
        return status;
    }
    if (SUCCEEDED(
            hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob3, (void **)&job3)))
    {
        hr = IBackgroundCopyJob3_AddFileWithRanges(job3, argv[1], local, count, ranges);
        IBackgroundCopyJob3_Release(job3);
    }
    IBackgroundCopyJob_Release(job);
    free(ranges);
    if (FAILED(hr))
        return fail_hr(cli, hr, L"cannot add %ls to job %ls", argv[1], argv[0]);
    out(L"Added %ls -> %ls (%lu ranges) to job.\n", argv[1], local, count);
    return EXIT_OK;
}

/* The text of a file list: UTF-16 with a byte order mark, or else UTF-8. */
static WCHAR *read_text_file(const WCHAR *path, HRESULT *hr)
{
    LARGE_INTEGER size;
    HANDLE file;
    char *bytes = NULL;
    WCHAR *text = NULL;
    DWORD got;
    int length;

    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE)
    {
        *hr = HRESULT_FROM_WIN32(GetLastError());
        return NULL;
    }
    *hr = E_OUTOFMEMORY;
    if (!GetFileSizeEx(file, &size) || size.QuadPart > 16 << 20)
    {
        *hr = HRESULT_FROM_WIN32(ERROR_FILE_TOO_LARGE);
        goto out;
    }
    if (!(bytes = malloc(size.QuadPart + 2)))
        goto out;
    if (!ReadFile(file, bytes, (DWORD)size.QuadPart, &got, NULL))
    {
        *hr = HRESULT_FROM_WIN32(GetLastError());
        goto out;
    }
    bytes[got] = bytes[got + 1] = 0;
    if (got >= 2 && (unsigned char)bytes[0] == 0xFF && (unsigned char)bytes[1] == 0xFE)
    {
        if ((text = malloc(got + 2)))
            memcpy(text, bytes + 2, got);
    }
    else
    {
        const char *start = bytes;

        if (got >= 3 && !memcmp(bytes, "\xEF\xBB\xBF", 3))
            start += 3;
        length = MultiByteToWideChar(CP_UTF8, 0, start, -1, NULL, 0);
        if (length > 0 && (text = malloc(length * sizeof(WCHAR))))
            MultiByteToWideChar(CP_UTF8, 0, start, -1, text, length);
    }
out:
    free(bytes);
    CloseHandle(file);
    return text;
}

/* The next word of a line: up to white space, or between double quotes. */
static WCHAR *next_word(WCHAR **cursor)
{
    WCHAR *p = *cursor, *word;

    while (*p == L' ' || *p == L'\t')
        p++;
    if (!*p)
        return NULL;
    if (*p == L'"')
    {
        word = ++p;
        while (*p && *p != L'"')
            p++;
    }
    else
    {
        word = p;
        while (*p && *p != L' ' && *p != L'\t')
            p++;
    }
    if (*p)
        *p++ = 0;
    *cursor = p;
    return word;
}

/* /addfileset <job> <textfile>: one "remote local" pair a line, added in one AddFileSet. */
int verb_addfileset(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv)
{
    WCHAR *text, *line, *next, *locals = NULL;
    BG_FILE_INFO *set = NULL;
    IBackgroundCopyJob *job;
    ULONG count = 0, lines = 0, number = 0;
    HRESULT hr;
    int status = EXIT_USAGE;

    if (!(text = read_text_file(argv[1], &hr)))
        return fail_hr(cli, hr, L"cannot read %ls", argv[1]);
    for (WCHAR *c = text; *c; c++)
        lines += *c == L'\n';
    lines++;
    if (!(set = calloc(lines, sizeof(*set))) ||
        !(locals = malloc((size_t)lines * MAX_PATH * sizeof(WCHAR))))
    {
        status = fail_hr(cli, E_OUTOFMEMORY, L"cannot read %ls", argv[1]);
        goto out;
    }
    for (line = text; line; line = next)
    {
        WCHAR *remote, *local, *extra, *cr;

        number++;
        if ((next = wcschr(line, L'\n')))
            *next++ = 0;
        if ((cr = wcschr(line, L'\r')))
            *cr = 0;
        if (!(remote = next_word(&line)))
            continue;
        local = next_word(&line);
        extra = next_word(&line);
        if (!local || extra)
        {
            out_error(L"doadmin: %ls:%lu: expected '<remote> <local>'\n", argv[1], number);
            goto out;
        }
        set[count].RemoteName = remote;
        set[count].LocalName = locals + (size_t)count * MAX_PATH;
        if (!full_local_path(local, set[count].LocalName, MAX_PATH))
            goto out;
        count++;
    }
    if (!count)
    {
        out_error(L"doadmin: %ls names no files\n", argv[1]);
        goto out;
    }
    if ((status = find_job(cli, argv[0], &job)))
        goto out;
    hr = IBackgroundCopyJob_AddFileSet(job, count, set);
    IBackgroundCopyJob_Release(job);
    if (FAILED(hr))
    {
        status = fail_hr(cli, hr, L"cannot add the files of %ls to job %ls", argv[1], argv[0]);
        goto out;
    }
    out(L"Added %lu file(s) to job.\n", count);
    status = EXIT_OK;
out:
    free(locals);
    free(set);
    free(text);
    return status;
}

/* /suspend, /resume, /cancel, /complete, /takeownership <job> */
int verb_control(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv)
{
    IBackgroundCopyJob *job;
    const WCHAR *done;
    HRESULT hr;
    int status;

    if ((status = find_job(cli, argv[0], &job)))
        return status;
    if (!_wcsicmp(verb->name, L"/suspend"))
    {
        hr = IBackgroundCopyJob_Suspend(job);
        done = L"Job suspended.";
    }
    else if (!_wcsicmp(verb->name, L"/resume"))
    {
        hr = IBackgroundCopyJob_Resume(job);
        done = L"Job resumed.";
    }
    else if (!_wcsicmp(verb->name, L"/cancel"))
    {
        hr = IBackgroundCopyJob_Cancel(job);
        done = L"Job canceled.";
    }
    else if (!_wcsicmp(verb->name, L"/complete"))
    {
        hr = IBackgroundCopyJob_Complete(job);
        done = L"Job completed.";
    }
    else
    {
        hr = IBackgroundCopyJob_TakeOwnership(job);
        done = L"Ownership taken.";
    }
    IBackgroundCopyJob_Release(job);
    if (FAILED(hr))
        return fail_hr(cli, hr, L"%ls %ls failed", verb->name, argv[0]);
    out(L"%ls\n", done);
    if (hr == BG_S_PARTIAL_COMPLETE)
        out(L"Only the completed files were kept (0x%08lx).\n", (unsigned long)hr);
    else if (hr == BG_S_UNABLE_TO_DELETE_FILES)
        out(L"Some temporary files could not be deleted (0x%08lx).\n", (unsigned long)hr);
    return EXIT_OK;
}

/* /reset [/allusers]: cancels every job. */
int verb_reset(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv)
{
    IBackgroundCopyJob **jobs;
    BOOL all_users = FALSE;
    ULONG count, cancelled = 0;
    int status;

    if (argc == 1 && !_wcsicmp(argv[0], L"/allusers"))
        all_users = TRUE;
    else if (argc)
        return usage_error(verb, L"unknown option '%ls'", argv[0]);
    if ((status = list_jobs(cli, all_users, &jobs, &count)))
        return status;
    for (ULONG i = 0; i < count; i++)
    {
        HRESULT hr = IBackgroundCopyJob_Cancel(jobs[i]);

        if (SUCCEEDED(hr))
            cancelled++;
        else
            fail_hr(cli, hr, L"cannot cancel a job");
    }
    free_jobs(jobs, count);
    out(L"%lu out of %lu jobs canceled.\n", cancelled, count);
    return cancelled == count ? EXIT_OK : EXIT_FAILED;
}
