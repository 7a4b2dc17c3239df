/* SPDX-License-Identifier: MIT */
/* OpenDO public header: class ids, the generated interfaces and the error codes clients see. */
#ifndef OPENDO_H
#define OPENDO_H

#include <windows.h>
#include <objbase.h>
#include <bitsmsg.h>

#include "DeliveryOptimization.h"
#include "opendo_idl.h"

#ifdef __cplusplus
extern "C"
{
#endif

    /* {4c47eee6-b55d-411b-becc-f1272ebf34de}: OpenDO's own class; speaks the BITS dialect. */
    extern const CLSID CLSID_OpenDOManager;
    /* {5b99fa76-721c-423c-adac-56d03c8a8007}: Windows' Delivery Optimization class. OpenDO serves
     * it (DO dialect: DO_E_* codes) only where `regsvr32 /n /i:dosvc opendo.dll` registered it. */
    extern const CLSID CLSID_DeliveryOptimization;
    /* {72d72fcb-bc24-44b4-84a0-38411b90eb4b}: OpenDO's type library. */
    extern const IID LIBID_OpenDOLib;
    /* {481cc7de-b793-4c69-aa1f-d284e9e05eab}: OpenDO's proxies and stubs, registered for the
     * interfaces that have no proxy of the system's. */
    extern const CLSID CLSID_OpenDOProxyStub;
    /* {0892fcb0-7375-455d-9004-c852619c5838}: the AppID of the COM surrogate that serves
     * CLSCTX_LOCAL_SERVER clients. */
    extern const GUID APPID_OpenDO;

#define OPENDO_PROGID L"OpenDO.Manager"
#define OPENDO_PROGID_VERSIONED L"OpenDO.Manager.1"

/* HTTP status errors, as BITS reports them: 0x80190000 | status. */
#ifndef BG_E_HTTP_ERROR_FROM_STATUS
#define BG_E_HTTP_ERROR_FROM_STATUS(status)                                                        \
    ((HRESULT)(0x80190000u | ((unsigned int)(status)&0xFFFu)))
#endif

/* Newer BITS codes that MinGW's bitsmsg.h lacks. */
#ifndef BG_E_UNKNOWN_PROPERTY_ID
#define BG_E_UNKNOWN_PROPERTY_ID ((HRESULT)0x80200057L)
#define BG_E_READ_ONLY_PROPERTY ((HRESULT)0x80200058L)
#define BG_E_MAX_DOWNLOAD_SIZE_INVALID_VALUE ((HRESULT)0x80200063L)
#define BG_E_MAX_DOWNLOAD_SIZE_LIMIT_REACHED ((HRESULT)0x80200064L)
#define BG_E_REMOTE_FILE_CHANGED ((HRESULT)0x80200073L)
#endif
#ifndef BG_E_MAXDOWNLOAD_TIMEOUT
#define BG_E_MAXDOWNLOAD_TIMEOUT ((HRESULT)0x80200054L)
#endif
#ifndef BG_E_VALIDATION_FAILED
#define BG_E_VALIDATION_FAILED ((HRESULT)0x80200053L)
#endif
#ifndef BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY
#define BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY ((HRESULT)0x80200060L)
#define BG_E_READ_ONLY_PROPERTY_AFTER_ADDFILE ((HRESULT)0x80200061L)
#define BG_E_READ_ONLY_PROPERTY_AFTER_RESUME ((HRESULT)0x80200062L)
#endif
#ifndef BG_E_USE_STORED_CREDENTIALS_NOT_SUPPORTED
#define BG_E_USE_STORED_CREDENTIALS_NOT_SUPPORTED ((HRESULT)0x80200066L)
#endif
#ifndef BG_E_BLOCKED_BY_COST_TRANSFER_POLICY
#define BG_E_BLOCKED_BY_COST_TRANSFER_POLICY ((HRESULT)0x80200059L)
#endif
#ifndef BG_E_UNSUPPORTED_JOB_CONFIGURATION
#define BG_E_UNSUPPORTED_JOB_CONFIGURATION ((HRESULT)0x80200072L)
#endif

/* Delivery Optimization codes (facility 0xD0), the ones OpenDO returns. */
#ifndef DO_E_NO_SERVICE
#define DO_E_NO_SERVICE ((HRESULT)0x80D01001L)
#define DO_E_DOWNLOAD_NO_PROGRESS ((HRESULT)0x80D02002L)
#define DO_E_JOB_NOT_FOUND ((HRESULT)0x80D02003L)
#define DO_E_JOB_EMPTY ((HRESULT)0x80D02004L)
#define DO_E_NO_DOWNLOADS ((HRESULT)0x80D02005L)
#define DO_E_MEMORYSTREAM_DOWNLOAD_NOT_SUPPORTED ((HRESULT)0x80D0200BL)
#define DO_E_JOB_TOO_OLD ((HRESULT)0x80D0200CL)
#define DO_E_LOCALPATH_NOT_SET ((HRESULT)0x80D0200DL)
#define DO_E_FILE_NOT_AVAILABLE ((HRESULT)0x80D02010L)
#define DO_E_UNKNOWN_PROPERTY_ID ((HRESULT)0x80D02011L)
#define DO_E_READ_ONLY_PROPERTY ((HRESULT)0x80D02012L)
#define DO_E_INVALID_STATE ((HRESULT)0x80D02013L)
#define DO_E_ERROR_INFORMATION_UNAVAILABLE ((HRESULT)0x80D02014L)
#define DO_E_WRITE_ONLY_PROPERTY ((HRESULT)0x80D02015L)
#define DO_E_FILE_DOWNLOADSINK_UNSPECIFIED ((HRESULT)0x80D02018L)
#define DO_E_FILE_DOWNLOADSINK_ALREADY_SET ((HRESULT)0x80D02019L)
#define DO_E_DOWNLOAD_NO_URI ((HRESULT)0x80D02200L)
#define DO_E_DOWNLOAD_NO_CONTENT_ID ((HRESULT)0x80D02201L)
#define DO_E_DOWNLOAD_RANGES_UNEXPECTED ((HRESULT)0x80D02203L)
#define DO_E_DOWNLOAD_RANGES_EXPECTED ((HRESULT)0x80D02204L)
#define DO_E_BLOCKED_BY_COST_TRANSFER_POLICY ((HRESULT)0x80D03801L)
#define DO_E_HTTP_BLOCKSIZE_MISMATCH ((HRESULT)0x80D05001L)
#define DO_E_INVALID_RANGE ((HRESULT)0x80D05010L)
#define DO_E_INSUFFICIENT_RANGE_SUPPORT ((HRESULT)0x80D05011L)
#define DO_E_OVERLAPPING_RANGES ((HRESULT)0x80D05012L)
#endif

#ifdef __cplusplus
}
#endif

#endif /* OPENDO_H */
