/* SPDX-License-Identifier: MIT */
/* Descriptions of error codes and error contexts: our message table, HTTP statuses, Windows. */
#include <stdio.h>
#include "private.h"

#define ENGLISH MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US)

struct http_reason
{
    unsigned short status;
    const WCHAR *text;
};

/* Reason phrases, in our words, for the HTTP statuses BITS has codes for. */
static const struct http_reason http_reasons[] = {
    {400, L"the request was malformed"},
    {401, L"authentication is required"},
    {402, L"payment is required"},
    {403, L"access to the file is forbidden"},
    {404, L"the file was not found"},
    {405, L"the method is not allowed"},
    {406, L"no acceptable representation exists"},
    {407, L"the proxy requires authentication"},
    {408, L"the server timed out waiting for the request"},
    {409, L"the request conflicts with the file's state"},
    {410, L"the file is gone for good"},
    {411, L"a length is required"},
    {412, L"a precondition failed"},
    {413, L"the request is too large"},
    {414, L"the address is too long"},
    {415, L"the media type is not supported"},
    {416, L"the requested byte range is not available"},
    {417, L"an expectation failed"},
    {429, L"too many requests"},
    {500, L"the server hit an internal error"},
    {501, L"the server does not implement the request"},
    {502, L"a gateway received a bad answer"},
    {503, L"the service is unavailable for now"},
    {504, L"a gateway timed out"},
    {505, L"the HTTP version is not supported"},
};

static HRESULT http_description(HRESULT code, LPWSTR *out)
{
    unsigned int status = code & 0xFFF;
    const WCHAR *reason = L"an unexpected status";
    WCHAR text[160];

    for (size_t i = 0; i < ARRAY_SIZE(http_reasons); i++)
    {
        if (http_reasons[i].status == status)
            reason = http_reasons[i].text;
    }
    swprintf(text, ARRAY_SIZE(text), L"The server answered HTTP status %u: %ls.", status, reason);
    return cotask_strdup(text, out);
}

static HRESULT format_message(DWORD flags, HMODULE module, HRESULT code, DWORD langid, LPWSTR *out)
{
    WCHAR *text = NULL, *end;
    HRESULT hr;

    if (!FormatMessageW(flags | FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_IGNORE_INSERTS,
                        module, code, langid, (WCHAR *)&text, 0, NULL))
        return HRESULT_FROM_WIN32(GetLastError());
    end = text + wcslen(text);
    while (end > text && (end[-1] == L'\n' || end[-1] == L'\r' || end[-1] == L' '))
        *--end = 0;
    hr = cotask_strdup(text, out);
    LocalFree(text);
    return hr;
}

HRESULT errordesc_get(HRESULT code, DWORD langid, LPWSTR *out)
{
    /* Only English texts exist: other languages, and the neutral one, fall back to it. */
    DWORD wanted = PRIMARYLANGID(langid) == LANG_ENGLISH ? langid : ENGLISH;
    HRESULT hr;

    *out = NULL;
    if (HRESULT_FACILITY(code) == 0x19 && (code & 0xF000) == 0)
        return http_description(code, out);
    if (SUCCEEDED(
            hr = format_message(FORMAT_MESSAGE_FROM_HMODULE, module_handle(), code, wanted, out)))
        return hr;
    if (SUCCEEDED(
            hr = format_message(FORMAT_MESSAGE_FROM_HMODULE, module_handle(), code, ENGLISH, out)))
        return hr;
    /* Windows' own codes (HRESULT_FROM_WIN32, WinHTTP, COM): the system's text. */
    if (SUCCEEDED(hr = format_message(FORMAT_MESSAGE_FROM_SYSTEM, NULL, code, langid, out)))
        return hr;
    if (SUCCEEDED(hr = format_message(FORMAT_MESSAGE_FROM_SYSTEM, NULL, code, 0, out)))
        return hr;
    if (HRESULT_FACILITY(code) == FACILITY_WIN32 && HRESULT_CODE(code) >= 12000 &&
        HRESULT_CODE(code) < 12200)
    {
        HMODULE winhttp = GetModuleHandleW(L"winhttp.dll");
        if (winhttp && SUCCEEDED(hr = format_message(FORMAT_MESSAGE_FROM_HMODULE, winhttp,
                                                     HRESULT_CODE(code), 0, out)))
            return hr;
    }
    return HRESULT_FROM_WIN32(ERROR_MR_MID_NOT_FOUND);
}

HRESULT errordesc_context(BG_ERROR_CONTEXT context, DWORD langid, LPWSTR *out)
{
    static const HRESULT context_codes[] = {
        [BG_ERROR_CONTEXT_NONE] = BG_S_ERROR_CONTEXT_NONE,
        [BG_ERROR_CONTEXT_UNKNOWN] = BG_E_ERROR_CONTEXT_UNKNOWN,
        [BG_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER] = BG_E_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER,
        [BG_ERROR_CONTEXT_QUEUE_MANAGER_NOTIFICATION] =
            BG_E_ERROR_CONTEXT_QUEUE_MANAGER_NOTIFICATION,
        [BG_ERROR_CONTEXT_LOCAL_FILE] = BG_E_ERROR_CONTEXT_LOCAL_FILE,
        [BG_ERROR_CONTEXT_REMOTE_FILE] = BG_E_ERROR_CONTEXT_REMOTE_FILE,
        [BG_ERROR_CONTEXT_GENERAL_TRANSPORT] = BG_E_ERROR_CONTEXT_GENERAL_TRANSPORT,
        [BG_ERROR_CONTEXT_REMOTE_APPLICATION] = BG_E_ERROR_CONTEXT_REMOTE_APPLICATION,
    };

    *out = NULL;
    if ((unsigned int)context >= ARRAY_SIZE(context_codes))
        return E_INVALIDARG;
    return errordesc_get(context_codes[context], langid, out);
}
