/* webcfg_yaml.c - reading the web configuration's YAML: scalars, nulls,
 * strings, paths, booleans and lists as exporter-toolkit (Go's yaml.v2)
 * reads them, mappings walked key by key with duplicates refused, and
 * the warnings a file is loaded with. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include <osh/util.h>

#include "webcfg.h"
#include "webcfg_int.h"

/* Notes a weakness the file is loaded with ("line N: ..."). */
void
webcfg_warn(struct wparse *p, size_t line, const char *fmt, ...)
{
	struct web_config *w = p->w;
	char msg[340];
	va_list ap;

	if (w->nwarnings >= WEB_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(w->warnings[w->nwarnings], sizeof(w->warnings[0]),
	    "line %zu: %s", line, msg);
	w->nwarnings++;
}

size_t
webcfg_line_of(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

/* A plain empty, "~" or "null" scalar: YAML's null. */
bool
webcfg_is_null(const yaml_node_t *n)
{
	const char *v;

	if (n == NULL)
		return true;
	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

const char *
webcfg_scalar_of(const yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE
	    ? (const char *)n->data.scalar.value
	    : NULL;
}

/* Shortens what is quoted back in an error message. */
const char *
webcfg_shown(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; s[n] != '\0' && n + 1 < len && n < 60; n++)
		buf[n] =
		    (s[n] >= 0x20 && s[n] < 0x7f && s[n] != '"') ? s[n] : '?';
	buf[n] = '\0';
	return buf;
}

/* Calls fn for each key and value of a mapping (null counts as empty),
 * refusing duplicate keys and non-scalar keys. */
int
webcfg_each_pair(struct wparse *p, const yaml_node_t *n, const char *what,
    size_t max,
    int (*fn)(struct wparse *, const yaml_node_t *, const char *,
	const yaml_node_t *, void *),
    void *arg)
{
	yaml_node_pair_t *first, *top;
	char b[64];

	if (webcfg_is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return wfail(p, n, "%s must be a mapping", what);
	first = n->data.mapping.pairs.start;
	top = n->data.mapping.pairs.top;
	if ((size_t)(top - first) > max)
		return wfail(p, n, "%s: more than %zu entries", what, max);
	for (yaml_node_pair_t *pr = first; pr < top; pr++) {
		const yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		const yaml_node_t *v =
		    yaml_document_get_node(p->doc, pr->value);
		const char *key = webcfg_scalar_of(k);

		if (key == NULL)
			return wfail(
			    p, k, "%s: keys must be plain names", what);
		for (yaml_node_pair_t *q = first; q < pr; q++) {
			const char *other = webcfg_scalar_of(
			    yaml_document_get_node(p->doc, q->key));
			if (other != NULL && strcmp(other, key) == 0)
				return wfail(p, k, "%s: \"%s\" given twice",
				    what, webcfg_shown(key, b, sizeof(b)));
		}
		if (fn(p, k, key, v, arg) != 0)
			return -1;
	}
	return 0;
}

/* A string value; null and "" leave it unset (NULL), as in Go. */
int
webcfg_get_string(
    struct wparse *p, const yaml_node_t *v, const char *key, char **out)
{
	const char *s = webcfg_scalar_of(v);

	free(*out);
	*out = NULL;
	if (webcfg_is_null(v))
		return 0;
	if (s == NULL)
		return wfail(p, v, "%s must be a string", key);
	if (strlen(s) > 65536)
		return wfail(p, v, "%s is too long", key);
	if (s[0] != '\0' && (*out = strdup(s)) == NULL)
		return wfail(p, v, "out of memory");
	return 0;
}

/* A file name, taken relative to the web config file's directory. */
int
webcfg_get_path(
    struct wparse *p, const yaml_node_t *v, const char *key, char **out)
{
	char *s = NULL;
	size_t n;

	if (webcfg_get_string(p, v, key, &s) != 0)
		return -1;
	free(*out);
	*out = s;
	if (s == NULL || s[0] == '/' || p->dir == NULL || p->dir[0] == '\0')
		return 0;
	n = strlen(p->dir) + strlen(s) + 2;
	if ((*out = malloc(n)) == NULL) {
		free(s);
		return wfail(p, v, "out of memory");
	}
	snprintf(*out, n, "%s/%s", p->dir, s);
	free(s);
	return 0;
}

/* YAML 1.1 booleans, as Go's yaml.v2 reads them. */
int
webcfg_get_bool(
    struct wparse *p, const yaml_node_t *v, const char *key, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "y"};
	static const char *const no[] = {"false", "no", "off", "n"};
	const char *s = webcfg_scalar_of(v);

	if (webcfg_is_null(v)) {
		*out = false;
		return 0;
	}
	for (size_t i = 0; s != NULL && i < OSH_ARRAY_LEN(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return wfail(p, v, "%s must be true or false", key);
}

/* A list of strings, one at a time; null is an empty list. */
int
webcfg_each_string(struct wparse *p, const yaml_node_t *v, const char *key,
    size_t max,
    int (*fn)(struct wparse *, const yaml_node_t *, const char *, void *),
    void *arg)
{
	if (webcfg_is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return wfail(p, v, "%s must be a list", key);
	if ((size_t)(v->data.sequence.items.top -
		v->data.sequence.items.start) > max)
		return wfail(p, v, "%s: more than %zu items", key, max);
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		const yaml_node_t *n = yaml_document_get_node(p->doc, *it);
		const char *s = webcfg_scalar_of(n);

		if (s == NULL || webcfg_is_null(n))
			return wfail(p, n, "%s: items must be strings", key);
		if (fn(p, n, s, arg) != 0)
			return -1;
	}
	return 0;
}
