/* SPDX-License-Identifier: MIT */
/* doadmin: the verbs that watch jobs (/transfer, /wait, /monitor) and how progress is shown.
 *
 * On a console a progress line is redrawn in place (a carriage return, no escape codes) and
 * /monitor repaints the screen through the console API. Written to a file or a pipe, the same
 * information comes as plain lines: one when the state changes, at most one a second
 * otherwise, and a last one at the end. */
#include <stdio.h>
#include <stdlib.h>
#include "doadmin.h"

#define POLL_MS 100
#define PLAIN_LINE_MS 1000
#define RATE_SAMPLE_MS 500

/* Ctrl-C and Ctrl-Break arrive on a thread of their own, while the main thread may be
 * completing or releasing the job, so the handler never touches a job: it only sets this
 * manual-reset event, and the verb, which owns the job, decides what it means. The event
 * lives as long as the process because a handler thread can still be running after the
 * handler is removed. */
static HANDLE ctrl_c_event;

static BOOL WINAPI on_ctrl_c(DWORD type)
{
    if (type == CTRL_C_EVENT || type == CTRL_BREAK_EVENT)
    {
        SetEvent(ctrl_c_event);
        return TRUE;
    }
    return FALSE;
}

BOOL ctrl_c_install(void)
{
    if (!ctrl_c_event && !(ctrl_c_event = CreateEventW(NULL, TRUE, FALSE, NULL)))
        return FALSE;
    return SetConsoleCtrlHandler(on_ctrl_c, TRUE);
}

void ctrl_c_remove(void)
{
    SetConsoleCtrlHandler(on_ctrl_c, FALSE);
}

/* Waits up to wait_ms for Ctrl-C; TRUE once it came. */
BOOL ctrl_c_pressed(DWORD wait_ms)
{
    if (!ctrl_c_event)
    {
        Sleep(wait_ms);
        return FALSE;
    }
    return WaitForSingleObject(ctrl_c_event, wait_ms) == WAIT_OBJECT_0;
}

/* A smoothed transfer rate from successive byte counts. */
struct rate
{
    ULONGLONG tick;
    UINT64 bytes;
    double per_second;
};

static void rate_update(struct rate *rate, UINT64 bytes, ULONGLONG now)
{
    if (!rate->tick || bytes < rate->bytes)
    {
        rate->tick = now;
        rate->bytes = bytes;
        return;
    }
    if (now - rate->tick >= RATE_SAMPLE_MS)
    {
        double current = (bytes - rate->bytes) * 1000.0 / (now - rate->tick);

        rate->per_second = rate->per_second > 0 ? 0.5 * rate->per_second + 0.5 * current : current;
        rate->tick = now;
        rate->bytes = bytes;
    }
}

/* "[#####.....]  42.0%  1.0 MiB / 2.4 MiB  1.2 MB/s  ETA 0:03  TRANSFERRING" (the bar only
 * on a console). */
static void format_progress(const BG_JOB_PROGRESS *p, BG_JOB_STATE state, double rate, BOOL bar,
                            WCHAR *buf, size_t size)
{
    WCHAR done[32], total[32], bar_text[34] = L"", eta[32] = L"";
    double fraction = 0;

    format_bytes(p->BytesTransferred, done, ARRAYSIZE(done));
    format_bytes(p->BytesTotal, total, ARRAYSIZE(total));
    if (p->BytesTotal != BG_SIZE_UNKNOWN && p->BytesTotal > 0)
        fraction = (double)p->BytesTransferred / p->BytesTotal;
    else if (state == BG_JOB_STATE_TRANSFERRED || state == BG_JOB_STATE_ACKNOWLEDGED)
        fraction = 1;
    if (bar)
    {
        int filled = (int)(fraction * 30);

        bar_text[0] = L'[';
        for (int i = 0; i < 30; i++)
            bar_text[i + 1] = i < filled ? L'#' : L'.';
        bar_text[31] = L']';
        bar_text[32] = L' ';
        bar_text[33] = 0;
    }
    if (rate > 0 && p->BytesTotal != BG_SIZE_UNKNOWN && p->BytesTotal > p->BytesTransferred)
    {
        double seconds = (p->BytesTotal - p->BytesTransferred) / rate;

        /* A rate near zero would give an ETA of years: beyond 100 hours none is shown. */
        if (seconds < 100.0 * 3600)
        {
            unsigned int whole = (unsigned int)seconds;

            swprintf(eta, ARRAYSIZE(eta), L"ETA %u:%02u", whole / 60, whole % 60);
        }
    }
    swprintf(buf, size, L"%ls%5.1f%%  %ls / %ls  %.1f MB/s  %-12ls %ls", bar_text, fraction * 100,
             done, total, rate / 1e6, eta, state_name(state));
}

/* How one job's progress is being shown to the user. */
struct view
{
    BOOL console;
    struct rate rate;
    ULONGLONG start, last_line;
    UINT64 start_bytes;
    BG_JOB_STATE last_state;
    BOOL drawn;
};

static void view_draw(struct view *view, const BG_JOB_PROGRESS *p, BG_JOB_STATE state, BOOL final)
{
    ULONGLONG now = GetTickCount64();
    WCHAR line[256];

    if (!view->start)
    {
        view->start = now;
        view->start_bytes = p->BytesTransferred;
    }
    rate_update(&view->rate, p->BytesTransferred, now);
    /* The last line shows the average over the whole watch. */
    if (final && now > view->start && p->BytesTransferred >= view->start_bytes)
        view->rate.per_second =
            (p->BytesTransferred - view->start_bytes) * 1000.0 / (now - view->start);
    if (!view->console && !final && view->drawn && state == view->last_state &&
        now - view->last_line < PLAIN_LINE_MS)
        return;
    format_progress(p, state, view->rate.per_second, view->console, line, ARRAYSIZE(line));
    if (view->console)
    {
        CONSOLE_SCREEN_BUFFER_INFO screen;
        int width = 80;

        /* One screen line, redrawn in place: a longer one would wrap and scroll. */
        if (GetConsoleScreenBufferInfo(GetStdHandle(STD_OUTPUT_HANDLE), &screen))
            width = min(max(screen.dwSize.X - 1, 20), (int)ARRAYSIZE(line) - 1);
        out(final ? L"\r%-*.*ls\n" : L"\r%-*.*ls", width, width, line);
    }
    else
    {
        out(L"%ls\n", line);
    }
    view->drawn = TRUE;
    view->last_line = now;
    view->last_state = state;
}

/* Polls job until it is TRANSFERRED or has failed for good. cancel_on_ctrl_c: Ctrl-C
 * cancels the job (/transfer) or only stops the wait (/wait). timeout_ms 0: no limit. */
static HRESULT watch(struct cli *cli, IBackgroundCopyJob *job, BOOL cancel_on_ctrl_c,
                     ULONGLONG timeout_ms, BG_JOB_STATE *state, BOOL *interrupted)
{
    ULONGLONG start = GetTickCount64();
    struct view view = {cli->console};
    BG_JOB_PROGRESS progress;
    HRESULT hr;

    *interrupted = FALSE;
    for (;;)
    {
        if (FAILED(hr = IBackgroundCopyJob_GetState(job, state)) ||
            FAILED(hr = IBackgroundCopyJob_GetProgress(job, &progress)))
            return hr;
        if (*state == BG_JOB_STATE_TRANSFERRED || *state == BG_JOB_STATE_ERROR ||
            *state == BG_JOB_STATE_CANCELLED || *state == BG_JOB_STATE_ACKNOWLEDGED ||
            *state == BG_JOB_STATE_SUSPENDED)
            break;
        view_draw(&view, &progress, *state, FALSE);
        if (ctrl_c_pressed(POLL_MS))
        {
            if (!cancel_on_ctrl_c)
            {
                *interrupted = TRUE;
                break;
            }
            /* The next turn sees CANCELLED. */
            IBackgroundCopyJob_Cancel(job);
        }
        if (timeout_ms && GetTickCount64() - start >= timeout_ms)
        {
            *interrupted = TRUE;
            break;
        }
    }
    /* A Ctrl-C that came after the last look at the state still wins over Complete. */
    if (cancel_on_ctrl_c && *state == BG_JOB_STATE_TRANSFERRED && ctrl_c_pressed(0) &&
        SUCCEEDED(IBackgroundCopyJob_Cancel(job)))
        *state = BG_JOB_STATE_CANCELLED;
    view_draw(&view, &progress, *state, TRUE);
    return S_OK;
}

static void report_job_error(struct cli *cli, IBackgroundCopyJob *job)
{
    IBackgroundCopyError *error;
    BG_ERROR_CONTEXT context;
    WCHAR message[1024];
    HRESULT code;

    if (FAILED(IBackgroundCopyJob_GetError(job, &error)))
    {
        out_error(L"doadmin: transfer failed\n");
        return;
    }
    if (SUCCEEDED(IBackgroundCopyError_GetError(error, &context, &code)))
    {
        describe_hr(cli, code, message, ARRAYSIZE(message));
        out_error(L"doadmin: transfer failed: 0x%08lx: %ls (context %d)\n", (unsigned long)code,
                  message, context);
    }
    IBackgroundCopyError_Release(error);
}

/* /transfer <name> [/download] [/priority <p>] <remote> <local> [<remote> <local> ...] */
int verb_transfer(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv)
{
    BG_JOB_PRIORITY priority = BG_JOB_PRIORITY_FOREGROUND;
    BG_JOB_TYPE type = BG_JOB_TYPE_DOWNLOAD;
    IBackgroundCopyJob *job = NULL;
    BOOL handler = FALSE, interrupted;
    WCHAR(*locals)[MAX_PATH] = NULL;
    BG_JOB_STATE state;
    GUID id;
    HRESULT hr;
    int i = 1, status = EXIT_FAILED, pairs;

    for (; i < argc && argv[i][0] == L'/'; i++)
    {
        if (!_wcsicmp(argv[i], L"/download"))
            type = BG_JOB_TYPE_DOWNLOAD;
        else if (!_wcsicmp(argv[i], L"/upload"))
            type = BG_JOB_TYPE_UPLOAD;
        else if (!_wcsicmp(argv[i], L"/priority") && i + 1 < argc)
        {
            if (!parse_priority(argv[++i], &priority))
                return usage_error(verb, L"bad priority '%ls' (FOREGROUND, HIGH, NORMAL or LOW)",
                                   argv[i]);
        }
        else
            return usage_error(verb, L"unknown option '%ls'", argv[i]);
    }
    pairs = (argc - i) / 2;
    if (!pairs || (argc - i) % 2)
        return usage_error(verb, L"expected pairs of <remote> <local>");
    if (!(locals = calloc(pairs, sizeof(*locals))))
        return fail_hr(cli, E_OUTOFMEMORY, L"cannot start the transfer");
    for (int n = 0; n < pairs; n++)
    {
        if (!full_local_path(argv[i + 2 * n + 1], locals[n], MAX_PATH))
        {
            free(locals);
            return EXIT_USAGE;
        }
    }

    if (FAILED(hr = IBackgroundCopyManager_CreateJob(cli->manager, argv[0], type, &id, &job)))
    {
        status = fail_hr(cli, hr, L"cannot create job '%ls'", argv[0]);
        goto out;
    }
    for (int n = 0; n < pairs; n++)
    {
        if (FAILED(hr = IBackgroundCopyJob_AddFile(job, argv[i + 2 * n], locals[n])))
        {
            status = fail_hr(cli, hr, L"cannot add %ls", argv[i + 2 * n]);
            goto out;
        }
    }
    /* An interactive transfer retries quickly and gives up after a minute without progress. */
    IBackgroundCopyJob_SetMinimumRetryDelay(job, 5);
    IBackgroundCopyJob_SetNoProgressTimeout(job, 60);
    if (FAILED(hr = IBackgroundCopyJob_SetPriority(job, priority)))
    {
        status = fail_hr(cli, hr, L"cannot set the priority");
        goto out;
    }
    handler = ctrl_c_install();
    if (FAILED(hr = IBackgroundCopyJob_Resume(job)))
    {
        status = fail_hr(cli, hr, L"cannot start the job");
        goto out;
    }
    if (FAILED(hr = watch(cli, job, TRUE, 0, &state, &interrupted)))
    {
        status = fail_hr(cli, hr, L"cannot follow the job");
        goto out;
    }
    if (state == BG_JOB_STATE_TRANSFERRED)
    {
        if (FAILED(hr = IBackgroundCopyJob_Complete(job)))
        {
            status = fail_hr(cli, hr, L"cannot complete the job");
            goto out;
        }
        for (int n = 0; n < pairs; n++)
            out(L"done: %ls\n", locals[n]);
        out(L"Transfer complete.\n");
        status = EXIT_OK;
    }
    else if (state == BG_JOB_STATE_ERROR)
        report_job_error(cli, job);
    else if (state == BG_JOB_STATE_CANCELLED)
        out_error(L"doadmin: transfer cancelled\n");
    else
        out_error(L"doadmin: transfer stopped: the job is %ls\n", state_name(state));
out:
    if (handler)
        ctrl_c_remove();
    if (job)
    {
        /* Nothing of a transfer that did not end well is left behind. */
        if (status)
            IBackgroundCopyJob_Cancel(job);
        IBackgroundCopyJob_Release(job);
    }
    free(locals);
    return status;
}

/* /wait <job> [/timeout <seconds>]: an OpenDO addition (bitsadmin has none). */
int verb_wait(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv)
{
    IBackgroundCopyJob *job;
    BG_JOB_STATE state;
    BOOL handler, interrupted;
    ULONG timeout = 0;
    HRESULT hr;
    int status;

    if (argc == 3 && !_wcsicmp(argv[1], L"/timeout"))
    {
        if (!parse_ulong(argv[2], &timeout) || !timeout)
            return usage_error(verb, L"bad timeout '%ls'", argv[2]);
    }
    else if (argc != 1)
        return usage_error(verb, L"unknown option '%ls'", argv[1]);
    if ((status = find_job(cli, argv[0], &job)))
        return status;
    handler = ctrl_c_install();
    hr = watch(cli, job, FALSE, timeout * 1000ull, &state, &interrupted);
    if (handler)
        ctrl_c_remove();
    if (FAILED(hr))
        status = fail_hr(cli, hr, L"cannot follow job %ls", argv[0]);
    else if (interrupted)
    {
        out_error(L"doadmin: stopped waiting: job %ls is %ls\n", argv[0], state_name(state));
        status = EXIT_FAILED;
    }
    else if (state == BG_JOB_STATE_ERROR)
    {
        report_job_error(cli, job);
        status = EXIT_FAILED;
    }
    else if (state != BG_JOB_STATE_TRANSFERRED)
    {
        out_error(L"doadmin: job %ls is %ls\n", argv[0], state_name(state));
        status = EXIT_FAILED;
    }
    IBackgroundCopyJob_Release(job);
    return status;
}

/* What /monitor remembers of a job between two refreshes: its rate. */
struct seen
{
    GUID id;
    struct rate rate;
};

static void clear_console(void)
{
    HANDLE console = GetStdHandle(STD_OUTPUT_HANDLE);
    CONSOLE_SCREEN_BUFFER_INFO info;
    COORD origin = {0, 0};
    DWORD written;

    if (!GetConsoleScreenBufferInfo(console, &info))
        return;
    FillConsoleOutputCharacterW(console, L' ', info.dwSize.X * info.dwSize.Y, origin, &written);
    FillConsoleOutputAttribute(console, info.wAttributes, info.dwSize.X * info.dwSize.Y, origin,
                               &written);
    SetConsoleCursorPosition(console, origin);
}

static struct rate *rate_of(struct seen **seen, ULONG *count, const GUID *id)
{
    struct seen *grown;

    for (ULONG i = 0; i < *count; i++)
    {
        if (IsEqualGUID(&(*seen)[i].id, id))
            return &(*seen)[i].rate;
    }
    if (!(grown = realloc(*seen, (*count + 1) * sizeof(**seen))))
        return NULL;
    *seen = grown;
    memset(&grown[*count], 0, sizeof(grown[*count]));
    grown[*count].id = *id;
    return &grown[(*count)++].rate;
}

/* /monitor [/allusers] [/refresh <seconds>]: every job, again every few seconds, until Ctrl-C. */
int verb_monitor(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv)
{
    struct seen *seen = NULL;
    ULONG refresh = 5, seen_count = 0;
    BOOL all_users = FALSE, handler;
    int status = EXIT_OK;

    for (int i = 0; i < argc; i++)
    {
        if (!_wcsicmp(argv[i], L"/allusers"))
            all_users = TRUE;
        else if (!_wcsicmp(argv[i], L"/refresh") && i + 1 < argc)
        {
            if (!parse_ulong(argv[++i], &refresh) || !refresh)
                return usage_error(verb, L"bad refresh interval '%ls'", argv[i]);
        }
        else
            return usage_error(verb, L"unknown option '%ls'", argv[i]);
    }
    handler = ctrl_c_install();
    do
    {
        IBackgroundCopyJob **jobs;
        SYSTEMTIME now;
        ULONG count;

        if ((status = list_jobs(cli, all_users, &jobs, &count)))
            break;
        GetSystemTime(&now);
        if (cli->console)
            clear_console();
        out(L"MONITORING %lu job(s) at %04u-%02u-%02uT%02u:%02u:%02uZ (Ctrl-C to stop)\n", count,
            now.wYear, now.wMonth, now.wDay, now.wHour, now.wMinute, now.wSecond);
        for (ULONG i = 0; i < count; i++)
        {
            BG_JOB_PROGRESS progress;
            BG_JOB_STATE state;
            WCHAR *name, line[256], id_text[40];
            struct rate *rate;
            GUID id;

            if (FAILED(IBackgroundCopyJob_GetId(jobs[i], &id)) ||
                FAILED(IBackgroundCopyJob_GetState(jobs[i], &state)) ||
                FAILED(IBackgroundCopyJob_GetProgress(jobs[i], &progress)) ||
                FAILED(IBackgroundCopyJob_GetDisplayName(jobs[i], &name)))
                continue;
            if ((rate = rate_of(&seen, &seen_count, &id)))
                rate_update(rate, progress.BytesTransferred, GetTickCount64());
            format_progress(&progress, state, rate ? rate->per_second : 0, cli->console, line,
                            ARRAYSIZE(line));
            StringFromGUID2(&id, id_text, ARRAYSIZE(id_text));
            out(L"%ls '%ls' %ls\n", id_text, name, line);
            CoTaskMemFree(name);
        }
        if (!cli->console)
            out(L"\n");
        free_jobs(jobs, count);
    } while (!ctrl_c_pressed(refresh * 1000));
    if (handler)
        ctrl_c_remove();
    free(seen);
    return status;
}
