/* SPDX-License-Identifier: MIT */
/* Proves that DeliveryOptimization.h has the ABI of MinGW's bits*.h and the spec's fixed numbers.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include <windows.h>
#include <objbase.h>

#include <cmocka.h>

#include "abi_list.h"

/* The numbers the spec (do-api.md) fixes for what MinGW does not declare: abi_spec.h. */
struct spec_number
{
    const char *name;
    unsigned long long x64;
    unsigned long long x86;
};

static const struct spec_number spec_numbers[] = {
#define ABI_SPEC(name, x64, x86) {name, x64, x86},
#include "abi_spec.h"
#undef ABI_SPEC
};

/* Spec section 2 and Appendix A: IIDs, as printed there. */
static const struct
{
    const char *name;
    const WCHAR *iid;
} spec_iids[] = {
    {"IID_IBackgroundCopyFile3", L"{659cdeaa-489e-11d9-a9cd-000d56965251}"},
    {"IID_IBackgroundCopyFile4", L"{ef7e0655-7888-4960-b0e5-730846e03492}"},
    {"IID_IBackgroundCopyFile5", L"{85c1657f-dafc-40e8-8834-df18ea25717e}"},
    {"IID_IDeliveryOptimizationJob", L"{ee2584cf-a69c-4848-b633-2649962b3ef7}"},
    {"IID_IDeliveryOptimizationJob2", L"{18995a26-bf59-4abe-9f8b-d5092d5a2405}"},
    {"IID_IDeliveryOptimizationFile", L"{b76b9699-e99e-4101-803f-a20e325d93e2}"},
    {"IID_IDeliveryOptimizationFile2", L"{3a87296f-6ec2-4126-ab29-e3f8dc4cc390}"},
    {"IID_IDOManager", L"{400e2d4a-1431-4c1a-a748-39ca472cfdb1}"},
    {"IID_IDODownload", L"{fbbd7fc0-c147-4727-a38d-827ef071ee77}"},
    {"IID_IDODownloadStatusCallback", L"{d166e8e3-a90e-4392-8e87-05e996d3747d}"},
};

/* Spec section 8.13: JSON key strings. */
static const struct
{
    const char *name;
    const WCHAR *text;
} spec_texts[] = {
    {"DecryptionInfo_KeyData", L"KeyData"},
    {"DecryptionInfo_EncryptionBufferSize", L"EncryptionBufferSize"},
    {"DecryptionInfo_AlgorithmName", L"AlgorithmName"},
    {"DecryptionInfo_ChainingMode", L"ChainingMode"},
    {"IntegrityCheckInfo_PiecesHashFileUrl", L"PiecesHashFileUrl"},
    {"IntegrityCheckInfo_PiecesHashFileDigest", L"PiecesHashFileDigest"},
    {"IntegrityCheckInfo_PiecesHashFileDigestAlgorithm", L"PiecesHashFileDigestAlgorithm"},
    {"IntegrityCheckInfo_HashOfHashes", L"HashOfHashes"},
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void format_guid(const GUID *guid, char *buf, size_t size)
{
    snprintf(buf, size, "{%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}",
             (unsigned long)guid->Data1, guid->Data2, guid->Data3, guid->Data4[0], guid->Data4[1],
             guid->Data4[2], guid->Data4[3], guid->Data4[4], guid->Data4[5], guid->Data4[6],
             guid->Data4[7]);
}

static void format_number(unsigned long long value, char *buf, size_t size)
{
    if (value >> 32)
        snprintf(buf, size, "0x%08lx%08lx", (unsigned long)(value >> 32),
                 (unsigned long)(value & 0xffffffffu));
    else
        snprintf(buf, size, "%lu (0x%lx)", (unsigned long)value, (unsigned long)value);
}

static void format_text(const WCHAR *text, char *buf, size_t size)
{
    if (!WideCharToMultiByte(CP_UTF8, 0, text, -1, buf, (int)size, NULL, NULL))
        snprintf(buf, size, "(unprintable)");
}

/* Writes an entry's value in a form that names what differs. */
static void format_entry(const struct abi_entry *entry, char *buf, size_t size)
{
    switch (entry->kind)
    {
    case ABI_KIND_IID:
        format_guid(entry->iid, buf, size);
        break;
    case ABI_KIND_TEXT:
        format_text(entry->text, buf, size);
        break;
    default:
        format_number(entry->value, buf, size);
        break;
    }
}

static BOOL entry_values_equal(const struct abi_entry *a, const struct abi_entry *b)
{
    switch (a->kind)
    {
    case ABI_KIND_IID:
        return IsEqualGUID(a->iid, b->iid);
    case ABI_KIND_TEXT:
        return !wcscmp(a->text, b->text);
    default:
        return a->value == b->value;
    }
}

/*
 * Compares MinGW's table with ours, entry by entry, for the entries of the given kinds. Prints
 * every mismatch and fails naming the first, so that one run shows the whole damage.
 */
static void compare_with_mingw(const enum abi_kind *kinds, size_t kind_count)
{
    const char *first_bad = NULL;
    unsigned int checked = 0, bad = 0;
    size_t i, k;

    assert_int_equal(abi_mingw_count, abi_ours_count);
    for (i = 0; i < abi_mingw_count; i++)
    {
        const struct abi_entry *theirs = &abi_mingw[i], *ours = &abi_ours[i];
        char want[128], got[128];

        for (k = 0; k < kind_count; k++)
            if (theirs->kind == kinds[k])
                break;
        if (k == kind_count)
            continue;

        checked++;
        if (entry_values_equal(theirs, ours))
            continue;
        format_entry(theirs, want, sizeof(want));
        format_entry(ours, got, sizeof(got));
        print_error("ABI mismatch: %s: MinGW %s, ours %s\n", theirs->name, want, got);
        if (!first_bad)
            first_bad = theirs->name;
        bad++;
    }

    if (!checked)
        fail_msg("%s", "abi_list.h has no entries of this category");
    if (bad)
        fail_msg("%u of %u entries differ from MinGW's bits*.h, first: %s", bad, checked,
                 first_bad);
}

/* Both tables come from the same list, so entry i must name the same thing in both. */
static void test_tables_line_up(void **state)
{
    size_t i;

    (void)state;
    assert_int_equal(abi_mingw_count, abi_ours_count);
    assert_true(abi_mingw_count > 0);
    for (i = 0; i < abi_mingw_count; i++)
    {
        assert_string_equal(abi_mingw[i].name, abi_ours[i].name);
        assert_int_equal(abi_mingw[i].kind, abi_ours[i].kind);
    }
}

static void test_iids(void **state)
{
    static const enum abi_kind kinds[] = {ABI_KIND_IID};

    (void)state;
    compare_with_mingw(kinds, ARRAY_SIZE(kinds));
}

static void test_struct_layouts(void **state)
{
    static const enum abi_kind kinds[] = {ABI_KIND_SIZE, ABI_KIND_ALIGN, ABI_KIND_OFFSET};

    (void)state;
    compare_with_mingw(kinds, ARRAY_SIZE(kinds));
}

static void test_vtable_slots(void **state)
{
    static const enum abi_kind kinds[] = {ABI_KIND_SLOT, ABI_KIND_SLOTS};

    (void)state;
    compare_with_mingw(kinds, ARRAY_SIZE(kinds));
}

static void test_constants(void **state)
{
    static const enum abi_kind kinds[] = {ABI_KIND_CONST, ABI_KIND_TEXT};

    (void)state;
    compare_with_mingw(kinds, ARRAY_SIZE(kinds));
}

/*
 * Finds the spec's value for an entry; FALSE when the spec tables above lack it. An IID is parsed
 * into *iid, which must outlive *spec.
 */
static BOOL spec_value_for(const struct abi_entry *entry, struct abi_entry *spec, GUID *iid)
{
    size_t i;

    *spec = *entry;
    switch (entry->kind)
    {
    case ABI_KIND_IID:
        for (i = 0; i < ARRAY_SIZE(spec_iids); i++)
        {
            if (strcmp(spec_iids[i].name, entry->name))
                continue;
            assert_int_equal(IIDFromString(spec_iids[i].iid, iid), S_OK);
            spec->iid = iid;
            return TRUE;
        }
        return FALSE;
    case ABI_KIND_TEXT:
        for (i = 0; i < ARRAY_SIZE(spec_texts); i++)
        {
            if (strcmp(spec_texts[i].name, entry->name))
                continue;
            spec->text = spec_texts[i].text;
            return TRUE;
        }
        return FALSE;
    default:
        for (i = 0; i < ARRAY_SIZE(spec_numbers); i++)
        {
            if (strcmp(spec_numbers[i].name, entry->name))
                continue;
            spec->value = sizeof(void *) == 8 ? spec_numbers[i].x64 : spec_numbers[i].x86;
            return TRUE;
        }
        return FALSE;
    }
}

/* Counts the spec values that no entry of abi_ours_only[] checks, printing each. */
static unsigned int unchecked_spec_value(const char *name, unsigned int count)
{
    size_t i;

    for (i = 0; i < abi_ours_only_count; i++)
        if (!strcmp(abi_ours_only[i].name, name))
            return count;
    print_error("%s: spec value that abi_list.h does not list\n", name);
    return count + 1;
}

/*
 * What MinGW does not declare is checked against the spec. Every entry must have a spec value
 * and every spec value must be checked, so the list and the expectations cannot drift apart.
 */
static void test_ours_only_against_spec(void **state)
{
    const char *first_bad = NULL;
    unsigned int bad = 0, unchecked = 0;
    size_t i;

    (void)state;
    assert_true(abi_ours_only_count > 0);
    for (i = 0; i < abi_ours_only_count; i++)
    {
        const struct abi_entry *ours = &abi_ours_only[i];
        struct abi_entry spec;
        char want[128], got[128];
        GUID iid;

        if (!spec_value_for(ours, &spec, &iid))
        {
            print_error("%s: test_abi.c has no spec value for it\n", ours->name);
        }
        else if (!entry_values_equal(&spec, ours))
        {
            format_entry(&spec, want, sizeof(want));
            format_entry(ours, got, sizeof(got));
            print_error("spec mismatch: %s: spec %s, ours %s\n", ours->name, want, got);
        }
        else
        {
            continue;
        }
        if (!first_bad)
            first_bad = ours->name;
        bad++;
    }

    for (i = 0; i < ARRAY_SIZE(spec_numbers); i++)
        unchecked = unchecked_spec_value(spec_numbers[i].name, unchecked);
    for (i = 0; i < ARRAY_SIZE(spec_iids); i++)
        unchecked = unchecked_spec_value(spec_iids[i].name, unchecked);
    for (i = 0; i < ARRAY_SIZE(spec_texts); i++)
        unchecked = unchecked_spec_value(spec_texts[i].name, unchecked);

    if (bad)
        fail_msg("%u of %u entries differ from the spec, first: %s", bad,
                 (unsigned int)abi_ours_only_count, first_bad);
    if (unchecked)
        fail_msg("%u spec values are not checked", unchecked);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_line_up), cmocka_unit_test(test_iids),
        cmocka_unit_test(test_struct_layouts), cmocka_unit_test(test_vtable_slots),
        cmocka_unit_test(test_constants),      cmocka_unit_test(test_ours_only_against_spec),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
