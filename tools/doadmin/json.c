/* SPDX-License-Identifier: MIT */
/* doadmin: a small JSON writer (RFC 8259): escaped strings, exact 64-bit integers. */
#include <stdio.h>
#include <stdlib.h>
#include "doadmin.h"

void json_init(struct json *json)
{
    memset(json, 0, sizeof(*json));
    json->first[0] = TRUE;
}

static void append(struct json *json, const WCHAR *text, size_t length)
{
    if (json->failed)
        return;
    if (json->length + length + 1 > json->capacity)
    {
        size_t capacity = max(json->capacity * 2, json->length + length + 256);
        WCHAR *grown = realloc(json->text, capacity * sizeof(WCHAR));

        if (!grown)
        {
            json->failed = TRUE;
            return;
        }
        json->text = grown;
        json->capacity = capacity;
    }
    memcpy(json->text + json->length, text, length * sizeof(WCHAR));
    json->length += length;
    json->text[json->length] = 0;
}

static void append_str(struct json *json, const WCHAR *text)
{
    append(json, text, wcslen(text));
}

static void append_quoted(struct json *json, const WCHAR *text)
{
    append_str(json, L"\"");
    for (const WCHAR *p = text; *p; p++)
    {
        WCHAR escape[8];

        switch (*p)
        {
        case L'"':
            append_str(json, L"\\\"");
            break;
        case L'\\':
            append_str(json, L"\\\\");
            break;
        case L'\n':
            append_str(json, L"\\n");
            break;
        case L'\r':
            append_str(json, L"\\r");
            break;
        case L'\t':
            append_str(json, L"\\t");
            break;
        default:
            if (*p < 0x20)
            {
                swprintf(escape, ARRAYSIZE(escape), L"\\u%04x", *p);
                append_str(json, escape);
            }
            else
            {
                append(json, p, 1);
            }
        }
    }
    append_str(json, L"\"");
}

/* The separator and key that come before any value. */
static void member(struct json *json, const WCHAR *key)
{
    if (!json->first[json->depth])
        append_str(json, L", ");
    json->first[json->depth] = FALSE;
    if (key)
    {
        append_quoted(json, key);
        append_str(json, L": ");
    }
}

static void open_container(struct json *json, const WCHAR *key, const WCHAR *bracket)
{
    member(json, key);
    append_str(json, bracket);
    if (json->depth + 1 < (int)ARRAYSIZE(json->first))
        json->depth++;
    else
        json->failed = TRUE;
    json->first[json->depth] = TRUE;
}

static void close_container(struct json *json, const WCHAR *bracket)
{
    append_str(json, bracket);
    if (json->depth > 0)
        json->depth--;
}

void json_object_begin(struct json *json, const WCHAR *key)
{
    open_container(json, key, L"{");
}

void json_object_end(struct json *json)
{
    close_container(json, L"}");
}

void json_array_begin(struct json *json, const WCHAR *key)
{
    open_container(json, key, L"[");
}

void json_array_end(struct json *json)
{
    close_container(json, L"]");
}

void json_string(struct json *json, const WCHAR *key, const WCHAR *value)
{
    member(json, key);
    if (value)
        append_quoted(json, value);
    else
        append_str(json, L"null");
}

void json_u64(struct json *json, const WCHAR *key, UINT64 value)
{
    WCHAR digits[24];

    member(json, key);
    swprintf(digits, ARRAYSIZE(digits), L"%llu", (unsigned long long)value);
    append_str(json, digits);
}

void json_bool(struct json *json, const WCHAR *key, BOOL value)
{
    member(json, key);
    append_str(json, value ? L"true" : L"false");
}

void json_null(struct json *json, const WCHAR *key)
{
    member(json, key);
    append_str(json, L"null");
}

int json_print(struct json *json)
{
    int status = EXIT_OK;

    if (json->failed || json->depth)
    {
        out_error(L"doadmin: cannot build the JSON output (out of memory)\n");
        status = EXIT_FAILED;
    }
    else
    {
        out(L"%ls\n", json->text);
    }
    free(json->text);
    json->text = NULL;
    return status;
}
