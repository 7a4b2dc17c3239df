/* SPDX-License-Identifier: MIT */
/* The choice of HTTP stack for a fetch, and the connections a fetching thread keeps. */
#include "engine/engine.h"

HRESULT net_fetch(struct transfer_ctx *ctx, const WCHAR *url)
{
    return http_fetch(ctx, url);
}

void fetch_cache_clear(struct fetch_cache *cache)
{
    if (!cache)
        return;
    cache->winhttp = NULL;
    cache->wininet = NULL;
}
