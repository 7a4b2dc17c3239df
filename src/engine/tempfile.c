/* SPDX-License-Identifier: MIT */
/* Temporary files: created exclusively and privately in the destination's folder, then reopened,
 * renamed and deleted only while their name still leads to the file the engine created. */

/*
 * Design
 * ------
 * A file's bytes land in a hidden temporary file, "BIT<16 hex digits>.tmp" in the destination's
 * folder, so that Complete is a rename within one volume. Whoever may write to that folder may
 * try to make the engine write, rename or delete something else: plant a file, a hard link or a
 * symbolic link at a name the engine uses, before the engine creates it or after it deleted or
 * lost it. So:
 *
 *  - A name is only ever created with CREATE_NEW, which fails on anything that exists at the
 *    name, a dangling symbolic link included. On a collision the next name is tried, up to
 *    TEMP_ATTEMPTS of them; the first is random, so that the names cannot be foretold (the
 *    fault point TEMP_NAME starts them at BIT00000000.tmp instead, for the tests).
 *  - The new file gets an explicit, protected DACL: full access for the user and for SYSTEM,
 *    nothing for anyone else, and the user as its owner. Administrators are not named: they
 *    can take ownership of any file anyway, and nobody else needs the partial bytes. (BITS
 *    itself lets the temporary file inherit the folder's ACL from the start; we are stricter
 *    while the bytes are partial.) Once all of a file's bytes are in, its DACL becomes what
 *    the folder gives a new file (tempfile_inherit_acl): what BITS documents for the delivered
 *    file.
 *  - The file's identity (volume serial number and file index) is kept with the job. A name is
 *    reopened (tempfile_open), renamed (tempfile_commit) or deleted (tempfile_delete) through a
 *    handle opened with FILE_FLAG_OPEN_REPARSE_POINT and only if that handle is the file the
 *    engine created: same identity, one link, no reparse point, no folder. Renaming and
 *    deleting through that handle leave no moment in which the name could be swapped. A name
 *    with nothing at it is created again, exclusively (the transfer then starts over).
 *
 * Under Wine 8: CREATE_NEW refuses existing names and Unix symbolic links, dangling or not. A
 * DACL is mapped onto the Unix mode bits: the user's and SYSTEM's entries read back, and
 * Everyone's only if others may read the file, so a private file reads back without it. Wine
 * follows a Unix symbolic link even with FILE_FLAG_OPEN_REPARSE_POINT and reports no reparse
 * point: there the identity is what gives a link away (the handle is its target's).
 */

#include <stdio.h>
#include <string.h>
#include "engine/engine.h"
#include "core/url.h"
#include <aclapi.h>
#include <winternl.h>

/* Names tried before giving up with ERROR_FILE_EXISTS. */
#define TEMP_ATTEMPTS 100
/* "\BIT" + 16 hex digits + ".tmp". */
#define TEMP_NAME_CHARS 24
/* The engine's handles to a temporary file: it writes the bytes, reads the file's identity and,
 * once the bytes are in, gives it its folder's DACL (tempfile_inherit_acl). */
#define TEMP_ACCESS (GENERIC_WRITE | FILE_READ_ATTRIBUTES | WRITE_DAC)
/* NtCreateFile's answer for a name that is taken (ntstatus.h). */
#define NT_NAME_COLLISION ((NTSTATUS)0xC0000035)
/* How long a folder the process's user may make files in is taken as such (may_add_file). */
#define FOLDER_CHECK_MS 2000
/* How long a folder's DACL, as read for its new files, serves a fetching thread. */
#define FOLDER_ACL_MS 2000

/* The user (from the thread's token, else the process's) and the security descriptor that
 * gives a new file to that user and SYSTEM only. Everything lives in the struct itself. */
struct private_descriptor
{
    SECURITY_DESCRIPTOR sd;
    union
    {
        TOKEN_USER user;
        BYTE user_buffer[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
    };
    BYTE system[SECURITY_MAX_SID_SIZE];
    union
    {
        ACL acl;
        BYTE acl_buffer[sizeof(ACL) + 2 * (sizeof(ACCESS_ALLOWED_ACE) + SECURITY_MAX_SID_SIZE)];
    };
};

static HRESULT last_error(void)
{
    DWORD err = GetLastError();

    return HRESULT_FROM_WIN32(err ? err : ERROR_GEN_FAILURE);
}

/* The process's own user (TokenUser), read once: it does not change while the process runs. */
static INIT_ONCE process_user_once = INIT_ONCE_STATIC_INIT;
static BYTE process_user[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
static DWORD process_user_error; /* why it could not be read, or 0 */

static BOOL CALLBACK read_process_user(INIT_ONCE *once, void *param, void **context)
{
    DWORD size = 0;
    HANDLE token;

    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
        process_user_error = GetLastError();
    else
    {
        if (!GetTokenInformation(token, TokenUser, process_user, sizeof(process_user), &size))
            process_user_error = GetLastError();
        CloseHandle(token);
    }
    return TRUE;
}

/* The calling user's TokenUser into `buffer` (sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE).
 * `engine_thread`: the caller is one of the engine's own threads, which never impersonate, so
 * the process's user acts and the thread's token is not asked for (a call to Wine's server per
 * temporary file). */
static BOOL caller_user(BYTE *buffer, BOOL engine_thread)
{
    DWORD size = 0;
    HANDLE token;
    BOOL ok;

    /* A thread that impersonates acts for its client; otherwise the process's user acts. */
    if (!engine_thread && OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &token))
    {
        ok = GetTokenInformation(token, TokenUser, buffer,
                                 sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE, &size);
        CloseHandle(token);
        return ok;
    }
    InitOnceExecuteOnce(&process_user_once, read_process_user, NULL, NULL);
    if (process_user_error)
    {
        SetLastError(process_user_error);
        return FALSE;
    }
    memcpy(buffer, process_user, sizeof(process_user));
    /* The SID pointer points into the copy it came with. */
    ((TOKEN_USER *)buffer)->User.Sid =
        buffer + ((BYTE *)((TOKEN_USER *)process_user)->User.Sid - process_user);
    return TRUE;
}

static HRESULT make_private_descriptor(struct private_descriptor *pd, BOOL engine_thread)
{
    DWORD size = sizeof(pd->system);

    if (!caller_user(pd->user_buffer, engine_thread) ||
        !CreateWellKnownSid(WinLocalSystemSid, NULL, pd->system, &size) ||
        !InitializeAcl(&pd->acl, sizeof(pd->acl_buffer), ACL_REVISION) ||
        !AddAccessAllowedAce(&pd->acl, ACL_REVISION, FILE_ALL_ACCESS, pd->user.User.Sid) ||
        !AddAccessAllowedAce(&pd->acl, ACL_REVISION, FILE_ALL_ACCESS, pd->system) ||
        !InitializeSecurityDescriptor(&pd->sd, SECURITY_DESCRIPTOR_REVISION) ||
        !SetSecurityDescriptorOwner(&pd->sd, pd->user.User.Sid, FALSE) ||
        !SetSecurityDescriptorDacl(&pd->sd, TRUE, &pd->acl, FALSE) ||
        !SetSecurityDescriptorControl(&pd->sd, SE_DACL_PROTECTED, SE_DACL_PROTECTED))
        return last_error();
    return S_OK;
}

/* ---- exact names (Wine) ----
 *
 * Wine looks a name up without regard to case, as Windows does. On a Unix file system, which
 * tells case apart, a name that is there is found at once, but one that is not costs a read of
 * its whole folder, every entry compared (measured under Wine 8: 0.4 ms per lookup in a folder
 * of 1,000 files, 1.1 ms at 3,000; a rename onto a new name as much). A job of many files into
 * one folder paid that twice per file: creating the temporary file and renaming it. Names in
 * Wine's Unix namespace ("\??\unix" and a Unix path) are looked up exactly, as Unix does: the
 * engine names its own random temporary files there, and a destination that no name of the
 * folder matches in another case (tempfile_commit). Elsewhere, names are what they always are. */

typedef char *(CDECL *unix_name_fn)(const WCHAR *dos);

static INIT_ONCE unix_once = INIT_ONCE_STATIC_INIT;
static unix_name_fn unix_name_of; /* Wine's kernel32!wine_get_unix_file_name, or NULL */

static BOOL CALLBACK find_unix_names(INIT_ONCE *once, void *param, void **context)
{
    HMODULE kernel32 = GetModuleHandleW(L"kernel32.dll");

    unix_name_of =
        kernel32 ? (unix_name_fn)(void *)GetProcAddress(kernel32, "wine_get_unix_file_name") : NULL;
    return TRUE;
}

/* `path` in Wine's Unix namespace: "\??\unix", its folder's Unix path, and its own name as
 * given (heap, in *out). S_FALSE (and nothing) where there is no such namespace (Windows) or
 * the folder has no Unix name. */
static HRESULT exact_name(const WCHAR *path, WCHAR **out)
{
    static const WCHAR prefix[] = L"\\??\\unix";
    const size_t prefix_len = ARRAY_SIZE(prefix) - 1;
    size_t len = path_dir_length(path), end;
    WCHAR folder[MAX_PATH], *name;
    const WCHAR *leaf;
    char *unix_folder;
    int wide;

    *out = NULL;
    InitOnceExecuteOnce(&unix_once, find_unix_names, NULL, NULL);
    if (!unix_name_of || len == 0 || len >= MAX_PATH - 1 || path[len] != '\\')
        return S_FALSE;
    leaf = path + len + 1;
    memcpy(folder, path, len * sizeof(WCHAR));
    if (len == 2) /* "C:" stands for C's current folder; "C:\" is meant */
        folder[len++] = '\\';
    folder[len] = 0;
    if (!(unix_folder = unix_name_of(folder)))
        return S_FALSE;
    wide = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, unix_folder, -1, NULL, 0);
    if (wide <= 0 ||
        !(name = heap_alloc_zero((prefix_len + wide + 1 + wcslen(leaf)) * sizeof(WCHAR))))
    {
        HeapFree(GetProcessHeap(), 0, unix_folder);
        return wide <= 0 ? S_FALSE : E_OUTOFMEMORY;
    }
    wcscpy(name, prefix);
    MultiByteToWideChar(CP_UTF8, 0, unix_folder, -1, name + prefix_len, wide);
    HeapFree(GetProcessHeap(), 0, unix_folder);
    for (WCHAR *c = name + prefix_len; *c; c++)
    {
        if (*c == '/')
            *c = '\\';
    }
    end = wcslen(name);
    if (name[end - 1] != '\\')
        name[end++] = '\\';
    wcscpy(name + end, leaf);
    *out = name;
    return S_OK;
}

/* Creates `name` exclusively: never an existing file, link or folder. Sets the last error as
 * CreateFileW with CREATE_NEW does (ERROR_FILE_EXISTS for a name that is taken). */
static HANDLE create_exclusive(const WCHAR *name, struct private_descriptor *pd, DWORD access,
                               DWORD share, DWORD flags)
{
    SECURITY_ATTRIBUTES sa = {sizeof(sa), &pd->sd, FALSE};
    HANDLE file = INVALID_HANDLE_VALUE;
    UNICODE_STRING nt_name;
    OBJECT_ATTRIBUTES attrs;
    IO_STATUS_BLOCK io;
    WCHAR *exact;
    NTSTATUS status;
    HRESULT hr;

    if ((hr = exact_name(name, &exact)) != S_OK)
    {
        if (FAILED(hr))
        {
            SetLastError(ERROR_OUTOFMEMORY);
            return INVALID_HANDLE_VALUE;
        }
        return CreateFileW(name, access, share, &sa, CREATE_NEW, FILE_ATTRIBUTE_HIDDEN | flags,
                           NULL);
    }
    /* What CreateFileW asks of NtCreateFile for CREATE_NEW, with the exact name. */
    RtlInitUnicodeString(&nt_name, exact);
    InitializeObjectAttributes(&attrs, &nt_name, 0, NULL, &pd->sd);
    status = NtCreateFile(&file, access | SYNCHRONIZE | FILE_READ_ATTRIBUTES, &attrs, &io, NULL,
                          FILE_ATTRIBUTE_HIDDEN, share, FILE_CREATE,
                          FILE_NON_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT |
                              (flags & FILE_FLAG_SEQUENTIAL_SCAN ? FILE_SEQUENTIAL_ONLY : 0),
                          NULL, 0);
    heap_free(exact);
    if (status)
    {
        SetLastError(status == NT_NAME_COLLISION ? ERROR_FILE_EXISTS
                                                 : RtlNtStatusToDosError(status));
        return INVALID_HANDLE_VALUE;
    }
    return file;
}

/* What the file system says of an open file: its index, its attributes and its links. Asked of
 * the handle alone: GetFileInformationByHandle also asks for the volume's serial number, which
 * Wine answers through its mount manager, a round trip to another process (about half a
 * millisecond, three times per file of a job). The volume is the one of the path the engine
 * names anyway, so the identity keeps the index only (volume 0); identities that older
 * records hold with their volume still match on the index. */
struct file_facts
{
    struct file_identity id;
    DWORD attributes;
    ULONG links;
};

static BOOL facts_of(HANDLE file, struct file_facts *facts)
{
    FILE_STANDARD_INFORMATION standard;
    FILE_INTERNAL_INFORMATION internal;
    FILE_BASIC_INFORMATION basic;
    IO_STATUS_BLOCK io;

    if (NtQueryInformationFile(file, &io, &basic, sizeof(basic), FileBasicInformation) ||
        NtQueryInformationFile(file, &io, &standard, sizeof(standard), FileStandardInformation) ||
        NtQueryInformationFile(file, &io, &internal, sizeof(internal), FileInternalInformation))
        return FALSE;
    facts->id.volume = 0;
    facts->id.index = internal.IndexNumber.QuadPart;
    facts->attributes = basic.FileAttributes;
    facts->links = standard.NumberOfLinks;
    return TRUE;
}

static BOOL identity_known(const struct file_identity *id)
{
    return id->volume || id->index;
}

/* Is the open handle the temporary file the engine created? A file whose identity is not known
 * yet (*id all zero: a record that did not keep it) is taken if it is a plain file with one
 * link, and *id learns it. */
static BOOL is_ours(HANDLE file, struct file_identity *id)
{
    struct file_facts facts;

    if (!facts_of(file, &facts))
        return FALSE;
    if ((facts.attributes & (FILE_ATTRIBUTE_REPARSE_POINT | FILE_ATTRIBUTE_DIRECTORY)) ||
        facts.links != 1)
        return FALSE;
    /* A file system without file indices (some network redirectors) answers 0: nothing to
     * compare there. */
    if (identity_known(id) && facts.id.index && facts.id.index != id->index)
        return FALSE;
    if (!identity_known(id))
        *id = facts.id;
    return TRUE;
}

/* The first number of the names to try: 64 random bits, or 0 when the fault point TEMP_NAME
 * fails. So many bits that two reserved names never meet (a name is only made when its
 * transfer starts, and what is at a reserved name then may be the leftover of this very file:
 * clear_leftover). */
static UINT64 first_number(void)
{
    GUID guid;

    /* A version 4 GUID's first field and the last four bytes are all random bits. */
    if (FAILED(engine_fault("TEMP_NAME")) || FAILED(CoCreateGuid(&guid)))
        return 0;
    return (UINT64)guid.Data1 << 32 | (UINT64)guid.Data4[4] << 24 | guid.Data4[5] << 16 |
           guid.Data4[6] << 8 | guid.Data4[7];
}

/* The folder `local` is to be delivered into, in `folder` (at least MAX_PATH characters), with
 * what BITS answers for a destination it cannot use. */
static HRESULT destination_folder(const WCHAR *local, WCHAR *folder)
{
    size_t len = path_dir_length(local);
    DWORD attrs;

    /* "C:\name" lives in "C:\", not in "C:" (which means C's current directory). */
    if (len == 2)
        len = 3;
    if (len == 0 || len + TEMP_NAME_CHARS >= MAX_PATH)
        return E_INVALIDARG;
    memcpy(folder, local, len * sizeof(WCHAR));
    folder[len] = 0;
    attrs = GetFileAttributesW(folder);
    if (attrs == INVALID_FILE_ATTRIBUTES)
    {
        DWORD err = GetLastError();
        /* A missing last folder is ERROR_FILE_NOT_FOUND to GetFileAttributes, a missing folder
         * above it ERROR_PATH_NOT_FOUND. Either way the path to the file does not exist, which is
         * what creating the file there says (0x80070003), and what BITS answers. */
        return HRESULT_FROM_WIN32(err == ERROR_FILE_NOT_FOUND ? ERROR_PATH_NOT_FOUND : err);
    }
    if (!(attrs & FILE_ATTRIBUTE_DIRECTORY))
        return E_INVALIDARG;
    /* A folder is no name for a file. BITS documents E_INVALIDARG for "the local file name is
     * not valid" and E_ACCESSDENIED for a folder the user may not write to; the name is what is
     * wrong here, so E_INVALIDARG, before anything is created. (A name that ends in a separator,
     * "." or ".." never gets here: path_is_absolute refuses it.) */
    attrs = GetFileAttributesW(local);
    if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY))
        return E_INVALIDARG;
    return S_OK;
}

/* The last folder the process's own user (a thread that impersonates nobody) was found
 * allowed to make files in, and when: AddFile of many jobs into one folder asks the folder's
 * security once per FOLDER_CHECK_MS, not once per job (about ten calls to Wine's server). */
static SRWLOCK allowed_lock = SRWLOCK_INIT;
static WCHAR allowed_folder[MAX_PATH];
static ULONGLONG allowed_at;

static BOOL allowed_lately(const WCHAR *folder)
{
    BOOL lately;

    AcquireSRWLockShared(&allowed_lock);
    lately = allowed_at && GetTickCount64() - allowed_at < FOLDER_CHECK_MS &&
             !_wcsicmp(allowed_folder, folder);
    ReleaseSRWLockShared(&allowed_lock);
    return lately;
}

static void remember_allowed(const WCHAR *folder)
{
    AcquireSRWLockExclusive(&allowed_lock);
    wcscpy(allowed_folder, folder);
    allowed_at = GetTickCount64();
    ReleaseSRWLockExclusive(&allowed_lock);
}

/* May the caller (the thread's token, else the process's) make files in `folder`? Asked of the
 * folder's security descriptor: E_ACCESSDENIED if its DACL does not grant FILE_ADD_FILE. What
 * the DACL cannot tell (a read-only volume, Unix permissions under Wine) shows when the file is
 * made, as an error of the job. */
static HRESULT may_add_file(const WCHAR *folder)
{
    GENERIC_MAPPING mapping = {FILE_GENERIC_READ, FILE_GENERIC_WRITE, FILE_GENERIC_EXECUTE,
                               FILE_ALL_ACCESS};
    SECURITY_INFORMATION wanted =
        OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;
    PSECURITY_DESCRIPTOR sd = NULL;
    BYTE privileges_buffer[256];
    PRIVILEGE_SET *privileges = (PRIVILEGE_SET *)privileges_buffer;
    DWORD privileges_size = sizeof(privileges_buffer), granted = 0, err;
    HANDLE token = NULL, process;
    BOOL allowed = FALSE, own = FALSE;
    HRESULT hr = S_OK;

    /* AccessCheck wants an impersonation token: the thread's if it has one, else a copy of the
     * process's. */
    if (!OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &token))
    {
        token = NULL;
        own = TRUE;
        if (allowed_lately(folder))
            return S_OK;
    }
    if ((err = GetNamedSecurityInfoW(folder, SE_FILE_OBJECT, wanted, NULL, NULL, NULL, NULL, &sd)))
    {
        if (token)
            CloseHandle(token);
        return HRESULT_FROM_WIN32(err);
    }
    if (own && OpenProcessToken(GetCurrentProcess(), TOKEN_DUPLICATE | TOKEN_QUERY, &process))
    {
        if (!DuplicateToken(process, SecurityImpersonation, &token))
            token = NULL;
        CloseHandle(process);
    }
    if (!token)
        hr = last_error();
    else if (!AccessCheck(sd, token, FILE_ADD_FILE, &mapping, privileges, &privileges_size,
                          &granted, &allowed))
        hr = last_error();
    else if (!allowed)
        hr = E_ACCESSDENIED;
    else if (own)
        remember_allowed(folder);
    if (token)
        CloseHandle(token);
    LocalFree(sd);
    return hr;
}

HRESULT tempfile_reserve(const WCHAR *local, WCHAR *checked, WCHAR **temp)
{
    WCHAR folder[MAX_PATH], name[MAX_PATH];
    size_t len;
    HRESULT hr;

    *temp = NULL;
    if (FAILED(hr = destination_folder(local, folder)))
        return hr;
    if (!checked || _wcsicmp(checked, folder))
    {
        if (FAILED(hr = may_add_file(folder)))
            return hr;
        if (checked)
            wcscpy(checked, folder);
    }
    /* "C:\" ends in a separator already. */
    len = wcslen(folder);
    if (folder[len - 1] == '\\')
        folder[len - 1] = 0;
    swprintf(name, ARRAY_SIZE(name), L"%ls\\BIT%016I64X.tmp", folder, first_number());
    if (!(*temp = heap_strdup(name)))
        return E_OUTOFMEMORY;
    return S_OK;
}

static HRESULT open_for_change(const WCHAR *temp, const struct file_identity *id, DWORD access,
                               HANDLE *out);

/* Is the open file one the engine made for the caller: hidden, owned by the caller? */
static BOOL made_for(HANDLE file, const struct private_descriptor *pd)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    struct file_facts facts;
    PSID owner = NULL;
    BOOL made;

    if (!facts_of(file, &facts) || !(facts.attributes & FILE_ATTRIBUTE_HIDDEN) ||
        GetSecurityInfo(file, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner, NULL, NULL, NULL,
                        &sd))
        return FALSE;
    made = owner && EqualSid(owner, pd->user.User.Sid);
    LocalFree(sd);
    return made;
}

/* Deletes what is at a reserved name if it is a leftover of this file: a process that made the
 * file and ended before the job's record learned it leaves one there (hidden, the caller's, one
 * link, no reparse point). Nobody else reserves that name (64 random bits). S_OK if one was
 * deleted, S_FALSE if nothing or something else is there (left alone). */
static HRESULT clear_leftover(const WCHAR *temp, const struct private_descriptor *pd)
{
    FILE_DISPOSITION_INFO disposition = {TRUE};
    struct file_identity unknown = {0};
    HANDLE file;
    HRESULT hr;

    if ((hr = open_for_change(temp, &unknown, READ_CONTROL, &file)) != S_OK)
        return hr == HRESULT_FROM_WIN32(ERROR_FILE_EXISTS) ? S_FALSE : hr;
    if (!made_for(file, pd))
        hr = S_FALSE;
    else if (!SetFileInformationByHandle(file, FileDispositionInfo, &disposition,
                                         sizeof(disposition)))
        hr = last_error();
    CloseHandle(file);
    if (hr == S_OK)
        WARN("%s: left by a process that ended; deleted", debugstr_w(temp));
    return hr;
}

HRESULT tempfile_clear_reserved(const WCHAR *temp)
{
    struct private_descriptor pd;
    HRESULT hr;

    if (FAILED(hr = make_private_descriptor(&pd, FALSE)))
        return hr;
    return clear_leftover(temp, &pd);
}

HRESULT tempfile_make(WCHAR **temp, struct file_identity *id, HANDLE *out)
{
    const DWORD share = FILE_SHARE_READ | FILE_SHARE_DELETE;
    const DWORD access = TEMP_ACCESS;
    struct private_descriptor pd;
    struct file_facts facts;
    WCHAR name[MAX_PATH];
    size_t len = path_dir_length(*temp);
    DWORD err = ERROR_FILE_EXISTS;
    HANDLE file = INVALID_HANDLE_VALUE;
    UINT64 number = 0;
    HRESULT hr;

    *out = INVALID_HANDLE_VALUE;
    memset(id, 0, sizeof(*id));
    if (len == 0 || len + TEMP_NAME_CHARS >= ARRAY_SIZE(name) || wcslen(*temp) >= ARRAY_SIZE(name))
        return E_INVALIDARG;
    if (FAILED(hr = make_private_descriptor(&pd, TRUE)))
        return hr;
    /* The reserved name first (cleared of a leftover of this file); when something else took
     * it, other names in its folder, from a new random start. */
    wcscpy(name, *temp);
    if ((file = create_exclusive(name, &pd, access, share, FILE_FLAG_SEQUENTIAL_SCAN)) ==
        INVALID_HANDLE_VALUE)
        err = GetLastError();
    if (file == INVALID_HANDLE_VALUE && err == ERROR_FILE_EXISTS &&
        clear_leftover(name, &pd) == S_OK &&
        (file = create_exclusive(name, &pd, access, share, FILE_FLAG_SEQUENTIAL_SCAN)) ==
            INVALID_HANDLE_VALUE)
        err = GetLastError();
    for (int attempt = 0;
         file == INVALID_HANDLE_VALUE &&
         (err == ERROR_FILE_EXISTS || err == ERROR_ALREADY_EXISTS) && attempt < TEMP_ATTEMPTS;
         attempt++, number++)
    {
        if (!attempt)
            number = first_number();
        swprintf(name + len, ARRAY_SIZE(name) - len, L"%lsBIT%016I64X.tmp",
                 name[len - 1] == '\\' ? L"" : L"\\", number);
        /* Something is there already (a file, a link, a folder): it is left alone. */
        if ((file = create_exclusive(name, &pd, access, share, FILE_FLAG_SEQUENTIAL_SCAN)) ==
            INVALID_HANDLE_VALUE)
            err = GetLastError();
    }
    if (file == INVALID_HANDLE_VALUE)
        return err == ERROR_ACCESS_DENIED ? E_ACCESSDENIED : HRESULT_FROM_WIN32(err);
    if (wcscmp(name, *temp))
    {
        WCHAR *renamed = heap_strdup(name);
        if (!renamed)
        {
            CloseHandle(file);
            tempfile_delete(name, id);
            return E_OUTOFMEMORY;
        }
        free_str(*temp);
        *temp = renamed;
    }
    if (facts_of(file, &facts))
        *id = facts.id;
    *out = file;
    return S_OK;
}

HRESULT tempfile_open(const WCHAR *temp, struct file_identity *id, HANDLE *out)
{
    struct private_descriptor pd;
    const DWORD share = FILE_SHARE_READ | FILE_SHARE_DELETE;
    struct file_facts facts;
    HANDLE file;
    HRESULT hr;

    *out = INVALID_HANDLE_VALUE;
    file = CreateFileW(temp, TEMP_ACCESS, share, NULL, OPEN_EXISTING,
                       FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_SEQUENTIAL_SCAN, NULL);
    if (file != INVALID_HANDLE_VALUE)
    {
        if (!is_ours(file, id))
        {
            CloseHandle(file);
            WARN("%s is not the temporary file this job created: left alone", debugstr_w(temp));
            return HRESULT_FROM_WIN32(ERROR_FILE_EXISTS);
        }
        *out = file;
        return S_OK;
    }
    if (GetLastError() != ERROR_FILE_NOT_FOUND)
        return last_error();
    /* Gone (deleted by someone, or never kept): made again, under the same rules as at first. A
     * name taken meanwhile fails with ERROR_FILE_EXISTS. */
    if (FAILED(hr = make_private_descriptor(&pd, TRUE)))
        return hr;
    file = create_exclusive(temp, &pd, TEMP_ACCESS, share, FILE_FLAG_SEQUENTIAL_SCAN);
    if (file == INVALID_HANDLE_VALUE)
        return last_error();
    memset(id, 0, sizeof(*id));
    if (facts_of(file, &facts))
        *id = facts.id;
    *out = file;
    return S_FALSE;
}

/* Opens the name for a rename or a delete (DELETE access, and `access`), if it is ours. S_FALSE
 * (and no handle) when nothing is there, HRESULT_FROM_WIN32(ERROR_FILE_EXISTS) when something
 * else is. */
static HRESULT open_for_change(const WCHAR *temp, const struct file_identity *id, DWORD access,
                               HANDLE *out)
{
    /* Any sharing: a worker that was not waited for may still hold the file open (it allows
     * FILE_SHARE_DELETE). */
    const DWORD share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
    struct file_identity expected = *id;
    DWORD err;

    *out = CreateFileW(temp, DELETE | SYNCHRONIZE | FILE_READ_ATTRIBUTES | access, share, NULL,
                       OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (*out == INVALID_HANDLE_VALUE)
    {
        err = GetLastError();
        if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND)
            return S_FALSE;
        return HRESULT_FROM_WIN32(err);
    }
    if (!is_ours(*out, &expected))
    {
        CloseHandle(*out);
        *out = INVALID_HANDLE_VALUE;
        WARN("%s is not the temporary file this job created: left alone", debugstr_w(temp));
        return HRESULT_FROM_WIN32(ERROR_FILE_EXISTS);
    }
    return S_OK;
}

HRESULT tempfile_delete(const WCHAR *temp, const struct file_identity *id)
{
    FILE_DISPOSITION_INFO disposition = {TRUE};
    HANDLE file;
    HRESULT hr;

    if ((hr = open_for_change(temp, id, 0, &file)) != S_OK)
        return hr == HRESULT_FROM_WIN32(ERROR_FILE_EXISTS) ? S_FALSE : hr;
    hr = S_OK;
    if (!SetFileInformationByHandle(file, FileDispositionInfo, &disposition, sizeof(disposition)))
        hr = last_error();
    CloseHandle(file);
    return hr;
}

static int compare_names(const void *a, const void *b)
{
    return CompareStringOrdinal(*(WCHAR *const *)a, -1, *(WCHAR *const *)b, -1, TRUE) - CSTR_EQUAL;
}

void tempfile_names_clear(struct folder_names *names)
{
    for (ULONG i = 0; i < names->count; i++)
        free_str(names->names[i]);
    heap_free(names->names);
    /* Not the lock: list_folder clears under it. */
    names->folder[0] = 0;
    names->names = NULL;
    names->count = 0;
    names->listed = FALSE;
}

/* Lists the folder's names into `names` (sorted without regard to case). FALSE if it cannot. */
static BOOL list_folder(const WCHAR *folder, struct folder_names *names)
{
    WIN32_FIND_DATAW data;
    WCHAR pattern[MAX_PATH + 2];
    ULONG capacity = 0;
    HANDLE find;
    BOOL ok = TRUE;

    tempfile_names_clear(names);
    if (swprintf(pattern, ARRAY_SIZE(pattern), L"%ls%ls*", folder,
                 folder[wcslen(folder) - 1] == '\\' ? L"" : L"\\") < 0)
        return FALSE;
    if ((find = FindFirstFileExW(pattern, FindExInfoBasic, &data, FindExSearchNameMatch, NULL,
                                 FIND_FIRST_EX_LARGE_FETCH)) == INVALID_HANDLE_VALUE)
        return FALSE;
    do
    {
        if (names->count == capacity)
        {
            WCHAR **grown;
            capacity = capacity ? capacity * 2 : 256;
            grown = names->names
                        ? HeapReAlloc(GetProcessHeap(), 0, names->names, capacity * sizeof(*grown))
                        : heap_alloc_zero(capacity * sizeof(*grown));
            if (!grown)
            {
                ok = FALSE;
                break;
            }
            names->names = grown;
        }
        if (!(names->names[names->count] = heap_strdup(data.cFileName)))
        {
            ok = FALSE;
            break;
        }
        names->count++;
    } while (FindNextFileW(find, &data));
    FindClose(find);
    if (!ok)
    {
        tempfile_names_clear(names);
        return FALSE;
    }
    qsort(names->names, names->count, sizeof(*names->names), compare_names);
    wcscpy(names->folder, folder);
    names->listed = TRUE;
    return TRUE;
}

/* The name to rename the temporary file to: `local`'s exact name (heap, in *exact) when its
 * folder, as `names` lists it, holds no name that matches it in another case; NULL otherwise
 * (the name as given, looked up as Windows does). */
static void rename_target(const WCHAR *local, struct folder_names *names, WCHAR **exact)
{
    size_t len = path_dir_length(local);
    WCHAR folder[MAX_PATH];
    const WCHAR *leaf = local + len + 1;
    BOOL listed = TRUE, found = FALSE;

    *exact = NULL;
    if (!names || len == 0 || len >= MAX_PATH - 1 || local[len] != '\\')
        return;
    InitOnceExecuteOnce(&unix_once, find_unix_names, NULL, NULL);
    if (!unix_name_of)
        return;
    memcpy(folder, local, len * sizeof(WCHAR));
    folder[len] = 0;
    /* Complete's threads share the listing: one of them lists, the others look it up. */
    AcquireSRWLockShared(&names->lock);
    if (names->listed && !_wcsicmp(names->folder, folder))
        found = !!bsearch(&leaf, names->names, names->count, sizeof(*names->names), compare_names);
    else
        listed = FALSE;
    ReleaseSRWLockShared(&names->lock);
    if (!listed)
    {
        AcquireSRWLockExclusive(&names->lock);
        if ((listed =
                 (names->listed && !_wcsicmp(names->folder, folder)) || list_folder(folder, names)))
            found =
                !!bsearch(&leaf, names->names, names->count, sizeof(*names->names), compare_names);
        ReleaseSRWLockExclusive(&names->lock);
    }
    if (listed && !found)
        exact_name(local, exact);
}

HRESULT tempfile_commit(const WCHAR *temp, const struct file_identity *id, const WCHAR *local,
                        struct folder_names *names)
{
    FILE_BASIC_INFO basic = {.FileAttributes = FILE_ATTRIBUTE_NORMAL};
    FILE_RENAME_INFO *rename;
    const WCHAR *target;
    WCHAR *exact = NULL;
    size_t len;
    BOOL unhidden;
    HANDLE file;
    HRESULT hr;

    if (wcslen(local) >= MAX_PATH)
        return E_INVALIDARG;
    hr = open_for_change(temp, id, FILE_WRITE_ATTRIBUTES, &file);
    /* A DACL copied from the source (SetFileACLFlags) may not let the user change attributes:
     * the file is delivered all the same, hidden. */
    if (hr == HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED))
        hr = open_for_change(temp, id, 0, &file);
    if (hr != S_OK)
        return hr == S_FALSE ? HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND) : hr;
    rename_target(local, names, &exact);
    target = exact ? exact : local;
    len = wcslen(target);
    if (!(rename = heap_alloc_zero(sizeof(*rename) + (len + 1) * sizeof(WCHAR))))
    {
        heap_free(exact);
        CloseHandle(file);
        return E_OUTOFMEMORY;
    }
    rename->ReplaceIfExists = TRUE;
    rename->FileNameLength = len * sizeof(WCHAR);
    memcpy(rename->FileName, target, (len + 1) * sizeof(WCHAR));
    heap_free(exact);
    /* The delivered file is not hidden; a file that stays (the rename failed) hides again. */
    unhidden = SetFileInformationByHandle(file, FileBasicInfo, &basic, sizeof(basic));
    if (!SetFileInformationByHandle(file, FileRenameInfo, rename,
                                    sizeof(*rename) + rename->FileNameLength))
    {
        hr = last_error();
        basic.FileAttributes = FILE_ATTRIBUTE_HIDDEN;
        if (unhidden)
            SetFileInformationByHandle(file, FileBasicInfo, &basic, sizeof(basic));
    }
    heap_free(rename);
    CloseHandle(file);
    return hr;
}

/* Is the ACE's SID the well-known one? (ACCESS_ALLOWED and ACCESS_DENIED ACEs.) */
static BOOL ace_names(const ACCESS_ALLOWED_ACE *ace, WELL_KNOWN_SID_TYPE which)
{
    BYTE sid[SECURITY_MAX_SID_SIZE];
    DWORD size = sizeof(sid);

    return CreateWellKnownSid(which, NULL, sid, &size) && EqualSid((PSID)&ace->SidStart, sid);
}

/* The user's SID (owner of the files the engine makes) and primary group, from the thread's
 * token or else the process's; or the user's default DACL in *fallback (heap), when asked. */
static HRESULT token_facts(BYTE *user, BYTE *group, TOKEN_DEFAULT_DACL **fallback)
{
    BYTE buffer[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
    HANDLE token;
    DWORD size = 0;
    HRESULT hr = S_OK;

    if (!OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &token) &&
        !OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
        return last_error();
    if (!GetTokenInformation(token, TokenUser, buffer, sizeof(buffer), &size) ||
        !CopySid(SECURITY_MAX_SID_SIZE, user, ((TOKEN_USER *)buffer)->User.Sid) ||
        !GetTokenInformation(token, TokenPrimaryGroup, buffer, sizeof(buffer), &size) ||
        !CopySid(SECURITY_MAX_SID_SIZE, group, ((TOKEN_PRIMARY_GROUP *)buffer)->PrimaryGroup))
        hr = last_error();
    if (SUCCEEDED(hr) && fallback)
    {
        size = 0;
        GetTokenInformation(token, TokenDefaultDacl, NULL, 0, &size);
        if (size && (*fallback = heap_alloc_zero(size)) &&
            !GetTokenInformation(token, TokenDefaultDacl, *fallback, size, &size))
        {
            heap_free(*fallback);
            *fallback = NULL;
        }
    }
    CloseHandle(token);
    return hr;
}

/* The DACL a new file gets in a folder whose DACL is `parent`, as Windows derives it: each entry
 * the folder gives its files (OBJECT_INHERIT_ACE), marked inherited and no longer inheritable,
 * with CREATOR OWNER and CREATOR GROUP replaced by the file's owner and group and generic
 * rights mapped to file rights. S_FALSE (and no ACL) when the folder gives its files nothing. */
static HRESULT inherited_dacl(const ACL *parent, PSID owner, PSID group, ACL **out)
{
    GENERIC_MAPPING mapping = {FILE_GENERIC_READ, FILE_GENERIC_WRITE, FILE_GENERIC_EXECUTE,
                               FILE_ALL_ACCESS};
    DWORD size = sizeof(ACL), count = 0;
    ACE_HEADER *header;
    ACL *acl;

    *out = NULL;
    for (DWORD i = 0; parent && i < parent->AceCount; i++)
    {
        if (GetAce((ACL *)parent, i, (void **)&header) && (header->AceFlags & OBJECT_INHERIT_ACE))
        {
            size += header->AceSize + SECURITY_MAX_SID_SIZE;
            count++;
        }
    }
    if (!count)
        return S_FALSE;
    if (!(acl = heap_alloc_zero(size)) || !InitializeAcl(acl, size, ACL_REVISION))
    {
        heap_free(acl);
        return E_OUTOFMEMORY;
    }
    for (DWORD i = 0; i < parent->AceCount; i++)
    {
        ACCESS_ALLOWED_ACE *ace;
        BOOL ok = TRUE;

        if (!GetAce((ACL *)parent, i, (void **)&header) || !(header->AceFlags & OBJECT_INHERIT_ACE))
            continue;
        ace = (ACCESS_ALLOWED_ACE *)header;
        if (header->AceType == ACCESS_ALLOWED_ACE_TYPE || header->AceType == ACCESS_DENIED_ACE_TYPE)
        {
            ACCESS_MASK mask = ace->Mask;
            PSID sid = (PSID)&ace->SidStart;

            if (ace_names(ace, WinCreatorOwnerSid))
                sid = owner;
            else if (ace_names(ace, WinCreatorGroupSid))
                sid = group;
            MapGenericMask(&mask, &mapping);
            ok = header->AceType == ACCESS_ALLOWED_ACE_TYPE
                     ? AddAccessAllowedAceEx(acl, ACL_REVISION, INHERITED_ACE, mask, sid)
                     : AddAccessDeniedAceEx(acl, ACL_REVISION, INHERITED_ACE, mask, sid);
        }
        else
        {
            /* Other kinds (object, callback ACEs) are carried as they are, inherited. */
            ACE_HEADER *copy;
            ok = AddAce(acl, ACL_REVISION, MAXDWORD, header, header->AceSize) &&
                 GetAce(acl, acl->AceCount - 1, (void **)&copy);
            if (ok)
                copy->AceFlags = (copy->AceFlags & ~VALID_INHERIT_FLAGS) | INHERITED_ACE;
        }
        if (!ok)
        {
            HRESULT hr = last_error();
            heap_free(acl);
            return hr;
        }
    }
    *out = acl;
    return S_OK;
}

/* Reads the folder's DACL and derives what its new files get, into the cache. */
static HRESULT read_folder_acl(const WCHAR *folder, struct folder_acl *cache)
{
    SECURITY_DESCRIPTOR_CONTROL control = 0;
    PSECURITY_DESCRIPTOR descriptor = NULL;
    BYTE owner[SECURITY_MAX_SID_SIZE], group[SECURITY_MAX_SID_SIZE];
    TOKEN_DEFAULT_DACL *fallback = NULL;
    ACL *folder_dacl = NULL, *dacl = NULL;
    DWORD revision, err;
    HRESULT hr;

    tempfile_acl_clear(cache);
    if ((err = GetNamedSecurityInfoW(folder, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL,
                                     &folder_dacl, NULL, &descriptor)))
        return HRESULT_FROM_WIN32(err);
    GetSecurityDescriptorControl(descriptor, &control, &revision);
    if (SUCCEEDED(hr = token_facts(owner, group, &fallback)) &&
        (hr = inherited_dacl(folder_dacl, owner, group, &dacl)) == S_FALSE)
    {
        /* A folder that gives its files nothing: a new file there gets the owner's default
         * DACL, and so does this one. An empty DACL if the token has none. */
        ACL *source = fallback ? fallback->DefaultDacl : NULL;
        DWORD size = source ? source->AclSize : sizeof(ACL);

        if (!(dacl = heap_alloc_zero(size)))
            hr = E_OUTOFMEMORY;
        else
        {
            if (source)
                memcpy(dacl, source, size);
            else
                InitializeAcl(dacl, size, ACL_REVISION);
            hr = S_OK;
            control = 0;
        }
    }
    heap_free(fallback);
    LocalFree(descriptor);
    if (FAILED(hr))
        return hr;
    wcscpy(cache->folder, folder);
    cache->dacl = dacl;
    cache->auto_inherited = (control & SE_DACL_AUTO_INHERITED) != 0;
    cache->read_at = GetTickCount64();
    return S_OK;
}

void tempfile_acl_clear(struct folder_acl *cache)
{
    heap_free(cache->dacl);
    memset(cache, 0, sizeof(*cache));
}

HRESULT tempfile_inherit_acl(HANDLE file, const WCHAR *temp, struct folder_acl *cache)
{
    WCHAR folder[MAX_PATH];
    SECURITY_DESCRIPTOR sd;
    size_t len = path_dir_length(temp);
    HRESULT hr;

    if (len == 2)
        len = 3;
    if (len == 0 || len >= ARRAY_SIZE(folder))
        return E_INVALIDARG;
    memcpy(folder, temp, len * sizeof(WCHAR));
    folder[len] = 0;
    if ((!cache->dacl || _wcsicmp(cache->folder, folder) ||
         GetTickCount64() - cache->read_at >= FOLDER_ACL_MS) &&
        FAILED(hr = read_folder_acl(folder, cache)))
        return hr;
    /* Set as it is, through the handle: SetSecurityInfo would derive the inherited entries
     * again from the folder for every file (under Wine about a dozen calls to its server). The
     * entries are marked inherited and the DACL no longer protected: what the folder gives. */
    if (!InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION) ||
        !SetSecurityDescriptorDacl(&sd, TRUE, cache->dacl, FALSE) ||
        !SetSecurityDescriptorControl(&sd, SE_DACL_AUTO_INHERITED | SE_DACL_PROTECTED,
                                      cache->auto_inherited ? SE_DACL_AUTO_INHERITED : 0) ||
        !SetKernelObjectSecurity(file, DACL_SECURITY_INFORMATION, &sd))
        return last_error();
    return S_OK;
}
