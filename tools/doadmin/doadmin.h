/* SPDX-License-Identifier: MIT */
/* doadmin: what the command-line client's files share (verbs, output, jobs, progress). */
#ifndef DOADMIN_H
#define DOADMIN_H

#include <stdarg.h>
#include <wchar.h>
#include "opendo.h"

/* Exit codes, documented in docs/doadmin.md. */
#define EXIT_OK 0
#define EXIT_FAILED 1    /* an operation or a transfer failed, or was cancelled */
#define EXIT_USAGE 2     /* unknown verb, wrong arguments, a value out of range */
#define EXIT_NOT_FOUND 3 /* no job, or more than one, answers to the name given */

/* One run of the program: what every verb needs. */
struct cli
{
    IBackgroundCopyManager *manager; /* created before the verb runs, released after */
    BOOL json;                       /* --json or /json: /info and /list write JSON */
    BOOL raw;                        /* /rawreturn: values without labels or newline */
    BOOL console;                    /* standard output is a console (GetConsoleMode) */
};

/* A verb: its name with the slash, its syntax and text for /help, and its handler, which
 * gets the arguments that follow the verb (global options already taken out). */
struct verb
{
    const WCHAR *name;
    const WCHAR *syntax;
    const WCHAR *help;
    int (*run)(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv);
    int min_args, max_args; /* -1: no upper bound */
    BOOL json;              /* has JSON output */
};

/* verbs.c, verbs_set.c, info.c, progress.c: the verb handlers. */
int verb_create(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv);
int verb_addfile(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv);
int verb_addfilewithranges(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv);
int verb_addfileset(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv);
int verb_control(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv);
int verb_reset(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv);
int verb_get(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv);
int verb_set(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv);
int verb_info(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv);
int verb_list(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv);
int verb_listfiles(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv);
int verb_transfer(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv);
int verb_wait(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv);
int verb_monitor(struct cli *cli, const struct verb *verb, int argc, WCHAR **argv);

/* main.c: the verb table's usage line for a verb; EXIT_USAGE after printing a message. */
int usage_error(const struct verb *verb, const WCHAR *format, ...);

/* output.c: everything goes through these. A console gets UTF-16 (WriteConsoleW); a file or
 * a pipe gets UTF-8 with bare '\n' line ends. */
void output_init(struct cli *cli);
void out(const WCHAR *format, ...);
void out_error(const WCHAR *format, ...); /* to standard error */
/* Describes code in a sentence: the DLL's GetErrorDescription when a manager exists,
 * FormatMessage otherwise. */
void describe_hr(struct cli *cli, HRESULT code, WCHAR *buf, size_t size);
/* Prints "doadmin: <what>: 0x%08lx: <description>" and returns the exit code for code:
 * EXIT_NOT_FOUND for the "no such job" codes, EXIT_FAILED for the rest. */
int fail_hr(struct cli *cli, HRESULT code, const WCHAR *format, ...);
/* "1.5 MiB", or "UNKNOWN" for BG_SIZE_UNKNOWN. */
void format_bytes(UINT64 bytes, WCHAR *buf, size_t size);
/* "2024-01-31T12:00:00Z" (UTC), or "" for a zero time. */
void format_time(const FILETIME *time, WCHAR *buf, size_t size);

/* json.c: a JSON text built in memory, written with json_print. Every value function takes
 * the member's key inside an object and NULL inside an array. */
struct json
{
    WCHAR *text;
    size_t length, capacity;
    int depth;
    BOOL first[16]; /* per depth: no member written yet */
    BOOL failed;    /* out of memory: json_print reports it */
};
void json_init(struct json *json);
void json_object_begin(struct json *json, const WCHAR *key);
void json_object_end(struct json *json);
void json_array_begin(struct json *json, const WCHAR *key);
void json_array_end(struct json *json);
void json_string(struct json *json, const WCHAR *key, const WCHAR *value); /* NULL: null */
void json_u64(struct json *json, const WCHAR *key, UINT64 value);
void json_bool(struct json *json, const WCHAR *key, BOOL value);
void json_null(struct json *json, const WCHAR *key);
/* Writes the text and a newline to standard output and frees it; EXIT_OK or EXIT_FAILED. */
int json_print(struct json *json);

/* jobs.c: the manager and finding jobs. */
HRESULT create_manager(IBackgroundCopyManager **manager);
/* Finds the one job that name_or_id names: a GUID in braces, or an exact display name.
 * Returns EXIT_OK with *job set, or prints why not and returns EXIT_NOT_FOUND/EXIT_FAILED. */
int find_job(struct cli *cli, const WCHAR *name_or_id, IBackgroundCopyJob **job);
/* Every job of the user (or of all users), as an array the caller frees with free_jobs. */
int list_jobs(struct cli *cli, BOOL all_users, IBackgroundCopyJob ***jobs, ULONG *count);
void free_jobs(IBackgroundCopyJob **jobs, ULONG count);
/* Absolute form of a local path argument (bitsadmin requires one; doadmin makes it). */
BOOL full_local_path(const WCHAR *arg, WCHAR *buf, DWORD size);
const WCHAR *state_name(BG_JOB_STATE state);
const WCHAR *priority_name(BG_JOB_PRIORITY priority);
BOOL parse_priority(const WCHAR *text, BG_JOB_PRIORITY *priority);
/* A decimal or 0x hexadecimal ULONG; FALSE for anything else. */
BOOL parse_ulong(const WCHAR *text, ULONG *value);

/* progress.c */
/* The event Ctrl-C and Ctrl-Break set while a verb that waits is running. */
BOOL ctrl_c_install(void);
void ctrl_c_remove(void);
BOOL ctrl_c_pressed(DWORD wait_ms);

#endif /* DOADMIN_H */
