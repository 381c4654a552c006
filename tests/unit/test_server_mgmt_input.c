/* Unit tests: server-mgmt's request input besides server records
 * (input.c): BMC action bodies, list and SEL queries, scan bodies and
 * their import. Every refusal names its field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "osh/json.h"
#include "osh/util.h"
#include "server-mgmt/input.h"
#include "server-mgmt/sm.h"

static struct json_object *
body(const char *text)
{
	struct osh_err err;
	struct json_object *o =
	    osh_json_parse(text, strlen(text), OSH_JSON_MAX_DEPTH, &err);

	if (o == NULL)
		fail_msg("bad test body %s", text);
	return o;
}

enum which {
	POWER,
	BOOT,
	IDENTIFY
};

static void
action_bodies(void **state)
{
	static const struct {
		enum which w;
		const char *body;
		const char *field; /* NULL: accepted; "": no field */
	} cases[] = {
	    {POWER, "{\"action\": \"cycle\"}", NULL},
	    {POWER, "{}", "action"},
	    {POWER, "{\"action\": \"explode\"}", "action"},
	    {POWER, "{\"action\": 1}", "action"},
	    {POWER, "{\"action\": \"on\", \"force\": true}", "force"},
	    {POWER, "[]", ""},
	    {BOOT, "{\"device\": \"pxe\", \"efi\": true}", NULL},
	    {BOOT, "{\"device\": \"floppy\"}", "device"},
	    {BOOT, "{\"device\": \"disk\", \"persistent\": 1}", "persistent"},
	    {IDENTIFY, "{\"seconds\": 15}", NULL},
	    {IDENTIFY, "{\"off\": true}", NULL},
	    {IDENTIFY, "{\"force\": true}", NULL},
	    {IDENTIFY, "{}", "seconds"},
	    {IDENTIFY, "{\"force\": false}", "seconds"},
	    {IDENTIFY, "{\"seconds\": 5, \"off\": true}", "seconds"},
	    {IDENTIFY, "{\"seconds\": 0}", "seconds"},
	    {IDENTIFY, "{\"seconds\": 256}", "seconds"},
	    {IDENTIFY, "\"on\"", ""},
	};

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct json_object *o = body(cases[i].body);
		struct osh_ipmi_request rq = {0};
		struct osh_err err = {0};
		int rc = cases[i].w == POWER ? input_power(o, &rq, &err)
		    : cases[i].w == BOOT     ? input_boot(o, &rq, &err)
					     : input_identify(o, &rq, &err);

		if ((rc == 0) != (cases[i].field == NULL))
			fail_msg("%s: %s", cases[i].body,
			    rc == 0 ? "accepted" : err.message);
		if (rc != 0) {
			assert_int_equal(err.status, 400);
			assert_string_equal(err.field, cases[i].field);
		}
		json_object_put(o);
	}
}

static void
action_values(void **state)
{
	struct osh_ipmi_request rq = {0};
	struct osh_err err;
	struct json_object *o;

	(void)state;
	o = body("{\"action\": \"soft\"}");
	assert_int_equal(input_power(o, &rq, &err), 0);
	assert_int_equal(rq.power, OSH_POWER_SOFT);
	json_object_put(o);
	o = body("{\"device\": \"bios\", \"persistent\": true}");
	assert_int_equal(input_boot(o, &rq, &err), 0);
	assert_int_equal(rq.boot.device, OSH_BOOT_BIOS);
	assert_true(rq.boot.persistent);
	assert_false(rq.boot.efi);
	json_object_put(o);
	o = body("{\"seconds\": 30}");
	assert_int_equal(input_identify(o, &rq, &err), 0);
	assert_int_equal(rq.identify.seconds, 30);
	assert_false(rq.identify.force);
	json_object_put(o);
}

#define P(k, v)                                                                \
	{                                                                      \
		k, v                                                           \
	}

static void
list_queries(void **state)
{
	static const struct {
		struct input_param p[3];
		size_t n;
		const char *field; /* NULL: accepted */
	} cases[] = {
	    {{P("limit", "10"), P("sort", "-name")}, 2, NULL},
	    {{P("label", "rack=r1"), P("status", "online")}, 2, NULL},
	    {{P("label", "rack=")}, 1, NULL},
	    {{P("limit", "0")}, 1, "limit"},
	    {{P("limit", "1001")}, 1, "limit"},
	    {{P("offset", "-1")}, 1, "offset"},
	    {{P("sort", "bmc_host; DROP TABLE servers")}, 1, "sort"},
	    {{P("status", "dead")}, 1, "status"},
	    {{P("power_state", "maybe")}, 1, "power_state"},
	    {{P("monitoring", "yes")}, 1, "monitoring"},
	    {{P("label", "rack")}, 1, "label"},
	    {{P("label", "=r1")}, 1, "label"},
	    {{P("label", "1rack=r1")}, 1, "label"},
	    {{P("label", "ra-ck=r1")}, 1, "label"},
	    /* A label name longer than any label: once cut mid-text. */
	    {{P("label",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaa=x")},
		1, "label"},
	    {{P("limit", "5"), P("limit", "6")}, 2, "limit"},
	    {{P("nmae", "x")}, 1, "nmae"},
	    {{P("q", "web 01")}, 1, NULL},
	    {{P("q", "")}, 1, "q"},
	    {{P("q", "a\tb")}, 1, "q"},
	    {{P("labels", "rack=r12,role!=lab")}, 1, NULL},
	    {{P("labels", "env in (a,b),!legacy,gpu"), P("label", "x=y")}, 2,
		NULL},
	    {{P("labels", "rack=")}, 1, NULL},
	    {{P("labels", "")}, 1, "labels"},
	    {{P("labels", "rack in ()")}, 1, "labels"},
	    {{P("labels", "rack=r1,")}, 1, "labels"},
	    {{P("labels", "ra-ck=r1")}, 1, "labels"},
	    {{P("labels", "  ")}, 1, "labels"},
	    {{P("labels", "app.kubernetes.io/name=x")}, 1, "labels"},
	    {{P("label", "note=a b,c(!)")}, 1, NULL},
	    {{P("cursor", "WyJpZCIsICI1IiwgNV0")}, 1, NULL},
	    {{P("cursor", "WyItbmFtZSIsICJ3ZWItMDEiLCA3XQ"),
		 P("sort", "-name")},
		2, NULL},
	    {{P("cursor", "WyItbmFtZSIsICJ3ZWItMDEiLCA3XQ"), P("sort", "name")},
		2, "cursor"},
	    {{P("cursor", "WyJpZCIsICI1IiwgMF0")}, 1, "cursor"},
	    {{P("cursor", "WyJpZCIsIDUsIDVd")}, 1, "cursor"},
	    {{P("cursor", "WyJpZCIsICI1IiwgNV0"), P("offset", "5")}, 2,
		"cursor"},
	    {{P("cursor", "not base64!")}, 1, "cursor"},
	};

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct servers_query q;
		struct osh_err err = {0};
		int rc = input_servers_query(cases[i].p, cases[i].n, &q, &err);

		if ((rc == 0) != (cases[i].field == NULL))
			fail_msg("case %zu: %s", i,
			    rc == 0 ? "accepted" : err.message);
		if (rc != 0)
			assert_string_equal(err.field, cases[i].field);
		input_servers_query_release(&q);
	}
}

static void
list_query_values(void **state)
{
	struct input_param p[] = {P("label", "rack=r\"1"), P("sort", "-name"),
	    P("limit", "7"), P("name", "web")};
	struct input_param many[INPUT_MAX_PARAMS + 1];
	struct servers_query q;
	struct osh_err err;

	(void)state;
	assert_int_equal(input_servers_query(p, 4, &q, &err), 0);
	assert_string_equal(q.f.label_eq, "{\"rack\":\"r\\\"1\"}");
	assert_null(q.f.label_keys);
	assert_null(q.f.label_rest);
	assert_int_equal(q.page.sort, SERVER_SORT_NAME);
	assert_true(q.page.desc);
	assert_string_equal(q.page.sort_text, "-name");
	assert_int_equal(q.limit, 7);
	assert_int_equal(q.offset, 0);
	assert_string_equal(q.f.name, "web");
	assert_null(q.f.status);
	input_servers_query_release(&q);
	for (size_t i = 0; i < OSH_ARRAY_LEN(many); i++)
		many[i] = (struct input_param)P("name", "x");
	assert_int_equal(
	    input_servers_query(many, OSH_ARRAY_LEN(many), &q, &err), -1);
	/* A selector's error names the field and the position. */
	p[0] = (struct input_param)P("labels", "rack=r1,ra-ck=1");
	assert_int_equal(input_servers_query(p, 1, &q, &err), -1);
	assert_string_equal(err.field, "labels");
	assert_non_null(strstr(err.message, "at position 10"));
	input_servers_query_release(&q);
}

static void
sel_queries(void **state)
{
	struct input_param ok[] = {P("limit", "20"), P("cursor", "65534")};
	struct input_param off[] = {P("offset", "5")};
	struct input_param first[] = {P("cursor", "0")};
	struct input_param last[] = {P("cursor", "65535")};
	struct input_param big[] = {P("limit", "1001")};
	struct osh_ipmi_request rq = {0};
	struct osh_err err;

	(void)state;
	assert_int_equal(input_sel_query(ok, 2, &rq, &err), 0);
	assert_int_equal(rq.sel.limit, 20);
	assert_int_equal(rq.sel.start, 0xfffe);
	assert_int_equal(input_sel_query(NULL, 0, &rq, &err), 0);
	assert_int_equal(rq.sel.limit, OSH_IPMI_SEL_PAGE_DEFAULT);
	assert_int_equal(input_sel_query(off, 1, &rq, &err), -1);
	assert_string_equal(err.field, "offset");
	assert_int_equal(input_sel_query(first, 1, &rq, &err), -1);
	assert_string_equal(err.field, "cursor");
	assert_int_equal(input_sel_query(last, 1, &rq, &err), -1);
	assert_int_equal(input_sel_query(big, 1, &rq, &err), -1);
	assert_string_equal(err.field, "limit");
}

static void
scan_bodies(void **state)
{
	static const struct {
		const char *body;
		const char *field; /* NULL: accepted */
	} cases[] = {
	    {"{\"range\": \"10.0.0.0/30\"}", NULL},
	    {"{\"range\": [\"10.0.0.1\"], \"port\": [623, 624]}", NULL},
	    {"{\"range\": \"10.0.0.1\", \"credentials\": [{\"username\": "
	     "\"a\", \"password\": \"b\"}], \"workarounds\": "
	     "[\"opensesspriv\"], \"timeout_ms\": 500}",
		NULL},
	    {"{}", "range"},
	    {"{\"range\": \"\"}", "range"},
	    {"{\"range\": null}", "range"}, /* fuzz: once taken as none */
	    {"{\"range\": \"10.0.0.1\", \"guess\": true}", "guess"},
	    {"{\"range\": \"10.0.0.1\", \"timeout_ms\": 50}", "timeout_ms"},
	    {"{\"range\": \"10.0.0.1\", \"workarounds\": [\"nope\"]}",
		"workarounds"},
	    {"{\"range\": \"10.0.0.1\", \"workarounds\": [1]}", "workarounds"},
	    {"{\"range\": \"10.0.0.1\", \"credentials\": [{}]}",
		"credentials.username"},
	    {"{\"range\": \"10.0.0.1\", \"credentials\": [\"admin\"]}",
		"credentials"},
	    {"{\"range\": \"10.0.0.1\", \"credentials\": [{\"username\": "
	     "\"a\", \"password\": \"b\", \"x\": 1}]}",
		"credentials.x"},
	    {"{\"range\": \"10.0.0.1\", \"credentials\": [{}, {}, {}, {}, {}, "
	     "{}]}",
		"credentials"},
	};

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct json_object *o = body(cases[i].body);
		struct scan_request r;
		struct osh_err err = {0};
		int rc = input_scan(o, 1000, &r, &err);

		if ((rc == 0) != (cases[i].field == NULL))
			fail_msg("%s: %s", cases[i].body,
			    rc == 0 ? "accepted" : err.message);
		if (rc != 0)
			assert_string_equal(err.field, cases[i].field);
		else
			assert_non_null(r.range);
		input_scan_release(&r);
		input_scan_release(&r);
		json_object_put(o);
	}
}

static void
scan_imports(void **state)
{
	static const struct {
		const char *body;
		const char *prefix;
		const char *field; /* NULL: accepted */
		const char *ids;
	} cases[] = {
	    {"{}", NULL, NULL, NULL},
	    {"{\"results\": [1, 2]}", "rack-7", NULL, "[1,2]"},
	    {"{\"results\": []}", NULL, "results", NULL},
	    {"{\"results\": [0]}", NULL, "results", NULL},
	    {"{\"results\": [\"1\"]}", NULL, "results", NULL},
	    {"{\"results\": [1.5]}", NULL, "results", NULL},
	    {"{\"results\": [18446744073709551615]}", NULL, "results", NULL},
	    {"{\"results\": 1}", NULL, "results", NULL},
	    {"{}", "", "name_prefix", NULL},
	    {"{}", "a/b", "name_prefix", NULL},
	    {"{}", "a\tb", "name_prefix", NULL},
	    {"{}", "abcdefghijklmnopqrstuvwxyzabcdefg", "name_prefix", NULL},
	};

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct json_object *o = body(cases[i].body);
		struct input_param p[] = {P("name_prefix", cases[i].prefix)};
		struct scan_import_request r;
		struct osh_err err = {0};
		int rc = input_scan_import(
		    o, p, cases[i].prefix != NULL ? 1 : 0, &r, &err);

		if ((rc == 0) != (cases[i].field == NULL))
			fail_msg("%s: %s", cases[i].body,
			    rc == 0 ? "accepted" : err.message);
		if (rc != 0) {
			assert_string_equal(err.field, cases[i].field);
		} else {
			assert_string_equal(r.prefix,
			    cases[i].prefix ? cases[i].prefix : "bmc");
			if (cases[i].ids == NULL)
				assert_null(r.ids_json);
			else
				assert_string_equal(r.ids_json, cases[i].ids);
		}
		free(r.ids_json);
		json_object_put(o);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(action_bodies),
	    cmocka_unit_test(action_values),
	    cmocka_unit_test(list_queries),
	    cmocka_unit_test(list_query_values),
	    cmocka_unit_test(sel_queries),
	    cmocka_unit_test(scan_bodies),
	    cmocka_unit_test(scan_imports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
