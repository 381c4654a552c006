/* Unit tests: power requests read from the osh:power-requests stream
 * (power_request.c): actions, which are repeatable, refusals and the
 * codes they answer with, and the transient error codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "osh/util.h"
#include "server-mgmt/power_request.h"

#define F(n, v)                                                                \
	{                                                                      \
		n, v, sizeof(v) - 1                                            \
	}

static void
actions(void **state)
{
	static const struct {
		const char *in;
		bool ok, idempotent;
		unsigned want;
	} cases[] = {
	    /* edge cases first */
	    {"", false, false, 0},
	    {"boot:", false, false, 0},
	    {"boot:none", false, false, 0},
	    {"boot:pxe:efi:persistent", false, false, 0},
	    {"boot:pxe:persistent:persistent", false, false, 0},
	    {"boot:pxe:", false, false, 0},
	    {"identify:", false, false, 0},
	    {"identify:0", false, false, 0},
	    {"identify:256", false, false, 0},
	    {"identify:-1", false, false, 0},
	    {"identify:force", false, false, 0},
	    {"ON", false, false, 0},
	    {"cycle ", false, false, 0},
	    {"status", true, true, OSH_IPMI_WANT_CHASSIS},
	    {"on", true, true, OSH_IPMI_WANT_CONTROL},
	    {"off", true, true, OSH_IPMI_WANT_CONTROL},
	    {"soft", true, true, OSH_IPMI_WANT_CONTROL},
	    {"cycle", true, false, OSH_IPMI_WANT_CONTROL},
	    {"reset", true, false, OSH_IPMI_WANT_CONTROL},
	    {"diag", true, false, OSH_IPMI_WANT_CONTROL},
	    {"boot:pxe", true, true, OSH_IPMI_WANT_BOOT},
	    {"boot:disk:persistent", true, true, OSH_IPMI_WANT_BOOT},
	    {"boot:cdrom:persistent:efi", true, true, OSH_IPMI_WANT_BOOT},
	    {"boot:bios:efi", true, true, OSH_IPMI_WANT_BOOT},
	    {"identify:1", true, true, OSH_IPMI_WANT_IDENTIFY},
	    {"identify:255", true, true, OSH_IPMI_WANT_IDENTIFY},
	    {"identify:off", true, true, OSH_IPMI_WANT_IDENTIFY},
	};
	struct osh_ipmi_request rq;
	bool idem;

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		bool ok = power_action_read(cases[i].in, &rq, &idem);
		if (ok != cases[i].ok)
			fail_msg("action \"%s\": %d", cases[i].in, ok);
		if (!ok)
			continue;
		assert_int_equal(idem, cases[i].idempotent);
		assert_int_equal(rq.want, cases[i].want);
	}
	assert_true(power_action_read("boot:cdrom:persistent:efi", &rq, &idem));
	assert_int_equal(rq.boot.device, OSH_BOOT_CDROM);
	assert_true(rq.boot.persistent && rq.boot.efi);
	assert_true(power_action_read("identify:30", &rq, &idem));
	assert_int_equal(rq.identify.seconds, 30);
	assert_true(power_action_read("identify:off", &rq, &idem));
	assert_int_equal(rq.identify.seconds, 0);
	assert_false(rq.identify.force);
	assert_true(power_action_read("cycle", &rq, &idem));
	assert_int_equal(rq.power, OSH_POWER_CYCLE);
}

static void
whole(void **state)
{
	struct power_field f[] = {
	    F("v", "1"),
	    F("request_id", "12.34.2"),
	    F("job_id", "12"),
	    F("task_id", "34"),
	    F("attempt", "2"),
	    F("server_id", "7"),
	    F("action", "reset"),
	    F("deadline_ms", "1796099531163"),
	    F("requested_by", "ops"),
	    F("trace", "req-1"),
	    F("unknown", "ignored"),
	};
	struct power_request r;
	const char *code;
	char why[160];

	(void)state;
	assert_int_equal(power_request_parse(
			     f, OSH_ARRAY_LEN(f), &r, &code, why, sizeof(why)),
	    POWER_PARSE_OK);
	assert_string_equal(r.request_id, "12.34.2");
	assert_int_equal(r.job_id, 12);
	assert_int_equal(r.task_id, 34);
	assert_int_equal(r.attempt, 2);
	assert_int_equal(r.server_id, 7);
	assert_string_equal(r.action, "reset");
	assert_false(r.idempotent);
	assert_int_equal(r.deadline_ms, 1796099531163LL);
	assert_string_equal(r.requested_by, "ops");
	assert_string_equal(r.trace, "req-1");
	assert_null(code);
}

/* One field replaced (or dropped, value NULL): what comes of it. */
static enum power_parse
with(const char *name, const char *value, size_t len, const char **code,
    struct power_request *r)
{
	struct power_field f[] = {
	    F("v", "1"),
	    F("request_id", "1.1.1"),
	    F("job_id", "1"),
	    F("task_id", "1"),
	    F("attempt", "1"),
	    F("server_id", "3"),
	    F("action", "on"),
	    F("deadline_ms", "0"),
	    F("requested_by", "ops"),
	};
	char why[160];
	enum power_parse p;

	for (size_t i = 0; i < OSH_ARRAY_LEN(f); i++) {
		if (strcmp(f[i].name, name) != 0)
			continue;
		if (value == NULL) {
			f[i].name = "dropped";
		} else {
			f[i].value = value;
			f[i].len = len;
		}
	}
	why[0] = 'x';
	p = power_request_parse(f, OSH_ARRAY_LEN(f), r, code, why, sizeof(why));
	if (p == POWER_PARSE_INVALID)
		assert_true(why[0] != '\0' && why[0] != 'x');
	return p;
}

static void
refusals(void **state)
{
	static const struct {
		const char *name, *value;
		enum power_parse want;
		const char *code;
	} cases[] = {
	    {"request_id", NULL, POWER_PARSE_NO_ID, NULL},
	    {"request_id", "", POWER_PARSE_NO_ID, NULL},
	    {"request_id", "a b", POWER_PARSE_NO_ID, NULL},
	    {"request_id", "1/2", POWER_PARSE_NO_ID, NULL},
	    {"request_id",
		"0123456789012345678901234567890123456789012345678901234567890"
		"12345678901234567890123456789012345",
		POWER_PARSE_NO_ID, NULL},
	    {"v", NULL, POWER_PARSE_INVALID, "unsupported"},
	    {"v", "2", POWER_PARSE_INVALID, "unsupported"},
	    {"action", NULL, POWER_PARSE_INVALID, "unsupported"},
	    {"action", "explode", POWER_PARSE_INVALID, "unsupported"},
	    {"job_id", NULL, POWER_PARSE_INVALID, "internal"},
	    {"job_id", "-1", POWER_PARSE_INVALID, "internal"},
	    {"task_id", "1e3", POWER_PARSE_INVALID, "internal"},
	    {"attempt", "99999999999999999999", POWER_PARSE_INVALID,
		"internal"},
	    {"server_id", "0", POWER_PARSE_INVALID, "not_found"},
	    {"deadline_ms", "soon", POWER_PARSE_INVALID, "internal"},
	    {"requested_by", "a\nb", POWER_PARSE_OK, NULL},
	};
	struct power_request r;
	const char *code;

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		size_t len = cases[i].value ? strlen(cases[i].value) : 0;
		enum power_parse p =
		    with(cases[i].name, cases[i].value, len, &code, &r);
		if (p != cases[i].want)
			fail_msg("%s=%s: %d", cases[i].name,
			    cases[i].value ? cases[i].value : "(none)", p);
		if (cases[i].code != NULL)
			assert_string_equal(code, cases[i].code);
		if (p == POWER_PARSE_INVALID)
			assert_string_equal(r.request_id, "1.1.1");
	}
	/* A NUL inside a value is refused, not cut short. */
	assert_int_equal(
	    with("request_id", "1.1\0x", 6, &code, &r), POWER_PARSE_NO_ID);
	assert_int_equal(
	    with("action", "on\0off", 6, &code, &r), POWER_PARSE_INVALID);
	/* An unusable requested_by is dropped, not the request. */
	assert_int_equal(
	    with("requested_by", "a\nb", 3, &code, &r), POWER_PARSE_OK);
}

static void
codes(void **state)
{
	(void)state;
	assert_string_equal(power_error_code(OSH_IPMI_TIMEOUT), "bmc_timeout");
	assert_string_equal(
	    power_error_code(OSH_IPMI_UNREACHABLE), "bmc_unreachable");
	assert_string_equal(
	    power_error_code(OSH_IPMI_AUTH_FAILED), "auth_failed");
	assert_string_equal(power_error_code(OSH_IPMI_PRIVILEGE), "privilege");
	assert_string_equal(
	    power_error_code(OSH_IPMI_UNSUPPORTED), "unsupported");
	assert_string_equal(power_error_code(OSH_IPMI_BUSY), "bmc_busy");
	assert_string_equal(
	    power_error_code(OSH_IPMI_BAD_RESPONSE), "internal");
	assert_true(power_error_transient("bmc_timeout"));
	assert_true(power_error_transient("worker_lost"));
	assert_false(power_error_transient("auth_failed"));
	assert_false(power_error_transient("outcome_unknown"));
	assert_false(power_error_transient("no_credentials"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(actions),
	    cmocka_unit_test(whole),
	    cmocka_unit_test(refusals),
	    cmocka_unit_test(codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
