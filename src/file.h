/* SPDX-License-Identifier: MIT */
/* The COM file object, shared by file.c (the object, IBackgroundCopyFile to File5) and
 * file_do.c (IDeliveryOptimizationFile and IDeliveryOptimizationFile2). */
#ifndef OPENDO_FILE_H
#define OPENDO_FILE_H

#include "engine/engine.h"
#include "private.h"

struct file
{
    IBackgroundCopyFile5 IBackgroundCopyFile5_iface;
    IDeliveryOptimizationFile IDeliveryOptimizationFile_iface;
    IDeliveryOptimizationFile2 IDeliveryOptimizationFile2_iface;
    LONG refs;
    IUnknown *ftm;
    struct ejob *ejob; /* counted reference: the file lives in the job */
    ULONG index;
    enum dialect dialect; /* the codes it answers with (dialect.c) */
};

static inline struct file *impl_from_IBackgroundCopyFile5(IBackgroundCopyFile5 *iface)
{
    return CONTAINING_RECORD(iface, struct file, IBackgroundCopyFile5_iface);
}

static inline struct file *impl_from_IDeliveryOptimizationFile(IDeliveryOptimizationFile *iface)
{
    return CONTAINING_RECORD(iface, struct file, IDeliveryOptimizationFile_iface);
}

static inline struct file *impl_from_IDeliveryOptimizationFile2(IDeliveryOptimizationFile2 *iface)
{
    return CONTAINING_RECORD(iface, struct file, IDeliveryOptimizationFile2_iface);
}

/* The engine's file record. Caller holds the job's lock (the array may be reallocated). */
static inline struct ejob_file *locked_file(struct file *file)
{
    return file->ejob->files[file->index];
}

/* The file's record, for a caller that holds no lock: the record itself never moves while the
 * job lives, but the array that lists it may be replaced under the lock. */
static inline struct ejob_file *file_record(struct file *file)
{
    struct ejob_file *record;

    AcquireSRWLockShared(&file->ejob->lock);
    record = locked_file(file);
    ReleaseSRWLockShared(&file->ejob->lock);
    return record;
}

/* An engine (BITS) code in the object's dialect. */
static inline HRESULT file_result(struct file *file, HRESULT hr)
{
    return dialect_result(file->dialect, hr);
}

/* The object's IUnknown, for the other interfaces to forward to. */
HRESULT file_query(struct file *file, REFIID riid, void **out);
ULONG file_addref(struct file *file);
ULONG file_release(struct file *file);

extern const IDeliveryOptimizationFileVtbl file_do_vtbl;
extern const IDeliveryOptimizationFile2Vtbl file_do2_vtbl;

#endif /* OPENDO_FILE_H */
