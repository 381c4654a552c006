/* webcfg_http.c - the web configuration's http_server_config (http2 and
 * the response headers a file may set) and rate_limit (Go durations). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include <osh/util.h>

#include "webcfg.h"
#include "webcfg_int.h"

/* The response headers exporter-toolkit lets a file set, with the values
 * it accepts (NULL: any). */
static const struct {
	const char *name;
	const char *allowed[3];
} header_names[WEB_NHEADERS] = {
    {"Strict-Transport-Security", {NULL}},
    {"X-Content-Type-Options", {"nosniff", NULL}},
    {"X-Frame-Options", {"deny", "sameorigin", NULL}},
    {"X-XSS-Protection", {NULL}},
    {"Content-Security-Policy", {NULL}},
};

static int
header_pair(struct wparse *p, const yaml_node_t *k, const char *key,
    const yaml_node_t *v, void *arg)
{
	struct web_config *w = p->w;
	const char *s = webcfg_is_null(v) ? "" : webcfg_scalar_of(v);
	size_t i;
	char b[64], c[64];

	(void)arg;
	for (i = 0; i < WEB_NHEADERS; i++)
		if (strcmp(header_names[i].name, key) == 0)
			break;
	if (i == WEB_NHEADERS)
		return wfail(p, k, "HTTP header \"%s\" can not be configured",
		    webcfg_shown(key, b, sizeof(b)));
	if (s == NULL)
		return wfail(p, v, "%s must be a string", key);
	if (strlen(s) > 4096 || strpbrk(s, "\r\n") != NULL)
		return wfail(p, v, "invalid value for %s", key);
	if (s[0] == '\0')
		return 0; /* unset */
	if (header_names[i].allowed[0] != NULL) {
		size_t a;
		for (a = 0; header_names[i].allowed[a] != NULL; a++)
			if (strcmp(header_names[i].allowed[a], s) == 0)
				break;
		if (header_names[i].allowed[a] == NULL)
			return wfail(p, v,
			    "invalid value for %s: \"%s\" (valid: %s%s%s)", key,
			    webcfg_shown(s, c, sizeof(c)),
			    header_names[i].allowed[0],
			    header_names[i].allowed[1] ? ", " : "",
			    header_names[i].allowed[1]
				? header_names[i].allowed[1]
				: "");
	}
	w->headers[w->nheaders].name = header_names[i].name;
	if ((w->headers[w->nheaders].value = strdup(s)) == NULL)
		return wfail(p, v, "out of memory");
	w->nheaders++;
	return 0;
}

int
webcfg_http_pair(struct wparse *p, const yaml_node_t *k, const char *key,
    const yaml_node_t *v, void *arg)
{
	char b[64];

	(void)arg;
	if (strcmp(key, "http2") == 0)
		return webcfg_get_bool(p, v, key, &p->w->http2);
	if (strcmp(key, "headers") == 0)
		return webcfg_each_pair(
		    p, v, "headers", WEB_NHEADERS, header_pair, NULL);
	return wfail(p, k,
	    "unknown key \"%s\" in http_server_config (valid: http2, headers)",
	    webcfg_shown(key, b, sizeof(b)));
}

/* A Go duration ("1s", "1m30s", "250ms", "1.5h") or whole nanoseconds. */
static bool
parse_duration(const char *s, int64_t *us)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {
	    {"ns", 1},
	    {"us", 1e3},
	    {"\xc2\xb5s", 1e3},
	    {"\xce\xbcs", 1e3},
	    {"ms", 1e6},
	    {"s", 1e9},
	    {"m", 60e9},
	    {"h", 3600e9},
	};
	double total = 0;
	int64_t ns;

	if (osh_parse_int(s, 0, INT64_MAX, &ns)) {
		*us = ns / 1000;
		return true;
	}
	if (strcmp(s, "0") == 0) {
		*us = 0;
		return true;
	}
	if (*s == '\0')
		return false;
	while (*s != '\0') {
		char *end;
		double d;
		size_t best = 0, bestlen = 0;

		if (*s < '0' || *s > '9') {
			if (*s != '.')
				return false;
		}
		errno = 0;
		d = strtod(s, &end);
		if (end == s || errno != 0 || d < 0)
			return false;
		s = end;
		for (size_t i = 0; i < OSH_ARRAY_LEN(units); i++) {
			size_t n = strlen(units[i].unit);
			if (strncmp(s, units[i].unit, n) == 0 && n > bestlen) {
				best = i;
				bestlen = n;
			}
		}
		if (bestlen == 0)
			return false;
		s += bestlen;
		total += d * units[best].ns;
		if (total > 9.2e18)
			return false;
	}
	*us = (int64_t)(total / 1000);
	return true;
}

int
webcfg_rate_pair(struct wparse *p, const yaml_node_t *k, const char *key,
    const yaml_node_t *v, void *arg)
{
	const char *s = webcfg_scalar_of(v);
	char b[64];

	(void)arg;
	if (strcmp(key, "interval") == 0) {
		if (webcfg_is_null(v)) {
			p->w->rate_interval_us = 0;
			return 0;
		}
		if (s == NULL || !parse_duration(s, &p->w->rate_interval_us))
			return wfail(p, v,
			    "interval must be a duration like 1s or 100ms");
		return 0;
	}
	if (strcmp(key, "burst") == 0) {
		if (webcfg_is_null(v)) {
			p->w->rate_burst = 0;
			return 0;
		}
		if (s == NULL ||
		    !osh_parse_int(s, 0, 1000000000, &p->w->rate_burst))
			return wfail(p, v, "burst must be a whole number");
		return 0;
	}
	return wfail(p, k,
	    "unknown key \"%s\" in rate_limit (valid: interval, burst)",
	    webcfg_shown(key, b, sizeof(b)));
}
