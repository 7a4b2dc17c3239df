/* SPDX-License-Identifier: MIT */
/* The local transport: copies from a local or UNC path (file:// URLs arrive here as paths). */
#include "engine/engine.h"

#define COPY_BUFFER_SIZE (1024 * 1024)

HRESULT localfile_fetch(struct transfer_ctx *ctx, const WCHAR *path)
{
    LARGE_INTEGER size, pos;
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
    if (FAILED(hr = transfer_set_size(ctx, size.QuadPart)))
        goto out;
    /* The source shrank below what we already have: start again. */
    if (ctx->offset > (UINT64)size.QuadPart && FAILED(hr = transfer_restart(ctx)))
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
