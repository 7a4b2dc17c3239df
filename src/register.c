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

static HRESULT set_value(HKEY root, const WCHAR *subkey, const WCHAR *name, const WCHAR *value)
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

static HRESULT delete_tree(HKEY root, const WCHAR *subkey)
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

static HRESULT register_class(const struct class_registration *reg, const WCHAR *module_path)
{
    WCHAR key[128], sub[160], clsid_text[40], libid_text[40];
    HRESULT hr;

    StringFromGUID2(reg->clsid, clsid_text, ARRAY_SIZE(clsid_text));
    StringFromGUID2(&LIBID_OpenDOLib, libid_text, ARRAY_SIZE(libid_text));
    clsid_key(reg->clsid, key, ARRAY_SIZE(key));

    if (FAILED(hr = set_value(HKEY_CLASSES_ROOT, key, NULL, reg->name)))
        return hr;
    swprintf(sub, ARRAY_SIZE(sub), L"%ls\\InprocServer32", key);
    if (FAILED(hr = set_value(HKEY_CLASSES_ROOT, sub, NULL, module_path)) ||
        FAILED(hr = set_value(HKEY_CLASSES_ROOT, sub, L"ThreadingModel", L"Both")))
        return hr;
    swprintf(sub, ARRAY_SIZE(sub), L"%ls\\ProgID", key);
    if (FAILED(hr = set_value(HKEY_CLASSES_ROOT, sub, NULL, reg->progid)))
        return hr;
    swprintf(sub, ARRAY_SIZE(sub), L"%ls\\VersionIndependentProgID", key);
    if (FAILED(hr = set_value(HKEY_CLASSES_ROOT, sub, NULL, reg->progid_current)))
        return hr;
    swprintf(sub, ARRAY_SIZE(sub), L"%ls\\TypeLib", key);
    if (FAILED(hr = set_value(HKEY_CLASSES_ROOT, sub, NULL, libid_text)))
        return hr;

    if (FAILED(hr = set_value(HKEY_CLASSES_ROOT, reg->progid, NULL, reg->name)))
        return hr;
    swprintf(sub, ARRAY_SIZE(sub), L"%ls\\CLSID", reg->progid);
    if (FAILED(hr = set_value(HKEY_CLASSES_ROOT, sub, NULL, clsid_text)))
        return hr;
    if (FAILED(hr = set_value(HKEY_CLASSES_ROOT, reg->progid_current, NULL, reg->name)))
        return hr;
    swprintf(sub, ARRAY_SIZE(sub), L"%ls\\CLSID", reg->progid_current);
    if (FAILED(hr = set_value(HKEY_CLASSES_ROOT, sub, NULL, clsid_text)))
        return hr;
    swprintf(sub, ARRAY_SIZE(sub), L"%ls\\CurVer", reg->progid_current);
    return set_value(HKEY_CLASSES_ROOT, sub, NULL, reg->progid);
}

static HRESULT unregister_class(const struct class_registration *reg)
{
    WCHAR key[128];
    HRESULT hr, result = S_OK;

    clsid_key(reg->clsid, key, ARRAY_SIZE(key));
    if (FAILED(hr = delete_tree(HKEY_CLASSES_ROOT, key)))
        result = hr;
    if (FAILED(hr = delete_tree(HKEY_CLASSES_ROOT, reg->progid)))
        result = hr;
    if (FAILED(hr = delete_tree(HKEY_CLASSES_ROOT, reg->progid_current)))
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
    for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
    {
        if (FAILED(hr = register_class(&classes[i], path)))
        {
            ERR("registering %s failed: %08lx", debugstr_guid(classes[i].clsid), hr);
            return SELFREG_E_CLASS;
        }
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

    for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
    {
        if (FAILED(hr = unregister_class(&classes[i])))
            result = SELFREG_E_CLASS;
    }
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

/* Does CLSID_DeliveryOptimization name a server other than this DLL? */
static BOOL do_class_taken(const WCHAR *module_path)
{
    WCHAR value[MAX_PATH];

    if (read_server(&CLSID_DeliveryOptimization, L"LocalServer32", value, ARRAY_SIZE(value)))
        return TRUE;
    return read_server(&CLSID_DeliveryOptimization, L"InprocServer32", value, ARRAY_SIZE(value)) &&
           _wcsicmp(value, module_path);
}

static const struct class_registration do_class = {
    &CLSID_DeliveryOptimization,
    L"Delivery Optimization (OpenDO)",
    NULL,
    NULL,
};

static HRESULT install_do_class(const WCHAR *module_path, BOOL force)
{
    WCHAR key[128], sub[160];
    HRESULT hr;

    if (do_class_taken(module_path))
    {
        if (!force)
        {
            tell("CLSID_DeliveryOptimization {5b99fa76-721c-423c-adac-56d03c8a8007} is already "
                 "registered to another server; not replacing it. Use /i:dosvc,force to replace "
                 "it.");
            return HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS);
        }
        WARN("replacing the existing registration of CLSID_DeliveryOptimization");
    }
    clsid_key(do_class.clsid, key, ARRAY_SIZE(key));
    if (FAILED(hr = delete_tree(HKEY_CLASSES_ROOT, key)) ||
        FAILED(hr = set_value(HKEY_CLASSES_ROOT, key, NULL, do_class.name)))
        return hr;
    swprintf(sub, ARRAY_SIZE(sub), L"%ls\\InprocServer32", key);
    if (FAILED(hr = set_value(HKEY_CLASSES_ROOT, sub, NULL, module_path)) ||
        FAILED(hr = set_value(HKEY_CLASSES_ROOT, sub, L"ThreadingModel", L"Both")))
        return hr;
    return S_OK;
}

static HRESULT uninstall_do_class(const WCHAR *module_path)
{
    WCHAR key[128], value[MAX_PATH];

    /* Only our own registration is removed; someone else's stays. */
    if (!read_server(&CLSID_DeliveryOptimization, L"InprocServer32", value, ARRAY_SIZE(value)) ||
        _wcsicmp(value, module_path))
        return S_OK;
    clsid_key(do_class.clsid, key, ARRAY_SIZE(key));
    return delete_tree(HKEY_CLASSES_ROOT, key);
}

/* regsvr32 /n /i:dosvc opendo.dll (or dosvc,force); regsvr32 /u /n /i:dosvc to undo. */
HRESULT WINAPI DllInstall(BOOL install, LPCWSTR command)
{
    WCHAR path[MAX_PATH];
    BOOL force = FALSE;

    TRACE("%d %s", install, debugstr_w(command));
    if (!command)
        return E_INVALIDARG;
    if (!_wcsicmp(command, L"dosvc,force"))
        force = TRUE;
    else if (_wcsicmp(command, L"dosvc"))
    {
        tell("DllInstall understands only \"dosvc\" and \"dosvc,force\".");
        return E_INVALIDARG;
    }
    if (!GetModuleFileNameW(module_handle(), path, ARRAY_SIZE(path)) ||
        GetLastError() == ERROR_INSUFFICIENT_BUFFER)
        return HRESULT_FROM_WIN32(ERROR_FILENAME_EXCED_RANGE);
    return install ? install_do_class(path, force) : uninstall_do_class(path);
}
