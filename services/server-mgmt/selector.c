/* selector.c - label selectors (Kubernetes syntax): parsing, writing back,
 * and the SQL parameters that let PostgreSQL's GIN index on labels do the
 * work. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <osh/util.h>

#include "selector.h"

void
selector_init(struct selector *s)
{
	memset(s, 0, sizeof(*s));
}

static void
req_release(struct selector_req *r)
{
	for (size_t i = 0; i < r->nvalues; i++) {
		free(r->values[i]);
		r->values[i] = NULL;
	}
	r->nvalues = 0;
}

void
selector_release(struct selector *s)
{
	for (size_t i = 0; i < s->n; i++)
		req_release(&s->reqs[i]);
	s->n = 0;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

static const char *
skip_spaces(const char *p)
{
	while (is_space(*p))
		p++;
	return p;
}

static bool
key_char(char c, bool first)
{
	return isalpha((unsigned char)c) || c == '_' ||
	    (!first && isdigit((unsigned char)c));
}

/* A value ends at a space, a control character or one of ,()=!. */
static bool
value_char(char c)
{
	return (unsigned char)c >= 0x20 && c != 0x7f && !is_space(c) &&
	    strchr(",()=!", c) == NULL;
}

/* Reads a key at *p into key; false when there is none (or too long). */
static bool
read_key(const char **p, char *key)
{
	const char *s = *p;
	size_t n = 0;

	while (key_char(s[n], n == 0))
		n++;
	if (n == 0 || n > SELECTOR_MAX_KEY)
		return false;
	memcpy(key, s, n);
	key[n] = '\0';
	*p = s + n;
	return true;
}

/* Reads a value at *p (may be empty) into a new string at *out. Returns
 * 0, -1 for a bad value (why says so), -2 when out of memory. */
static int
read_value(const char **p, char **out, char *why, size_t whylen)
{
	const char *s = *p;
	size_t n = 0;

	while (value_char(s[n]))
		n++;
	if (n > SELECTOR_MAX_VALUE) {
		snprintf(why, whylen, "a value is longer than %d bytes",
		    SELECTOR_MAX_VALUE);
		return -1;
	}
	if (!osh_utf8_valid(s, n)) {
		snprintf(why, whylen, "a value is not valid UTF-8");
		return -1;
	}
	/* C1 controls, U+0080 to U+009F: 0xc2 0x80..0x9f. */
	for (size_t i = 0; i + 1 < n; i++) {
		if ((unsigned char)s[i] == 0xc2 &&
		    (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f) {
			snprintf(
			    why, whylen, "a value holds a control character");
			return -1;
		}
	}
	if ((*out = malloc(n + 1)) == NULL)
		return -2;
	memcpy(*out, s, n);
	(*out)[n] = '\0';
	*p = s + n;
	return 0;
}

/* Whether the word w starts at p and is followed by a space or '('. */
static bool
word_at(const char *p, const char *w)
{
	size_t n = strlen(w);

	return strncmp(p, w, n) == 0 && (is_space(p[n]) || p[n] == '(');
}

/* Reads "(v1, v2)" at *p into r. */
static int
read_set(const char **p, struct selector_req *r, char *why, size_t whylen)
{
	const char *s = skip_spaces(*p);
	int rc;

	if (*s != '(') {
		snprintf(why, whylen, "\"%s\" after %s needs a list in ( )",
		    r->op == SELECTOR_IN ? "in" : "notin", r->key);
		return -1;
	}
	s++;
	for (;;) {
		char *v = NULL;

		s = skip_spaces(s);
		if (r->nvalues == SELECTOR_MAX_VALUES) {
			snprintf(why, whylen, "at most %d values in ( )",
			    SELECTOR_MAX_VALUES);
			return -1;
		}
		if ((rc = read_value(&s, &v, why, whylen)) != 0)
			return rc;
		if (v[0] == '\0') {
			free(v);
			snprintf(why, whylen,
			    "a value in ( ) is empty or "
			    "holds a space, a control "
			    "character or one of ,()=!");
			return -1;
		}
		r->values[r->nvalues++] = v;
		s = skip_spaces(s);
		if (*s == ',') {
			s++;
			continue;
		}
		if (*s == ')') {
			*p = s + 1;
			return 0;
		}
		snprintf(
		    why, whylen, "the list of %s is not closed with )", r->key);
		return -1;
	}
}

/* Reads one requirement at *p into r (whose values it owns even on
 * failure). */
static int
read_req(const char **p, struct selector_req *r, char *why, size_t whylen)
{
	const char *s = skip_spaces(*p);
	char *v = NULL;
	int rc;

	if (*s == '!') {
		s = skip_spaces(s + 1);
		if (!read_key(&s, r->key))
			goto bad_key;
		r->op = SELECTOR_NOT_EXISTS;
		*p = s;
		return 0;
	}
	if (!read_key(&s, r->key))
		goto bad_key;
	s = skip_spaces(s);
	if (*s == '=' || (*s == '!' && s[1] == '=')) {
		r->op = *s == '=' ? SELECTOR_IN : SELECTOR_NOTIN;
		s += *s == '!' ? 2 : s[1] == '=' ? 2 : 1;
		s = skip_spaces(s);
		if ((rc = read_value(&s, &v, why, whylen)) != 0)
			return rc;
		r->values[r->nvalues++] = v;
		*p = s;
		return 0;
	}
	if (word_at(s, "in") || word_at(s, "notin")) {
		r->op = s[0] == 'i' ? SELECTOR_IN : SELECTOR_NOTIN;
		r->set = true;
		s += r->op == SELECTOR_IN ? 2 : 5;
		if ((rc = read_set(&s, r, why, whylen)) != 0)
			return rc;
		*p = s;
		return 0;
	}
	r->op = SELECTOR_EXISTS;
	*p = s;
	return 0;
bad_key:
	snprintf(why, whylen,
	    "expected a label name (a letter or _, then letters, digits and "
	    "_, at most %d)",
	    SELECTOR_MAX_KEY);
	return -1;
}

int
selector_parse(const char *text, struct selector *out, char *why, size_t whylen)
{
	size_t before = out->n;
	const char *p = text;
	int rc;

	if (strlen(text) > SELECTOR_MAX_TEXT) {
		snprintf(why, whylen, "a selector is at most %d bytes",
		    SELECTOR_MAX_TEXT);
		return -1;
	}
	if (*skip_spaces(p) == '\0') {
		snprintf(why, whylen, "the selector is empty");
		return -1;
	}
	for (;;) {
		struct selector_req *r;

		if (out->n == SELECTOR_MAX_REQS) {
			snprintf(why, whylen, "at most %d requirements",
			    SELECTOR_MAX_REQS);
			goto out_fail;
		}
		r = &out->reqs[out->n];
		memset(r, 0, sizeof(*r));
		out->n++;
		if ((rc = read_req(&p, r, why, whylen)) != 0) {
			if (rc == -2)
				snprintf(why, whylen, "out of memory");
			goto out_fail;
		}
		p = skip_spaces(p);
		if (*p == '\0')
			return 0;
		if (*p != ',') {
			snprintf(why, whylen,
			    "unexpected \"%c\" after the requirement on %s: "
			    "requirements are separated by commas",
			    isprint((unsigned char)*p) ? *p : '?', r->key);
			goto out_fail;
		}
		p++;
	}
out_fail:
	while (out->n > before)
		req_release(&out->reqs[--out->n]);
	return -1;
}

int
selector_add_eq(struct selector *s, const char *key, const char *value)
{
	struct selector_req *r;

	if (s->n == SELECTOR_MAX_REQS || strlen(key) > SELECTOR_MAX_KEY)
		return -1;
	r = &s->reqs[s->n];
	memset(r, 0, sizeof(*r));
	osh_strlcpy(r->key, key, sizeof(r->key));
	r->op = SELECTOR_IN;
	if ((r->values[0] = strdup(value)) == NULL)
		return -1;
	r->nvalues = 1;
	s->n++;
	return 0;
}

static bool put(char *out, size_t len, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The JSON text of o, as a new string. */
static char *
take_text(struct json_object *o)
{
	const char *t =
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	return t != NULL ? strdup(t) : NULL;
}

int
selector_sql(const struct selector *s, char **eq, char **keys, char **rest)
{
	struct json_object *e = json_object_new_object();
	struct json_object *k = json_object_new_array();
	struct json_object *r = json_object_new_array();
	int rc = -1;

	*eq = *keys = *rest = NULL;
	if (e == NULL || k == NULL || r == NULL)
		goto out_put;
	for (size_t i = 0; i < s->n; i++) {
		const struct selector_req *q = &s->reqs[i];
		struct json_object *had, *o, *vs;

		if (q->op == SELECTOR_IN && q->nvalues == 1 &&
		    (!json_object_object_get_ex(e, q->key, &had) ||
			strcmp(json_object_get_string(had), q->values[0]) ==
			    0)) {
			json_object_object_add(
			    e, q->key, json_object_new_string(q->values[0]));
			continue;
		}
		if (q->op == SELECTOR_EXISTS || q->op == SELECTOR_IN) {
			json_object_array_add(
			    k, json_object_new_string(q->key));
			if (q->op == SELECTOR_EXISTS)
				continue;
		}
		o = json_object_new_object();
		vs = json_object_new_array();
		json_object_object_add(o, "k", json_object_new_string(q->key));
		json_object_object_add(o, "op",
		    json_object_new_string(q->op == SELECTOR_IN ? "in"
			    : q->op == SELECTOR_NOTIN		? "notin"
								: "!exists"));
		for (size_t j = 0; j < q->nvalues; j++)
			json_object_array_add(
			    vs, json_object_new_string(q->values[j]));
		json_object_object_add(o, "v", vs);
		json_object_array_add(r, o);
	}
	if (json_object_object_length(e) > 0 && (*eq = take_text(e)) == NULL)
		goto out_free;
	if (json_object_array_length(k) > 0) {
		/* A PostgreSQL array literal; label names need no quotes. */
		size_t len = 3, at = 0;
		bool ok = true;

		for (size_t i = 0; i < json_object_array_length(k); i++)
			len += strlen(json_object_get_string(
				   json_object_array_get_idx(k, i))) +
			    1;
		if ((*keys = malloc(len)) == NULL)
			goto out_free;
		ok = put(*keys, len, &at, "{");
		for (size_t i = 0; ok && i < json_object_array_length(k); i++)
			ok = put(*keys, len, &at, "%s%s", i > 0 ? "," : "",
			    json_object_get_string(
				json_object_array_get_idx(k, i)));
		if (!ok || !put(*keys, len, &at, "}"))
			goto out_free;
	}
	if (json_object_array_length(r) > 0 && (*rest = take_text(r)) == NULL)
		goto out_free;
	rc = 0;
	goto out_put;
out_free:
	free(*eq);
	free(*keys);
	free(*rest);
	*eq = *keys = *rest = NULL;
out_put:
	json_object_put(e);
	json_object_put(k);
	json_object_put(r);
	return rc;
}

/* Appends a formatted piece at out[*at]; false when it does not fit. */
static bool __attribute__((format(printf, 4, 5)))
put(char *out, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out + *at, len - *at, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *at)
		return false;
	*at += (size_t)n;
	return true;
}

bool
selector_format(const struct selector *s, char *out, size_t len)
{
	size_t at = 0;
	bool ok = len > 0;

	if (ok)
		out[0] = '\0';
	for (size_t i = 0; ok && i < s->n; i++) {
		const struct selector_req *r = &s->reqs[i];

		ok = put(out, len, &at, "%s", i > 0 ? "," : "");
		switch (r->op) {
		case SELECTOR_EXISTS:
			ok = ok && put(out, len, &at, "%s", r->key);
			break;
		case SELECTOR_NOT_EXISTS:
			ok = ok && put(out, len, &at, "!%s", r->key);
			break;
		case SELECTOR_IN:
		case SELECTOR_NOTIN:
			if (!r->set) {
				ok = ok &&
				    put(out, len, &at, "%s%s%s", r->key,
					r->op == SELECTOR_IN ? "=" : "!=",
					r->values[0]);
				break;
			}
			ok = ok &&
			    put(out, len, &at, "%s %s (", r->key,
				r->op == SELECTOR_IN ? "in" : "notin");
			for (size_t j = 0; ok && j < r->nvalues; j++)
				ok = put(out, len, &at, "%s%s",
				    j > 0 ? "," : "", r->values[j]);
			ok = ok && put(out, len, &at, ")");
			break;
		}
	}
	return ok;
}
