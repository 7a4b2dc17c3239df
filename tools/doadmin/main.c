/* SPDX-License-Identifier: MIT */
/* doadmin: a command-line client of OpenDO with bitsadmin's verbs; the verb table and main. */
#include <stdio.h>
#include <stdlib.h>
#include "doadmin.h"

static int verb_help(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv);

#define JOB L"<job>"

/* Verbs, in the order /help lists them. A job is named by its GUID in braces or by its exact
 * display name. */
static const struct verb verbs[] = {
    {L"/transfer", L"/transfer <name> [/download] [/priority <p>] <remote> <local> ...",
     L"Creates a job for one or more remote/local pairs, shows its progress until it ends and "
     L"completes it. Priority FOREGROUND unless given. Ctrl-C cancels the job. Exit code 0 when "
     L"every file arrived, 1 when the transfer failed or was cancelled.",
     verb_transfer, 3, -1},
    {L"/create", L"/create [/download] <name>",
     L"Creates a suspended download job and prints its GUID (bare with /rawreturn).", verb_create,
     1, 2},
    {L"/addfile", L"/addfile " JOB L" <remote> <local>",
     L"Adds a file to the job. A relative local path is made absolute.", verb_addfile, 3, 3},
    {L"/addfilewithranges", L"/addfilewithranges " JOB L" <remote> <local> <ranges>",
     L"Adds a file of which only the given byte ranges are fetched: offset:length pairs "
     L"separated by commas, length 'eof' for the rest of the file (0:100,2000:eof).",
     verb_addfilewithranges, 4, 4},
    {L"/addfileset", L"/addfileset " JOB L" <textfile>",
     L"Adds every file the text file lists, one '<remote> <local>' pair a line (double quotes "
     L"around names with spaces; UTF-8, or UTF-16 with a byte order mark).",
     verb_addfileset, 2, 2},
    {L"/listfiles", L"/listfiles " JOB, L"Lists the job's files with their progress.",
     verb_listfiles, 1, 1},
    {L"/resume", L"/resume " JOB,
     L"Starts or resumes the job. The job transfers while a process of the user runs OpenDO "
     L"(for example doadmin /wait or /monitor); see docs/doadmin.md.",
     verb_control, 1, 1},
    {L"/suspend", L"/suspend " JOB, L"Suspends the job.", verb_control, 1, 1},
    {L"/cancel", L"/cancel " JOB, L"Cancels the job and deletes its temporary files.", verb_control,
     1, 1},
    {L"/complete", L"/complete " JOB,
     L"Completes a TRANSFERRED job: its files appear at their local names.", verb_control, 1, 1},
    {L"/takeownership", L"/takeownership " JOB, L"Makes the current user the job's owner.",
     verb_control, 1, 1},
    {L"/wait", L"/wait " JOB L" [/timeout <seconds>]",
     L"OpenDO addition: shows the job's progress until it is TRANSFERRED (exit code 0), fails, "
     L"is suspended or cancelled, or the timeout passes (exit code 1). Ctrl-C stops waiting; "
     L"the job goes on.",
     verb_wait, 1, 3},
    {L"/info", L"/info " JOB L" [/verbose]",
     L"Shows the job: GUID, name, type, state, owner, priority, files and bytes, its error if "
     L"any; /verbose adds times, settings and files. --json writes one JSON object.",
     verb_info, 1, 2, TRUE},
    {L"/list", L"/list [/allusers] [/verbose]",
     L"Lists the jobs of the user (every user's with /allusers, which needs an administrator), "
     L"one line each, or in full with /verbose. --json writes {\"jobs\": [...]} with the "
     L"objects /info writes.",
     verb_list, 0, 2, TRUE},
    {L"/monitor", L"/monitor [/allusers] [/refresh <seconds>]",
     L"Shows every job with its progress again every few seconds (5 by default) until Ctrl-C. "
     L"A console is repainted; a file or a pipe gets one block of lines per refresh.",
     verb_monitor, 0, 3},
    {L"/reset", L"/reset [/allusers]",
     L"Cancels every job of the user (of every user with "
     L"/allusers).",
     verb_reset, 0, 1},
    {L"/getstate", L"/getstate " JOB,
     L"Prints the state: QUEUED, CONNECTING, TRANSFERRING, SUSPENDED, ERROR, TRANSIENT_ERROR, "
     L"TRANSFERRED, ACKNOWLEDGED or CANCELLED.",
     verb_get, 1, 1},
    {L"/getprogress", L"/getprogress " JOB,
     L"OpenDO addition: percent, bytes and files transferred.", verb_get, 1, 1},
    {L"/getbytestotal", L"/getbytestotal " JOB, L"Prints the job's size in bytes, or UNKNOWN.",
     verb_get, 1, 1},
    {L"/getbytestransferred", L"/getbytestransferred " JOB, L"Prints the bytes transferred.",
     verb_get, 1, 1},
    {L"/getfilestotal", L"/getfilestotal " JOB, L"Prints the number of files.", verb_get, 1, 1},
    {L"/getfilestransferred", L"/getfilestransferred " JOB,
     L"Prints the number of files transferred.", verb_get, 1, 1},
    {L"/gettype", L"/gettype " JOB, L"Prints the job type (DOWNLOAD).", verb_get, 1, 1},
    {L"/getdisplayname", L"/getdisplayname " JOB, L"Prints the display name.", verb_get, 1, 1},
    {L"/getdescription", L"/getdescription " JOB, L"Prints the description.", verb_get, 1, 1},
    {L"/getowner", L"/getowner " JOB, L"Prints the owner's SID.", verb_get, 1, 1},
    {L"/getpriority", L"/getpriority " JOB, L"Prints the priority.", verb_get, 1, 1},
    {L"/getcreationtime", L"/getcreationtime " JOB, L"Prints when the job was created (UTC).",
     verb_get, 1, 1},
    {L"/getmodificationtime", L"/getmodificationtime " JOB,
     L"Prints when the job last changed (UTC).", verb_get, 1, 1},
    {L"/getcompletiontime", L"/getcompletiontime " JOB,
     L"Prints when the job's transfer finished (UTC), or UNKNOWN.", verb_get, 1, 1},
    {L"/geterror", L"/geterror " JOB,
     L"Prints the job's error: file, code and context with their descriptions. Exit code 1 "
     L"when the job has none.",
     verb_get, 1, 1},
    {L"/geterrorcount", L"/geterrorcount " JOB, L"Prints how many errors the job had.", verb_get, 1,
     1},
    {L"/getnotifyflags", L"/getnotifyflags " JOB, L"Prints the notification flags.", verb_get, 1,
     1},
    {L"/getnotifycmdline", L"/getnotifycmdline " JOB,
     L"Prints the program and parameters run on notification, or NULL.", verb_get, 1, 1},
    {L"/getminretrydelay", L"/getminretrydelay " JOB, L"Prints the retry delay in seconds.",
     verb_get, 1, 1},
    {L"/getnoprogresstimeout", L"/getnoprogresstimeout " JOB,
     L"Prints the no-progress timeout in seconds.", verb_get, 1, 1},
    {L"/getproxyusage", L"/getproxyusage " JOB, L"Prints the proxy usage.", verb_get, 1, 1},
    {L"/getproxylist", L"/getproxylist " JOB, L"Prints the proxy list, or NULL.", verb_get, 1, 1},
    {L"/getproxybypasslist", L"/getproxybypasslist " JOB, L"Prints the proxy bypass list, or NULL.",
     verb_get, 1, 1},
    {L"/getcustomheaders", L"/getcustomheaders " JOB, L"Prints the custom headers, or NULL.",
     verb_get, 1, 1},
    {L"/setdisplayname", L"/setdisplayname " JOB L" <name>", L"Sets the display name.", verb_set, 2,
     2},
    {L"/setdescription", L"/setdescription " JOB L" <text>", L"Sets the description.", verb_set, 2,
     2},
    {L"/setpriority", L"/setpriority " JOB L" <FOREGROUND|HIGH|NORMAL|LOW>", L"Sets the priority.",
     verb_set, 2, 2},
    {L"/setnotifyflags", L"/setnotifyflags " JOB L" <flags>",
     L"Sets the notification flags: 1 transferred, 2 error, 4 disable, 8 modification, "
     L"16 file transferred (decimal or 0x hexadecimal).",
     verb_set, 2, 2},
    {L"/setnotifycmdline", L"/setnotifycmdline " JOB L" <program|NULL> [<parameters>|NULL]",
     L"Sets the program run when the job is transferred or fails; NULL removes it.", verb_set, 2,
     3},
    {L"/setminretrydelay", L"/setminretrydelay " JOB L" <seconds>",
     L"Sets the delay before a retry after a transient error.", verb_set, 2, 2},
    {L"/setnoprogresstimeout", L"/setnoprogresstimeout " JOB L" <seconds>",
     L"Sets how long the job retries without progress before it fails.", verb_set, 2, 2},
    {L"/setmaxdownloadtime", L"/setmaxdownloadtime " JOB L" <seconds>",
     L"Sets the longest the job may take (0: no limit).", verb_set, 2, 2},
    {L"/setproxysettings",
     L"/setproxysettings " JOB L" <PRECONFIG|AUTODETECT|NO_PROXY|OVERRIDE> [<list> <bypass>]",
     L"Sets the proxy usage; OVERRIDE takes a proxy list and a bypass list (NULL for none).",
     verb_set, 2, 4},
    {L"/setcredentials",
     L"/setcredentials"
     L" " JOB L" <SERVER|PROXY> <BASIC|DIGEST|NTLM|NEGOTIATE|PASSPORT> <user> <password>",
     L"Sets the credentials for a target and scheme.", verb_set, 5, 5},
    {L"/removecredentials", L"/removecredentials " JOB L" <SERVER|PROXY> <scheme>",
     L"Removes the credentials of a target and scheme.", verb_set, 3, 3},
    {L"/setcustomheaders", L"/setcustomheaders " JOB L" <header> [<header> ...]",
     L"Sets the HTTP headers sent with every request, one argument each ('Name: value'); a "
     L"single NULL removes them.",
     verb_set, 2, -1},
    {L"/help", L"/help [<verb>]", L"Lists the verbs, or explains one. /? is the same.", verb_help,
     0, 1},
};

static const struct verb *find_verb(const WCHAR *name)
{
    WCHAR slashed[64];

    /* /help accepts the verb with or without its slash. */
    if (name[0] != L'/')
    {
        swprintf(slashed, ARRAYSIZE(slashed), L"/%ls", name);
        name = slashed;
    }
    if (!_wcsicmp(name, L"/?"))
        name = L"/help";
    for (size_t i = 0; i < ARRAYSIZE(verbs); i++)
    {
        if (!_wcsicmp(verbs[i].name, name))
            return &verbs[i];
    }
    return NULL;
}

int usage_error(const struct verb *verb, const WCHAR *format, ...)
{
    WCHAR message[512];
    va_list args;

    va_start(args, format);
    _vsnwprintf(message, ARRAYSIZE(message) - 1, format, args);
    message[ARRAYSIZE(message) - 1] = 0;
    va_end(args);
    out_error(L"doadmin: %ls\n", message);
    if (verb)
        out_error(L"usage: doadmin %ls\n", verb->syntax);
    else
        out_error(L"usage: doadmin [--json] [/rawreturn] <verb> [arguments]; doadmin /help lists "
                  L"the verbs\n");
    return EXIT_USAGE;
}

static int verb_help(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv)
{
    const struct verb *about;

    if (argc)
    {
        if (!(about = find_verb(argv[0])))
            return usage_error(verb, L"unknown verb '%ls'", argv[0]);
        out(L"doadmin %ls\n\n%ls\n", about->syntax, about->help);
        return EXIT_OK;
    }
    out(L"doadmin: OpenDO's command-line client, with bitsadmin's verbs.\n\n"
        L"usage: doadmin [--json] [/rawreturn] <verb> [arguments]\n"
        L"<job> is a job's GUID in braces or its exact display name.\n"
        L"--json (or /json): JSON output for /info and /list.\n"
        L"/rawreturn: /create and the /get verbs print the bare value.\n"
        L"Exit codes: 0 success, 1 the operation or transfer failed, 2 bad usage, 3 no such job "
        L"(or a name several jobs have).\n\n");
    for (size_t i = 0; i < ARRAYSIZE(verbs); i++)
        out(L"  doadmin %ls\n", verbs[i].syntax);
    out(L"\ndoadmin /help <verb> explains one verb.\n");
    return EXIT_OK;
}

/* Takes the global options out of argv (anywhere on the line); returns the new count. */
static int take_global_options(struct cli *cli, int argc, WCHAR **argv)
{
    int kept = 1;

    for (int i = 1; i < argc; i++)
    {
        if (!_wcsicmp(argv[i], L"--json") || !_wcsicmp(argv[i], L"/json"))
            cli->json = TRUE;
        else if (!_wcsicmp(argv[i], L"/rawreturn"))
            cli->raw = TRUE;
        else
            argv[kept++] = argv[i];
    }
    return kept;
}

int wmain(int argc, WCHAR **argv)
{
    struct cli cli = {0};
    const struct verb *verb;
    int status, count;
    HRESULT hr;

    output_init(&cli);
    argc = take_global_options(&cli, argc, argv);
    if (argc < 2)
        return usage_error(NULL, L"no verb given");
    if (!(verb = find_verb(argv[1])) || argv[1][0] != L'/')
        return usage_error(NULL, L"unknown verb '%ls'", argv[1]);
    count = argc - 2;
    if (count < verb->min_args || (verb->max_args >= 0 && count > verb->max_args))
        return usage_error(verb, L"wrong number of arguments for %ls", verb->name);
    if (cli.json && !verb->json)
        return usage_error(verb, L"%ls has no JSON output", verb->name);
    if (verb->run == verb_help)
        return verb_help(&cli, verb, count, argv + 2);

    if (FAILED(hr = CoInitializeEx(NULL, COINIT_MULTITHREADED)))
        return fail_hr(&cli, hr, L"cannot initialize COM");
    if (FAILED(hr = create_manager(&cli.manager)))
        status = fail_hr(&cli, hr, L"cannot create the OpenDO manager");
    else
        status = verb->run(&cli, verb, count, argv + 2);
    if (cli.manager)
        IBackgroundCopyManager_Release(cli.manager);
    CoUninitialize();
    return status;
}
