/* SPDX-License-Identifier: MIT */
/* Compile-time proof that DeliveryOptimization.h has the ABI of MinGW's bits*.h, for the target
 * being built: compiled in every build tree (64-bit and 32-bit), so a mismatch stops the build. */

/*
 * How. MinGW's bits*.h are included inside namespace mingw and every fact of abi_list.h's shared
 * section is captured from them into constants of that namespace (the #define constants have no
 * namespace: their values must be taken before our header replaces them). Then our generated
 * header is included inside namespace ours, after abi_undef.h (generated from the header by the
 * build) has undefined its include guards and constants: C++ keeps the two sets of declarations
 * apart, and the list is expanded once more inside namespace ours, where each name means ours,
 * into static_asserts against the captured values. Last, what only our header has is asserted
 * against the spec's numbers for the target (abi_spec.h). CINTERFACE gives C++ the C vtable
 * structs.
 */
#define CINTERFACE
#undef COBJMACROS

#include <windows.h>
#include <objbase.h>
#include <ole2.h>
#include <oaidl.h>
#include <objidl.h>
#include <rpc.h>
#include <rpcndr.h>
#include <unknwn.h>

#include <stddef.h>

/* IIDs as constants, so that they can be compared at compile time (see abi_mingw.c). */
#undef DEFINE_GUID
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8)                               \
    constexpr GUID name = {l, w1, w2, {b1, b2, b3, b4, b5, b6, b7, b8}}

#include "abi_list.h"

/* __uuidof's declarations specialise a global template: not from inside a namespace. */
#undef __CRT_UUID_DECL

namespace mingw
{
#include <bits.h>
#include <bits1_5.h>
#include <bits2_0.h>
#include <bits2_5.h>
#include <bits3_0.h>
#include <bits5_0.h>
} // namespace mingw

static constexpr bool guid_equal(const GUID &a, const GUID &b)
{
    return a.Data1 == b.Data1 && a.Data2 == b.Data2 && a.Data3 == b.Data3 &&
           a.Data4[0] == b.Data4[0] && a.Data4[1] == b.Data4[1] && a.Data4[2] == b.Data4[2] &&
           a.Data4[3] == b.Data4[3] && a.Data4[4] == b.Data4[4] && a.Data4[5] == b.Data4[5] &&
           a.Data4[6] == b.Data4[6] && a.Data4[7] == b.Data4[7];
}

#undef ABI_IID
#undef ABI_SIZE
#undef ABI_ALIGN
#undef ABI_OFFSET
#undef ABI_SLOT
#undef ABI_SLOTS
#undef ABI_CONST
#undef ABI_DWORD
#undef ABI_TEXT

/* First pass: MinGW's values. */
#define ABI_IID(itf) constexpr GUID iid_##itf = IID_##itf;
#define ABI_SIZE(type) constexpr size_t size_##type = sizeof(type);
#define ABI_ALIGN(type) constexpr size_t align_##type = alignof(type);
#define ABI_OFFSET(type, field) constexpr size_t offset_##type##_##field = offsetof(type, field);
#define ABI_SLOT(vtbl, method)                                                                     \
    constexpr size_t slot_##vtbl##_##method = offsetof(vtbl, method) / sizeof(void *);
#define ABI_SLOTS(vtbl) constexpr size_t slots_##vtbl = sizeof(vtbl) / sizeof(void *);
#define ABI_CONST(name) constexpr unsigned long long const_##name = (unsigned long long)(name);
#define ABI_DWORD(name) constexpr DWORD const_##name = (DWORD)(name);

namespace mingw
{
#define ABI_LIST_SHARED
#include "abi_list.h"
} // namespace mingw

#undef ABI_IID
#undef ABI_SIZE
#undef ABI_ALIGN
#undef ABI_OFFSET
#undef ABI_SLOT
#undef ABI_SLOTS
#undef ABI_CONST
#undef ABI_DWORD

/* Our header once more, in a namespace of its own. */
#include "abi_undef.h"

namespace ours
{
#include "DeliveryOptimization.h"
} // namespace ours

#ifndef __deliveryoptimization_h__
#error "abi_undef.h did not let DeliveryOptimization.h in again"
#endif

/* Second pass: ours against MinGW's. Each message names the fact. */
#define ABI_IID(itf)                                                                               \
    static_assert(guid_equal(IID_##itf, mingw::iid_##itf), "IID_" #itf " differs from MinGW's");
#define ABI_SIZE(type)                                                                             \
    static_assert(sizeof(type) == mingw::size_##type, "sizeof(" #type ") differs from MinGW's");
#define ABI_ALIGN(type)                                                                            \
    static_assert(alignof(type) == mingw::align_##type, "alignof(" #type ") differs from "         \
                                                        "MinGW's");
#define ABI_OFFSET(type, field)                                                                    \
    static_assert(offsetof(type, field) == mingw::offset_##type##_##field,                         \
                  "offsetof(" #type ", " #field ") differs from MinGW's");
#define ABI_SLOT(vtbl, method)                                                                     \
    static_assert(offsetof(vtbl, method) / sizeof(void *) == mingw::slot_##vtbl##_##method,        \
                  "the slot of " #vtbl "::" #method " differs from MinGW's");
#define ABI_SLOTS(vtbl)                                                                            \
    static_assert(sizeof(vtbl) / sizeof(void *) == mingw::slots_##vtbl,                            \
                  "the slot count of " #vtbl " differs from MinGW's");
#define ABI_CONST(name)                                                                            \
    static_assert((unsigned long long)(name) == mingw::const_##name, #name " differs from "        \
                                                                           "MinGW's");
#define ABI_DWORD(name)                                                                            \
    static_assert((DWORD)(name) == mingw::const_##name, #name " differs from MinGW's");

namespace ours
{
/* A name our header lacked would find MinGW's here and compare it with itself; abi_ours.c, compiled
 * next to this file, names every entry against our header alone. */
#define ABI_LIST_SHARED
#include "abi_list.h"
} // namespace ours

/*
 * Third pass: what only our header declares, against the spec's numbers for this target
 * (abi_spec.h). IIDs and strings do not depend on the target; test_abi.c checks those.
 */
struct spec_number
{
    const char *name;
    unsigned long long x64, x86;
};

constexpr spec_number spec_numbers[] = {
#define ABI_SPEC(name, x64, x86) {name, x64, x86},
#include "abi_spec.h"
#undef ABI_SPEC
};

constexpr bool same_text(const char *a, const char *b)
{
    while (*a && *a == *b)
    {
        a++;
        b++;
    }
    return *a == *b;
}

/* TRUE when the spec has this name with this value for the target. */
constexpr bool matches_spec(const char *name, unsigned long long value)
{
    for (const spec_number &spec : spec_numbers)
        if (same_text(spec.name, name))
            return value == (sizeof(void *) == 8 ? spec.x64 : spec.x86);
    return false;
}

#undef ABI_IID
#undef ABI_SIZE
#undef ABI_ALIGN
#undef ABI_OFFSET
#undef ABI_SLOT
#undef ABI_SLOTS
#undef ABI_CONST
#undef ABI_DWORD
#undef ABI_TEXT

#define ABI_SPEC_ASSERT(name, value)                                                               \
    static_assert(matches_spec(name, value), name ": not the spec's value, or not in abi_spec.h");
#define ABI_IID(itf)
#define ABI_TEXT(name)
#define ABI_SIZE(type) ABI_SPEC_ASSERT("sizeof(" #type ")", sizeof(type))
#define ABI_ALIGN(type) ABI_SPEC_ASSERT("alignof(" #type ")", alignof(type))
#define ABI_OFFSET(type, field)                                                                    \
    ABI_SPEC_ASSERT("offsetof(" #type ", " #field ")", offsetof(type, field))
#define ABI_SLOT(vtbl, method)                                                                     \
    ABI_SPEC_ASSERT("slot(" #vtbl ", " #method ")", offsetof(vtbl, method) / sizeof(void *))
#define ABI_SLOTS(vtbl) ABI_SPEC_ASSERT("slots(" #vtbl ")", sizeof(vtbl) / sizeof(void *))
#define ABI_CONST(name) ABI_SPEC_ASSERT(#name, (unsigned long long)(name))
#define ABI_DWORD(name) ABI_SPEC_ASSERT(#name, (DWORD)(name))

namespace ours
{
#define ABI_LIST_OURS_ONLY
#include "abi_list.h"
} // namespace ours
