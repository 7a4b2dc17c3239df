/* SPDX-License-Identifier: MIT */
/* X-macro list of the ABI facts (IIDs, layouts, vtable slots, constants) that test_abi.c checks. */

/*
 * How this file is used. Included once at the top of a file it declares the table types and the
 * entry macros. Included again with ABI_LIST_SHARED defined, it expands to the initializers of
 * everything that MinGW's bits*.h and our DeliveryOptimization.h both declare; abi_mingw.c and
 * abi_ours.c expand that section against their own header, so the two tables have the same
 * entries in the same order and differ only in the values. Included with ABI_LIST_OURS_ONLY
 * defined, it expands to what only our header has (DO-only interfaces and types, File3..5, newer
 * BITS constants); abi_ours.c builds a third table from it and test_abi.c compares that one with
 * the numbers of the spec, which are written out in test_abi.c.
 *
 * Vtable slots are listed for every method including the inherited ones (the C vtable of a
 * derived interface repeats its bases), followed by the vtable's total slot count, so that a
 * swapped, missing or extra method anywhere in the chain shows up as a named mismatch.
 */

#ifndef OPENDO_TESTS_ABI_LIST_H
#define OPENDO_TESTS_ABI_LIST_H

#include <stddef.h>
#include <windows.h>

enum abi_kind
{
    ABI_KIND_IID,    /* iid: the interface id */
    ABI_KIND_SIZE,   /* value: sizeof(type) */
    ABI_KIND_ALIGN,  /* value: alignment of type */
    ABI_KIND_OFFSET, /* value: offsetof(type, field) */
    ABI_KIND_SLOT,   /* value: 0-based vtable index of a method */
    ABI_KIND_SLOTS,  /* value: number of slots in a vtable */
    ABI_KIND_CONST,  /* value: an enum constant or a numeric #define */
    ABI_KIND_TEXT    /* text: a wide-string #define */
};

struct abi_entry
{
    enum abi_kind kind;
    const char *name;         /* e.g. "offsetof(BG_JOB_PROGRESS, FilesTotal)" */
    const GUID *iid;          /* ABI_KIND_IID only */
    const WCHAR *text;        /* ABI_KIND_TEXT only */
    unsigned long long value; /* every other kind */
};

/* Reference table, built from MinGW's bits.h .. bits5_0.h (abi_mingw.c). */
extern const struct abi_entry abi_mingw[];
extern const size_t abi_mingw_count;

/* The same entries, built from our widl-generated DeliveryOptimization.h (abi_ours.c). */
extern const struct abi_entry abi_ours[];
extern const size_t abi_ours_count;

/* Entries only our header has, checked against the spec's numbers (abi_ours.c). */
extern const struct abi_entry abi_ours_only[];
extern const size_t abi_ours_only_count;

#define ABI_IID(itf) {ABI_KIND_IID, "IID_" #itf, &IID_##itf, NULL, 0},
#define ABI_SIZE(type) {ABI_KIND_SIZE, "sizeof(" #type ")", NULL, NULL, sizeof(type)},
#define ABI_ALIGN(type) {ABI_KIND_ALIGN, "alignof(" #type ")", NULL, NULL, _Alignof(type)},
#define ABI_OFFSET(type, field)                                                                    \
    {ABI_KIND_OFFSET, "offsetof(" #type ", " #field ")", NULL, NULL, offsetof(type, field)},
#define ABI_SLOT(vtbl, method)                                                                     \
    {ABI_KIND_SLOT, "slot(" #vtbl ", " #method ")", NULL, NULL,                                    \
     offsetof(vtbl, method) / sizeof(void *)},
#define ABI_SLOTS(vtbl)                                                                            \
    {ABI_KIND_SLOTS, "slots(" #vtbl ")", NULL, NULL, sizeof(vtbl) / sizeof(void *)},
#define ABI_CONST(name) {ABI_KIND_CONST, #name, NULL, NULL, (unsigned long long)(name)},
/* A 32-bit flag value, compared as a DWORD whatever the C type of the constant. */
#define ABI_DWORD(name) {ABI_KIND_CONST, #name, NULL, NULL, (unsigned long long)(DWORD)(name)},
#define ABI_TEXT(name) {ABI_KIND_TEXT, #name, NULL, name, 0},

/* Method lists in vtable order, each starting with its base interface's list. */
#define ABI_SLOTS_IUnknown(v) ABI_SLOT(v, QueryInterface) ABI_SLOT(v, AddRef) ABI_SLOT(v, Release)

#define ABI_SLOTS_IBackgroundCopyFile(v)                                                           \
    ABI_SLOTS_IUnknown(v) ABI_SLOT(v, GetRemoteName) ABI_SLOT(v, GetLocalName)                     \
        ABI_SLOT(v, GetProgress)

#define ABI_SLOTS_IBackgroundCopyFile2(v)                                                          \
    ABI_SLOTS_IBackgroundCopyFile(v) ABI_SLOT(v, GetFileRanges) ABI_SLOT(v, SetRemoteName)

/* IEnumBackgroundCopyFiles and IEnumBackgroundCopyJobs have the same shape. */
#define ABI_SLOTS_IEnum(v)                                                                         \
    ABI_SLOTS_IUnknown(v) ABI_SLOT(v, Next) ABI_SLOT(v, Skip) ABI_SLOT(v, Reset)                   \
        ABI_SLOT(v, Clone) ABI_SLOT(v, GetCount)

#define ABI_SLOTS_IBackgroundCopyError(v)                                                          \
    ABI_SLOTS_IUnknown(v) ABI_SLOT(v, GetError) ABI_SLOT(v, GetFile)                               \
        ABI_SLOT(v, GetErrorDescription) ABI_SLOT(v, GetErrorContextDescription)                   \
            ABI_SLOT(v, GetProtocol)

#define ABI_SLOTS_IBackgroundCopyJob(v)                                                            \
    ABI_SLOTS_IUnknown(v) ABI_SLOT(v, AddFileSet) ABI_SLOT(v, AddFile) ABI_SLOT(v, EnumFiles)      \
        ABI_SLOT(v, Suspend) ABI_SLOT(v, Resume) ABI_SLOT(v, Cancel) ABI_SLOT(v, Complete)         \
            ABI_SLOT(v, GetId) ABI_SLOT(v, GetType) ABI_SLOT(v, GetProgress) ABI_SLOT(v, GetTimes) \
                ABI_SLOT(v, GetState) ABI_SLOT(v, GetError) ABI_SLOT(v, GetOwner)                  \
                    ABI_SLOT(v, SetDisplayName) ABI_SLOT(v, GetDisplayName)                        \
                        ABI_SLOT(v, SetDescription) ABI_SLOT(v, GetDescription)                    \
                            ABI_SLOT(v, SetPriority) ABI_SLOT(v, GetPriority)                      \
                                ABI_SLOT(v, SetNotifyFlags) ABI_SLOT(v, GetNotifyFlags)            \
                                    ABI_SLOT(v, SetNotifyInterface)                                \
                                        ABI_SLOT(v, GetNotifyInterface)                            \
                                            ABI_SLOT(v, SetMinimumRetryDelay)                      \
                                                ABI_SLOT(v, GetMinimumRetryDelay)                  \
                                                    ABI_SLOT(v, SetNoProgressTimeout)              \
                                                        ABI_SLOT(v, GetNoProgressTimeout)          \
                                                            ABI_SLOT(v, GetErrorCount)             \
                                                                ABI_SLOT(v, SetProxySettings)      \
                                                                    ABI_SLOT(v, GetProxySettings)  \
                                                                        ABI_SLOT(v, TakeOwnership)

#define ABI_SLOTS_IBackgroundCopyJob2(v)                                                           \
    ABI_SLOTS_IBackgroundCopyJob(v) ABI_SLOT(v, SetNotifyCmdLine) ABI_SLOT(v, GetNotifyCmdLine)    \
        ABI_SLOT(v, GetReplyProgress) ABI_SLOT(v, GetReplyData) ABI_SLOT(v, SetReplyFileName)      \
            ABI_SLOT(v, GetReplyFileName) ABI_SLOT(v, SetCredentials)                              \
                ABI_SLOT(v, RemoveCredentials)

#define ABI_SLOTS_IBackgroundCopyJob3(v)                                                           \
    ABI_SLOTS_IBackgroundCopyJob2(v) ABI_SLOT(v, ReplaceRemotePrefix)                              \
        ABI_SLOT(v, AddFileWithRanges) ABI_SLOT(v, SetFileACLFlags) ABI_SLOT(v, GetFileACLFlags)

#define ABI_SLOTS_IBackgroundCopyJob4(v)                                                           \
    ABI_SLOTS_IBackgroundCopyJob3(v) ABI_SLOT(v, SetPeerCachingFlags)                              \
        ABI_SLOT(v, GetPeerCachingFlags) ABI_SLOT(v, GetOwnerIntegrityLevel)                       \
            ABI_SLOT(v, GetOwnerElevationState) ABI_SLOT(v, SetMaximumDownloadTime)                \
                ABI_SLOT(v, GetMaximumDownloadTime)

#define ABI_SLOTS_IBackgroundCopyJob5(v)                                                           \
    ABI_SLOTS_IBackgroundCopyJob4(v) ABI_SLOT(v, SetProperty) ABI_SLOT(v, GetProperty)

#define ABI_SLOTS_IBackgroundCopyCallback(v)                                                       \
    ABI_SLOTS_IUnknown(v) ABI_SLOT(v, JobTransferred) ABI_SLOT(v, JobError)                        \
        ABI_SLOT(v, JobModification)

#define ABI_SLOTS_IBackgroundCopyCallback2(v)                                                      \
    ABI_SLOTS_IBackgroundCopyCallback(v) ABI_SLOT(v, FileTransferred)

#define ABI_SLOTS_IBackgroundCopyManager(v)                                                        \
    ABI_SLOTS_IUnknown(v) ABI_SLOT(v, CreateJob) ABI_SLOT(v, GetJob) ABI_SLOT(v, EnumJobs)         \
        ABI_SLOT(v, GetErrorDescription)

#define ABI_SLOTS_IBackgroundCopyJobHttpOptions(v)                                                 \
    ABI_SLOTS_IUnknown(v) ABI_SLOT(v, SetClientCertificateByID)                                    \
        ABI_SLOT(v, SetClientCertificateByName) ABI_SLOT(v, RemoveClientCertificate)               \
            ABI_SLOT(v, GetClientCertificate) ABI_SLOT(v, SetCustomHeaders)                        \
                ABI_SLOT(v, GetCustomHeaders) ABI_SLOT(v, SetSecurityFlags)                        \
                    ABI_SLOT(v, GetSecurityFlags)

/* One interface: its IID, every slot, and the vtable's slot count. */
#define ABI_INTERFACE(itf) ABI_IID(itf) ABI_SLOTS_##itf(itf##Vtbl) ABI_SLOTS(itf##Vtbl)

#endif /* OPENDO_TESTS_ABI_LIST_H */

#ifdef ABI_LIST_SHARED
#undef ABI_LIST_SHARED

/* Interfaces, in the order of spec section 2. */
ABI_INTERFACE(IBackgroundCopyManager)
ABI_IID(IEnumBackgroundCopyJobs)
ABI_SLOTS_IEnum(IEnumBackgroundCopyJobsVtbl) ABI_SLOTS(IEnumBackgroundCopyJobsVtbl)
    ABI_INTERFACE(IBackgroundCopyJob) ABI_INTERFACE(IBackgroundCopyJob2)
        ABI_INTERFACE(IBackgroundCopyJob3) ABI_INTERFACE(IBackgroundCopyJob4)
            ABI_INTERFACE(IBackgroundCopyJob5) ABI_INTERFACE(IBackgroundCopyFile)
                ABI_INTERFACE(IBackgroundCopyFile2) ABI_INTERFACE(IBackgroundCopyError)
                    ABI_IID(IEnumBackgroundCopyFiles) ABI_SLOTS_IEnum(IEnumBackgroundCopyFilesVtbl)
                        ABI_SLOTS(IEnumBackgroundCopyFilesVtbl)
                            ABI_INTERFACE(IBackgroundCopyCallback)
                                ABI_INTERFACE(IBackgroundCopyCallback2)
                                    ABI_INTERFACE(IBackgroundCopyJobHttpOptions)

    /* Structures and unions (spec section 7), field by field. */
    ABI_SIZE(BG_FILE_INFO) ABI_ALIGN(BG_FILE_INFO) ABI_OFFSET(BG_FILE_INFO, RemoteName) ABI_OFFSET(
        BG_FILE_INFO,
        LocalName) ABI_SIZE(BG_JOB_PROGRESS) ABI_ALIGN(BG_JOB_PROGRESS) ABI_OFFSET(BG_JOB_PROGRESS,
                                                                                   BytesTotal)
        ABI_OFFSET(BG_JOB_PROGRESS, BytesTransferred) ABI_OFFSET(
            BG_JOB_PROGRESS, FilesTotal) ABI_OFFSET(BG_JOB_PROGRESS,
                                                    FilesTransferred) ABI_SIZE(BG_FILE_PROGRESS)
            ABI_ALIGN(BG_FILE_PROGRESS) ABI_OFFSET(BG_FILE_PROGRESS, BytesTotal) ABI_OFFSET(
                BG_FILE_PROGRESS, BytesTransferred) ABI_OFFSET(BG_FILE_PROGRESS,
                                                               Completed) ABI_SIZE(BG_JOB_TIMES)
                ABI_ALIGN(BG_JOB_TIMES) ABI_OFFSET(BG_JOB_TIMES, CreationTime) ABI_OFFSET(
                    BG_JOB_TIMES, ModificationTime) ABI_OFFSET(BG_JOB_TIMES, TransferCompletionTime)
                    ABI_SIZE(BG_FILE_RANGE) ABI_ALIGN(BG_FILE_RANGE) ABI_OFFSET(
                        BG_FILE_RANGE, InitialOffset) ABI_OFFSET(BG_FILE_RANGE, Length)
                        ABI_SIZE(BG_JOB_REPLY_PROGRESS) ABI_ALIGN(BG_JOB_REPLY_PROGRESS) ABI_OFFSET(
                            BG_JOB_REPLY_PROGRESS,
                            BytesTotal) ABI_OFFSET(BG_JOB_REPLY_PROGRESS,
                                                   BytesTransferred) ABI_SIZE(BG_BASIC_CREDENTIALS)
                            ABI_ALIGN(BG_BASIC_CREDENTIALS) ABI_OFFSET(BG_BASIC_CREDENTIALS,
                                                                       UserName)
                                ABI_OFFSET(BG_BASIC_CREDENTIALS, Password) ABI_SIZE(
                                    BG_AUTH_CREDENTIALS_UNION) ABI_ALIGN(BG_AUTH_CREDENTIALS_UNION)
                                    ABI_OFFSET(BG_AUTH_CREDENTIALS_UNION, Basic) ABI_SIZE(
                                        BG_AUTH_CREDENTIALS) ABI_ALIGN(BG_AUTH_CREDENTIALS)
                                        ABI_OFFSET(BG_AUTH_CREDENTIALS,
                                                   Target) ABI_OFFSET(BG_AUTH_CREDENTIALS, Scheme)
                                            ABI_OFFSET(BG_AUTH_CREDENTIALS, Credentials)
                                                ABI_SIZE(BITS_JOB_PROPERTY_VALUE)
                                                    ABI_ALIGN(BITS_JOB_PROPERTY_VALUE) ABI_OFFSET(
                                                        BITS_JOB_PROPERTY_VALUE,
                                                        Dword) ABI_OFFSET(BITS_JOB_PROPERTY_VALUE,
                                                                          ClsID)
                                                        ABI_OFFSET(BITS_JOB_PROPERTY_VALUE, Enable)
                                                            ABI_OFFSET(BITS_JOB_PROPERTY_VALUE,
                                                                       Uint64)
                                                                ABI_OFFSET(BITS_JOB_PROPERTY_VALUE,
                                                                           Target)

    /* Enumerations must stay 32-bit (spec section 8). */
    ABI_SIZE(BG_JOB_STATE) ABI_SIZE(BG_JOB_PRIORITY) ABI_SIZE(BG_JOB_TYPE)
        ABI_SIZE(BG_ERROR_CONTEXT) ABI_SIZE(BG_JOB_PROXY_USAGE) ABI_SIZE(BG_AUTH_TARGET)
            ABI_SIZE(BG_AUTH_SCHEME) ABI_SIZE(BG_CERT_STORE_LOCATION) ABI_SIZE(BITS_JOB_PROPERTY_ID)

    /* Enumeration values (spec section 8). */
    ABI_CONST(BG_JOB_STATE_QUEUED) ABI_CONST(BG_JOB_STATE_CONNECTING) ABI_CONST(
        BG_JOB_STATE_TRANSFERRING) ABI_CONST(BG_JOB_STATE_SUSPENDED) ABI_CONST(BG_JOB_STATE_ERROR)
        ABI_CONST(BG_JOB_STATE_TRANSIENT_ERROR) ABI_CONST(BG_JOB_STATE_TRANSFERRED) ABI_CONST(
            BG_JOB_STATE_ACKNOWLEDGED) ABI_CONST(BG_JOB_STATE_CANCELLED) ABI_CONST(BG_JOB_PRIORITY_FOREGROUND)
            ABI_CONST(BG_JOB_PRIORITY_HIGH) ABI_CONST(BG_JOB_PRIORITY_NORMAL) ABI_CONST(
                BG_JOB_PRIORITY_LOW) ABI_CONST(BG_JOB_TYPE_DOWNLOAD) ABI_CONST(BG_JOB_TYPE_UPLOAD)
                ABI_CONST(BG_JOB_TYPE_UPLOAD_REPLY) ABI_CONST(BG_ERROR_CONTEXT_NONE) ABI_CONST(
                    BG_ERROR_CONTEXT_UNKNOWN) ABI_CONST(BG_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER)
                    ABI_CONST(BG_ERROR_CONTEXT_QUEUE_MANAGER_NOTIFICATION) ABI_CONST(
                        BG_ERROR_CONTEXT_LOCAL_FILE) ABI_CONST(BG_ERROR_CONTEXT_REMOTE_FILE)
                        ABI_CONST(BG_ERROR_CONTEXT_GENERAL_TRANSPORT) ABI_CONST(
                            BG_ERROR_CONTEXT_REMOTE_APPLICATION) ABI_CONST(BG_JOB_PROXY_USAGE_PRECONFIG)
                            ABI_CONST(BG_JOB_PROXY_USAGE_NO_PROXY) ABI_CONST(
                                BG_JOB_PROXY_USAGE_OVERRIDE) ABI_CONST(BG_JOB_PROXY_USAGE_AUTODETECT)
                                ABI_CONST(BG_AUTH_TARGET_SERVER) ABI_CONST(BG_AUTH_TARGET_PROXY) ABI_CONST(
                                    BG_AUTH_SCHEME_BASIC) ABI_CONST(BG_AUTH_SCHEME_DIGEST)
                                    ABI_CONST(BG_AUTH_SCHEME_NTLM) ABI_CONST(
                                        BG_AUTH_SCHEME_NEGOTIATE) ABI_CONST(BG_AUTH_SCHEME_PASSPORT)
                                        ABI_CONST(BG_CERT_STORE_LOCATION_CURRENT_USER) ABI_CONST(
                                            BG_CERT_STORE_LOCATION_LOCAL_MACHINE)
                                            ABI_CONST(BG_CERT_STORE_LOCATION_CURRENT_SERVICE) ABI_CONST(
                                                BG_CERT_STORE_LOCATION_SERVICES)
                                                ABI_CONST(BG_CERT_STORE_LOCATION_USERS) ABI_CONST(
                                                    BG_CERT_STORE_LOCATION_CURRENT_USER_GROUP_POLICY)
                                                    ABI_CONST(BG_CERT_STORE_LOCATION_LOCAL_MACHINE_GROUP_POLICY) ABI_CONST(
                                                        BG_CERT_STORE_LOCATION_LOCAL_MACHINE_ENTERPRISE)
                                                        ABI_CONST(BITS_JOB_PROPERTY_ID_COST_FLAGS) ABI_CONST(
                                                            BITS_JOB_PROPERTY_NOTIFICATION_CLSID)
                                                            ABI_CONST(BITS_JOB_PROPERTY_DYNAMIC_CONTENT) ABI_CONST(
                                                                BITS_JOB_PROPERTY_HIGH_PERFORMANCE)
                                                                ABI_CONST(
                                                                    BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE)
                                                                    ABI_CONST(
                                                                        BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS)
                                                                        ABI_CONST(
                                                                            BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS)
                                                                            ABI_CONST(
                                                                                BITS_JOB_PROPERTY_ON_DEMAND_MODE)

    /* #define constants (spec sections 8.5 to 8.7). */
    ABI_CONST(BG_SIZE_UNKNOWN) ABI_CONST(BG_LENGTH_TO_EOF) ABI_CONST(BG_NOTIFY_JOB_TRANSFERRED)
        ABI_CONST(BG_NOTIFY_JOB_ERROR) ABI_CONST(BG_NOTIFY_DISABLE)
            ABI_CONST(BG_NOTIFY_JOB_MODIFICATION) ABI_CONST(BG_NOTIFY_FILE_TRANSFERRED)
                ABI_CONST(BG_JOB_ENUM_ALL_USERS) ABI_CONST(BG_COPY_FILE_OWNER)
                    ABI_CONST(BG_COPY_FILE_GROUP) ABI_CONST(BG_COPY_FILE_DACL)
                        ABI_CONST(BG_COPY_FILE_SACL) ABI_CONST(BG_COPY_FILE_ALL)
                            ABI_CONST(BG_JOB_ENABLE_PEERCACHING_CLIENT)
                                ABI_CONST(BG_JOB_ENABLE_PEERCACHING_SERVER)
                                    ABI_CONST(BG_JOB_DISABLE_BRANCH_CACHE)
                                        ABI_DWORD(BITS_COST_STATE_TRANSFER_ALWAYS)

#endif /* ABI_LIST_SHARED */

#ifdef ABI_LIST_OURS_ONLY
#undef ABI_LIST_OURS_ONLY

    /* Anchors of spec section 0.1 #2 that the MinGW comparison also covers. */
    ABI_SLOTS(IBackgroundCopyJobVtbl) ABI_SLOT(IBackgroundCopyJob5Vtbl, SetProperty)
        ABI_SLOT(IBackgroundCopyJob5Vtbl, GetProperty) ABI_SLOTS(IBackgroundCopyJob5Vtbl)

    /* BITS file interfaces newer than MinGW's headers (spec section 3.5). */
    ABI_IID(IBackgroundCopyFile3) ABI_SLOT(IBackgroundCopyFile3Vtbl, GetTemporaryName)
        ABI_SLOT(IBackgroundCopyFile3Vtbl, SetValidationState)
            ABI_SLOT(IBackgroundCopyFile3Vtbl, GetValidationState)
                ABI_SLOT(IBackgroundCopyFile3Vtbl, IsDownloadedFromPeer)
                    ABI_SLOTS(IBackgroundCopyFile3Vtbl) ABI_IID(IBackgroundCopyFile4)
                        ABI_SLOT(IBackgroundCopyFile4Vtbl, GetPeerDownloadStats)
                            ABI_SLOTS(IBackgroundCopyFile4Vtbl) ABI_IID(IBackgroundCopyFile5)
                                ABI_SLOT(IBackgroundCopyFile5Vtbl, SetProperty)
                                    ABI_SLOT(IBackgroundCopyFile5Vtbl, GetProperty)
                                        ABI_SLOTS(IBackgroundCopyFile5Vtbl)

    /* DO-only interfaces of the BITS-style API (spec section 4, Appendix A). */
    ABI_IID(IDeliveryOptimizationJob) ABI_SLOT(IDeliveryOptimizationJobVtbl, AddFileWithRanges)
        ABI_SLOTS(IDeliveryOptimizationJobVtbl) ABI_IID(IDeliveryOptimizationJob2)
            ABI_SLOT(IDeliveryOptimizationJob2Vtbl, AddFile)
                ABI_SLOT(IDeliveryOptimizationJob2Vtbl, GetProperty)
                    ABI_SLOT(IDeliveryOptimizationJob2Vtbl, SetProperty)
                        ABI_SLOTS(IDeliveryOptimizationJob2Vtbl) ABI_IID(IDeliveryOptimizationFile)
                            ABI_SLOT(IDeliveryOptimizationFileVtbl, GetStats)
                                ABI_SLOTS(IDeliveryOptimizationFileVtbl)
                                    ABI_IID(IDeliveryOptimizationFile2)
                                        ABI_SLOT(IDeliveryOptimizationFile2Vtbl, GetProperty)
                                            ABI_SLOT(IDeliveryOptimizationFile2Vtbl, SetProperty)
                                                ABI_SLOTS(IDeliveryOptimizationFile2Vtbl)

    /* Modern API (spec section 5). */
    ABI_IID(IDOManager) ABI_SLOT(IDOManagerVtbl, CreateDownload)
        ABI_SLOT(IDOManagerVtbl, EnumDownloads) ABI_SLOTS(IDOManagerVtbl) ABI_IID(IDODownload)
            ABI_SLOT(IDODownloadVtbl, Start) ABI_SLOT(IDODownloadVtbl, Pause)
                ABI_SLOT(IDODownloadVtbl, Abort) ABI_SLOT(IDODownloadVtbl, Finalize)
                    ABI_SLOT(IDODownloadVtbl, GetStatus) ABI_SLOT(IDODownloadVtbl, GetProperty)
                        ABI_SLOT(IDODownloadVtbl, SetProperty) ABI_SLOTS(IDODownloadVtbl)
                            ABI_IID(IDODownloadStatusCallback)
                                ABI_SLOT(IDODownloadStatusCallbackVtbl, OnStatusChange)
                                    ABI_SLOTS(IDODownloadStatusCallbackVtbl)

    /* Structures (spec section 7). */
    ABI_SIZE(BG_FILE_RANGE) ABI_SIZE(BITS_JOB_PROPERTY_VALUE) ABI_ALIGN(BITS_JOB_PROPERTY_VALUE)
        ABI_SIZE(BITS_FILE_PROPERTY_VALUE) ABI_OFFSET(BITS_FILE_PROPERTY_VALUE, String) ABI_SIZE(
            DOSwarmStats) ABI_ALIGN(DOSwarmStats) ABI_OFFSET(DOSwarmStats, fileId)
            ABI_OFFSET(DOSwarmStats, sourceURL) ABI_OFFSET(DOSwarmStats, fileSize) ABI_OFFSET(
                DOSwarmStats, totalBytesDownloaded) ABI_OFFSET(DOSwarmStats, bytesFromLanPeers)
                ABI_OFFSET(DOSwarmStats, bytesFromGroupPeers) ABI_OFFSET(
                    DOSwarmStats, bytesFromInternetPeers) ABI_OFFSET(DOSwarmStats, bytesFromHttp)
                    ABI_OFFSET(DOSwarmStats, bytesFromDoinc) ABI_OFFSET(
                        DOSwarmStats, bytesToLanPeers) ABI_OFFSET(DOSwarmStats, bytesToGroupPeers)
                        ABI_OFFSET(DOSwarmStats, bytesToInternetPeers) ABI_OFFSET(
                            DOSwarmStats,
                            httpConnectionCount) ABI_OFFSET(DOSwarmStats, doincConnectionCount)
                            ABI_OFFSET(DOSwarmStats, lanConnectionCount) ABI_OFFSET(
                                DOSwarmStats,
                                groupConnectionCount) ABI_OFFSET(DOSwarmStats,
                                                                 internetConnectionCount)
                                ABI_OFFSET(DOSwarmStats, downloadDuration) ABI_OFFSET(
                                    DOSwarmStats, downloadMode) ABI_OFFSET(DOSwarmStats, status)
                                    ABI_OFFSET(DOSwarmStats, isBackground) ABI_SIZE(
                                        DO_DOWNLOAD_RANGE) ABI_OFFSET(DO_DOWNLOAD_RANGE, Offset)
                                        ABI_OFFSET(DO_DOWNLOAD_RANGE,
                                                   Length) ABI_SIZE(DO_DOWNLOAD_RANGES_INFO)
                                            ABI_OFFSET(DO_DOWNLOAD_RANGES_INFO, RangeCount) ABI_OFFSET(
                                                DO_DOWNLOAD_RANGES_INFO,
                                                Ranges) ABI_SIZE(DO_DOWNLOAD_STATUS)
                                                ABI_ALIGN(DO_DOWNLOAD_STATUS) ABI_OFFSET(
                                                    DO_DOWNLOAD_STATUS,
                                                    BytesTotal)
                                                    ABI_OFFSET(DO_DOWNLOAD_STATUS, BytesTransferred)
                                                        ABI_OFFSET(
                                                            DO_DOWNLOAD_STATUS,
                                                            State) ABI_OFFSET(DO_DOWNLOAD_STATUS,
                                                                              Error)
                                                            ABI_OFFSET(DO_DOWNLOAD_STATUS,
                                                                       ExtendedError)
                                                                ABI_SIZE(DO_DOWNLOAD_ENUM_CATEGORY)
                                                                    ABI_OFFSET(
                                                                        DO_DOWNLOAD_ENUM_CATEGORY,
                                                                        Property)
                                                                        ABI_OFFSET(
                                                                            DO_DOWNLOAD_ENUM_CATEGORY,
                                                                            Value)

    /* Enumerations (spec section 8). */
    ABI_SIZE(BITS_FILE_PROPERTY_ID) ABI_SIZE(BITS_JOB_TRANSFER_POLICY) ABI_SIZE(DownloadMode) ABI_SIZE(
        SwarmStatus) ABI_SIZE(DOFilePropertyId) ABI_SIZE(DOJobPropertyId) ABI_SIZE(DODownloadState) ABI_SIZE(DODownloadCostPolicy)
        ABI_SIZE(DODownloadProperty) ABI_CONST(BG_ERROR_CONTEXT_SERVER_CERTIFICATE_CALLBACK) ABI_CONST(
            BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS) ABI_DWORD(BITS_JOB_TRANSFER_POLICY_ALWAYS) ABI_DWORD(BITS_JOB_TRANSFER_POLICY_NOT_ROAMING)
            ABI_DWORD(BITS_JOB_TRANSFER_POLICY_NO_SURCHARGE) ABI_DWORD(BITS_JOB_TRANSFER_POLICY_STANDARD) ABI_DWORD(
                BITS_JOB_TRANSFER_POLICY_UNRESTRICTED) ABI_CONST(DownloadMode_CdnOnly) ABI_CONST(DownloadMode_Lan)
                ABI_CONST(DownloadMode_Group) ABI_CONST(DownloadMode_Internet) ABI_CONST(DownloadMode_Simple) ABI_CONST(
                    DownloadMode_Bypass) ABI_CONST(SwarmStatus_Downloading) ABI_CONST(SwarmStatus_Complete)
                    ABI_CONST(SwarmStatus_Caching) ABI_CONST(SwarmStatus_Paused) ABI_CONST(DOFilePropertyId_DecryptionInfo) ABI_CONST(
                        DOFilePropertyId_IntegrityCheckInfo) ABI_CONST(DOFilePropertyId_IntegrityCheckMandatory)
                        ABI_CONST(DOFilePropertyId_DownloadSinkInterface) ABI_CONST(
                            DOFilePropertyId_DownloadSinkFilePath) ABI_CONST(DOFilePropertyId_DownloadSinkMemoryStream)
                            ABI_CONST(DOFilePropertyId_TotalSizeBytes) ABI_CONST(DOJobPropertyId_ExtendedErrorInfo) ABI_CONST(
                                DODownloadState_Created) ABI_CONST(DODownloadState_Transferring)
                                ABI_CONST(DODownloadState_Transferred) ABI_CONST(DODownloadState_Finalized) ABI_CONST(
                                    DODownloadState_Aborted) ABI_CONST(DODownloadState_Paused) ABI_CONST(DODownloadCostPolicy_Always)
                                    ABI_CONST(DODownloadCostPolicy_Unrestricted) ABI_CONST(DODownloadCostPolicy_Standard) ABI_CONST(
                                        DODownloadCostPolicy_NoRoaming) ABI_CONST(DODownloadCostPolicy_NoSurcharge)
                                        ABI_CONST(DODownloadCostPolicy_NoCellular) ABI_CONST(DODownloadProperty_Id) ABI_CONST(
                                            DODownloadProperty_Uri) ABI_CONST(DODownloadProperty_ContentId)
                                            ABI_CONST(DODownloadProperty_DisplayName) ABI_CONST(
                                                DODownloadProperty_LocalPath) ABI_CONST(DODownloadProperty_HttpCustomHeaders)
                                                ABI_CONST(DODownloadProperty_CostPolicy) ABI_CONST(
                                                    DODownloadProperty_SecurityFlags) ABI_CONST(DODownloadProperty_CallbackFreqPercent)
                                                    ABI_CONST(DODownloadProperty_CallbackFreqSeconds) ABI_CONST(
                                                        DODownloadProperty_NoProgressTimeoutSeconds)
                                                        ABI_CONST(DODownloadProperty_ForegroundPriority) ABI_CONST(
                                                            DODownloadProperty_BlockingMode) ABI_CONST(DODownloadProperty_CallbackInterface)
                                                            ABI_CONST(DODownloadProperty_StreamInterface) ABI_CONST(
                                                                DODownloadProperty_SecurityContext)
                                                                ABI_CONST(DODownloadProperty_NetworkToken) ABI_CONST(
                                                                    DODownloadProperty_CorrelationVector)
                                                                    ABI_CONST(DODownloadProperty_DecryptionInfo) ABI_CONST(
                                                                        DODownloadProperty_IntegrityCheckInfo)
                                                                        ABI_CONST(DODownloadProperty_IntegrityCheckMandatory) ABI_CONST(
                                                                            DODownloadProperty_TotalSizeBytes)
                                                                            ABI_CONST(DODownloadProperty_DisallowOnCellular) ABI_CONST(
                                                                                DODownloadProperty_HttpCustomAuthHeaders)
                                                                                ABI_CONST(
                                                                                    DODownloadProperty_HttpAllowSecureToNonSecureRedirect)
                                                                                    ABI_CONST(
                                                                                        DODownloadProperty_NonVolatile)
                                                                                        ABI_CONST(
                                                                                            DODownloadProperty_HttpRedirectionTarget)
                                                                                            ABI_CONST(
                                                                                                DODownloadProperty_HttpResponseHeaders)
                                                                                                ABI_CONST(
                                                                                                    DODownloadProperty_HttpServerIPAddress)
                                                                                                    ABI_CONST(
                                                                                                        DODownloadProperty_HttpStatusCode)

    /* #define constants (spec sections 8.5 to 8.7 and 8.13). */
    ABI_CONST(BG_NOTIFY_FILE_RANGES_TRANSFERRED) ABI_CONST(BG_SSL_ENABLE_CRL_CHECK) ABI_CONST(
        BG_SSL_IGNORE_CERT_CN_INVALID) ABI_CONST(BG_SSL_IGNORE_CERT_DATE_INVALID)
        ABI_CONST(BG_SSL_IGNORE_UNKNOWN_CA) ABI_CONST(BG_SSL_IGNORE_CERT_WRONG_USAGE) ABI_CONST(
            BG_HTTP_REDIRECT_POLICY_MASK) ABI_CONST(BG_HTTP_REDIRECT_POLICY_ALLOW_SILENT)
            ABI_CONST(BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT) ABI_CONST(
                BG_HTTP_REDIRECT_POLICY_DISALLOW)
                ABI_CONST(BG_HTTP_REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP) ABI_DWORD(
                    BITS_COST_STATE_UNRESTRICTED) ABI_DWORD(BITS_COST_STATE_CAPPED_USAGE_UNKNOWN)
                    ABI_DWORD(BITS_COST_STATE_BELOW_CAP) ABI_DWORD(
                        BITS_COST_STATE_NEAR_CAP) ABI_DWORD(BITS_COST_STATE_OVERCAP_CHARGED)
                        ABI_DWORD(BITS_COST_STATE_OVERCAP_THROTTLED) ABI_DWORD(
                            BITS_COST_STATE_USAGE_BASED) ABI_DWORD(BITS_COST_STATE_ROAMING)
                            ABI_DWORD(
                                BITS_COST_STATE_RESERVED) ABI_DWORD(BITS_COST_OPTION_IGNORE_CONGESTION)
                                ABI_DWORD(BITS_COST_STATE_TRANSFER_ALWAYS) ABI_CONST(
                                    DO_LENGTH_TO_EOF) ABI_CONST(DO_UNKNOWN_FILE_SIZE)
                                    ABI_TEXT(DecryptionInfo_KeyData) ABI_TEXT(
                                        DecryptionInfo_EncryptionBufferSize)
                                        ABI_TEXT(DecryptionInfo_AlgorithmName) ABI_TEXT(
                                            DecryptionInfo_ChainingMode)
                                            ABI_TEXT(IntegrityCheckInfo_PiecesHashFileUrl) ABI_TEXT(
                                                IntegrityCheckInfo_PiecesHashFileDigest)
                                                ABI_TEXT(
                                                    IntegrityCheckInfo_PiecesHashFileDigestAlgorithm)
                                                    ABI_TEXT(IntegrityCheckInfo_HashOfHashes)

#endif /* ABI_LIST_OURS_ONLY */
