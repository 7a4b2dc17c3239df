/* SPDX-License-Identifier: MIT */
/* doadmin: the /set* verbs (and /removecredentials): arguments checked first, then one call. */
#include <stdio.h>
#include <stdlib.h>
#include "doadmin.h"

/* bitsadmin's word for "no value". */
static const WCHAR *null_word(const WCHAR *text)
{
    return _wcsicmp(text, L"NULL") ? text : NULL;
}

static BOOL parse_word(const WCHAR *text, const WCHAR *const *words, unsigned int count,
                       unsigned int first, unsigned int *value)
{
    for (unsigned int i = 0; i < count; i++)
    {
        if (!_wcsicmp(text, words[i]))
        {
            *value = first + i;
            return TRUE;
        }
    }
    return FALSE;
}

static const WCHAR *const proxy_words[] = {L"PRECONFIG", L"NO_PROXY", L"OVERRIDE", L"AUTODETECT"};
static const WCHAR *const target_words[] = {L"SERVER", L"PROXY"};
static const WCHAR *const scheme_words[] = {L"BASIC", L"DIGEST", L"NTLM", L"NEGOTIATE",
                                            L"PASSPORT"};

/* Joins the header arguments with CRLF, as SetCustomHeaders takes them. */
static WCHAR *join_headers(int argc, WCHAR **argv)
{
    size_t length = 1;
    WCHAR *text;

    for (int i = 0; i < argc; i++)
        length += wcslen(argv[i]) + 2;
    if (!(text = malloc(length * sizeof(WCHAR))))
        return NULL;
    text[0] = 0;
    for (int i = 0; i < argc; i++)
    {
        if (i)
            wcscat(text, L"\r\n");
        wcscat(text, argv[i]);
    }
    return text;
}

static HRESULT set_custom_headers(IBackgroundCopyJob *job, const WCHAR *headers)
{
    IBackgroundCopyJobHttpOptions *http;
    HRESULT hr;

    if (FAILED(hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions,
                                                      (void **)&http)))
        return hr;
    hr = IBackgroundCopyJobHttpOptions_SetCustomHeaders(http, headers);
    IBackgroundCopyJobHttpOptions_Release(http);
    return hr;
}

int verb_set(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv)
{
    const WCHAR *name = verb->name + 1;
    BG_AUTH_CREDENTIALS credentials = {0};
    unsigned int usage = 0, target = 0, scheme = 0;
    BG_JOB_PRIORITY priority = BG_JOB_PRIORITY_NORMAL;
    IBackgroundCopyJob4 *job4;
    IBackgroundCopyJob2 *job2;
    IBackgroundCopyJob *job;
    WCHAR *headers = NULL;
    ULONG number = 0;
    HRESULT hr;
    int status;

#define IS(n) (!_wcsicmp(name, n))
    /* Every argument is checked before the job is looked up: bad usage is exit code 2
     * whether or not the job exists. */
    if (IS(L"setpriority") && !parse_priority(argv[1], &priority))
        return usage_error(verb, L"bad priority '%ls' (FOREGROUND, HIGH, NORMAL or LOW)", argv[1]);
    if ((IS(L"setnotifyflags") || IS(L"setminretrydelay") || IS(L"setnoprogresstimeout") ||
         IS(L"setmaxdownloadtime")) &&
        !parse_ulong(argv[1], &number))
        return usage_error(verb, L"bad number '%ls'", argv[1]);
    if (IS(L"setproxysettings"))
    {
        if (!parse_word(argv[1], proxy_words, ARRAYSIZE(proxy_words), 0, &usage))
            return usage_error(verb, L"bad proxy usage '%ls'", argv[1]);
        if (usage == BG_JOB_PROXY_USAGE_OVERRIDE ? argc < 3 : argc > 2)
            return usage_error(verb, usage == BG_JOB_PROXY_USAGE_OVERRIDE
                                         ? L"OVERRIDE needs a proxy list"
                                         : L"only OVERRIDE takes a proxy list");
    }
    if (IS(L"setcredentials") || IS(L"removecredentials"))
    {
        if (!parse_word(argv[1], target_words, ARRAYSIZE(target_words), 1, &target))
            return usage_error(verb, L"bad target '%ls' (SERVER or PROXY)", argv[1]);
        if (!parse_word(argv[2], scheme_words, ARRAYSIZE(scheme_words), 1, &scheme))
            return usage_error(verb, L"bad scheme '%ls'", argv[2]);
        if (IS(L"setcredentials") && argc != 5)
            return usage_error(verb, L"a user name and a password are needed");
    }
    if (IS(L"setcustomheaders") && !(argc == 2 && !null_word(argv[1])) &&
        !(headers = join_headers(argc - 1, argv + 1)))
        return fail_hr(cli, E_OUTOFMEMORY, L"cannot set the headers");

    if ((status = find_job(cli, argv[0], &job)))
    {
        free(headers);
        return status;
    }
    if (IS(L"setdisplayname"))
        hr = IBackgroundCopyJob_SetDisplayName(job, argv[1]);
    else if (IS(L"setdescription"))
        hr = IBackgroundCopyJob_SetDescription(job, argv[1]);
    else if (IS(L"setpriority"))
        hr = IBackgroundCopyJob_SetPriority(job, priority);
    else if (IS(L"setnotifyflags"))
        hr = IBackgroundCopyJob_SetNotifyFlags(job, number);
    else if (IS(L"setminretrydelay"))
        hr = IBackgroundCopyJob_SetMinimumRetryDelay(job, number);
    else if (IS(L"setnoprogresstimeout"))
        hr = IBackgroundCopyJob_SetNoProgressTimeout(job, number);
    else if (IS(L"setproxysettings"))
        hr = IBackgroundCopyJob_SetProxySettings(job, usage, argc > 2 ? argv[2] : NULL,
                                                 argc > 3 ? null_word(argv[3]) : NULL);
    else if (IS(L"setcustomheaders"))
        hr = set_custom_headers(job, headers);
    else if (IS(L"setmaxdownloadtime"))
    {
        if (SUCCEEDED(hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob4,
                                                             (void **)&job4)))
        {
            hr = IBackgroundCopyJob4_SetMaximumDownloadTime(job4, number);
            IBackgroundCopyJob4_Release(job4);
        }
    }
    else if (SUCCEEDED(hr = IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2,
                                                              (void **)&job2)))
    {
        if (IS(L"setnotifycmdline"))
        {
            const WCHAR *program = null_word(argv[1]);

            hr = IBackgroundCopyJob2_SetNotifyCmdLine(
                job2, program, program && argc > 2 ? null_word(argv[2]) : NULL);
        }
        else if (IS(L"setcredentials"))
        {
            credentials.Target = target;
            credentials.Scheme = scheme;
            credentials.Credentials.Basic.UserName = argv[3];
            credentials.Credentials.Basic.Password = argv[4];
            hr = IBackgroundCopyJob2_SetCredentials(job2, &credentials);
        }
        else
        {
            hr = IBackgroundCopyJob2_RemoveCredentials(job2, target, scheme);
        }
        IBackgroundCopyJob2_Release(job2);
    }
#undef IS
    IBackgroundCopyJob_Release(job);
    free(headers);
    if (FAILED(hr))
        return fail_hr(cli, hr, L"%ls %ls failed", verb->name, argv[0]);
    out(L"%ls %ls: done.\n", verb->name, argv[0]);
    return EXIT_OK;
}
