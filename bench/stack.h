/* SPDX-License-Identifier: MIT */
/* The plain-stack benchmark clients (WinHTTP, WinINet): one driver, one set of operations per
 * stack. No job model and no temporary file: each connection writes its bytes straight into
 * the destination, which is the ceiling the stack allows. */
#ifndef STACK_H
#define STACK_H

#include <windows.h>

struct stack_ops
{
    const char *name;
    /* Opens the process-wide session for `conns` connections to 127.0.0.1:port. */
    HRESULT (*init)(WORD port, int conns);
    /* A connection context for one thread (its buffer and its connection handle); NULL on
     * failure. Freed by close. */
    void *(*open)(void);
    void (*close)(void *conn);
    /* The Content-Length of path (a HEAD request). */
    HRESULT (*head)(void *conn, const WCHAR *path, ULONGLONG *size);
    /* GETs path (bytes first..last when ranged, else the whole body) and writes the body to file
     * from its current position; *got counts the bytes. */
    HRESULT(*get)
    (void *conn, const WCHAR *path, BOOL ranged, ULONGLONG first, ULONGLONG last, HANDLE file,
     ULONGLONG *got);
};

/* The size of the read buffer of each connection. */
#define STACK_BUFFER (1024 * 1024)

/* The whole client: parses the arguments, runs the workload, prints the JSON result.
 *   --workload big|small --port P --out <dir> [--conns N] [--count N] [--sync]
 * Returns the process exit code. */
int stack_main(const struct stack_ops *ops, int argc, WCHAR **argv);

#endif
