/* SPDX-License-Identifier: MIT */
/* Tests of the log (src/log.c): at the most verbose level, with everything a job can carry that
 * is secret (server and proxy credentials, custom headers, a user name, password and query
 * in the URL) used in a real transfer, the log file holds none of it.
 *
 * The log's settings are read once per process, at the first message: this program sets
 * OPENDO_DEBUG and OPENDO_LOG_FILE before it loads the DLL. */
#include "testutil.h"

#define TIMEOUT 15000

/* The second user of /auth/ (scripts/nginx.sh). */
#define SERVER_USER L"h8-user-Vq7Kx"
#define SERVER_PASSWORD L"h8-pass-Zr4Wm"
#define PROXY_USER L"h8-proxyuser-Jt2Lp"
#define PROXY_PASSWORD L"h8-proxypass-Nb8Cy"
/* /echo/header answers with the X-OpenDO-Test header it received. */
#define HEADER_VALUE "h8-header-Gs5Dq"
#define API_KEY "h8-apikey-Mw6Tn"
#define URL_USER "h8-urluser-Pk9Rs"
#define URL_PASSWORD "h8-urlpass-Yd1Bv"
#define URL_TOKEN "h8-query-Cf5Ua"

static const char *const secrets[] = {
    "h8-user-Vq7Kx",
    "h8-pass-Zr4Wm",
    "h8-proxyuser-Jt2Lp",
    "h8-proxypass-Nb8Cy",
    HEADER_VALUE,
    API_KEY,
    URL_USER,
    URL_PASSWORD,
    URL_TOKEN,
};

static IBackgroundCopyManager *manager;
static WCHAR dir[MAX_PATH], log_path[MAX_PATH];

static int setup_group(void **state)
{
    tu_scratch("log_secrets", dir, ARRAY_SIZE(dir));
    tu_path(log_path, ARRAY_SIZE(log_path), dir, L"opendo.log");
    /* Before the DLL's first message, which reads them. */
    SetEnvironmentVariableA("OPENDO_DEBUG", "trace");
    SetEnvironmentVariableW(L"OPENDO_LOG_FILE", log_path);
    if (tu_com_setup(state))
        return -1;
    manager = tu_manager();
    return 0;
}

static int teardown_group(void **state)
{
    IBackgroundCopyManager_Release(manager);
    return tu_com_teardown(state);
}

static void set_credentials(IBackgroundCopyJob *job, BG_AUTH_TARGET target, const WCHAR *user,
                            const WCHAR *password)
{
    BG_AUTH_CREDENTIALS credentials = {target, BG_AUTH_SCHEME_BASIC};
    IBackgroundCopyJob2 *job2;

    credentials.Credentials.Basic.UserName = (WCHAR *)user;
    credentials.Credentials.Basic.Password = (WCHAR *)password;
    assert_hr(S_OK,
              IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJob2, (void **)&job2));
    assert_hr(S_OK, IBackgroundCopyJob2_SetCredentials(job2, &credentials));
    IBackgroundCopyJob2_Release(job2);
}

static void add(IBackgroundCopyJob *job, const WCHAR *url, const WCHAR *name)
{
    WCHAR local[MAX_PATH];

    tu_path(local, ARRAY_SIZE(local), dir, name);
    assert_hr(S_OK, IBackgroundCopyJob_AddFile(job, url, local));
}

/* The whole log file, 0-terminated, HeapAlloc'ed. */
static char *read_log(void)
{
    HANDLE file;
    DWORD size, read = 0;
    char *text;

    file = CreateFileW(log_path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                       OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE)
        fail_msg("no log file at %ls: %lu", log_path, GetLastError());
    size = GetFileSize(file, NULL);
    text = HeapAlloc(GetProcessHeap(), 0, size + 1);
    assert_non_null(text);
    assert_true(ReadFile(file, text, size, &read, NULL));
    CloseHandle(file);
    text[read] = 0;
    return text;
}

static void assert_file_holds(const WCHAR *name, const char *expected)
{
    WCHAR path[MAX_PATH];
    char buffer[256];
    DWORD read = 0;
    HANDLE file;

    tu_path(path, ARRAY_SIZE(path), dir, name);
    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE)
        fail_msg("cannot open %ls: %lu", path, GetLastError());
    assert_true(ReadFile(file, buffer, sizeof(buffer) - 1, &read, NULL));
    CloseHandle(file);
    buffer[read] = 0;
    if (strcmp(buffer, expected))
        fail_msg("%ls holds \"%s\", expected \"%s\"", path, buffer, expected);
}

static void log_holds_no_secret(void **state)
{
    IBackgroundCopyJobHttpOptions *options;
    WCHAR url[MAX_PATH], with_userinfo[MAX_PATH], local[MAX_PATH];
    IBackgroundCopyJob *job;
    char *text;
    GUID id;

    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"log secrets", BG_JOB_TYPE_DOWNLOAD,
                                                     &id, &job));
    set_credentials(job, BG_AUTH_TARGET_SERVER, SERVER_USER, SERVER_PASSWORD);
    set_credentials(job, BG_AUTH_TARGET_PROXY, PROXY_USER, PROXY_PASSWORD);
    assert_hr(S_OK, IBackgroundCopyJob_QueryInterface(job, &IID_IBackgroundCopyJobHttpOptions,
                                                      (void **)&options));
    assert_hr(S_OK, IBackgroundCopyJobHttpOptions_SetCustomHeaders(
                        options, L"X-OpenDO-Test: " HEADER_VALUE "\r\nX-Api-Key: " API_KEY "\r\n"));
    IBackgroundCopyJobHttpOptions_Release(options);
    /* The credentials answer /auth/'s challenge; the header comes back from /echo/header. */
    tu_url(url, ARRAY_SIZE(url), L"auth/hello.txt");
    add(job, url, L"auth.txt");
    tu_url(url, ARRAY_SIZE(url), L"echo/header");
    add(job, url, L"echo.txt");
    /* A user name and a password in the URL itself: refused (docs/robustness.md), and not
     * logged either; a key in the query is transferred, and not logged. */
    tu_url(url, ARRAY_SIZE(url), L"hello.txt?token=" URL_TOKEN);
    swprintf(with_userinfo, ARRAY_SIZE(with_userinfo), L"http://%hs:%hs@%ls", URL_USER,
             URL_PASSWORD, url + wcslen(L"http://"));
    tu_path(local, ARRAY_SIZE(local), dir, L"userinfo.txt");
    assert_hr(E_INVALIDARG, IBackgroundCopyJob_AddFile(job, with_userinfo, local));
    add(job, url, L"query.txt");
    assert_hr(S_OK, IBackgroundCopyJob_Resume(job));
    tu_wait_state(job, BG_JOB_STATE_TRANSFERRED, TIMEOUT);
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));
    IBackgroundCopyJob_Release(job);
    assert_file_holds(L"auth.txt", "hello, OpenDO\n");
    assert_file_holds(L"echo.txt", HEADER_VALUE "\n");
    assert_file_holds(L"query.txt", "hello, OpenDO\n");

    text = read_log();
    /* The log is on and saw all of it: the challenge answered, the URL, its query. */
    if (!strstr(text, "answering target 1") || !strstr(text, "job_SetCredentials") ||
        !strstr(text, "\"http://***@127.0.0.1:") || !strstr(text, "?token=***\""))
        fail_msg("the log lacks the lines this test expects:\n%s", text);
    for (size_t i = 0; i < ARRAY_SIZE(secrets); i++)
    {
        const char *found = strstr(text, secrets[i]);
        if (found)
        {
            const char *line = found;
            while (line > text && line[-1] != '\n')
                line--;
            fail_msg("the log holds \"%s\": %.*s", secrets[i], (int)strcspn(line, "\n"), line);
        }
    }
    HeapFree(GetProcessHeap(), 0, text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(log_holds_no_secret),
    };

    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
