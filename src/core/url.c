/* SPDX-License-Identifier: MIT */
/* Pure C checks of remote names and local paths (no Win32 calls). */
#include "core/url.h"

static int has_prefix_nocase(const wchar_t *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
    {
        wchar_t c = *s;
        if (c >= L'A' && c <= L'Z')
            c += L'a' - L'A';
        if (c != (wchar_t)*prefix)
            return 0;
    }
    return 1;
}

static int is_drive_letter(wchar_t c)
{
    return (c >= L'A' && c <= L'Z') || (c >= L'a' && c <= L'z');
}

static int is_separator(wchar_t c)
{
    return c == L'\\' || c == L'/';
}

/* C0 controls, DEL and the C1 controls (U+0080 to U+009F): never part of a name. Some of them
 * end a line or a header on the wire. */
static int is_control(wchar_t c)
{
    return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/* Do the n characters at s spell `ascii`, ignoring the case of ASCII letters? */
static int same_nocase(const wchar_t *s, size_t n, const char *ascii)
{
    size_t i;

    for (i = 0; i < n && ascii[i]; i++)
    {
        wchar_t c = s[i];
        if (c >= L'a' && c <= L'z')
            c -= L'a' - L'A';
        if (c != (wchar_t)ascii[i])
            return 0;
    }
    return i == n && !ascii[i];
}

/* Is the component a DOS device name? Win32 opens the device, wherever in a path the name is
 * and whatever extension follows it: "C:\dir\nul.txt" is NUL, so is "CON .log". COM and LPT
 * take a digit, or a superscript 1, 2 or 3. */
static int is_device_name(const wchar_t *name, size_t len)
{
    static const char *const devices[] = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"};
    size_t base = 0;

    while (base < len && name[base] != L'.')
        base++;
    while (base > 0 && name[base - 1] == L' ')
        base--;
    for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
    {
        if (same_nocase(name, base, devices[i]))
            return 1;
    }
    if (base == 4 && (same_nocase(name, 3, "COM") || same_nocase(name, 3, "LPT")))
        return (name[3] >= L'0' && name[3] <= L'9') || name[3] == 0xb9 || name[3] == 0xb2 ||
               name[3] == 0xb3;
    return 0;
}

/* Are the len characters at name allowed in a Windows file name? Not the controls 1 to 31, and
 * not < > : " | ? *: wildcards, and ':' which would name an NTFS stream (BITS takes none). */
static int chars_ok(const wchar_t *name, size_t len)
{
    for (size_t i = 0; i < len; i++)
    {
        if (name[i] < 0x20 || wcschr(L"<>:\"|?*", name[i]))
            return 0;
    }
    return 1;
}

/* Checks one component of a path (len characters at name); `last` if the path ends with it. */
static int component_ok(const wchar_t *name, size_t len, int last)
{
    int step = (len == 1 && name[0] == L'.') || (len == 2 && name[0] == L'.' && name[1] == L'.');

    /* An empty last component (a trailing separator), "." and ".." name folders. Elsewhere they
     * are a doubled separator or steps on the way, which Win32 resolves. */
    if (len == 0 || step)
        return !last;
    /* Win32 drops a name's trailing dots and spaces: "new." would be created as "new", another
     * name than the one asked for (and "dir.\\x" would land in "dir"). */
    if (name[len - 1] == L'.' || name[len - 1] == L' ')
        return 0;
    return chars_ok(name, len) && !is_device_name(name, len);
}

/* Checks the components of a path after its root, up to the end; the last must name a file. */
static int names_ok(const wchar_t *rest)
{
    const wchar_t *p;

    for (;;)
    {
        for (p = rest; *p && !is_separator(*p); p++)
            ;
        if (!component_ok(rest, p - rest, !*p))
            return 0;
        if (!*p)
            return 1;
        rest = p + 1;
    }
}

int path_is_absolute(const wchar_t *path)
{
    const wchar_t *server, *share, *p;

    if (!path)
        return 0;
    if (is_drive_letter(path[0]) && path[1] == L':' && path[2] == L'\\')
        return names_ok(path + 3);
    if (path[0] == L'\\' && path[1] == L'\\' && path[2] && path[2] != L'\\')
    {
        /* \\server\share\name: a server, a share and a name. */
        server = p = path + 2;
        while (*p && *p != L'\\')
            p++;
        if (*p != L'\\' || p[1] == 0 || p[1] == L'\\')
            return 0;
        /* "\\.\" and "\\?\" are no servers but Win32's device and long-path namespaces: a
         * volume, a disk, a pipe, or a path without Win32's checks. BITS takes neither. */
        if (p - server == 1 && (server[0] == L'.' || server[0] == L'?'))
            return 0;
        if (!chars_ok(server, p - server))
            return 0;
        share = ++p;
        while (*p && *p != L'\\')
            p++;
        /* The PIPE share is a server's named pipes, which are no files either. */
        if (!chars_ok(share, p - share) || same_nocase(share, p - share, "PIPE"))
            return 0;
        return *p == L'\\' && names_ok(p + 1);
    }
    return 0;
}

static int hex_value(wchar_t c)
{
    if (c >= L'0' && c <= L'9')
        return c - L'0';
    if (c >= L'a' && c <= L'f')
        return c - L'a' + 10;
    if (c >= L'A' && c <= L'F')
        return c - L'A' + 10;
    return -1;
}

static int is_digit(wchar_t c)
{
    return c >= L'0' && c <= L'9';
}

/* RFC 3986's unreserved characters and sub-delims: what a host name may hold besides escapes.
 * Characters beyond ASCII are an internationalised name, which WinHTTP and DNS deal with. */
static int is_host_char(wchar_t c)
{
    if (c >= 0xa0)
        return 1;
    if ((c >= L'a' && c <= L'z') || (c >= L'A' && c <= L'Z') || is_digit(c))
        return 1;
    return c && wcschr(L"-._~!$&'()*+,;=", c) != NULL;
}

/* The longest host name: DNS names have 255 characters at most, and the transport's buffer for
 * the host holds no more. */
#define HOST_MAX_LENGTH 255

/* Checks the authority [p, end) of an http(s) URL: a host (a name, or an IPv6 address in
 * brackets) and an optional port from 1 to 65535. */
static int authority_ok(const wchar_t *p, const wchar_t *end)
{
    const wchar_t *host = p;
    unsigned long port = 0;

    /* No user name or password in the URL ("user:password@host"): RFC 3986 deprecates it, and
     * a password there would show in every log, record and GetRemoteName answer. Credentials
     * go through SetCredentials. */
    if (wmemchr(p, L'@', end - p))
        return 0;
    if (*p == L'[')
    {
        /* An IP literal: hex digits, colons and the dots of an embedded IPv4 address. */
        for (p++; p < end && *p != L']'; p++)
        {
            if (hex_value(*p) < 0 && *p != L':' && *p != L'.')
                return 0;
        }
        if (p == end || p == host + 1)
            return 0;
        p++;
    }
    else
    {
        for (; p < end && *p != L':'; p++)
        {
            if (*p == L'%' ? hex_value(p[1]) < 0 || hex_value(p[2]) < 0 : !is_host_char(*p))
                return 0;
        }
        if (p == host || p - host > HOST_MAX_LENGTH)
            return 0;
    }
    if (p == end)
        return 1;
    /* A port: digits only (no sign, no space), not empty, and a port number. */
    if (*p++ != L':' || p == end)
        return 0;
    for (; p < end; p++)
    {
        if (!is_digit(*p) || (port = port * 10 + (*p - L'0')) > 65535)
            return 0;
    }
    return port != 0;
}

/* Are the path, query and fragment at p legal URL text? BITS takes a URL as it is ("no escape
 * processing is performed"), so it must hold only characters a URL may hold: no space and none
 * of " < > \\ ^ ` { | }, and every '%' starts an escape. Characters beyond ASCII pass: WinHTTP
 * sends them as UTF-8. */
static int rest_ok(const wchar_t *p)
{
    for (; *p; p++)
    {
        if (*p == L'%')
        {
            if (hex_value(p[1]) < 0 || hex_value(p[2]) < 0)
                return 0;
        }
        else if (wcschr(L" \"<>\\^`{|}", *p))
            return 0;
    }
    return 1;
}

enum url_kind url_classify(const wchar_t *name)
{
    const wchar_t *host, *end;
    size_t len;

    if (!name)
        return URL_INVALID;
    len = wcslen(name);
    if (len == 0 || len > URL_MAX_LENGTH)
        return URL_INVALID;
    for (const wchar_t *p = name; *p; p++)
    {
        if (is_control(*p))
            return URL_INVALID;
    }
    if (has_prefix_nocase(name, "http://") || has_prefix_nocase(name, "https://"))
    {
        host = name + (name[4] == L':' ? 7 : 8);
        for (end = host; *end && *end != L'/' && *end != L'?' && *end != L'#'; end++)
            ;
        if (!authority_ok(host, end) || !rest_ok(end))
            return URL_INVALID;
        return name[4] == L':' ? URL_HTTP : URL_HTTPS;
    }
    if (has_prefix_nocase(name, "file://"))
    {
        wchar_t path[URL_MAX_LENGTH + 1];
        return url_to_path(name, path, sizeof(path) / sizeof(path[0])) == 0 ? URL_FILE
                                                                            : URL_INVALID;
    }
    return path_is_absolute(name) ? URL_LOCAL_PATH : URL_INVALID;
}

/* Does p start with a drive, "C:" or "C|"? */
static int is_drive_at(const wchar_t *p)
{
    return is_drive_letter(p[0]) && (p[1] == L':' || p[1] == L'|');
}

/* The byte of the %XX escape at p, or -1 if there is none. */
static int escaped_byte(const wchar_t *p)
{
    int hi, lo;

    if (p[0] != L'%' || (hi = hex_value(p[1])) < 0 || (lo = hex_value(p[2])) < 0)
        return -1;
    return hi * 16 + lo;
}

/* Decodes the character that the escapes at *p spell in UTF-8 (RFC 3986 and 8089: a file URL
 * escapes the UTF-8 bytes of the name) and moves *p past them. Returns the code point, or -1
 * for bytes that are not the shortest UTF-8 form of a character. */
static long decode_escapes(const wchar_t **p)
{
    static const long shortest[] = {0, 0x80, 0x800, 0x10000};
    const wchar_t *s = *p;
    int byte = escaped_byte(s), more;
    long c;

    if (byte < 0)
        return -1;
    if (byte < 0x80)
        more = 0, c = byte;
    else if ((byte & 0xe0) == 0xc0)
        more = 1, c = byte & 0x1f;
    else if ((byte & 0xf0) == 0xe0)
        more = 2, c = byte & 0x0f;
    else if ((byte & 0xf8) == 0xf0)
        more = 3, c = byte & 0x07;
    else
        return -1;
    s += 3;
    for (int i = 0; i < more; i++, s += 3)
    {
        if ((byte = escaped_byte(s)) < 0 || (byte & 0xc0) != 0x80)
            return -1;
        c = c << 6 | (byte & 0x3f);
    }
    if (c < shortest[more] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return -1;
    *p = s;
    return c;
}

/* Appends a code point to out, as a surrogate pair where wchar_t is UTF-16; keeps room for the
 * terminator. Returns -1 if it does not fit. */
static int append(wchar_t *out, size_t size, size_t *n, long c)
{
#if WCHAR_MAX <= 0xffff
    if (c > 0xffff)
    {
        if (*n + 2 >= size)
            return -1;
        c -= 0x10000;
        out[(*n)++] = (wchar_t)(0xd800 | (c >> 10));
        out[(*n)++] = (wchar_t)(0xdc00 | (c & 0x3ff));
        return 0;
    }
#endif
    if (*n + 1 >= size)
        return -1;
    out[(*n)++] = (wchar_t)c;
    return 0;
}

int url_to_path(const wchar_t *name, wchar_t *out, size_t size)
{
    const wchar_t *p;
    size_t n = 0;

    if (!name || size == 0)
        return -1;
    if (!has_prefix_nocase(name, "file://"))
    {
        /* A plain path is a file name, not a URL: '%' and '/' mean nothing special in it. */
        size_t len = wcslen(name);
        if (len >= size)
            return -1;
        wmemcpy(out, name, len + 1);
        return path_is_absolute(out) ? 0 : -1;
    }
    /* The forms Windows accepts (RFC 8089 and its appendix E, and what the shell writes):
     * file:///C:/dir/name, file://C:\dir\name (no third slash, either separator),
     * file://localhost/C:/dir/name, file://server/share/name and file:////server/share/name
     * (UNC, also with a fifth slash). '|' may stand for the drive's ':'. */
    p = name + 7;
    if (p[0] == L'/' && is_drive_at(p + 1))
    {
        p++;
    }
    else if (has_prefix_nocase(p, "localhost/"))
    {
        p += 10;
        if (!is_drive_at(p))
            return -1;
    }
    else if (!is_drive_at(p))
    {
        /* A server: \\server\share\name. Two or three more slashes before it are the
         * file:////server form, which keeps the UNC path whole in the URL's path. */
        if (p[0] == L'/' && p[1] == L'/')
            p += p[2] == L'/' ? 3 : 2;
        if (p[0] == 0 || is_separator(p[0]))
            return -1;
        if (append(out, size, &n, L'\\') || append(out, size, &n, L'\\'))
            return -1;
    }
    while (*p)
    {
        long c = *p;
        if (c == L'%')
        {
            if ((c = decode_escapes(&p)) <= 0)
                return -1;
        }
        else
        {
            p++;
            if (c == L'/')
                c = L'\\';
            else if (c == L'|' && n == 1)
                c = L':';
        }
        if (append(out, size, &n, c))
            return -1;
    }
    out[n] = 0;
    return path_is_absolute(out) ? 0 : -1;
}

size_t path_dir_length(const wchar_t *path)
{
    size_t len = wcslen(path);

    while (len > 0 && !is_separator(path[len - 1]))
        len--;
    return len > 0 ? len - 1 : 0;
}
