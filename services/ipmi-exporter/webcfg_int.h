/* webcfg_int.h - what the web configuration's parsers share: webcfg.c
 * (loading), webcfg_yaml.c (YAML helpers), webcfg_tls.c, webcfg_http.c
 * and webcfg_users.c (the sections). Private to webcfg*.c. */
#ifndef EXP_WEBCFG_INT_H
#define EXP_WEBCFG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "webcfg.h"
#include "yamlerr.h"

struct wparse {
	yaml_document_t *doc;
	const char *dir;
	struct web_config *w;
	char *err;
	size_t errlen;
};

/* Fails the parse of p at node n (NULL: no line), for `return wfail(...)`. */
#define wfail(p, n, ...) yamlerr((p)->err, (p)->errlen, (n), __VA_ARGS__)

/* webcfg_yaml.c: notes a weakness the file is loaded with ("line N:
 * ..."). */
void webcfg_warn(struct wparse *p, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A node's line number (1-based). */
size_t webcfg_line_of(const yaml_node_t *n);
/* A plain empty, "~" or "null" scalar: YAML's null. */
bool webcfg_is_null(const yaml_node_t *n);
/* A scalar's text, or NULL when n is not a scalar. */
const char *webcfg_scalar_of(const yaml_node_t *n);
/* Shortens what is quoted back in an error message, in buf. */
const char *webcfg_shown(const char *s, char *buf, size_t len);

/* Calls fn for each key and value of a mapping (null counts as empty),
 * refusing duplicate keys and non-scalar keys. */
int webcfg_each_pair(struct wparse *p, const yaml_node_t *n, const char *what,
    size_t max,
    int (*fn)(struct wparse *, const yaml_node_t *, const char *,
	const yaml_node_t *, void *),
    void *arg);
/* A list of strings, one at a time; null is an empty list. */
int webcfg_each_string(struct wparse *p, const yaml_node_t *v, const char *key,
    size_t max,
    int (*fn)(struct wparse *, const yaml_node_t *, const char *, void *),
    void *arg);
/* A string value; null and "" leave it unset (NULL), as in Go. */
int webcfg_get_string(
    struct wparse *p, const yaml_node_t *v, const char *key, char **out);
/* A file name, taken relative to the web config file's directory. */
int webcfg_get_path(
    struct wparse *p, const yaml_node_t *v, const char *key, char **out);
/* YAML 1.1 booleans, as Go's yaml.v2 reads them. */
int webcfg_get_bool(
    struct wparse *p, const yaml_node_t *v, const char *key, bool *out);

/* The sections, for webcfg_each_pair (webcfg_tls.c, webcfg_http.c,
 * webcfg_users.c). */
int webcfg_tls_pair(struct wparse *p, const yaml_node_t *k, const char *key,
    const yaml_node_t *v, void *arg);
/* What exporter-toolkit refuses about TLS settings, and a little more. */
int webcfg_tls_check(struct wparse *p, const yaml_node_t *n, bool auth_given);
int webcfg_http_pair(struct wparse *p, const yaml_node_t *k, const char *key,
    const yaml_node_t *v, void *arg);
int webcfg_rate_pair(struct wparse *p, const yaml_node_t *k, const char *key,
    const yaml_node_t *v, void *arg);
int webcfg_user_pair(struct wparse *p, const yaml_node_t *k, const char *key,
    const yaml_node_t *v, void *arg);
/* Warns when users' bcrypt costs differ (see webcfg_users.c). */
void webcfg_users_check(struct wparse *p, size_t line);

#endif
