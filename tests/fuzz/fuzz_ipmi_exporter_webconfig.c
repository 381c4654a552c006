/* fuzz_ipmi_exporter_webconfig.c - libFuzzer target: the exporter's web
 * configuration file (webcfg_parse, the exporter-toolkit format), with
 * the invariants the rest of the exporter relies on when it loads. The
 * files it names are not opened here (tls.c's test builds contexts).
 *
 * Input: the file's text. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipmi-exporter/webauth.h"
#include "ipmi-exporter/webcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[300];
	struct web_config *w;
	const struct web_tls *t;

	err[0] = '\0';
	if ((w = webcfg_parse((const char *)data, size, "/etc/osh", err,
		 sizeof(err))) == NULL) {
		if (err[0] == '\0' || strlen(err) >= sizeof(err))
			abort();
		return 0;
	}
	t = &w->tls;
	if (t->min_version < 0x0301 || t->max_version > 0x0304 ||
	    t->min_version > t->max_version || w->nheaders > WEB_NHEADERS ||
	    w->nusers > WEB_MAX_USERS || t->nsans > WEB_MAX_SANS)
		abort();
	/* TLS on means a certificate and a key, exactly one of each form. */
	if (t->enabled &&
	    ((t->cert == NULL) == (t->cert_file == NULL) ||
		(t->key == NULL) == (t->key_file == NULL)))
		abort();
	/* Without a certificate TLS is off and, as in exporter-toolkit, its
	 * other settings are not looked at. */
	if (t->enabled && t->nsans > 0 &&
	    t->client_auth != WEB_REQUIRE_ANY_CLIENT_CERT &&
	    t->client_auth != WEB_REQUIRE_AND_VERIFY_CLIENT_CERT)
		abort();
	/* Names checked without a verified chain are always warned about. */
	if (t->enabled && t->nsans > 0 &&
	    t->client_auth == WEB_REQUIRE_ANY_CLIENT_CERT &&
	    (w->nwarnings == 0 ||
		strstr(w->warnings[0], "client_allowed_sans") == NULL))
		abort();
	if (w->nwarnings > WEB_MAX_WARNINGS)
		abort();
	for (size_t i = 0; i < w->nwarnings; i++)
		if (strncmp(w->warnings[i], "line ", 5) != 0 ||
		    strnlen(w->warnings[i], sizeof(w->warnings[i])) ==
			sizeof(w->warnings[i]))
			abort();
	for (size_t i = 0; i < w->nusers; i++) {
		char user[256], pw[WEBAUTH_MAX_PASSWORD + 1];
		int cost = webcfg_bcrypt_cost(w->users[i].hash);
		if (!webcfg_bcrypt_hash_valid(w->users[i].hash) ||
		    strchr(w->users[i].name, ':') != NULL || cost < 4 ||
		    cost > 31)
			abort();
		/* The Authorization header parser on the user's name. */
		(void)webauth_parse_basic(
		    w->users[i].name, user, sizeof(user), pw, sizeof(pw));
	}
	for (size_t i = 0; i < w->nheaders; i++)
		if (w->headers[i].value[0] == '\0' ||
		    strpbrk(w->headers[i].value, "\r\n") != NULL)
			abort();
	if (w->rate_interval_us < 0 || w->rate_burst < 0)
		abort();
	webcfg_free(w);
	return 0;
}
