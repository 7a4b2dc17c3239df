/* SPDX-License-Identifier: MIT */
/* DllRegisterServer / DllUnregisterServer: the registry entries of the table below. */
#include <stdio.h>
#include <string.h>
#include <olectl.h>
#include "private.h"

struct class_registration
{
    const CLSID *clsid;
    const WCHAR *name;
    const WCHAR *progid;         /* versioned ProgID */
    const WCHAR *progid_current; /* version-independent ProgID */
};

static const struct class_registration classes[] = {
    {&CLSID_OpenDOManager, L"OpenDO Manager", OPENDO_PROGID_VERSIONED, OPENDO_PROGID},
};

HRESULT reg_set_value(HKEY root, const WCHAR *subkey, const WCHAR *name, const WCHAR *value)
{
    LSTATUS status;
    HKEY key;

    if ((status = RegCreateKeyExW(root, subkey, 0, NULL, 0, KEY_SET_VALUE, NULL, &key, NULL)))
        return HRESULT_FROM_WIN32(status);
    status = RegSetValueExW(key, name, 0, REG_SZ, (const BYTE *)value,
                            (wcslen(value) + 1) * sizeof(WCHAR));
    RegCloseKey(key);
    return HRESULT_FROM_WIN32(status);
}

HRESULT reg_delete_tree(HKEY root, const WCHAR *subkey)
{
    LSTATUS status = RegDeleteTreeW(root, subkey);

    if (status == ERROR_SUCCESS || status == ERROR_FILE_NOT_FOUND)
    {
        RegDeleteKeyW(root, subkey);
        return S_OK;
    }
    return HRESULT_FROM_WIN32(status);
}

static void clsid_key(const CLSID *clsid, WCHAR *key, size_t size)
{
    WCHAR text[40];

    StringFromGUID2(clsid, text, ARRAY_SIZE(text));
    swprintf(key, size, L"CLSID\\%ls", text);
}

/* TRUE in a Wine prefix (ntdll says so). */
BOOL reg_on_wine(void)
{
    return GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != NULL;
}

static void appid_key(WCHAR *key, size_t size)
{
    WCHAR text[40];

    StringFromGUID2(&APPID_OpenDO, text, ARRAY_SIZE(text));
    swprintf(key, size, L"AppID\\%ls", text);
}

/* The surrogate: CLSCTX_LOCAL_SERVER activation of a class with this AppID starts the system's
 * COM surrogate (dllhost.exe) with this DLL, one process for the user's clients. */
static HRESULT register_appid(void)
{
    WCHAR key[80], surrogate[MAX_PATH] = L"";
    UINT len;
    HRESULT hr;

    appid_key(key, ARRAY_SIZE(key));
    /* Windows reads an empty DllSurrogate as its own dllhost. Wine 8 reads it as the 32-bit
     * syswow64\dllhost.exe, which cannot load a 64-bit DLL (and is often missing): name the
     * surrogate of the DLL's own bitness there. */
    if (reg_on_wine())
    {
        len = GetSystemDirectoryW(surrogate, ARRAY_SIZE(surrogate));
        if (!len || len + 13 > ARRAY_SIZE(surrogate))
            return HRESULT_FROM_WIN32(ERROR_FILENAME_EXCED_RANGE);
        wcscat(surrogate, L"\\dllhost.exe");
    }
    if (FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, key, NULL, L"OpenDO")))
        return hr;
    return reg_set_value(HKEY_CLASSES_ROOT, key, L"DllSurrogate", surrogate);
}

/* A class key's AppID value: the class is served by the surrogate too. */
static HRESULT set_appid(const WCHAR *class_key)
{
    WCHAR text[40];

    StringFromGUID2(&APPID_OpenDO, text, ARRAY_SIZE(text));
    return reg_set_value(HKEY_CLASSES_ROOT, class_key, L"AppID", text);
}

static HRESULT register_class(const struct class_registration *reg, const WCHAR *module_path)
{
    WCHAR key[128], sub[160], clsid_text[40], libid_text[40];
    HRESULT hr;

    StringFromGUID2(reg->clsid, clsid_text, ARRAY_SIZE(clsid_text));
    StringFromGUID2(&LIBID_OpenDOLib, libid_text, ARRAY_SIZE(libid_text));
    clsid_key(reg->clsid, key, ARRAY_SIZE(key));

    if (FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, key, NULL, reg->name)))
        return hr;
    swprintf(sub, ARRAY_SIZE(sub), L"%ls\\InprocServer32", key);
    if (FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, sub, NULL, module_path)) ||
        FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, sub, L"ThreadingModel", L"Both")))
        return hr;
    swprintf(sub, ARRAY_SIZE(sub), L"%ls\\ProgID", key);
    if (FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, sub, NULL, reg->progid)))
        return hr;
    swprintf(sub, ARRAY_SIZE(sub), L"%ls\\VersionIndependentProgID", key);
    if (FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, sub, NULL, reg->progid_current)))
        return hr;
    swprintf(sub, ARRAY_SIZE(sub), L"%ls\\TypeLib", key);
    if (FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, sub, NULL, libid_text)) ||
        FAILED(hr = set_appid(key)))
        return hr;

    if (FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, reg->progid, NULL, reg->name)))
        return hr;
    swprintf(sub, ARRAY_SIZE(sub), L"%ls\\CLSID", reg->progid);
    if (FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, sub, NULL, clsid_text)))
        return hr;
    if (FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, reg->progid_current, NULL, reg->name)))
        return hr;
    swprintf(sub, ARRAY_SIZE(sub), L"%ls\\CLSID", reg->progid_current);
    if (FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, sub, NULL, clsid_text)))
        return hr;
    swprintf(sub, ARRAY_SIZE(sub), L"%ls\\CurVer", reg->progid_current);
    return reg_set_value(HKEY_CLASSES_ROOT, sub, NULL, reg->progid);
}

static BOOL installed_classes(void);

static HRESULT unregister_class(const struct class_registration *reg)
{
    WCHAR key[128];
    HRESULT hr, result = S_OK;

    clsid_key(reg->clsid, key, ARRAY_SIZE(key));
    if (FAILED(hr = reg_delete_tree(HKEY_CLASSES_ROOT, key)))
        result = hr;
    if (FAILED(hr = reg_delete_tree(HKEY_CLASSES_ROOT, reg->progid)))
        result = hr;
    if (FAILED(hr = reg_delete_tree(HKEY_CLASSES_ROOT, reg->progid_current)))
        result = hr;
    return result;
}

HRESULT WINAPI DllRegisterServer(void)
{
    WCHAR path[MAX_PATH];
    ITypeLib *typelib;
    HRESULT hr;

    if (!GetModuleFileNameW(module_handle(), path, ARRAY_SIZE(path)) ||
        GetLastError() == ERROR_INSUFFICIENT_BUFFER)
        return HRESULT_FROM_WIN32(ERROR_FILENAME_EXCED_RANGE);
    if (FAILED(hr = register_appid()))
    {
        ERR("registering the surrogate's AppID failed: %08lx", hr);
        return SELFREG_E_CLASS;
    }
    for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
    {
        if (FAILED(hr = register_class(&classes[i], path)))
        {
            ERR("registering %s failed: %08lx", debugstr_guid(classes[i].clsid), hr);
            return SELFREG_E_CLASS;
        }
    }
    if (FAILED(hr = proxy_register(path)))
    {
        ERR("registering the proxies failed: %08lx", hr);
        return SELFREG_E_CLASS;
    }
    /* The type library is the DLL's first TYPELIB resource. */
    if (FAILED(hr = LoadTypeLibEx(path, REGKIND_REGISTER, &typelib)))
    {
        ERR("registering the type library failed: %08lx", hr);
        return SELFREG_E_TYPELIB;
    }
    ITypeLib_Release(typelib);
    return S_OK;
}

HRESULT WINAPI DllUnregisterServer(void)
{
    HRESULT hr, result = S_OK;
    WCHAR key[80];

    for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
    {
        if (FAILED(hr = unregister_class(&classes[i])))
            result = SELFREG_E_CLASS;
    }
    /* The AppID and the proxies stay while a class that /i:dosvc or /i:bits pointed at us
     * still uses them. */
    appid_key(key, ARRAY_SIZE(key));
    if (!installed_classes() &&
        (FAILED(proxy_unregister()) || FAILED(reg_delete_tree(HKEY_CLASSES_ROOT, key))))
        result = SELFREG_E_CLASS;
    hr = UnRegisterTypeLib(&LIBID_OpenDOLib, 1, 0, LOCALE_NEUTRAL, SYS_WIN64);
    if (FAILED(hr) && hr != TYPE_E_REGISTRYACCESS && hr != TYPE_E_CANTLOADLIBRARY)
        WARN("unregistering the type library: %08lx", hr);
    return result;
}

/* ---- DllInstall: the opt-in registration under CLSID_DeliveryOptimization ---- */

/* Says why DllInstall refused, where a person can see it: the log and standard error. */
static void tell(const char *text)
{
    HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
    DWORD written;

    ERR("%s", text);
    if (err && err != INVALID_HANDLE_VALUE)
    {
        WriteFile(err, "opendo: ", 8, &written, NULL);
        WriteFile(err, text, strlen(text), &written, NULL);
        WriteFile(err, "\n", 1, &written, NULL);
    }
}

/* Reads the default value of HKCR\CLSID\{clsid}\<server>; FALSE if there is none. */
static BOOL read_server(const CLSID *clsid, const WCHAR *server, WCHAR *value, DWORD size)
{
    WCHAR key[128], sub[160];
    DWORD bytes = size * sizeof(WCHAR);

    clsid_key(clsid, key, ARRAY_SIZE(key));
    swprintf(sub, ARRAY_SIZE(sub), L"%ls\\%ls", key, server);
    value[0] = 0;
    /* RRF_NOEXPAND: RegGetValue refuses REG_EXPAND_SZ without it. */
    return !RegGetValueW(HKEY_CLASSES_ROOT, sub, NULL,
                         RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ | RRF_NOEXPAND, NULL, value, &bytes);
}

/* Where the classes that DllInstall replaced are kept (HKLM), each under its CLSID, so that
 * uninstalling puts them back as they were. */
#define SAVED_ROOT L"Software\\OpenDO\\SavedClasses"
/* Marks a saved class that did not exist: uninstalling deletes it. */
#define SAVED_ABSENT L"OpenDO.Absent"
/* The AppID of BITS, which Wine's builtin qmgr registers for CLSID_SystemBits. */
#define BITS_APPID L"{69AD4AEE-51BE-439B-A92C-86AE490E8B30}"

/* What serves a class now. */
enum server_kind
{
    SERVER_NONE,
    SERVER_OURS,
    SERVER_WINE_BITS, /* Wine's builtin BITS service */
    SERVER_OTHER,
};

static enum server_kind class_server(const CLSID *clsid, const WCHAR *module_path)
{
    WCHAR key[128], value[MAX_PATH], ours[40];
    DWORD bytes = sizeof(value);
    HKEY handle;

    if (read_server(clsid, L"InprocServer32", value, ARRAY_SIZE(value)))
        return _wcsicmp(value, module_path) ? SERVER_OTHER : SERVER_OURS;
    if (read_server(clsid, L"LocalServer32", value, ARRAY_SIZE(value)))
        return SERVER_OTHER;
    clsid_key(clsid, key, ARRAY_SIZE(key));
    if (RegOpenKeyExW(HKEY_CLASSES_ROOT, key, 0, KEY_READ, &handle))
        return SERVER_NONE;
    RegCloseKey(handle);
    if (RegGetValueW(HKEY_CLASSES_ROOT, key, L"AppID", RRF_RT_REG_SZ, NULL, value, &bytes))
        return SERVER_NONE;
    StringFromGUID2(&APPID_OpenDO, ours, ARRAY_SIZE(ours));
    if (!_wcsicmp(value, ours))
        return SERVER_OURS;
    /* On Windows the same AppID is the system's own BITS service. */
    if (!_wcsicmp(value, BITS_APPID) && reg_on_wine())
        return SERVER_WINE_BITS;
    return SERVER_OTHER;
}

/* Copies the class's registration aside (once: a second install keeps the first copy). */
static HRESULT save_class(const CLSID *clsid)
{
    WCHAR key[128], name[40];
    HKEY root, saved, source;
    LSTATUS status;
    DWORD one = 1, created;

    StringFromGUID2(clsid, name, ARRAY_SIZE(name));
    if ((status = RegCreateKeyExW(HKEY_LOCAL_MACHINE, SAVED_ROOT, 0, NULL, 0, KEY_ALL_ACCESS, NULL,
                                  &root, NULL)))
        return HRESULT_FROM_WIN32(status);
    status = RegCreateKeyExW(root, name, 0, NULL, 0, KEY_ALL_ACCESS, NULL, &saved, &created);
    RegCloseKey(root);
    if (status)
        return HRESULT_FROM_WIN32(status);
    if (created == REG_CREATED_NEW_KEY)
    {
        clsid_key(clsid, key, ARRAY_SIZE(key));
        if (!RegOpenKeyExW(HKEY_CLASSES_ROOT, key, 0, KEY_READ, &source))
        {
            status = RegCopyTreeW(source, NULL, saved);
            RegCloseKey(source);
        }
        else
            status =
                RegSetValueExW(saved, SAVED_ABSENT, 0, REG_DWORD, (const BYTE *)&one, sizeof(one));
    }
    RegCloseKey(saved);
    return HRESULT_FROM_WIN32(status);
}

/* Puts back what save_class kept, and forgets it. */
static HRESULT restore_class(const CLSID *clsid)
{
    WCHAR key[128], name[40], path[160];
    HKEY saved, target;
    LSTATUS status = ERROR_SUCCESS;

    StringFromGUID2(clsid, name, ARRAY_SIZE(name));
    swprintf(path, ARRAY_SIZE(path), L"%ls\\%ls", SAVED_ROOT, name);
    if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, path, 0, KEY_READ, &saved))
        return S_OK;
    if (RegQueryValueExW(saved, SAVED_ABSENT, NULL, NULL, NULL, NULL))
    {
        clsid_key(clsid, key, ARRAY_SIZE(key));
        if (!(status = RegCreateKeyExW(HKEY_CLASSES_ROOT, key, 0, NULL, 0, KEY_ALL_ACCESS, NULL,
                                       &target, NULL)))
        {
            status = RegCopyTreeW(saved, NULL, target);
            RegCloseKey(target);
        }
    }
    RegCloseKey(saved);
    if (status)
        return HRESULT_FROM_WIN32(status);
    reg_delete_tree(HKEY_LOCAL_MACHINE, path);
    /* The saved classes' folder goes with its last class. */
    RegDeleteKeyW(HKEY_LOCAL_MACHINE, SAVED_ROOT);
    RegDeleteKeyW(HKEY_LOCAL_MACHINE, L"Software\\OpenDO");
    return S_OK;
}

/* What DllInstall can put under the system's class IDs. */
struct install_set
{
    const WCHAR *command; /* "dosvc", "bits" */
    const WCHAR *name;    /* the classes' name in the registry */
    const CLSID *const *clsids;
    size_t count;
    const char *refusal; /* why a server of someone else's is not replaced */
};

static const CLSID *const dosvc_clsids[] = {&CLSID_DeliveryOptimization};
static const CLSID *const bits_clsids[] = {
    &CLSID_SystemBits,     &CLSID_SystemBits5_0,  &CLSID_SystemBits10_1,
    &CLSID_SystemBits10_2, &CLSID_SystemBits10_3,
};

static const struct install_set install_sets[] = {
    {L"dosvc", L"Delivery Optimization (OpenDO)", dosvc_clsids, ARRAY_SIZE(dosvc_clsids),
     "CLSID_DeliveryOptimization {5b99fa76-721c-423c-adac-56d03c8a8007} is already registered to "
     "another server; not replacing it. Use /i:dosvc,force to replace it."},
    {L"bits", L"Background Intelligent Transfer Service (OpenDO)", bits_clsids,
     ARRAY_SIZE(bits_clsids),
     "CLSID_SystemBits {4991d34b-80a1-4291-83b6-3328366b9097} (or a versioned BITS "
     "class) is served by something other than Wine's builtin BITS; not replacing it. Use "
     "/i:bits,force to replace it."},
};

static HRESULT install_classes(const struct install_set *set, const WCHAR *module_path, BOOL force)
{
    WCHAR key[128], sub[160];
    enum server_kind kind;
    HRESULT hr;

    for (size_t i = 0; i < set->count; i++)
    {
        if (class_server(set->clsids[i], module_path) != SERVER_OTHER)
            continue;
        if (!force)
        {
            tell(set->refusal);
            return HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS);
        }
        WARN("replacing the registration of %s", debugstr_guid(set->clsids[i]));
    }
    /* Served through the surrogate: its clients need the AppID and the proxies. */
    if (FAILED(hr = register_appid()) || FAILED(hr = proxy_register(module_path)))
        return hr;
    for (size_t i = 0; i < set->count; i++)
    {
        const CLSID *clsid = set->clsids[i];

        kind = class_server(clsid, module_path);
        if (kind != SERVER_OURS && FAILED(hr = save_class(clsid)))
            return hr;
        clsid_key(clsid, key, ARRAY_SIZE(key));
        if (FAILED(hr = reg_delete_tree(HKEY_CLASSES_ROOT, key)) ||
            FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, key, NULL, set->name)) ||
            FAILED(hr = set_appid(key)))
            return hr;
        swprintf(sub, ARRAY_SIZE(sub), L"%ls\\InprocServer32", key);
        if (FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, sub, NULL, module_path)) ||
            FAILED(hr = reg_set_value(HKEY_CLASSES_ROOT, sub, L"ThreadingModel", L"Both")))
            return hr;
    }
    return S_OK;
}

static HRESULT uninstall_classes(const struct install_set *set, const WCHAR *module_path)
{
    WCHAR key[128];
    HRESULT hr, result = S_OK;

    for (size_t i = 0; i < set->count; i++)
    {
        /* Only our own registration is removed; someone else's stays. */
        if (class_server(set->clsids[i], module_path) != SERVER_OURS)
            continue;
        clsid_key(set->clsids[i], key, ARRAY_SIZE(key));
        if (FAILED(hr = reg_delete_tree(HKEY_CLASSES_ROOT, key)) ||
            FAILED(hr = restore_class(set->clsids[i])))
            result = hr;
    }
    /* The AppID and the proxies go with the last user of them: neither another installed set
     * nor regsvr32's own registration of OpenDO's class is left. */
    if (!installed_classes() && class_server(&CLSID_OpenDOManager, module_path) != SERVER_OURS)
    {
        appid_key(key, ARRAY_SIZE(key));
        if (FAILED(hr = proxy_unregister()) || FAILED(hr = reg_delete_tree(HKEY_CLASSES_ROOT, key)))
            result = hr;
    }
    return result;
}

/* TRUE while DllInstall has a system class pointed at this DLL (its AppID is in use). */
static BOOL installed_classes(void)
{
    WCHAR path[MAX_PATH];

    if (!GetModuleFileNameW(module_handle(), path, ARRAY_SIZE(path)))
        return FALSE;
    for (size_t s = 0; s < ARRAY_SIZE(install_sets); s++)
    {
        for (size_t i = 0; i < install_sets[s].count; i++)
        {
            if (class_server(install_sets[s].clsids[i], path) == SERVER_OURS)
                return TRUE;
        }
    }
    return FALSE;
}

/* regsvr32 /n /i:dosvc opendo.dll puts OpenDO under CLSID_DeliveryOptimization, /i:bits under
 * the BITS classes (",force" replaces another server's registration); the registration it
 * replaces is saved and regsvr32 /u /n /i:<same> puts it back. */
HRESULT WINAPI DllInstall(BOOL install, LPCWSTR command)
{
    WCHAR path[MAX_PATH];
    size_t len;

    TRACE("%d %s", install, debugstr_w(command));
    if (!command)
        return E_INVALIDARG;
    if (!GetModuleFileNameW(module_handle(), path, ARRAY_SIZE(path)) ||
        GetLastError() == ERROR_INSUFFICIENT_BUFFER)
        return HRESULT_FROM_WIN32(ERROR_FILENAME_EXCED_RANGE);
    for (size_t s = 0; s < ARRAY_SIZE(install_sets); s++)
    {
        const struct install_set *set = &install_sets[s];

        len = wcslen(set->command);
        if (_wcsnicmp(command, set->command, len) ||
            (command[len] && _wcsicmp(command + len, L",force")))
            continue;
        return install ? install_classes(set, path, command[len] != 0)
                       : uninstall_classes(set, path);
    }
    tell("DllInstall understands \"dosvc\", \"dosvc,force\", \"bits\" and \"bits,force\".");
    return E_INVALIDARG;
}
