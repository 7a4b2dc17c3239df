/* SPDX-License-Identifier: MIT */
/* Pure C checks of remote names and local paths (no Win32 calls). */
#ifndef OPENDO_CORE_URL_H
#define OPENDO_CORE_URL_H

#include <stddef.h>
#include <wchar.h>

/* The longest remote name BITS accepts, in characters. */
#define URL_MAX_LENGTH 2200

enum url_kind
{
    URL_INVALID,
    URL_HTTP,
    URL_HTTPS,
    URL_FILE,       /* file:// URL */
    URL_LOCAL_PATH, /* C:\dir\name or \\server\share\name */
};

/* Classifies a remote name (docs/robustness.md lists the rules with their tests). Any name:
 * 1 to URL_MAX_LENGTH characters, no control character (C0, DEL, C1). An http(s) URL: a host
 * of at most 255 characters (or an IPv6 address in brackets), no user name or password, an
 * optional port from 1 to 65535, then only URL characters and whole %XX escapes. A file URL
 * or a path: what url_to_path and path_is_absolute accept. */
enum url_kind url_classify(const wchar_t *name);

/* TRUE for an absolute Windows path that can name a file: "X:\..." or "\\server\share\...",
 * whose last component is not empty (a trailing separator), "." or "..": those name folders.
 * No component holds a control character or any of < > : " | ? *, ends in a dot or a space,
 * or is a DOS device name (CON, NUL, COM1.txt, ...). The server is not "." or "?" (no path in
 * the \\.\ or \\?\ namespaces) and the share is not PIPE. */
int path_is_absolute(const wchar_t *path);

/* Converts a file:// URL into a Windows path in out (size in characters), decoding %XX escapes
 * as UTF-8 and turning '/' into '\'; a local path is copied as it is. Accepted URLs:
 * file:///C:/dir/name, file://C:/dir/name and file://C:\dir\name, file://localhost/C:/dir/name
 * (all C:\dir\name; "C|" for "C:" too), file://server/share/name and file:////server/share/name
 * (\\server\share\name). Returns 0 on success, -1 if it does not fit, is malformed or is not
 * an absolute path. The path is never longer than the name, so URL_MAX_LENGTH + 1 characters
 * hold any name that url_classify accepts. */
int url_to_path(const wchar_t *name, wchar_t *out, size_t size);

/* Length of the directory part of an absolute path (up to, not including, the last '\' or '/'),
 * or 0. */
size_t path_dir_length(const wchar_t *path);

#endif /* OPENDO_CORE_URL_H */
