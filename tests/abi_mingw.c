/* SPDX-License-Identifier: MIT */
/* The reference side of test_abi.c: ABI facts as MinGW-w64's own bits*.h declare them. */

#include <windows.h>
#include <objbase.h>
#include <ole2.h>
#include <oaidl.h>
#include <objidl.h>
#include <rpc.h>
#include <rpcndr.h>
#include <unknwn.h>

/*
 * Every header that includes <guiddef.h> is in now, so nothing below resets DEFINE_GUID. Make
 * each IID this file sees a private copy: abi_ours.c does the same with our header, so the two
 * files hold two independent sets of IIDs under the same names and link without clashing.
 */
#undef DEFINE_GUID
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8)                               \
    static const GUID name __attribute__((unused)) = {l, w1, w2, {b1, b2, b3, b4, b5, b6, b7, b8}}

#include <bits.h>
#include <bits1_5.h>
#include <bits2_0.h>
#include <bits2_5.h>
#include <bits3_0.h>
#include <bits5_0.h>

#include "abi_list.h"

#ifdef __deliveryoptimization_h__
#error "abi_mingw.c must see MinGW's declarations only"
#endif

const struct abi_entry abi_mingw[] = {
#define ABI_LIST_SHARED
#include "abi_list.h"
};

const size_t abi_mingw_count = sizeof(abi_mingw) / sizeof(abi_mingw[0]);
