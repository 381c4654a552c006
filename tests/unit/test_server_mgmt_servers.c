/* Unit tests: server-mgmt's pure rules: credentials sealed for one BMC
 * endpoint open for no other (servers.c), and which addresses discovery
 * may scan (scan_targets.c). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "osh/crypto.h"
#include "osh/json.h"
#include "osh/util.h"
#include "server-mgmt/scan_targets.h"
#include "server-mgmt/sm.h"

static struct osh_keyring *keys;

static int
setup(void **state)
{
	char path[] = "/tmp/osh-sm-keys-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	if (osh_crypto_init() != 0 || fd < 0 || (f = fdopen(fd, "w")) == NULL)
		return -1;
	fputs("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", f);
	fclose(f);
	keys = osh_keyring_load(path);
	unlink(path);
	return keys != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	osh_keyring_free(keys);
	return 0;
}

static struct bmc_endpoint
ep(const char *host, int port, const char *version)
{
	struct bmc_endpoint e;

	memset(&e, 0, sizeof(e));
	osh_strlcpy(e.host, host, sizeof(e.host));
	e.port = port;
	osh_strlcpy(e.ipmi_version, version, sizeof(e.ipmi_version));
	return e;
}

static void
additional_data(void **state)
{
	char a[CREDS_AD_MAX], b[CREDS_AD_MAX];
	struct bmc_endpoint e;

	(void)state;
	e = ep("BMC-1.Example.org", 623, "2.0");
	creds_ad(a, sizeof(a), 42, &e);
	assert_string_equal(a, "server:42|bmc-1.example.org|623|2.0");
	/* One address, two spellings: one endpoint. */
	e = ep("fd00:0:0::7", 1623, "1.5");
	creds_ad(a, sizeof(a), 7, &e);
	assert_string_equal(a, "server:7|fd00::7|1623|1.5");
	e = ep("fd00::7", 1623, "1.5");
	creds_ad(b, sizeof(b), 7, &e);
	assert_string_equal(a, b);
	assert_true(
	    endpoint_same(&(struct bmc_endpoint){"FD00::7", 1623, "1.5"},
		&(struct bmc_endpoint){"fd00:0::7", 1623, "1.5"}));
	assert_false(
	    endpoint_same(&(struct bmc_endpoint){"10.0.0.1", 623, "2.0"},
		&(struct bmc_endpoint){"10.0.0.1", 624, "2.0"}));
	assert_false(
	    endpoint_same(&(struct bmc_endpoint){"10.0.0.1", 623, "2.0"},
		&(struct bmc_endpoint){"10.0.0.1", 623, "1.5"}));
	assert_false(
	    endpoint_same(&(struct bmc_endpoint){"10.0.0.1", 623, "2.0"},
		&(struct bmc_endpoint){"10.0.0.2", 623, "2.0"}));
}

/* Sealed for server 5 at one endpoint: opens there only. */
static void
sealing_binds_the_endpoint(void **state)
{
	static const struct {
		int64_t id;
		const char *host;
		int port;
		const char *version;
		bool opens;
	} cases[] = {
	    {5, "10.0.0.5", 623, "2.0", true},
	    {5, "10.0.0.6", 623, "2.0", false}, /* another address */
	    {5, "10.0.0.5", 624, "2.0", false}, /* another port */
	    {5, "10.0.0.5", 623, "1.5", false}, /* a weaker protocol */
	    {6, "10.0.0.5", 623, "2.0", false}, /* another server */
	};
	struct bmc_endpoint e = ep("10.0.0.5", 623, "2.0");
	char ad[CREDS_AD_MAX], user[33], pass[65], *sealed;

	(void)state;
	creds_ad(ad, sizeof(ad), 5, &e);
	sealed = creds_seal(keys, "admin", "s3cret", ad);
	assert_non_null(sealed);
	assert_null(strstr(sealed, "s3cret"));
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct bmc_endpoint o =
		    ep(cases[i].host, cases[i].port, cases[i].version);
		bool ok;

		creds_ad(ad, sizeof(ad), cases[i].id, &o);
		memset(pass, 'x', sizeof(pass));
		ok = creds_open(
		    keys, sealed, ad, user, sizeof(user), pass, sizeof(pass));
		assert_int_equal(ok, cases[i].opens);
		if (ok) {
			assert_string_equal(user, "admin");
			assert_string_equal(pass, "s3cret");
		} else {
			for (size_t k = 0; k < sizeof(pass); k++)
				assert_int_equal(pass[k], 0);
		}
	}
	/* Sealed the old way (the id only) opens only the old way. */
	osh_free_secret(sealed);
	sealed = creds_seal(keys, "admin", "s3cret", "server:5");
	creds_ad(ad, sizeof(ad), 5, &e);
	assert_false(creds_open(
	    keys, sealed, ad, user, sizeof(user), pass, sizeof(pass)));
	assert_true(creds_open(
	    keys, sealed, "server:5", user, sizeof(user), pass, sizeof(pass)));
	osh_free_secret(sealed);
}

/* A row whose sealed credentials were moved to another endpoint (or
 * server) in the database gives no target: nothing would be sent. */
static void
target_of_a_moved_row(void **state)
{
	struct sm_app app = {.keys = keys};
	struct bmc_endpoint e = ep("10.0.0.5", 623, "2.0");
	struct server_row r = {
	    .id = 5,
	    .name = "web-5",
	    .host = "10.0.0.5",
	    .port = 623,
	    .ipmi_version = "2.0",
	    .privilege = "admin",
	    .cipher_suite = 3,
	    .workarounds = "{opensesspriv}",
	    .credentials_binding = CREDS_BOUND_TO_ENDPOINT,
	};
	struct osh_ipmi_target t;
	struct osh_err err;
	char ad[CREDS_AD_MAX], *sealed;

	(void)state;
	creds_ad(ad, sizeof(ad), 5, &e);
	sealed = creds_seal(keys, "admin", "s3cret", ad);
	r.credentials = sealed;
	assert_true(server_target(&app, &r, &t, &err));
	assert_string_equal(t.host, "10.0.0.5");
	assert_string_equal(t.password, "s3cret");
	osh_ipmi_target_wipe(&t);
	r.host = "10.66.0.1";
	assert_false(server_target(&app, &r, &t, &err));
	assert_int_equal(err.status, 409);
	assert_string_equal(err.code, "credentials_unreadable");
	assert_int_equal(t.password[0], '\0');
	r.host = "10.0.0.5";
	r.port = 6230;
	assert_false(server_target(&app, &r, &t, &err));
	r.port = 623;
	r.ipmi_version = "1.5";
	assert_false(server_target(&app, &r, &t, &err));
	r.ipmi_version = "2.0";
	r.id = 6;
	assert_false(server_target(&app, &r, &t, &err));
	r.credentials = NULL;
	assert_false(server_target(&app, &r, &t, &err));
	assert_string_equal(err.code, "no_credentials");
	osh_free_secret(sealed);
}

/* Credentials bound to the server id only (sealed before the endpoint
 * binding, or a row marked so in the database) give no target, whatever
 * the endpoint, before the start-up pass has ended and after: only that
 * pass opens them (reseal.c). */
static void
bound_to_id_refused(void **state)
{
	struct sm_app app = {.keys = keys};
	struct server_row r = {
	    .id = 5,
	    .name = "web-5",
	    .host = "10.66.0.1",
	    .port = 623,
	    .ipmi_version = "2.0",
	    .privilege = "admin",
	    .cipher_suite = 3,
	    .workarounds = "{}",
	    .credentials_binding = CREDS_BOUND_TO_ID,
	};
	struct osh_ipmi_target t;
	struct osh_err err;
	char *sealed;

	(void)state;
	sealed = creds_seal(keys, "admin", "s3cret", "server:5");
	r.credentials = sealed;
	for (int done = 0; done < 2; done++) {
		app.legacy_pass_done = done;
		memset(&t, 'x', sizeof(t));
		memset(&err, 0, sizeof(err));
		assert_false(server_target(&app, &r, &t, &err));
		assert_int_equal(err.status, 409);
		assert_string_equal(err.code, "credentials_unreadable");
		/* Nothing to send anything with. */
		assert_int_equal(t.host[0], '\0');
		assert_int_equal(t.user[0], '\0');
		for (size_t k = 0; k < sizeof(t.password); k++)
			assert_int_equal(t.password[k], 0);
	}
	/* Sealed for the endpoint but marked bound to the id: refused too
	 * (the mark is not trusted either way). */
	osh_free_secret(sealed);
	{
		struct bmc_endpoint e = ep("10.66.0.1", 623, "2.0");
		char ad[CREDS_AD_MAX];
		creds_ad(ad, sizeof(ad), 5, &e);
		sealed = creds_seal(keys, "admin", "s3cret", ad);
	}
	r.credentials = sealed;
	assert_false(server_target(&app, &r, &t, &err));
	r.credentials_binding = CREDS_BOUND_TO_ENDPOINT;
	assert_true(server_target(&app, &r, &t, &err));
	osh_ipmi_target_wipe(&t);
	osh_free_secret(sealed);
}

static void
names(void **state)
{
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
	    {"web-01", true},
	    {"Serveur \xc3\xa9t\xc3\xa9", true}, /* été */
	    {"a b", true},
	    {"", false},
	    {" web", false},
	    {"web ", false},
	    {"a/b", false},
	    {"a\tb", false},
	    {"a\nb", false},
	    {"a\x7f", false},
	    {"a\xc2\x85"
	     "b",
		false}, /* NEL, a C1 control */
	    {"a\xc2\x9f"
	     "b",
		false},
	    {"a\xc2\xa0"
	     "b",
		true}, /* no-break space */
	    {"a\xc3", false}, /* cut */
	    {"a\xff", false},
	};

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++)
		if (osh_name_ok(cases[i].name) != cases[i].ok)
			fail_msg("case %zu", i);
}

static void
wipe_passwords_everywhere(void **state)
{
	struct json_object *o = json_tokener_parse(
	    "{\"credentials\": {\"username\": \"u\", \"password\": \"p1\"}, "
	    "\"list\": [{\"password\": \"p2\"}, {\"password\": 5}], "
	    "\"password\": \"p3\"}");
	const char *p1, *p2, *p3;

	(void)state;
	p1 = json_object_get_string(json_object_object_get(
	    json_object_object_get(o, "credentials"), "password"));
	p2 = json_object_get_string(json_object_object_get(
	    json_object_array_get_idx(json_object_object_get(o, "list"), 0),
	    "password"));
	p3 = json_object_get_string(json_object_object_get(o, "password"));
	osh_json_wipe_named(o, "password");
	assert_int_equal(p1[0] | p1[1], 0);
	assert_int_equal(p2[0] | p2[1], 0);
	assert_int_equal(p3[0] | p3[1], 0);
	osh_json_wipe_named(NULL, "password");
	json_object_put(o);
}

static void
scan_refusals(void **state)
{
	static const struct {
		const char *addr;
		bool refused;
	} cases[] = {
	    {"10.0.0.1", false},
	    {"192.168.1.20", false},
	    {"2001:db8::1", false},
	    {"127.0.0.1", true},
	    {"127.255.255.254", true},
	    {"0.0.0.0", true},
	    {"0.1.2.3", true},
	    {"169.254.1.1", true},
	    {"224.0.0.1", true},
	    {"239.255.255.250", true},
	    {"255.255.255.255", true},
	    {"240.0.0.1", true},
	    {"::", true},
	    {"::1", true},
	    {"fe80::1", true},
	    {"febf::1", true},
	    {"fec0::1", false},
	    {"ff02::1", true},
	    {"::ffff:127.0.0.1", true},
	    {"::ffff:10.0.0.1", false},
	    {"::10.0.0.1", true},
	};

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		const char *why = scan_refusal(cases[i].addr, NULL);
		if ((why != NULL) != cases[i].refused)
			fail_msg(
			    "%s: %s", cases[i].addr, why ? why : "allowed");
	}
}

static void
scan_allow_list(void **state)
{
	static const char *const bad[] = {"127.0.0.1/33", "127.0.0.1/8",
	    "localhost", "10.0.0.0/", "1.2.3.4/ 8", "fe80::1/10", "10.0.0.0/8x",
	    "[::1]/128"};
	struct scan_allow a;
	char err[128];

	(void)state;
	assert_true(scan_allow_parse("", &a, err, sizeof(err)));
	assert_int_equal(a.n, 0);
	assert_true(scan_allow_parse(NULL, &a, err, sizeof(err)));
	assert_true(scan_allow_parse(
	    " 127.0.0.1/32 , fe80::/10,224.0.0.0/4,::1", &a, err, sizeof(err)));
	assert_int_equal(a.n, 4);
	assert_null(scan_refusal("127.0.0.1", &a));
	assert_non_null(scan_refusal("127.0.0.2", &a));
	assert_null(scan_refusal("fe80::99", &a));
	assert_null(scan_refusal("239.1.2.3", &a));
	assert_null(scan_refusal("::1", &a));
	/* The mapped form of an allowed IPv4 address is allowed. */
	assert_null(scan_refusal("::ffff:127.0.0.1", &a));
	assert_non_null(scan_refusal("255.255.255.255", &a));
	for (size_t i = 0; i < OSH_ARRAY_LEN(bad); i++)
		if (scan_allow_parse(bad[i], &a, err, sizeof(err)))
			fail_msg("\"%s\" parsed", bad[i]);
}

static void
scan_target_ranges(void **state)
{
	static const struct {
		const char *range;
		size_t n; /* 0: refused */
	} cases[] = {
	    {"10.0.0.0/30", 2}, /* network and broadcast left out */
	    {"10.0.0.4/31", 2},
	    {"10.0.0.9/32", 1},
	    {"10.0.0.1-10.0.0.3, 10.0.1.1", 4},
	    {"fd00::1", 1},
	    {"127.0.0.1", 0},
	    {"127.0.0.0/30", 0},
	    {"10.0.0.1,169.254.0.1", 0},
	    {"255.255.255.254-255.255.255.255", 0},
	    {"224.0.0.1", 0},
	    {"0.0.0.0", 0},
	    {"::1", 0},
	    {"fe80::1", 0},
	    {"ff02::1", 0},
	    {"fe80::1%eth0", 0},
	    {"bmc.example.org", 0},
	    {"10.0.0.1\n", 0},
	    {"[10.0.0.1]", 0},
	    {"10.0.0.1;rm -rf /", 0},
	};
	struct osh_err err;

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct json_object *r = json_object_new_string(cases[i].range);
		size_t n = 0;
		struct scan_target *t;

		memset(&err, 0, sizeof(err));
		t = scan_targets(r, NULL, 64, NULL, &n, &err);
		if (cases[i].n == 0) {
			if (t != NULL)
				fail_msg("\"%s\" accepted", cases[i].range);
			assert_int_equal(err.status, 400);
			assert_string_equal(err.field, "range");
		} else {
			if (t == NULL)
				fail_msg(
				    "\"%s\": %s", cases[i].range, err.message);
			assert_int_equal(n, cases[i].n);
			assert_int_equal(t[0].port, 623);
		}
		free(t);
		json_object_put(r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(additional_data),
	    cmocka_unit_test(sealing_binds_the_endpoint),
	    cmocka_unit_test(target_of_a_moved_row),
	    cmocka_unit_test(bound_to_id_refused),
	    cmocka_unit_test(names),
	    cmocka_unit_test(wipe_passwords_everywhere),
	    cmocka_unit_test(scan_refusals),
	    cmocka_unit_test(scan_allow_list),
	    cmocka_unit_test(scan_target_ranges),
	};
	return cmocka_run_group_tests_name(
	    "server_mgmt_servers", tests, setup, teardown);
}
