/* log.c - logfmt lines on stderr, one write(2) each. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "osh/log.h"
#include "osh/util.h"

static const char *log_service = "osh";
static enum osh_log_level log_min = OSH_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
osh_log_init(const char *service, enum osh_log_level min)
{
	log_service = service;
	log_min = min;
}

bool
osh_log_level_parse(const char *s, enum osh_log_level *out)
{
	for (size_t i = 0; i < OSH_ARRAY_LEN(level_names); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum osh_log_level)i;
			return true;
		}
	}
	return false;
}

char *
osh_log_quote(const char *in, char *out, size_t len)
{
	size_t o = 0;

	if (len == 0)
		return out;
	for (const unsigned char *p = (const unsigned char *)in;
	     in != NULL && *p != '\0'; p++) {
		char esc[3] = {0};

		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
		} else if (*p < 0x20 || *p == 0x7f) {
			esc[0] = '?';
		} else {
			esc[0] = (char)*p;
		}
		size_t k = strlen(esc);
		if (o + k >= len) {
			o = osh_utf8_complete(
			    out, o); /* cut between characters */
			break;
		}
		memcpy(out + o, esc, k);
		o += k;
	}
	out[o] = '\0';
	return out;
}

void
osh_log(enum osh_log_level level, const char *request_id, const char *fmt, ...)
{
	char line[2048], ts[OSH_TIME_LEN], rid[80];
	va_list ap;
	int n, m;

	if (level < log_min)
		return;
	osh_time_format(osh_wall_ms(), ts, sizeof(ts));
	if (request_id != NULL && request_id[0] != '\0') {
		char q[OSH_ARRAY_LEN(rid) - 16];
		snprintf(rid, sizeof(rid), " request_id=\"%s\"",
		    osh_log_quote(request_id, q, sizeof(q)));
	} else {
		rid[0] = '\0';
	}
	n = snprintf(line, sizeof(line), "ts=%s level=%s service=%s%s ", ts,
	    level_names[level], log_service, rid);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)osh_utf8_complete(line, sizeof(line) - 2);
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}
