/* Unit tests: the exporter's web configuration file (webcfg.c), in the
 * exporter-toolkit format: files written for the community exporters
 * load as they are, defaults are exporter-toolkit's, and every mistake is
 * refused with its line. Also allowed_targets in the module file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <yaml.h>

#include "ipmi-exporter/exporter.h"
#include "ipmi-exporter/webcfg.h"
#include "ipmi-exporter/yamlwipe.h"

static struct web_config *
parse(const char *yaml, char *err, size_t len)
{
	return webcfg_parse(yaml, strlen(yaml), "/etc/osh", err, len);
}

static void
empty_means_nothing(void **state)
{
	static const char *const empties[] = {"", "\n", "# nothing\n", "~\n",
	    "basic_auth_users:\ntls_server_config:\nhttp_server_config:\n"};
	char err[256];

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(empties); i++) {
		struct web_config *w = parse(empties[i], err, sizeof(err));
		if (w == NULL)
			fail_msg("case %zu: %s", i, err);
		assert_false(w->tls.enabled);
		assert_int_equal(w->nusers, 0);
		assert_int_equal(w->nheaders, 0);
		assert_int_equal(w->rate_interval_us, 0);
		/* exporter-toolkit's defaults */
		assert_int_equal(w->tls.min_version, 0x0303);
		assert_int_equal(w->tls.max_version, 0x0304);
		assert_true(w->tls.prefer_server_ciphers);
		assert_true(w->http2);
		webcfg_free(w);
	}
}

/* A file as an operator of the community ipmi_exporter writes it. */
static void
toolkit_file_loads(void **state)
{
	static const char yaml[] =
	    "# web.yml for ipmi_exporter\n"
	    "tls_server_config:\n"
	    "  cert_file: server.crt\n"
	    "  key_file: /etc/ssl/private/server.key\n"
	    "  client_auth_type: \"RequireAndVerifyClientCert\"\n"
	    "  client_ca_file: ca/clients.pem\n"
	    "  client_allowed_sans:\n"
	    "    - prometheus.example.com\n"
	    "    - 10.0.0.5\n"
	    "  min_version: TLS12\n"
	    "  max_version: TLS13\n"
	    "  cipher_suites:\n"
	    "    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
	    "    - TLS_AES_256_GCM_SHA384\n"
	    "    - TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256\n"
	    "  curve_preferences: [X25519, CurveP256]\n"
	    "  prefer_server_cipher_suites: false\n"
	    "http_server_config:\n"
	    "  http2: false\n"
	    "  headers:\n"
	    "    X-Frame-Options: deny\n"
	    "    X-Content-Type-Options: nosniff\n"
	    "    Strict-Transport-Security: max-age=31536000\n"
	    "    Content-Security-Policy: \"\"\n"
	    "rate_limit:\n"
	    "  interval: 1m30s\n"
	    "  burst: 10\n"
	    "basic_auth_users:\n"
	    "  alice: "
	    "$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze\n"
	    "  'bob smith': "
	    "$2b$04$abcdefghijklmnopqrstuu5z1kR3Dd0EYq8wXQ3g9ktQlB3ZvFk3i\n";
	char err[256] = "";
	struct web_config *w = parse(yaml, err, sizeof(err));
	const struct web_tls *t;

	(void)state;
	if (w == NULL)
		fail_msg("%s", err);
	t = &w->tls;
	assert_true(t->enabled);
	assert_string_equal(t->cert_file, "/etc/osh/server.crt");
	assert_string_equal(t->key_file, "/etc/ssl/private/server.key");
	assert_string_equal(t->client_ca_file, "/etc/osh/ca/clients.pem");
	assert_int_equal(t->client_auth, WEB_REQUIRE_AND_VERIFY_CLIENT_CERT);
	assert_int_equal(t->nsans, 2);
	assert_string_equal(t->allowed_sans[1], "10.0.0.5");
	assert_string_equal(t->ciphers,
	    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305");
	assert_string_equal(t->groups, "X25519:P-256");
	assert_false(t->prefer_server_ciphers);
	assert_false(w->http2);
	assert_int_equal(w->nheaders, 3); /* the blank one is unset */
	assert_string_equal(w->headers[0].name, "X-Frame-Options");
	assert_string_equal(w->headers[2].value, "max-age=31536000");
	assert_int_equal(w->rate_interval_us, 90000000);
	assert_int_equal(w->rate_burst, 10);
	assert_int_equal(w->nusers, 2);
	assert_string_equal(w->users[0].name, "alice");
	/* alice's cost is 10, bob's 04. */
	assert_int_equal(w->nwarnings, 1);
	assert_non_null(strstr(w->warnings[0], "costs from 04 to 10"));
	assert_string_equal(w->users[1].name, "bob smith");
	assert_memory_equal(w->users[1].hash, "$2b$04$", 7);
	webcfg_free(w);
}

static void
durations(void **state)
{
	static const struct {
		const char *v;
		int64_t us;
	} ok[] = {
	    {"1s", 1000000},
	    {"250ms", 250000},
	    {"1.5h", 5400000000},
	    {"2m", 120000000},
	    {"1h2m3s", 3723000000},
	    {"10us", 10},
	    {"1000000000", 1000000},
	    {"0", 0},
	    {".5s", 500000},
	};
	static const char *const bad[] = {
	    "", "s", "1", "1x", "-1s", "1s2", "abc", "1e400s"};
	char yaml[128], err[256];

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(ok); i++) {
		struct web_config *w;
		snprintf(yaml, sizeof(yaml), "rate_limit:\n  interval: '%s'\n",
		    ok[i].v);
		/* Quoted "1000000000" is still read as nanoseconds. */
		w = parse(yaml, err, sizeof(err));
		if (w == NULL)
			fail_msg("%s: %s", ok[i].v, err);
		assert_int_equal(w->rate_interval_us, ok[i].us);
		webcfg_free(w);
	}
	for (size_t i = 0; i < OSH_ARRAY_LEN(bad); i++) {
		snprintf(yaml, sizeof(yaml), "rate_limit:\n  interval: '%s'\n",
		    bad[i]);
		if (strcmp(bad[i], "1") == 0)
			continue; /* one nanosecond: valid, if useless */
		assert_null(parse(yaml, err, sizeof(err)));
		assert_non_null(strstr(err, "line 2: interval"));
	}
}

static void
bcrypt_hashes(void **state)
{
	static const struct {
		const char *h;
		bool ok;
	} cases[] = {
	    {"$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze",
		true},
	    {"$2a$04$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze",
		true},
	    {"$2b$31$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze",
		true},
	    {"$2x$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze",
		false},
	    {"$2y$03$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze",
		false},
	    {"$2y$32$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze",
		false},
	    {"$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPz",
		false},
	    {"$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPz!",
		false},
	    {"secret", false},
	    {"$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA", false},
	    {"", false},
	};

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++)
		assert_int_equal(
		    webcfg_bcrypt_hash_valid(cases[i].h), cases[i].ok);
}

static void
errors_name_the_line(void **state)
{
	static const struct {
		const char *yaml, *want;
	} bad[] = {
	    {"tls_config:\n  cert_file: x\n",
		"line 1: unknown key \"tls_config\""},
	    {"tls_server_config:\n  cert_file: a\n  keyfile: b\n",
		"line 3: unknown key \"keyfile\" in tls_server_config"},
	    {"tls_server_config:\n  cert_file: a\n",
		"line 1: missing one "
		"of key or key_file"},
	    {"tls_server_config:\n  key_file: a\n", "missing one of cert"},
	    {"tls_server_config:\n  client_auth_type: Bogus\n",
		"line 2: invalid client_auth_type: Bogus"},
	    {"tls_server_config:\n  cert_file: a\n  key_file: b\n"
	     "  client_ca_file: c\n",
		"without a client_auth_type"},
	    {"tls_server_config:\n  cert_file: a\n  key_file: b\n"
	     "  client_auth_type: RequireAndVerifyClientCert\n",
		"needs client_ca_file"},
	    {"tls_server_config:\n  cert_file: a\n  key_file: b\n"
	     "  client_auth_type: VerifyClientCertIfGiven\n"
	     "  client_ca_file: c\n  client_allowed_sans: [x]\n",
		"client_allowed_sans needs client_auth_type"},
	    {"tls_server_config:\n  cert_file: a\n  cert: b\n  key_file: c\n",
		"cert and cert_file are both set"},
	    {"tls_server_config:\n  min_version: TLS14\n",
		"line 2: min_version: unknown TLS version: TLS14"},
	    {"tls_server_config:\n  min_version: TLS13\n  max_version: TLS12\n",
		"min_version is above max_version"},
	    {"tls_server_config:\n  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n",
		"line 2: unknown cipher: TLS_RSA_WITH_RC4_128_SHA"},
	    {"tls_server_config:\n  curve_preferences: [CurveP999]\n",
		"unknown curve: CurveP999"},
	    {"tls_server_config:\n  cipher_suites: TLS_AES_128_GCM_SHA256\n",
		"cipher_suites must be a list"},
	    {"tls_server_config:\n  prefer_server_cipher_suites: maybe\n",
		"must be true or false"},
	    {"tls_server_config: [a]\n", "tls_server_config must be a mapping"},
	    {"http_server_config:\n  headers:\n    X-Powered-By: me\n",
		"line 3: HTTP header \"X-Powered-By\" can not be configured"},
	    {"http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
		"invalid value for X-Frame-Options"},
	    {"http_server_config:\n  headers:\n"
	     "    X-Content-Type-Options: sniff\n",
		"invalid value for X-Content-Type-Options"},
	    {"http_server_config:\n  http3: true\n", "unknown key \"http3\""},
	    {"rate_limit:\n  burst: -1\n", "burst must be"},
	    {"rate_limit:\n  every: 1s\n", "unknown key \"every\""},
	    {"basic_auth_users:\n  alice: secret\n",
		"line 2: the password of user \"alice\" must be a bcrypt hash"},
	    {"basic_auth_users:\n  alice: [a]\n", "must be a bcrypt hash"},
	    {"basic_auth_users:\n  'a:b': "
	     "$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze\n",
		"holds a colon"},
	    {"basic_auth_users:\n"
	     "  alice: "
	     "$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze\n"
	     "  alice: "
	     "$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze\n",
		"line 3: basic_auth_users: \"alice\" given twice"},
	    {"basic_auth_users: []\n", "must be a mapping"},
	    {"rate_limit: {}\nrate_limit: {}\n", "given twice"},
	    {"- a\n- b\n", "must be a mapping"},
	    {"tls_server_config:\n  cert_file: [\n", "line"},
	    {"tls_server_config:\n  cert_file: !!binary aGk=\n  key_file: b\n"
	     "  client_ca_file: {a: b}\n",
		"client_ca_file must be a string"},
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(bad); i++) {
		err[0] = '\0';
		assert_null(parse(bad[i].yaml, err, sizeof(err)));
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
			    bad[i].want);
	}
}

static void
inline_pem_and_aliases(void **state)
{
	static const char yaml[] =
	    "tls_server_config:\n"
	    "  cert: |\n"
	    "    -----BEGIN CERTIFICATE-----\n"
	    "    MIIB\n"
	    "    -----END CERTIFICATE-----\n"
	    /* A truncated placeholder, no key (split so that no scan for
	     * committed keys trips on it). */
	    "  key: \"-----BEGIN PRIVATE"
	    " KEY-----\\nMIIE\\n\"\n"
	    "  client_auth_type: RequireClientCert\n"
	    "  client_ca: \"-----BEGIN CERTIFICATE-----\\n\"\n";
	char err[256];
	struct web_config *w = parse(yaml, err, sizeof(err));

	(void)state;
	if (w == NULL)
		fail_msg("%s", err);
	assert_true(w->tls.enabled);
	assert_null(w->tls.cert_file);
	assert_non_null(strstr(w->tls.cert, "MIIB\n"));
	assert_int_equal(w->tls.client_auth, WEB_REQUIRE_ANY_CLIENT_CERT);
	webcfg_free(w);
}

static void
load_from_a_file(void **state)
{
	char err[256];
	struct web_config *w;

	(void)state;
	w = webcfg_load("", err, sizeof(err));
	assert_non_null(w);
	webcfg_free(w);
	assert_null(webcfg_load("/nonexistent/web.yml", err, sizeof(err)));
	assert_non_null(strstr(err, "cannot read /nonexistent/web.yml"));
}

/* The samples under deploy/ load as shipped (run from the top). */
static void
samples_load(void **state)
{
	char err[256] = "";
	struct web_config *w =
	    webcfg_load("deploy/ipmi-exporter/web.yml", err, sizeof(err));
	struct exp_config *c;

	(void)state;
	if (w == NULL)
		fail_msg("%s", err);
	assert_int_equal(w->nheaders, 2);
	webcfg_free(w);
	c = config_load("deploy/ipmi-exporter/ipmi.yml", err, sizeof(err));
	if (c == NULL)
		fail_msg("%s", err);
	config_free(c);
}

/* allowed_targets in the module file. */
static void
module_allowed_targets(void **state)
{
	static const char yaml[] =
	    "modules:\n"
	    "  dc1:\n"
	    "    allowed_targets: [10.1.0.0/16, 'fd00::/8', 192.0.2.7]\n"
	    "  one:\n"
	    "    allowed_targets: 127.0.0.1\n"
	    "  none:\n"
	    "    allowed_targets: []\n"
	    "  osh:\n"
	    "    allowed_targets: [127.0.0.0/8]\n";
	char err[256] = "";
	struct exp_config *c =
	    config_parse(yaml, strlen(yaml), err, sizeof(err));
	const struct module *m;

	(void)state;
	if (c == NULL)
		fail_msg("%s", err);
	m = config_module(c, "dc1");
	assert_true(m->restrict_targets);
	assert_int_equal(m->nallowed, 3);
	assert_int_equal(m->allowed[2].bits, 32);
	assert_int_equal(config_module(c, "one")->nallowed, 1);
	assert_true(config_module(c, "none")->restrict_targets);
	assert_int_equal(config_module(c, "none")->nallowed, 0);
	assert_true(config_module(c, "osh")->restrict_targets);
	assert_false(config_module(c, "default")->restrict_targets);
	config_free(c);

	static const struct {
		const char *yaml, *want;
	} bad[] = {
	    {"modules:\n  a:\n    allowed_targets: [10.0.0.0/33]\n",
		"line 3: allowed_targets: \"10.0.0.0/33\" is not"},
	    {"modules:\n  a:\n    allowed_targets: [bmc.example.com]\n",
		"is not an address or a range"},
	    {"modules:\n  a:\n    allowed_targets:\n", "needs ranges"},
	    {"modules:\n  a:\n    allowed_targets: {a: b}\n",
		"expected a list"},
	};
	for (size_t i = 0; i < OSH_ARRAY_LEN(bad); i++) {
		err[0] = '\0';
		assert_null(config_parse(
		    bad[i].yaml, strlen(bad[i].yaml), err, sizeof(err)));
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
			    bad[i].want);
	}
}

/* What exporter-toolkit accepts but protects less than it seems to loads,
 * with a warning that names the keys, their lines and what to write
 * instead; settings that do what they say give none. */
static void
weak_settings_warned(void **state)
{
	static const char tls[] = "tls_server_config:\n"
				  "  cert_file: server.crt\n"
				  "  key_file: server.key\n";
	static const char h04[] =
	    "$2y$04$abcdefghijklmnopqrstuu5z1kR3Dd0EYq8wXQ3g9ktQlB3ZvFk3i";
	static const char h10[] =
	    "$2b$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze";
	static const struct {
		const char *yaml;
		bool tls;
		const char *want[3]; /* in the one warning; NULL: none */
	} cases[] = {
	    {"  client_auth_type: RequireAnyClientCert\n"
	     "  client_ca_file: ca.crt\n"
	     "  client_allowed_sans: [prometheus.example]\n",
		true,
		{"line 6: client_allowed_sans with client_auth_type "
		 "RequireAnyClientCert (line 4)",
		    "self-signed", "use RequireAndVerifyClientCert"}},
	    {"  client_allowed_sans: [prometheus.example]\n"
	     "  client_auth_type: RequireClientCert\n",
		true,
		{"line 4: client_allowed_sans with client_auth_type "
		 "RequireClientCert (line 5)",
		    NULL, NULL}},
	    {"  client_auth_type: RequireAnyClientCert\n"
	     "  client_ca_file: ca.crt\n",
		true,
		{"line 5: client_ca_file is not used to verify client "
		 "certificates with client_auth_type RequireAnyClientCert "
		 "(line 4)",
		    "any certificate is accepted", NULL}},
	    {"  client_ca: \"-----BEGIN CERTIFICATE-----\\n\"\n"
	     "  client_auth_type: RequestClientCert\n",
		true,
		{"line 4: client_ca is not used", "RequestClientCert (line 5)",
		    NULL}},
	    {"  client_auth_type: RequireAndVerifyClientCert\n"
	     "  client_ca_file: ca.crt\n"
	     "  client_allowed_sans: [prometheus.example]\n",
		true, {NULL, NULL, NULL}},
	    {"  client_auth_type: VerifyClientCertIfGiven\n"
	     "  client_ca_file: ca.crt\n",
		true, {NULL, NULL, NULL}},
	    {"  client_auth_type: RequireAnyClientCert\n", true,
		{NULL, NULL, NULL}},
	    {"basic_auth_users:\n  a: H04\n  b: H10\n  c: H04\n", false,
		{"line 1: basic_auth_users have bcrypt costs from 04 to 10",
		    "unknown users are checked at cost 10",
		    "give every user the same cost"}},
	    {"basic_auth_users:\n  a: H10\n  b: H10\n", false,
		{NULL, NULL, NULL}},
	};
	char yaml[1024], err[256];

	(void)state;
	for (size_t i = 0; i < OSH_ARRAY_LEN(cases); i++) {
		struct web_config *w;
		const char *src = cases[i].yaml;
		size_t n = 0;

		/* H04 and H10 stand for the hashes, to keep lines short. */
		if (cases[i].tls)
			n = (size_t)snprintf(yaml, sizeof(yaml), "%s", tls);
		for (; *src != '\0' && n + 61 < sizeof(yaml); src++) {
			if (strncmp(src, "H04", 3) == 0 ||
			    strncmp(src, "H10", 3) == 0) {
				memcpy(yaml + n, src[1] == '0' ? h04 : h10, 60);
				n += 60;
				src += 2;
			} else {
				yaml[n++] = *src;
			}
		}
		yaml[n] = '\0';
		if ((w = parse(yaml, err, sizeof(err))) == NULL)
			fail_msg("case %zu: %s", i, err);
		if (cases[i].want[0] == NULL) {
			if (w->nwarnings != 0)
				fail_msg("case %zu: %s", i, w->warnings[0]);
		} else {
			assert_int_equal(w->nwarnings, 1);
			for (size_t k = 0; k < 3 && cases[i].want[k]; k++)
				if (strstr(w->warnings[0], cases[i].want[k]) ==
				    NULL)
					fail_msg("case %zu: \"%s\" lacks "
						 "\"%s\"",
					    i, w->warnings[0],
					    cases[i].want[k]);
		}
		webcfg_free(w);
	}
}

static bool
holds(const void *mem, size_t len, const char *s)
{
	return mem != NULL && memmem(mem, len, s, strlen(s)) != NULL;
}

/* libyaml's copies of a file holding secrets (the document's scalars,
 * the parser's buffers) are cleared before libyaml frees them. */
static void
yaml_copies_wiped(void **state)
{
	static const char text[] = "modules:\n"
				   "  a:\n"
				   "    pass: s3cret-bmc-pass\n"
				   "tls_server_config:\n"
				   "  key: \"-----BEGIN PRIVATE"
				   " KEY-----\\nAAAA\"\n";
	yaml_parser_t parser;
	yaml_document_t doc;
	bool before = false, after = false;

	(void)state;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(
	    &parser, (const unsigned char *)text, strlen(text));
	assert_true(yaml_parser_load(&parser, &doc));
	for (int pass = 0; pass < 2; pass++) {
		bool *found = pass == 0 ? &before : &after;
		for (yaml_node_t *n = doc.nodes.start; n < doc.nodes.top; n++)
			if (n->type == YAML_SCALAR_NODE)
				*found |= holds(n->data.scalar.value,
					      n->data.scalar.length,
					      "s3cret-bmc-pass") ||
				    holds(n->data.scalar.value,
					n->data.scalar.length, "PRIVATE KEY");
		*found |= holds(parser.buffer.start,
		    (size_t)(parser.buffer.end - parser.buffer.start),
		    "s3cret-bmc-pass");
		*found |= holds(parser.raw_buffer.start,
		    (size_t)(parser.raw_buffer.end - parser.raw_buffer.start),
		    "s3cret-bmc-pass");
		if (pass == 0) {
			yamlwipe_document(&doc);
			yamlwipe_parser(&parser);
		}
	}
	assert_true(before);
	assert_false(after);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(empty_means_nothing),
	    cmocka_unit_test(toolkit_file_loads),
	    cmocka_unit_test(durations),
	    cmocka_unit_test(bcrypt_hashes),
	    cmocka_unit_test(errors_name_the_line),
	    cmocka_unit_test(inline_pem_and_aliases),
	    cmocka_unit_test(load_from_a_file),
	    cmocka_unit_test(samples_load),
	    cmocka_unit_test(module_allowed_targets),
	    cmocka_unit_test(weak_settings_warned),
	    cmocka_unit_test(yaml_copies_wiped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
