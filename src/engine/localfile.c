/* SPDX-License-Identifier: MIT */
/* The local transport: copies from a local or UNC path (file:// URLs arrive here as paths),
 * resuming only a source whose size and last write time are still those of the bytes we have. */
#include <stdio.h>
#include "engine/engine.h"
#include "core/ranges.h"

#define COPY_BUFFER_SIZE (1024 * 1024)

/* A file with ranges: copies the rest of them, from ctx->offset of their concatenation on,
 * seeking in the source from range to range. */
static HRESULT copy_ranges(struct transfer_ctx *ctx, HANDLE in, UINT64 size, BYTE *buffer)
{
    const struct byte_range *ranges = (const struct byte_range *)ctx->ranges;
    UINT64 within, left;
    LARGE_INTEGER pos;
    DWORD read;
    HRESULT hr;
    size_t i;

    for (i = ranges_locate(ranges, ctx->range_count, size, ctx->offset, &within);
         i < ctx->range_count; i++, within = 0)
    {
        pos.QuadPart = ranges[i].offset + within;
        left = range_end(&ranges[i], size) - pos.QuadPart;
        if (!SetFilePointerEx(in, pos, NULL, FILE_BEGIN))
        {
            ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
            return HRESULT_FROM_WIN32(GetLastError());
        }
        while (left)
        {
            if (!ReadFile(in, buffer, (DWORD)min(left, COPY_BUFFER_SIZE), &read, NULL))
            {
                ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
                return HRESULT_FROM_WIN32(GetLastError());
            }
            if (!read)
            {
                /* The source was truncated while we read it. */
                ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
                ctx->transient = TRUE;
                return BG_E_REMOTE_FILE_CHANGED;
            }
            if (FAILED(hr = transfer_write(ctx, buffer, read)))
                return hr;
            left -= read;
        }
    }
    return S_OK;
}

HRESULT localfile_fetch(struct transfer_ctx *ctx, const WCHAR *path)
{
    WCHAR validator[VALIDATOR_SIZE];
    LARGE_INTEGER size, pos;
    FILETIME written;
    HANDLE in;
    BYTE *buffer = NULL;
    UINT64 position;
    DWORD read;
    HRESULT hr;

    in = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                     NULL, OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN, NULL);
    if (in == INVALID_HANDLE_VALUE)
    {
        DWORD err = GetLastError();
        ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
        ctx->transient = err == ERROR_BAD_NETPATH || err == ERROR_NETNAME_DELETED ||
                         err == ERROR_SHARING_VIOLATION || err == ERROR_LOCK_VIOLATION;
        return HRESULT_FROM_WIN32(err);
    }
    if (!GetFileSizeEx(in, &size))
    {
        ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
        hr = HRESULT_FROM_WIN32(GetLastError());
        goto out;
    }
    if (!GetFileTime(in, NULL, NULL, &written))
    {
        ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
        hr = HRESULT_FROM_WIN32(GetLastError());
        goto out;
    }
    swprintf(validator, ARRAY_SIZE(validator), L"file %I64u %08lx%08lx", size.QuadPart,
             written.dwHighDateTime, written.dwLowDateTime);
    hr = ctx->ranges ? transfer_set_remote_size(ctx, size.QuadPart)
                     : transfer_set_size(ctx, size.QuadPart);
    if (FAILED(hr))
        goto out;
    /* The bytes we have come from another version of the source (or from one we cannot tell):
     * start again. */
    if (ctx->offset > 0 && wcscmp(ctx->validator, validator) && FAILED(hr = transfer_restart(ctx)))
        goto out;
    if (FAILED(hr = transfer_set_validator(ctx, validator)))
        goto out;
    pos.QuadPart = ctx->offset;
    if (!SetFilePointerEx(in, pos, NULL, FILE_BEGIN))
    {
        ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
        hr = HRESULT_FROM_WIN32(GetLastError());
        goto out;
    }
    if (!(buffer = HeapAlloc(GetProcessHeap(), 0, COPY_BUFFER_SIZE)))
    {
        hr = E_OUTOFMEMORY;
        goto out;
    }
    if (ctx->ranges)
    {
        hr = copy_ranges(ctx, in, size.QuadPart, buffer);
        goto out;
    }
    for (position = ctx->offset; position < (UINT64)size.QuadPart; position += read)
    {
        if (!ReadFile(in, buffer, COPY_BUFFER_SIZE, &read, NULL))
        {
            ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
            hr = HRESULT_FROM_WIN32(GetLastError());
            goto out;
        }
        if (!read)
            break;
        if (position + read > (UINT64)size.QuadPart)
            read = (DWORD)(size.QuadPart - position);
        if (FAILED(hr = transfer_write(ctx, buffer, read)))
            goto out;
    }
    if (position != (UINT64)size.QuadPart)
    {
        /* The source was truncated while we read it. */
        ctx->context = BG_ERROR_CONTEXT_REMOTE_FILE;
        ctx->transient = TRUE;
        hr = BG_E_REMOTE_FILE_CHANGED;
    }
out:
    HeapFree(GetProcessHeap(), 0, buffer);
    CloseHandle(in);
    return hr;
}
