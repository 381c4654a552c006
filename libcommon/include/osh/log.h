/* log.h - structured, line-oriented logging (logfmt) to stderr. */
#ifndef OSH_LOG_H
#define OSH_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum osh_log_level {
	OSH_LOG_DEBUG,
	OSH_LOG_INFO,
	OSH_LOG_WARN,
	OSH_LOG_ERROR,
};

/* Sets the service name put on every line and the lowest level written.
 * Not thread-safe; call once at start. */
void osh_log_init(const char *service, enum osh_log_level min);

/* Parses "debug", "info", "warn" or "error". */
bool osh_log_level_parse(const char *s, enum osh_log_level *out);

/* Writes one line: ts=... level=... service=... [request_id=...] then the
 * formatted text, which callers write as logfmt pairs (msg="..." k=v).
 * Values that come from outside must go through osh_log_quote. The line is
 * written with a single write(2), so lines of different threads do not mix.
 * Never pass a secret. */
void osh_log(enum osh_log_level level, const char *request_id, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

#define osh_log_debug(rid, ...) osh_log(OSH_LOG_DEBUG, rid, __VA_ARGS__)
#define osh_log_info(rid, ...) osh_log(OSH_LOG_INFO, rid, __VA_ARGS__)
#define osh_log_warn(rid, ...) osh_log(OSH_LOG_WARN, rid, __VA_ARGS__)
#define osh_log_error(rid, ...) osh_log(OSH_LOG_ERROR, rid, __VA_ARGS__)

/* Copies 'in' into out as a logfmt-safe value body (no surrounding quotes):
 * quotes and backslashes escaped, control bytes replaced, cut to fit.
 * Returns out. */
char *osh_log_quote(const char *in, char *out, size_t len);

#endif
