/* SPDX-License-Identifier: MIT */
/* libFuzzer target: url_classify, path_is_absolute, url_to_path and path_dir_length. */
/*
 * The input is a UTF-16LE remote name (built with a 16-bit wchar_t, see wchar16.h). Besides
 * not crashing, the functions must keep what url.h promises: a path is never longer than the
 * name, url_to_path succeeds exactly when its output and a 0 fit, what it makes is an absolute
 * path, and the classes agree with one another.
 */
#include <string.h>
#include "fuzz.h"
#include "core/url.h"

static int is_file_url(const wchar_t *name)
{
    static const char prefix[] = "file://";

    for (size_t i = 0; prefix[i]; i++)
    {
        wchar_t c = name[i];
        if (c >= L'A' && c <= L'Z')
            c += L'a' - L'A';
        if (c != (wchar_t)prefix[i])
            return 0;
    }
    return 1;
}

/* url_to_path into a buffer of exactly `size` characters (ASan sees a write past it).
 * Returns its result; on success copies the path to path (URL_MAX_LENGTH-free room). */
static int to_path(const wchar_t *name, size_t size, wchar_t *path, size_t path_size)
{
    wchar_t *out = malloc((size ? size : 1) * sizeof(*out));
    int ret;

    FUZZ_CHECK(out != NULL);
    ret = url_to_path(name, out, size);
    FUZZ_CHECK(ret == 0 || ret == -1);
    if (ret == 0)
    {
        size_t len = wcslen(out);
        FUZZ_CHECK(len < size && len < path_size);
        memcpy(path, out, (len + 1) * sizeof(*out));
    }
    free(out);
    return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len, path_len, small;
    wchar_t *name = take_wide(data, size, &len);
    wchar_t *path = malloc((len + 1) * sizeof(*path)), *again;
    enum url_kind kind;
    int ret;

    FUZZ_CHECK(path != NULL);
    kind = url_classify(name);
    FUZZ_CHECK(kind >= URL_INVALID && kind <= URL_LOCAL_PATH);
    FUZZ_CHECK(path_dir_length(name) <= len);

    /* Never longer than the name: len + 1 characters are always enough. */
    ret = to_path(name, len + 1, path, len + 1);
    if (kind == URL_FILE || kind == URL_LOCAL_PATH)
        FUZZ_CHECK(ret == 0 && len <= URL_MAX_LENGTH);
    if (kind == URL_FILE)
        FUZZ_CHECK(is_file_url(name));
    if (kind == URL_LOCAL_PATH)
        FUZZ_CHECK(path_is_absolute(name) && !wcscmp(path, name));
    if (kind == URL_HTTP || kind == URL_HTTPS)
        FUZZ_CHECK(ret == -1);
    if (ret == 0)
    {
        FUZZ_CHECK(path_is_absolute(path));
        path_len = wcslen(path);
        FUZZ_CHECK(path_dir_length(path) < path_len);
        /* Exactly the path and its 0 fit; one character less does not. */
        again = malloc((path_len + 1) * sizeof(*again));
        FUZZ_CHECK(again != NULL);
        FUZZ_CHECK(to_path(name, path_len + 1, again, path_len + 1) == 0);
        FUZZ_CHECK(!wcscmp(again, path));
        FUZZ_CHECK(to_path(name, path_len, again, path_len + 1) == -1);
        /* A path is its own path. */
        FUZZ_CHECK(to_path(path, path_len + 1, again, path_len + 1) == 0);
        FUZZ_CHECK(!wcscmp(again, path));
        free(again);
    }
    else
    {
        /* Failing for want of room is not failing: more room changes nothing. */
        FUZZ_CHECK(to_path(name, len + 64, path, len + 1) == -1);
    }
    /* Any small buffer: fits or fails, never overflows. */
    small = len ? (size_t)data[0] % (len + 1) : 0;
    if (to_path(name, small, path, len + 1) == 0)
        FUZZ_CHECK(ret == 0);
    FUZZ_CHECK(url_to_path(name, path, 0) == -1);
    FUZZ_CHECK(url_to_path(NULL, path, len + 1) == -1);
    free(path);
    free(name);
    return 0;
}
