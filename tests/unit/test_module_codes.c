/*
 * The lookup every driver's error-code table goes through (module_codes.c):
 * a listed code gives its row and status, an unlisted one none and 502.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "module_codes.h"

static const struct module_code rows[] = {
	{ 601, 502, "Network Error", NULL },
	{ 705, 504, "Timeout", NULL },
	{ 703, 503, "Busy", "try again" },
};

static void test_find(void **state)
{
	(void)state;
	struct module_codes t = MODULE_CODES(rows);
	assert_int_equal(t.n, 3);
	const struct module_code *c = module_code_find(t, 703);
	assert_non_null(c);
	assert_ptr_equal(c, &rows[2]);
	assert_string_equal(c->meaning, "Busy");
	assert_string_equal(c->hint, "try again");
	assert_ptr_equal(module_code_find(t, 601), &rows[0]);
	assert_null(module_code_find(t, 602));
	assert_null(module_code_find(t, -1));
	assert_null(module_code_find((struct module_codes){ NULL, 0 }, 601));
}

static void test_status(void **state)
{
	(void)state;
	struct module_codes t = MODULE_CODES(rows);
	assert_int_equal(module_code_status(t, 705), 504);
	assert_int_equal(module_code_status(t, 703), 503);
	assert_int_equal(module_code_status(t, 601), 502);
	/* A code the manual does not list is still the module's failure. */
	assert_int_equal(module_code_status(t, 999), 502);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
