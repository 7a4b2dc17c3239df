/* SPDX-License-Identifier: MIT */
/* GUIDs that no IDL of ours generates: the Windows Delivery Optimization class. */
#include <windows.h>
#include <initguid.h>

/* {5b99fa76-721c-423c-adac-56d03c8a8007}: Windows' Delivery Optimization class (DO dialect). */
DEFINE_GUID(CLSID_DeliveryOptimization, 0x5b99fa76, 0x721c, 0x423c, 0xad, 0xac, 0x56, 0xd0, 0x3c,
            0x8a, 0x80, 0x07);
