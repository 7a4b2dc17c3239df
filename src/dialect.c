/* SPDX-License-Identifier: MIT */
/* The two dialects: the engine speaks BITS codes; DO objects translate them at the boundary. */
#include "private.h"

struct code_pair
{
    HRESULT bits;
    HRESULT dialect;
};

static const struct code_pair do_codes[] = {
    {BG_E_NOT_FOUND, DO_E_JOB_NOT_FOUND},
    {BG_E_INVALID_STATE, DO_E_INVALID_STATE},
    {BG_E_EMPTY, DO_E_JOB_EMPTY},
    {BG_E_FILE_NOT_AVAILABLE, DO_E_FILE_NOT_AVAILABLE},
    {BG_E_ERROR_INFORMATION_UNAVAILABLE, DO_E_ERROR_INFORMATION_UNAVAILABLE},
    {BG_E_INVALID_RANGE, DO_E_INVALID_RANGE},
    {BG_E_OVERLAPPING_RANGES, DO_E_OVERLAPPING_RANGES},
    {BG_E_INSUFFICIENT_RANGE_SUPPORT, DO_E_INSUFFICIENT_RANGE_SUPPORT},
    {BG_E_UNKNOWN_PROPERTY_ID, DO_E_UNKNOWN_PROPERTY_ID},
    {BG_E_READ_ONLY_PROPERTY, DO_E_READ_ONLY_PROPERTY},
    {BG_E_NO_PROGRESS, DO_E_DOWNLOAD_NO_PROGRESS},
    {BG_E_BLOCKED_BY_COST_TRANSFER_POLICY, DO_E_BLOCKED_BY_COST_TRANSFER_POLICY},
};

HRESULT dialect_result(enum dialect dialect, HRESULT hr)
{
    if (dialect != DIALECT_DO || SUCCEEDED(hr))
        return hr;
    for (size_t i = 0; i < ARRAY_SIZE(do_codes); i++)
    {
        if (do_codes[i].bits == hr)
            return do_codes[i].dialect;
    }
    return hr;
}
