/* SPDX-License-Identifier: MIT */
/* Placeholder: being written. */
#include "testutil.h"

static void placeholder(void **state)
{
    skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(placeholder),
    };
    return cmocka_run_group_tests(tests, tu_com_setup, tu_com_teardown);
}
