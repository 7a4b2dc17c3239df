/* SPDX-License-Identifier: MIT */
/* The side of test_abi.c under test: ABI facts as our generated DeliveryOptimization.h has them. */

#include <windows.h>
#include <objbase.h>
#include <ole2.h>
#include <oaidl.h>
#include <objidl.h>
#include <rpc.h>
#include <rpcndr.h>
#include <unknwn.h>

/* Private copies of the IIDs, as in abi_mingw.c (see there). */
#undef DEFINE_GUID
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8)                               \
    static const GUID name __attribute__((unused)) = {l, w1, w2, {b1, b2, b3, b4, b5, b6, b7, b8}}

#include "DeliveryOptimization.h"

#include "abi_list.h"

#ifdef __bits_h__
#error "abi_ours.c must see our declarations only"
#endif

/*
 * Parameter types are not visible to the run-time tables, so the spec's by-value unions
 * (sections 3.4 and 3.5) and the DO-only signatures of Appendix A are pinned down here.
 */
#define ABI_SIGNATURE(vtbl, method, ...)                                                           \
    _Static_assert(__builtin_types_compatible_p(__typeof__(((vtbl *)0)->method),                   \
                                                HRESULT(STDMETHODCALLTYPE *)(__VA_ARGS__)),        \
                   #vtbl "::" #method " has the wrong signature")

ABI_SIGNATURE(IBackgroundCopyJob5Vtbl, SetProperty, IBackgroundCopyJob5 *, BITS_JOB_PROPERTY_ID,
              BITS_JOB_PROPERTY_VALUE);
ABI_SIGNATURE(IBackgroundCopyJob5Vtbl, GetProperty, IBackgroundCopyJob5 *, BITS_JOB_PROPERTY_ID,
              BITS_JOB_PROPERTY_VALUE *);
ABI_SIGNATURE(IBackgroundCopyFile5Vtbl, SetProperty, IBackgroundCopyFile5 *, BITS_FILE_PROPERTY_ID,
              BITS_FILE_PROPERTY_VALUE);
ABI_SIGNATURE(IBackgroundCopyFile5Vtbl, GetProperty, IBackgroundCopyFile5 *, BITS_FILE_PROPERTY_ID,
              BITS_FILE_PROPERTY_VALUE *);
ABI_SIGNATURE(IDeliveryOptimizationJobVtbl, AddFileWithRanges, IDeliveryOptimizationJob *, LPCWSTR,
              LPCWSTR, LPCWSTR, DWORD, BG_FILE_RANGE *, UINT64);
ABI_SIGNATURE(IDeliveryOptimizationJob2Vtbl, AddFile, IDeliveryOptimizationJob2 *, LPCWSTR, LPCWSTR,
              DWORD, BG_FILE_RANGE *, REFIID, void **);
ABI_SIGNATURE(IDeliveryOptimizationJob2Vtbl, GetProperty, IDeliveryOptimizationJob2 *,
              DOJobPropertyId, VARIANT *);
ABI_SIGNATURE(IDeliveryOptimizationJob2Vtbl, SetProperty, IDeliveryOptimizationJob2 *,
              DOJobPropertyId, const VARIANT *);
ABI_SIGNATURE(IDeliveryOptimizationFileVtbl, GetStats, IDeliveryOptimizationFile *, DOSwarmStats *);
ABI_SIGNATURE(IDeliveryOptimizationFile2Vtbl, GetProperty, IDeliveryOptimizationFile2 *,
              DOFilePropertyId, VARIANT *);
ABI_SIGNATURE(IDeliveryOptimizationFile2Vtbl, SetProperty, IDeliveryOptimizationFile2 *,
              DOFilePropertyId, const VARIANT *);
ABI_SIGNATURE(IDOManagerVtbl, EnumDownloads, IDOManager *, const DO_DOWNLOAD_ENUM_CATEGORY *,
              IEnumUnknown **);
ABI_SIGNATURE(IDODownloadVtbl, Start, IDODownload *, const DO_DOWNLOAD_RANGES_INFO *);
ABI_SIGNATURE(IDODownloadVtbl, SetProperty, IDODownload *, DODownloadProperty, const VARIANT *);
ABI_SIGNATURE(IDODownloadStatusCallbackVtbl, OnStatusChange, IDODownloadStatusCallback *,
              IDODownload *, const DO_DOWNLOAD_STATUS *);

const struct abi_entry abi_ours[] = {
#define ABI_LIST_SHARED
#include "abi_list.h"
};

const size_t abi_ours_count = sizeof(abi_ours) / sizeof(abi_ours[0]);

const struct abi_entry abi_ours_only[] = {
#define ABI_LIST_OURS_ONLY
#include "abi_list.h"
};

const size_t abi_ours_only_count = sizeof(abi_ours_only) / sizeof(abi_ours_only[0]);
