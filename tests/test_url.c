/* SPDX-License-Identifier: MIT */
/* Unit tests of src/core/url.c: remote name classes, absolute paths, file:// URL decoding. */
#include "testutil.h"
#include "core/url.h"

/* A string of `count` copies of c, appended to prefix, in a static buffer. */
static const wchar_t *repeat(const wchar_t *prefix, wchar_t c, size_t count)
{
    static wchar_t buf[4 * URL_MAX_LENGTH];
    size_t len = wcslen(prefix);

    assert_true(len + count < ARRAY_SIZE(buf));
    wcscpy(buf, prefix);
    for (size_t i = 0; i < count; i++)
        buf[len + i] = c;
    buf[len + count] = 0;
    return buf;
}

/* Asserts what url_classify says about name, naming the name on failure. */
#define check_kind(expected, name)                                                                 \
    do                                                                                             \
    {                                                                                              \
        const wchar_t *name_ = (name);                                                             \
        enum url_kind kind_ = url_classify(name_);                                                 \
        if (kind_ != (expected))                                                                   \
            fail_msg("url_classify(\"%.60ls\") = %d, expected %d (%s)", name_ ? name_ : L"(null)", \
                     kind_, (expected), #expected);                                                \
    } while (0)

/* Asserts that url_to_path converts name to expected with a generous buffer. */
#define check_path(name, expected)                                                                 \
    do                                                                                             \
    {                                                                                              \
        wchar_t out_[URL_MAX_LENGTH + 1];                                                          \
        int ret_ = url_to_path((name), out_, ARRAY_SIZE(out_));                                    \
        if (ret_ != 0)                                                                             \
            fail_msg("url_to_path(\"%ls\") failed, expected \"%ls\"", (name), (expected));         \
        if (wcscmp(out_, (expected)))                                                              \
            fail_msg("url_to_path(\"%ls\") = \"%ls\", expected \"%ls\"", (name), out_,             \
                     (expected));                                                                  \
    } while (0)

/* Asserts that url_to_path rejects name. */
#define check_bad_path(name)                                                                       \
    do                                                                                             \
    {                                                                                              \
        wchar_t out_[URL_MAX_LENGTH + 1];                                                          \
        if (url_to_path((name), out_, ARRAY_SIZE(out_)) != -1)                                     \
            fail_msg("url_to_path(\"%ls\") accepted it as \"%ls\"", (name), out_);                 \
    } while (0)

static void classify_http(void **state)
{
    check_kind(URL_HTTP, L"http://example.com/file.bin");
    check_kind(URL_HTTP, L"http://127.0.0.1:8080/a/b?c=d#e");
    check_kind(URL_HTTP, L"HTTP://EXAMPLE.COM/");
    check_kind(URL_HTTP, L"http://host");
    check_kind(URL_HTTP, L"http://[::1]:80/x");
    check_kind(URL_HTTPS, L"https://example.com/file.bin");
    check_kind(URL_HTTPS, L"HtTpS://example.com");
}

static void classify_http_without_host(void **state)
{
    check_kind(URL_INVALID, L"http://");
    check_kind(URL_INVALID, L"https://");
    check_kind(URL_INVALID, L"http:///file.bin");
    check_kind(URL_INVALID, L"http://:8080/file.bin");
    check_kind(URL_INVALID, L"https://?query");
    check_kind(URL_INVALID, L"http://#fragment");
    /* Not a scheme we know, or a scheme without its slashes. */
    check_kind(URL_INVALID, L"http:/example.com/x");
    check_kind(URL_INVALID, L"http:example.com");
    check_kind(URL_INVALID, L"ftp://example.com/x");
    check_kind(URL_INVALID, L"www.example.com/x");
    check_kind(URL_INVALID, L"httpx://example.com/x");
}

static void classify_file_urls(void **state)
{
    check_kind(URL_FILE, L"file:///C:/dir/name.bin");
    check_kind(URL_FILE, L"FILE:///c:/dir/name.bin");
    check_kind(URL_FILE, L"file:///C|/dir/name.bin");
    check_kind(URL_FILE, L"file:///C:/a%20b/c");
    check_kind(URL_FILE, L"file://localhost/C:/x");
    check_kind(URL_FILE, L"file://server/share/x");
    check_kind(URL_FILE, L"file://C:\\dir\\name.bin");
    check_kind(URL_FILE, L"file://C:/dir/name.bin");
    check_kind(URL_FILE, L"file:////server/share/x");
    /* Unix-style, drive-less, rootless and malformed file URLs. */
    check_kind(URL_INVALID, L"file:///etc/passwd");
    check_kind(URL_INVALID, L"file://");
    check_kind(URL_INVALID, L"file:///");
    check_kind(URL_INVALID, L"file:///C:/");
    check_kind(URL_INVALID, L"file://server/share");
    check_kind(URL_INVALID, L"file:///C:/a%2");
    check_kind(URL_INVALID, L"file:///C:/a%zz");
}

static void classify_paths(void **state)
{
    check_kind(URL_LOCAL_PATH, L"C:\\dir\\name.bin");
    check_kind(URL_LOCAL_PATH, L"z:\\x");
    check_kind(URL_LOCAL_PATH, L"\\\\server\\share\\name.bin");
    check_kind(URL_LOCAL_PATH, L"C:\\100%\\a%20b");
    /* Relative paths and half paths. */
    check_kind(URL_INVALID, L"name.bin");
    check_kind(URL_INVALID, L"dir\\name.bin");
    check_kind(URL_INVALID, L".\\name.bin");
    check_kind(URL_INVALID, L"..\\name.bin");
    check_kind(URL_INVALID, L"\\dir\\name.bin");
    check_kind(URL_INVALID, L"C:name.bin");
    check_kind(URL_INVALID, L"C:");
    check_kind(URL_INVALID, L"C:\\");
    check_kind(URL_INVALID, L"C:/dir/name.bin");
    check_kind(URL_INVALID, L"\\\\server\\share");
    check_kind(URL_INVALID, L"\\\\server");
    /* Names of folders, not files. */
    check_kind(URL_INVALID, L"C:\\dir\\");
    check_kind(URL_INVALID, L"C:\\dir\\..");
    check_kind(URL_INVALID, L"\\\\server\\share\\dir\\");
}

static void classify_invalid(void **state)
{
    check_kind(URL_INVALID, NULL);
    check_kind(URL_INVALID, L"");
    check_kind(URL_INVALID, L" ");
    /* Control characters anywhere. */
    check_kind(URL_INVALID, L"http://example.com/a\tb");
    check_kind(URL_INVALID, L"http://example.com/a\nb");
    check_kind(URL_INVALID, L"http://example.com/\x01");
    check_kind(URL_INVALID, L"\x1f"
                            L"http://example.com/");
    check_kind(URL_INVALID, L"C:\\a\rb");
}

static void classify_length_limit(void **state)
{
    const wchar_t *prefix = L"http://example.com/";
    size_t fill = URL_MAX_LENGTH - wcslen(prefix);

    assert_int_equal(2200, URL_MAX_LENGTH);
    check_kind(URL_HTTP, repeat(prefix, L'a', fill));
    assert_int_equal(URL_MAX_LENGTH, wcslen(repeat(prefix, L'a', fill)));
    check_kind(URL_INVALID, repeat(prefix, L'a', fill + 1));
    check_kind(URL_INVALID, repeat(prefix, L'a', 3 * URL_MAX_LENGTH));
    check_kind(URL_LOCAL_PATH, repeat(L"C:\\", L'a', URL_MAX_LENGTH - 3));
    check_kind(URL_INVALID, repeat(L"C:\\", L'a', URL_MAX_LENGTH - 2));
    /* A file URL is judged by the same limit, whatever the length of its path. */
    check_kind(URL_FILE, repeat(L"file:///C:/", L'a', URL_MAX_LENGTH - 11));
    check_kind(URL_INVALID, repeat(L"file:///C:/", L'a', URL_MAX_LENGTH - 10));
}

static void absolute_paths(void **state)
{
    assert_true(path_is_absolute(L"C:\\a"));
    assert_true(path_is_absolute(L"c:\\dir\\name.bin"));
    assert_true(path_is_absolute(L"Z:\\a b\\c"));
    assert_false(path_is_absolute(NULL));
    assert_false(path_is_absolute(L""));
    assert_false(path_is_absolute(L"C:"));
    assert_false(path_is_absolute(L"C:\\"));
    assert_false(path_is_absolute(L"C:a"));
    assert_false(path_is_absolute(L"C:/a"));
    assert_false(path_is_absolute(L"1:\\a"));
    assert_false(path_is_absolute(L"a"));
    assert_false(path_is_absolute(L"a\\b"));
    assert_false(path_is_absolute(L"\\a"));
    assert_false(path_is_absolute(L".\\a"));
}

static void absolute_paths_name_files(void **state)
{
    /* A trailing separator, "." or ".." make the name a folder's. */
    assert_false(path_is_absolute(L"C:\\dir\\"));
    assert_false(path_is_absolute(L"C:\\dir/"));
    assert_false(path_is_absolute(L"C:\\dir\\."));
    assert_false(path_is_absolute(L"C:\\dir\\.."));
    assert_false(path_is_absolute(L"C:\\."));
    assert_false(path_is_absolute(L"C:\\.."));
    assert_false(path_is_absolute(L"C:\\dir/.."));
    assert_false(path_is_absolute(L"\\\\server\\share\\dir\\"));
    assert_false(path_is_absolute(L"\\\\server\\share\\."));
    assert_false(path_is_absolute(L"\\\\server\\share\\dir\\.."));
    /* Dots elsewhere are names or steps on the way. */
    assert_true(path_is_absolute(L"C:\\dir\\..\\name"));
    assert_true(path_is_absolute(L"C:\\.hidden"));
    assert_true(path_is_absolute(L"C:\\dir\\a..b"));
    assert_true(path_is_absolute(L"C:\\dir\\..name"));
    assert_true(path_is_absolute(L"\\\\server\\share\\.x"));
}

static void absolute_unc_paths(void **state)
{
    assert_true(path_is_absolute(L"\\\\server\\share\\name"));
    assert_true(path_is_absolute(L"\\\\server\\share\\dir\\name"));
    assert_true(path_is_absolute(L"\\\\10.0.0.1\\share\\name"));
    /* A server and a share are not enough to name a file. */
    assert_false(path_is_absolute(L"\\\\server\\share"));
    assert_false(path_is_absolute(L"\\\\server\\share\\"));
    assert_false(path_is_absolute(L"\\\\server"));
    assert_false(path_is_absolute(L"\\\\server\\"));
    assert_false(path_is_absolute(L"\\\\"));
    assert_false(path_is_absolute(L"\\\\\\share\\name"));
    assert_false(path_is_absolute(L"\\\\server\\\\name"));
    assert_false(path_is_absolute(L"//server/share/name"));
}

static void file_url_to_path(void **state)
{
    check_path(L"file:///C:/a%20b/c", L"C:\\a b\\c");
    check_path(L"file:///c:/dir/name.bin", L"c:\\dir\\name.bin");
    check_path(L"file:///C|/dir/name.bin", L"C:\\dir\\name.bin");
    check_path(L"FILE:///C:/x", L"C:\\x");
    check_path(L"file://localhost/C:/x", L"C:\\x");
    check_path(L"file://LOCALHOST/C:/x", L"C:\\x");
    check_path(L"file://server/share/x", L"\\\\server\\share\\x");
    check_path(L"file://server/share/a%20dir/x", L"\\\\server\\share\\a dir\\x");
    /* Escapes in either case, and an escaped percent sign stays one. */
    check_path(L"file:///C:/%41%62%2d", L"C:\\Ab-");
    check_path(L"file:///C:/100%25", L"C:\\100%");
}

static void file_url_drive_without_third_slash(void **state)
{
    /* file://C:\dir\name, as Windows writes and reads it: the drive where a host would be. */
    check_path(L"file://C:\\dir\\name.bin", L"C:\\dir\\name.bin");
    check_path(L"file://C:/dir/name.bin", L"C:\\dir\\name.bin");
    check_path(L"file://c:\\dir/sub\\name", L"c:\\dir\\sub\\name");
    check_path(L"file://C|/dir/name", L"C:\\dir\\name");
    check_path(L"file://C:\\a%20b\\caf%C3%A9.txt", L"C:\\a b\\caf\x00e9.txt");
    /* Backslashes after a third slash or localhost, too. */
    check_path(L"file:///C:\\dir\\name", L"C:\\dir\\name");
    check_path(L"file://localhost/C:\\dir\\name", L"C:\\dir\\name");
    /* A one-letter host is a server, not a drive. */
    check_path(L"file://c/share/name", L"\\\\c\\share\\name");
}

static void file_url_unc_forms(void **state)
{
    check_path(L"file://server/share/dir/name", L"\\\\server\\share\\dir\\name");
    /* The UNC path kept whole in the URL's path: four or five slashes. */
    check_path(L"file:////server/share/name", L"\\\\server\\share\\name");
    check_path(L"file://///server/share/name", L"\\\\server\\share\\name");
    check_path(L"file://server/my%20share/caf%C3%A9", L"\\\\server\\my share\\caf\x00e9");
    check_path(L"file://server\\share\\name", L"\\\\server\\share\\name");
}

static void file_url_malformed(void **state)
{
    /* A drive without a path, or with a relative one. */
    check_bad_path(L"file://C:");
    check_bad_path(L"file://C:\\");
    check_bad_path(L"file://C:/");
    check_bad_path(L"file://C:name");
    check_bad_path(L"file:///C:name");
    /* localhost without a drive. */
    check_bad_path(L"file://localhost");
    check_bad_path(L"file://localhost/");
    check_bad_path(L"file://localhost/etc/passwd");
    check_bad_path(L"file://localhost/server/share/name");
    /* UNC forms without a server, share or name. */
    check_bad_path(L"file:////");
    check_bad_path(L"file:////server");
    check_bad_path(L"file:////server/share");
    check_bad_path(L"file://////server/share/name");
    check_bad_path(L"file://\\server\\share\\name");
    /* Folders. */
    check_bad_path(L"file://C:\\dir\\");
    check_bad_path(L"file:///C:/dir/");
    check_bad_path(L"file:///C:/dir/..");
    check_bad_path(L"file://server/share/dir/");
    check_bad_path(L"file:///C:/dir%2F");
    /* A '%' that is no escape. */
    check_bad_path(L"file://C:\\100%\\name");
}

static void file_url_utf8_escapes(void **state)
{
    /* RFC 3986/8089: escapes are the bytes of the UTF-8 form of the name. */
    check_path(L"file:///C:/caf%C3%A9", L"C:\\caf\x00e9");
    check_path(L"file:///C:/%E2%82%AC.txt", L"C:\\\x20ac.txt");
    check_path(L"file:///C:/%F0%9F%98%80", L"C:\\\xd83d\xde00");
    /* A character that is already wide passes unchanged. */
    check_path(L"file:///C:/caf\x00e9", L"C:\\caf\x00e9");
    /* Bytes that are not UTF-8: a lone continuation byte, a truncated sequence, an overlong
     * form, an encoded surrogate. */
    check_bad_path(L"file:///C:/%A9");
    check_bad_path(L"file:///C:/%C3");
    check_bad_path(L"file:///C:/%C3x");
    check_bad_path(L"file:///C:/%C0%AF");
    check_bad_path(L"file:///C:/%ED%A0%80");
}

static void file_url_bad_escapes(void **state)
{
    check_bad_path(L"file:///C:/a%");
    check_bad_path(L"file:///C:/a%2");
    check_bad_path(L"file:///C:/a%g0");
    check_bad_path(L"file:///C:/a%0g");
    check_bad_path(L"file:///C:/a%%20");
    check_bad_path(L"file:///C:/a%00b");
}

static void file_url_not_a_path(void **state)
{
    check_bad_path(L"file:///etc/passwd");
    check_bad_path(L"file:///");
    check_bad_path(L"file://");
    check_bad_path(L"file://server");
    check_bad_path(L"file://server/share");
    check_bad_path(L"file:///C:");
    check_bad_path(L"file:///C:/");
    check_bad_path(L"file:C:/x");
}

static void local_path_is_kept(void **state)
{
    /* A plain path is a file name, not a URL: '%' and '/' are not escapes or separators. */
    check_path(L"C:\\dir\\name.bin", L"C:\\dir\\name.bin");
    check_path(L"C:\\a%20b", L"C:\\a%20b");
    check_path(L"C:\\100%\\x", L"C:\\100%\\x");
    check_path(L"\\\\server\\share\\x", L"\\\\server\\share\\x");
    check_bad_path(L"dir\\name.bin");
    check_bad_path(L"C:/dir/name.bin");
}

static void url_to_path_size_limit(void **state)
{
    wchar_t out[8];

    /* "C:\ab" needs 6 characters with its terminator. */
    assert_int_equal(-1, url_to_path(L"file:///C:/ab", out, 5));
    assert_int_equal(0, url_to_path(L"file:///C:/ab", out, 6));
    assert_true(!wcscmp(out, L"C:\\ab"));
    assert_int_equal(-1, url_to_path(L"C:\\ab", out, 5));
    assert_int_equal(0, url_to_path(L"C:\\ab", out, 6));
    /* "\\s\h\x" is 7 characters plus the terminator. */
    assert_int_equal(-1, url_to_path(L"file://s/h/x", out, 7));
    assert_int_equal(0, url_to_path(L"file://s/h/x", out, 8));
    assert_true(!wcscmp(out, L"\\\\s\\h\\x"));
    assert_int_equal(-1, url_to_path(L"file://s/h/x", out, 2));
    assert_int_equal(-1, url_to_path(L"file:///C:/ab", out, 0));
    assert_int_equal(-1, url_to_path(NULL, out, ARRAY_SIZE(out)));
    /* Escapes shrink the name: the limit applies to the decoded form. */
    assert_int_equal(0, url_to_path(L"file:///C:/%61%62", out, 6));
    assert_true(!wcscmp(out, L"C:\\ab"));
}

static void url_to_path_fits_any_valid_name(void **state)
{
    static wchar_t out[URL_MAX_LENGTH + 1];
    const wchar_t *name = repeat(L"file:///C:/", L'x', URL_MAX_LENGTH - 11);

    /* Whatever url_classify accepts converts into a URL_MAX_LENGTH + 1 buffer. */
    check_kind(URL_FILE, name);
    assert_int_equal(0, url_to_path(name, out, ARRAY_SIZE(out)));
    assert_int_equal(URL_MAX_LENGTH - 8, wcslen(out));
    name = repeat(L"C:\\", L'x', URL_MAX_LENGTH - 3);
    check_kind(URL_LOCAL_PATH, name);
    assert_int_equal(0, url_to_path(name, out, ARRAY_SIZE(out)));
    assert_int_equal(URL_MAX_LENGTH, wcslen(out));
}

static void dir_length(void **state)
{
    assert_int_equal(2, path_dir_length(L"C:\\x"));
    assert_int_equal(6, path_dir_length(L"C:\\dir\\name.bin"));
    assert_int_equal(10, path_dir_length(L"C:\\dir\\sub\\name"));
    assert_int_equal(14, path_dir_length(L"\\\\server\\share\\name"));
    assert_int_equal(2, path_dir_length(L"C:\\"));
    assert_int_equal(0, path_dir_length(L"name"));
    assert_int_equal(0, path_dir_length(L""));
    assert_int_equal(0, path_dir_length(L"\\name"));
    /* Windows takes '/' as a separator in a local name, too. */
    assert_int_equal(6, path_dir_length(L"C:\\dir/name"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(classify_http),
        cmocka_unit_test(classify_http_without_host),
        cmocka_unit_test(classify_file_urls),
        cmocka_unit_test(classify_paths),
        cmocka_unit_test(classify_invalid),
        cmocka_unit_test(classify_length_limit),
        cmocka_unit_test(absolute_paths),
        cmocka_unit_test(absolute_unc_paths),
        cmocka_unit_test(absolute_paths_name_files),
        cmocka_unit_test(file_url_to_path),
        cmocka_unit_test(file_url_drive_without_third_slash),
        cmocka_unit_test(file_url_unc_forms),
        cmocka_unit_test(file_url_malformed),
        cmocka_unit_test(file_url_utf8_escapes),
        cmocka_unit_test(file_url_bad_escapes),
        cmocka_unit_test(file_url_not_a_path),
        cmocka_unit_test(local_path_is_kept),
        cmocka_unit_test(url_to_path_size_limit),
        cmocka_unit_test(url_to_path_fits_any_valid_name),
        cmocka_unit_test(dir_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
