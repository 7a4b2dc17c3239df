/* SPDX-License-Identifier: MIT */
/* Self-registration with regsvr32 in the Wine prefix, activation by CLSID and ProgID, typelib. */
#include "testutil.h"

#define CLSID_KEY L"CLSID\\{4C47EEE6-B55D-411B-BECC-F1272EBF34DE}"
#define CLSID_TEXT L"{4C47EEE6-B55D-411B-BECC-F1272EBF34DE}"
#define TYPELIB_KEY L"TypeLib\\{72D72FCB-BC24-44B4-84A0-38411B90EB4B}"
#define MANAGER_INTERFACE_KEY L"Interface\\{5CE34C0D-0DC9-4C1F-897C-DAA1B78CEE7C}"

#define MAX_TYPES 64

static WCHAR dll_path[MAX_PATH];

/* Interfaces described by our type library, and whether HKCR\Interface had each before. */
static struct
{
    GUID iid;
    BOOL existed;
    BOOL automation; /* ours, [dual, oleautomation]: registered with the typelib marshaler */
} interfaces[MAX_TYPES];
static UINT interface_count;

static BOOL key_exists(const WCHAR *key)
{
    HKEY hkey;

    if (RegOpenKeyExW(HKEY_CLASSES_ROOT, key, 0, KEY_READ, &hkey))
        return FALSE;
    RegCloseKey(hkey);
    return TRUE;
}

static void interface_key(const GUID *iid, WCHAR *key, size_t size)
{
    WCHAR text[40];

    StringFromGUID2(iid, text, ARRAY_SIZE(text));
    swprintf(key, size, L"Interface\\%ls", text);
}

/* Asserts HKCR\key's value `name` (NULL: the default value), case-insensitively. */
static void check_value(const WCHAR *key, const WCHAR *name, const WCHAR *expected)
{
    WCHAR value[MAX_PATH * 2];
    DWORD size = sizeof(value);
    LSTATUS status;

    status = RegGetValueW(HKEY_CLASSES_ROOT, key, name, RRF_RT_REG_SZ, NULL, value, &size);
    if (status)
        fail_msg("HKCR\\%ls [%ls]: missing (%ld)", key, name ? name : L"(default)", (long)status);
    if (_wcsicmp(value, expected))
        fail_msg("HKCR\\%ls [%ls] = \"%ls\", expected \"%ls\"", key, name ? name : L"(default)",
                 value, expected);
}

/* Runs `regsvr32 /s [/u] <dll>` from the prefix's system32 and waits for it. */
static void regsvr32(BOOL unregister)
{
    WCHAR exe[MAX_PATH], command[MAX_PATH * 3];
    PROCESS_INFORMATION pi;
    STARTUPINFOW si;
    DWORD code = 0xdead;

    GetSystemDirectoryW(exe, ARRAY_SIZE(exe));
    wcscat(exe, L"\\regsvr32.exe");
    swprintf(command, ARRAY_SIZE(command), L"\"%ls\" /s %ls\"%ls\"", exe, unregister ? L"/u " : L"",
             dll_path);
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    if (!CreateProcessW(exe, command, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
        fail_msg("cannot start %ls: %lu", command, GetLastError());
    if (WaitForSingleObject(pi.hProcess, 60000) != WAIT_OBJECT_0)
    {
        TerminateProcess(pi.hProcess, 1);
        fail_msg("%ls did not finish within 60 s", command);
    }
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    if (code)
        fail_msg("%ls exited with %lu", command, code);
}

/* The type library straight from the DLL, without touching the registry. */
static ITypeLib *load_typelib(void)
{
    ITypeLib *typelib = NULL;

    assert_hr(S_OK, LoadTypeLibEx(dll_path, REGKIND_NONE, &typelib));
    assert_non_null(typelib);
    return typelib;
}

/* HKCR\TypeLib\{LIBID}\1.0\0\win64 names the DLL. Wine's RegisterTypeLib writes the path it
 * loaded the library from, which may carry a \\?\ prefix; both forms name the same file. */
static void check_typelib_path(void)
{
    WCHAR value[MAX_PATH * 2];
    DWORD size = sizeof(value);
    const WCHAR *path = value;

    assert_int_equal(RegGetValueW(HKEY_CLASSES_ROOT, TYPELIB_KEY L"\\1.0\\0\\win64", NULL,
                                  RRF_RT_REG_SZ, NULL, value, &size),
                     ERROR_SUCCESS);
    if (!wcsncmp(path, L"\\\\?\\", 4))
        path += 4;
    if (_wcsicmp(path, dll_path))
        fail_msg("the type library is registered as \"%ls\", expected \"%ls\"", value, dll_path);
}

#define OUR_PROXIES L"{481CC7DE-B793-4C69-AA1F-D284E9E05EAB}"
#define WINE_PROXIES L"{5CE34C0D-0DC9-4C1F-897C-DAA1B78CEE7C}"
#define JOB5_PROXY L"Interface\\{E847030C-BBBA-4657-AF6D-484AA42BF1FE}\\ProxyStubClsid32"
#define MANAGER_PROXY MANAGER_INTERFACE_KEY L"\\ProxyStubClsid32"
#define ENUM_JOBS_PROXY L"Interface\\{1AF4F612-3B71-466F-8F58-7B6F73AC57AD}\\ProxyStubClsid32"

static BOOL value_exists(const WCHAR *key, const WCHAR *name)
{
    return !RegGetValueW(HKEY_CLASSES_ROOT, key, name, RRF_RT_ANY, NULL, NULL, NULL);
}

/* Ours where the prefix had no proxy (Job5), Wine's kept where it has a working one (the
 * manager), and Wine's broken enumerator proxies replaced with theirs kept aside. */
static void check_proxies_registered(void)
{
    check_value(L"CLSID\\" OUR_PROXIES L"\\InprocServer32", NULL, dll_path);
    check_value(JOB5_PROXY, NULL, OUR_PROXIES);
    check_value(MANAGER_PROXY, NULL, WINE_PROXIES);
    check_value(ENUM_JOBS_PROXY, NULL, OUR_PROXIES);
    check_value(ENUM_JOBS_PROXY, L"OpenDO.Replaced", WINE_PROXIES);
}

static void check_proxies_unregistered(void)
{
    assert_false(key_exists(L"CLSID\\" OUR_PROXIES));
    assert_false(key_exists(JOB5_PROXY));
    check_value(MANAGER_PROXY, NULL, WINE_PROXIES);
    check_value(ENUM_JOBS_PROXY, NULL, WINE_PROXIES);
    assert_false(value_exists(ENUM_JOBS_PROXY, L"OpenDO.Replaced"));
}

static void check_registered(void)
{
    check_value(CLSID_KEY L"\\InprocServer32", NULL, dll_path);
    check_value(CLSID_KEY L"\\InprocServer32", L"ThreadingModel", L"Both");
    check_value(CLSID_KEY L"\\ProgID", NULL, L"OpenDO.Manager.1");
    check_value(CLSID_KEY L"\\VersionIndependentProgID", NULL, L"OpenDO.Manager");
    check_value(CLSID_KEY L"\\TypeLib", NULL, L"{72D72FCB-BC24-44B4-84A0-38411B90EB4B}");
    /* The surrogate: CLSCTX_LOCAL_SERVER runs the DLL in Wine's 64-bit dllhost. */
    check_value(CLSID_KEY, L"AppID", L"{0892FCB0-7375-455D-9004-C852619C5838}");
    check_value(L"AppID\\{0892FCB0-7375-455D-9004-C852619C5838}", L"DllSurrogate",
                L"C:\\windows\\system32\\dllhost.exe");
    check_proxies_registered();
    check_value(L"OpenDO.Manager\\CLSID", NULL, CLSID_TEXT);
    check_value(L"OpenDO.Manager\\CurVer", NULL, L"OpenDO.Manager.1");
    check_value(L"OpenDO.Manager.1\\CLSID", NULL, CLSID_TEXT);
    assert_true(key_exists(TYPELIB_KEY));
    check_typelib_path();
}

static void check_unregistered(void)
{
    assert_false(key_exists(CLSID_KEY));
    assert_false(key_exists(L"OpenDO.Manager"));
    assert_false(key_exists(L"OpenDO.Manager.1"));
    assert_false(key_exists(TYPELIB_KEY));
    assert_false(key_exists(L"AppID\\{0892FCB0-7375-455D-9004-C852619C5838}"));
    check_proxies_unregistered();
}

/* Registration must leave every HKCR\Interface key of the typelib's BITS interfaces as it was:
 * they belong to the system's BITS proxies, not to us. Our automation interfaces are marshaled
 * by the typelib marshaler while the DLL is registered, and gone when it is not. */
static void check_interface_keys(BOOL registered)
{
    WCHAR key[80], sub[120];

    for (UINT i = 0; i < interface_count; i++)
    {
        interface_key(&interfaces[i].iid, key, ARRAY_SIZE(key));
        if (interfaces[i].automation)
        {
            if (key_exists(key) != registered)
                fail_msg("HKCR\\%ls %s", key, registered ? "is missing" : "was left");
            swprintf(sub, ARRAY_SIZE(sub), L"%ls\\ProxyStubClsid32", key);
            if (registered)
                check_value(sub, NULL, L"{00020424-0000-0000-C000-000000000046}");
        }
        else if (key_exists(key) != interfaces[i].existed)
            fail_msg("HKCR\\%ls %s", key, interfaces[i].existed ? "was removed" : "was added");
    }
}

/* Creates the class through COM and proves it works by creating and cancelling a job. */
static void check_activation(const CLSID *clsid)
{
    IBackgroundCopyManager *manager = NULL;
    IBackgroundCopyJob *job;
    GUID id;

    assert_hr(S_OK, CoCreateInstance(clsid, NULL, CLSCTX_INPROC_SERVER, &IID_IBackgroundCopyManager,
                                     (void **)&manager));
    assert_non_null(manager);
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"registered", BG_JOB_TYPE_DOWNLOAD,
                                                     &id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
}

static int setup_dll(void **state)
{
    ITypeLib *typelib;
    TYPEATTR *attr;
    ITypeInfo *info;
    WCHAR key[80];
    UINT count;

    if (tu_com_setup(state))
        return -1;
    if (!GetFullPathNameW(L"opendo.dll", ARRAY_SIZE(dll_path), dll_path, NULL) ||
        !tu_exists(dll_path))
        return -1;
    /* Remember which of the typelib's interfaces the prefix knew before we touch anything. */
    if (FAILED(LoadTypeLibEx(dll_path, REGKIND_NONE, &typelib)))
        return -1;
    count = ITypeLib_GetTypeInfoCount(typelib);
    for (UINT i = 0; i < count && interface_count < MAX_TYPES; i++)
    {
        if (FAILED(ITypeLib_GetTypeInfo(typelib, i, &info)))
            continue;
        if (SUCCEEDED(ITypeInfo_GetTypeAttr(info, &attr)))
        {
            if (attr->typekind == TKIND_INTERFACE || attr->typekind == TKIND_DISPATCH)
            {
                interfaces[interface_count].iid = attr->guid;
                interfaces[interface_count].automation =
                    (attr->wTypeFlags & (TYPEFLAG_FDUAL | TYPEFLAG_FOLEAUTOMATION)) != 0;
                interface_key(&attr->guid, key, ARRAY_SIZE(key));
                interfaces[interface_count++].existed = key_exists(key);
            }
            ITypeInfo_ReleaseTypeAttr(info, attr);
        }
        ITypeInfo_Release(info);
    }
    ITypeLib_Release(typelib);
    return 0;
}

/* Whatever happened in the test, the prefix ends with the DLL registered. */
static int reregister(void **state)
{
    regsvr32(FALSE);
    return 0;
}

static void test_register_cycle(void **state)
{
    BOOL had_manager_interface = key_exists(MANAGER_INTERFACE_KEY);
    IUnknown *unknown = (void *)0xdeadbeef;
    CLSID clsid;

    regsvr32(FALSE);
    check_registered();
    check_interface_keys(TRUE);
    check_activation(&CLSID_OpenDOManager);
    assert_hr(S_OK, CLSIDFromProgID(L"OpenDO.Manager", &clsid));
    assert_true(IsEqualCLSID(&clsid, &CLSID_OpenDOManager));
    check_activation(&clsid);
    assert_hr(S_OK, CLSIDFromProgID(L"OpenDO.Manager.1", &clsid));
    assert_true(IsEqualCLSID(&clsid, &CLSID_OpenDOManager));

    /* Registering again changes nothing. */
    regsvr32(FALSE);
    check_registered();
    check_interface_keys(TRUE);
    check_activation(&CLSID_OpenDOManager);

    regsvr32(TRUE);
    check_unregistered();
    check_interface_keys(FALSE);
    assert_int_equal(key_exists(MANAGER_INTERFACE_KEY), had_manager_interface);
    assert_hr(REGDB_E_CLASSNOTREG,
              CoCreateInstance(&CLSID_OpenDOManager, NULL, CLSCTX_INPROC_SERVER, &IID_IUnknown,
                               (void **)&unknown));
    assert_null(unknown);
    assert_hr(CO_E_CLASSSTRING, CLSIDFromProgID(L"OpenDO.Manager", &clsid));

    /* Unregistering what is not registered is harmless. */
    regsvr32(TRUE);
    check_unregistered();
    check_interface_keys(FALSE);

    /* And back (the teardown does it again, in case this test stopped half way). */
    regsvr32(FALSE);
    check_registered();
    check_interface_keys(TRUE);
    check_activation(&CLSID_OpenDOManager);
}

static void test_typelib(void **state)
{
    ITypeLib *typelib = load_typelib();
    ITypeInfo *coclass, *iface;
    TYPEATTR *attr;
    TLIBATTR *lib;
    HREFTYPE href;
    INT flags;
    BSTR name;

    assert_hr(S_OK, ITypeLib_GetLibAttr(typelib, &lib));
    assert_true(IsEqualGUID(&lib->guid, &LIBID_OpenDOLib));
    assert_int_equal(lib->wMajorVerNum, 1);
    assert_int_equal(lib->wMinorVerNum, 0);
    ITypeLib_ReleaseTLibAttr(typelib, lib);

    assert_hr(S_OK, ITypeLib_GetTypeInfoOfGuid(typelib, &CLSID_OpenDOManager, &coclass));
    assert_hr(S_OK, ITypeInfo_GetTypeAttr(coclass, &attr));
    assert_int_equal(attr->typekind, TKIND_COCLASS);
    assert_int_equal(attr->cImplTypes, 2);
    ITypeInfo_ReleaseTypeAttr(coclass, attr);
    assert_hr(S_OK, ITypeInfo_GetDocumentation(coclass, MEMBERID_NIL, &name, NULL, NULL, NULL));
    assert_int_equal(wcscmp(name, L"OpenDOManager"), 0);
    SysFreeString(name);

    /* Its default interface is IOpenDOManager, for scripts; IBackgroundCopyManager follows. */
    assert_hr(S_OK, ITypeInfo_GetImplTypeFlags(coclass, 0, &flags));
    assert_true(flags & IMPLTYPEFLAG_FDEFAULT);
    assert_hr(S_OK, ITypeInfo_GetRefTypeOfImplType(coclass, 0, &href));
    assert_hr(S_OK, ITypeInfo_GetRefTypeInfo(coclass, href, &iface));
    assert_hr(S_OK, ITypeInfo_GetTypeAttr(iface, &attr));
    assert_true(IsEqualGUID(&attr->guid, &IID_IOpenDOManager));
    assert_int_equal(attr->typekind, TKIND_DISPATCH);
    assert_true(attr->wTypeFlags & TYPEFLAG_FDUAL);
    ITypeInfo_ReleaseTypeAttr(iface, attr);
    ITypeInfo_Release(iface);

    assert_hr(S_OK, ITypeInfo_GetImplTypeFlags(coclass, 1, &flags));
    assert_false(flags & IMPLTYPEFLAG_FDEFAULT);
    assert_hr(S_OK, ITypeInfo_GetRefTypeOfImplType(coclass, 1, &href));
    assert_hr(S_OK, ITypeInfo_GetRefTypeInfo(coclass, href, &iface));
    assert_hr(S_OK, ITypeInfo_GetTypeAttr(iface, &attr));
    assert_true(IsEqualGUID(&attr->guid, &IID_IBackgroundCopyManager));
    assert_int_equal(attr->typekind, TKIND_INTERFACE);
    /* Slots 3..6: CreateJob, GetJob, EnumJobs, GetErrorDescription. */
    assert_int_equal(attr->cFuncs, 4);
    ITypeInfo_ReleaseTypeAttr(iface, attr);
    ITypeInfo_Release(iface);
    ITypeInfo_Release(coclass);
    ITypeLib_Release(typelib);
}

/* ---- DllInstall: the opt-in registration under CLSID_DeliveryOptimization ---- */

#define DO_KEY L"CLSID\\{5B99FA76-721C-423C-ADAC-56D03C8A8007}"

/* Runs `regsvr32 <arguments> <dll>` and returns its exit code. */
static DWORD regsvr32_with(const WCHAR *arguments)
{
    WCHAR exe[MAX_PATH], command[MAX_PATH * 3];
    PROCESS_INFORMATION pi;
    STARTUPINFOW si = {sizeof(si)};
    DWORD code = 0xdead;

    GetSystemDirectoryW(exe, ARRAY_SIZE(exe));
    wcscat(exe, L"\\regsvr32.exe");
    swprintf(command, ARRAY_SIZE(command), L"\"%ls\" %ls \"%ls\"", exe, arguments, dll_path);
    if (!CreateProcessW(exe, command, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
        fail_msg("cannot start %ls: %lu", command, GetLastError());
    if (WaitForSingleObject(pi.hProcess, 60000) != WAIT_OBJECT_0)
    {
        TerminateProcess(pi.hProcess, 1);
        fail_msg("%ls did not finish within 60 s", command);
    }
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    return code;
}

static HRESULT dll_install(BOOL install, const WCHAR *command)
{
    HRESULT(WINAPI * install_fn)(BOOL, LPCWSTR);

    install_fn = (void *)GetProcAddress(tu_dll(), "DllInstall");
    assert_non_null(install_fn);
    return install_fn(install, command);
}

static void set_string(const WCHAR *key, const WCHAR *name, const WCHAR *value)
{
    assert_int_equal(0, RegSetKeyValueW(HKEY_CLASSES_ROOT, key, name, REG_SZ, value,
                                        (wcslen(value) + 1) * sizeof(WCHAR)));
}

/* A DO manager: asks for an unknown job and must hear the DO code. */
static void check_do_dialect(void)
{
    IBackgroundCopyManager *manager = NULL;
    IBackgroundCopyJob *job = (void *)0xdeadbeef;
    GUID unknown;

    assert_hr(S_OK, CoCreateInstance(&CLSID_DeliveryOptimization, NULL, CLSCTX_INPROC_SERVER,
                                     &IID_IBackgroundCopyManager, (void **)&manager));
    assert_hr(S_OK, CoCreateGuid(&unknown));
    assert_hr(DO_E_JOB_NOT_FOUND, IBackgroundCopyManager_GetJob(manager, &unknown, &job));
    assert_null(job);
    IBackgroundCopyManager_Release(manager);
}

static int remove_do_key(void **state)
{
    RegDeleteTreeW(HKEY_CLASSES_ROOT, DO_KEY);
    RegDeleteKeyW(HKEY_CLASSES_ROOT, DO_KEY);
    return 0;
}

static void test_dosvc_install(void **state)
{
    IUnknown *unknown = (void *)0xdeadbeef;

    /* A prefix without Delivery Optimization: nothing is there, activation fails. */
    assert_false(key_exists(DO_KEY));
    assert_hr(REGDB_E_CLASSNOTREG,
              CoCreateInstance(&CLSID_DeliveryOptimization, NULL, CLSCTX_INPROC_SERVER,
                               &IID_IUnknown, (void **)&unknown));

    /* Plain registration never touches the class. */
    assert_int_equal(0, regsvr32_with(L"/s"));
    assert_false(key_exists(DO_KEY));

    /* Opt in through regsvr32's DllInstall switch. */
    assert_int_equal(0, regsvr32_with(L"/s /n /i:dosvc"));
    check_value(DO_KEY L"\\InprocServer32", NULL, dll_path);
    check_value(DO_KEY L"\\InprocServer32", L"ThreadingModel", L"Both");
    check_do_dialect();
    /* Installing twice is harmless; plain unregistration leaves it alone. */
    assert_int_equal(0, regsvr32_with(L"/s /n /i:dosvc"));
    assert_int_equal(0, regsvr32_with(L"/s /u"));
    check_value(DO_KEY L"\\InprocServer32", NULL, dll_path);
    assert_int_equal(0, regsvr32_with(L"/s"));

    /* Undo: only DllInstall's uninstall removes it. */
    assert_int_equal(0, regsvr32_with(L"/s /u /n /i:dosvc"));
    assert_false(key_exists(DO_KEY));
}

static void test_dosvc_refuses_foreign(void **state)
{
    /* Another server owns the class: refused without force, and nothing changes. */
    set_string(DO_KEY L"\\LocalServer32", NULL, L"C:\\windows\\system32\\dosvc-stand-in.exe");
    assert_hr(HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS), dll_install(TRUE, L"dosvc"));
    check_value(DO_KEY L"\\LocalServer32", NULL, L"C:\\windows\\system32\\dosvc-stand-in.exe");
    assert_false(key_exists(DO_KEY L"\\InprocServer32"));
    assert_int_not_equal(0, regsvr32_with(L"/s /n /i:dosvc"));
    assert_false(key_exists(DO_KEY L"\\InprocServer32"));

    /* Uninstalling does not remove someone else's registration. */
    assert_hr(S_OK, dll_install(FALSE, L"dosvc"));
    assert_true(key_exists(DO_KEY L"\\LocalServer32"));

    /* With force, ours replaces it entirely. */
    assert_hr(S_OK, dll_install(TRUE, L"DOSVC,force"));
    assert_false(key_exists(DO_KEY L"\\LocalServer32"));
    check_value(DO_KEY L"\\InprocServer32", NULL, dll_path);
    check_do_dialect();
    check_value(DO_KEY, L"AppID", L"{0892FCB0-7375-455D-9004-C852619C5838}");
    /* Uninstalling puts back exactly what was replaced. */
    assert_hr(S_OK, dll_install(FALSE, L"dosvc"));
    check_value(DO_KEY L"\\LocalServer32", NULL, L"C:\\windows\\system32\\dosvc-stand-in.exe");
    assert_false(key_exists(DO_KEY L"\\InprocServer32"));
    remove_do_key(NULL);
    assert_false(key_exists(DO_KEY));

    /* Bad command lines. */
    assert_hr(E_INVALIDARG, dll_install(TRUE, L"bogus"));
    assert_hr(E_INVALIDARG, dll_install(TRUE, NULL));
    assert_false(key_exists(DO_KEY));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_register_cycle, reregister),
        cmocka_unit_test(test_typelib),
        cmocka_unit_test_teardown(test_dosvc_install, remove_do_key),
        cmocka_unit_test_teardown(test_dosvc_refuses_foreign, remove_do_key),
    };
    return cmocka_run_group_tests(tests, setup_dll, tu_com_teardown);
}
