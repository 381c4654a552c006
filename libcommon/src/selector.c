/* selector.c - Kubernetes label selectors: a strict, bounded parser, a
 * matcher over JSON labels, and the canonical text and JSON of a parsed
 * selector. */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh/selector.h"
#include "osh/util.h"

struct parser {
	const char *s;
	size_t len, p;
	struct osh_selector_err *err;
};

static int fail(struct parser *ps, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct parser *ps, size_t pos, const char *fmt, ...)
{
	va_list ap;

	ps->err->pos = pos;
	va_start(ap, fmt);
	vsnprintf(ps->err->message, sizeof(ps->err->message), fmt, ap);
	va_end(ap);
	return -1;
}

static bool
at_end(const struct parser *ps)
{
	return ps->p >= ps->len;
}

static char
peek(const struct parser *ps)
{
	return at_end(ps) ? '\0' : ps->s[ps->p];
}

static void
skip_space(struct parser *ps)
{
	while (!at_end(ps) && (ps->s[ps->p] == ' ' || ps->s[ps->p] == '\t'))
		ps->p++;
}

static bool
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static bool
is_key_char(unsigned char c)
{
	return is_alnum(c) || c == '_' || c == '-' || c == '.' || c == '/';
}

static bool
is_value_char(unsigned char c)
{
	return c > 0x20 && c != 0x7f && strchr(",()=!", c) == NULL;
}

static char *
span_dup(const char *s, size_t n)
{
	char *out = malloc(n + 1);

	if (out != NULL) {
		memcpy(out, s, n);
		out[n] = '\0';
	}
	return out;
}

/* Reads a key at the current position into *key (a new string). */
static int
read_key(struct parser *ps, char **key, const char *what)
{
	size_t start = ps->p;

	if (at_end(ps) ||
	    !(is_alnum((unsigned char)peek(ps)) || peek(ps) == '_'))
		return fail(ps, start,
		    "expected %s (a letter, a digit or '_' first)", what);
	while (!at_end(ps) && is_key_char((unsigned char)ps->s[ps->p]))
		ps->p++;
	if (ps->p - start > OSH_SELECTOR_KEY_MAX)
		return fail(ps, start, "label key longer than %d bytes",
		    OSH_SELECTOR_KEY_MAX);
	if ((*key = span_dup(ps->s + start, ps->p - start)) == NULL)
		return fail(ps, 0, "out of memory");
	return 0;
}

/* Reads a value (may be empty when empty_ok) into *value. */
static int
read_value(struct parser *ps, char **value, bool empty_ok)
{
	size_t start = ps->p;

	while (!at_end(ps) && is_value_char((unsigned char)ps->s[ps->p]))
		ps->p++;
	if (ps->p == start && !empty_ok)
		return fail(ps, start, "expected a value");
	if (ps->p - start > OSH_SELECTOR_VALUE_MAX)
		return fail(ps, start, "value longer than %d bytes",
		    OSH_SELECTOR_VALUE_MAX);
	if (!osh_utf8_valid(ps->s + start, ps->p - start))
		return fail(ps, start, "value is not valid UTF-8");
	if ((*value = span_dup(ps->s + start, ps->p - start)) == NULL)
		return fail(ps, 0, "out of memory");
	return 0;
}

static int
add_value(
    struct parser *ps, struct osh_selector_term *t, size_t cap, bool empty_ok)
{
	char *v = NULL;

	if (t->nvalues >= cap)
		return fail(ps, ps->p, "more than %d values in a set",
		    OSH_SELECTOR_MAX_VALUES);
	if (read_value(ps, &v, empty_ok) != 0)
		return -1;
	t->values[t->nvalues++] = v;
	return 0;
}

/* "(v1, v2, ...)" after 'in' or 'notin'. */
static int
read_set(struct parser *ps, struct osh_selector_term *t, const char *kw)
{
	skip_space(ps);
	if (peek(ps) != '(')
		return fail(ps, ps->p, "expected '(' after '%s'", kw);
	ps->p++;
	if ((t->values = calloc(OSH_SELECTOR_MAX_VALUES, sizeof(char *))) ==
	    NULL)
		return fail(ps, 0, "out of memory");
	for (;;) {
		skip_space(ps);
		if (add_value(ps, t, OSH_SELECTOR_MAX_VALUES, false) != 0)
			return -1;
		skip_space(ps);
		if (peek(ps) == ')') {
			ps->p++;
			return 0;
		}
		if (peek(ps) != ',')
			return fail(
			    ps, ps->p, "expected ',' or ')' in the set");
		ps->p++;
	}
}

/* One value after '=', '==' or '!='. */
static int
read_one(struct parser *ps, struct osh_selector_term *t)
{
	skip_space(ps);
	if ((t->values = calloc(1, sizeof(char *))) == NULL)
		return fail(ps, 0, "out of memory");
	return add_value(ps, t, 1, true);
}

/* What follows a key: an operator and its values, or nothing (exists). */
static int
read_operator(struct parser *ps, struct osh_selector_term *t)
{
	size_t start;

	skip_space(ps);
	if (at_end(ps) || peek(ps) == ',') {
		t->op = OSH_SEL_EXISTS;
		return 0;
	}
	if (peek(ps) == '=') {
		ps->p++;
		if (peek(ps) == '=')
			ps->p++;
		t->op = OSH_SEL_EQ;
		return read_one(ps, t);
	}
	if (peek(ps) == '!' && ps->p + 1 < ps->len && ps->s[ps->p + 1] == '=') {
		ps->p += 2;
		t->op = OSH_SEL_NE;
		return read_one(ps, t);
	}
	start = ps->p;
	while (!at_end(ps) && is_key_char((unsigned char)ps->s[ps->p]))
		ps->p++;
	if (ps->p - start == 2 && memcmp(ps->s + start, "in", 2) == 0) {
		t->op = OSH_SEL_IN;
		return read_set(ps, t, "in");
	}
	if (ps->p - start == 5 && memcmp(ps->s + start, "notin", 5) == 0) {
		t->op = OSH_SEL_NOTIN;
		return read_set(ps, t, "notin");
	}
	return fail(ps, start,
	    "expected '=', '==', '!=', 'in', 'notin', ',' or the end after "
	    "the key");
}

static int
read_term(struct parser *ps, struct osh_selector_term *t)
{
	skip_space(ps);
	if (peek(ps) == '!') {
		ps->p++;
		skip_space(ps);
		t->op = OSH_SEL_NOT_EXISTS;
		return read_key(ps, &t->key, "a label key after '!'");
	}
	if (read_key(ps, &t->key, "a label key") != 0)
		return -1;
	return read_operator(ps, t);
}

static void
term_release(struct osh_selector_term *t)
{
	for (size_t i = 0; i < t->nvalues; i++)
		free(t->values[i]);
	free(t->values);
	free(t->key);
}

void
osh_selector_free(struct osh_selector *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nterms; i++)
		term_release(&s->terms[i]);
	free(s->terms);
	free(s);
}

struct osh_selector *
osh_selector_parse(const char *text, size_t len, struct osh_selector_err *err)
{
	struct parser ps = {text, len, 0, err};
	struct osh_selector *s;

	err->pos = 0;
	err->message[0] = '\0';
	if (len > OSH_SELECTOR_MAX_LEN) {
		fail(&ps, OSH_SELECTOR_MAX_LEN, "selector longer than %d bytes",
		    OSH_SELECTOR_MAX_LEN);
		return NULL;
	}
	if (len > 0 && memchr(text, '\0', len) != NULL) {
		fail(&ps,
		    (size_t)((const char *)memchr(text, '\0', len) - text),
		    "NUL byte in the selector");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->terms = calloc(OSH_SELECTOR_MAX_TERMS, sizeof(*s->terms))) ==
		NULL) {
		fail(&ps, 0, "out of memory");
		goto out_free;
	}
	skip_space(&ps);
	if (at_end(&ps))
		return s; /* no term: matches everything */
	for (;;) {
		if (s->nterms >= OSH_SELECTOR_MAX_TERMS) {
			fail(&ps, ps.p, "more than %d terms",
			    OSH_SELECTOR_MAX_TERMS);
			goto out_free;
		}
		/* Counted at once, so that a half-read term is freed. */
		if (read_term(&ps, &s->terms[s->nterms++]) != 0)
			goto out_free;
		skip_space(&ps);
		if (at_end(&ps))
			return s;
		if (peek(&ps) != ',') {
			fail(&ps, ps.p, "expected ',' or the end");
			goto out_free;
		}
		ps.p++;
	}
out_free:
	osh_selector_free(s);
	return NULL;
}

/*
 * Matching.
 */

static bool
in_values(const struct osh_selector_term *t, const char *v)
{
	for (size_t i = 0; i < t->nvalues; i++)
		if (strcmp(t->values[i], v) == 0)
			return true;
	return false;
}

static bool
term_match(const struct osh_selector_term *t, struct json_object *labels)
{
	struct json_object *v = NULL;
	bool has = labels != NULL &&
	    json_object_is_type(labels, json_type_object) &&
	    json_object_object_get_ex(labels, t->key, &v);
	const char *str = has && json_object_is_type(v, json_type_string)
	    ? json_object_get_string(v)
	    : NULL;

	switch (t->op) {
	case OSH_SEL_EQ: return str != NULL && strcmp(str, t->values[0]) == 0;
	case OSH_SEL_NE: return str == NULL || strcmp(str, t->values[0]) != 0;
	case OSH_SEL_IN: return str != NULL && in_values(t, str);
	case OSH_SEL_NOTIN: return str == NULL || !in_values(t, str);
	case OSH_SEL_EXISTS: return has;
	case OSH_SEL_NOT_EXISTS: return !has;
	}
	return false;
}

bool
osh_selector_match(const struct osh_selector *s, struct json_object *labels)
{
	for (size_t i = 0; i < s->nterms; i++)
		if (!term_match(&s->terms[i], labels))
			return false;
	return true;
}

/*
 * Text and JSON.
 */

struct out {
	char *buf;
	size_t len, n;
};

static void
put(struct out *o, const char *s)
{
	size_t l = strlen(s);

	if (o->n < o->len) {
		size_t room = o->len - o->n - 1;
		memcpy(o->buf + o->n, s, l < room ? l : room);
		o->buf[o->n + (l < room ? l : room)] = '\0';
	}
	o->n += l;
}

size_t
osh_selector_format(const struct osh_selector *s, char *buf, size_t len)
{
	struct out o = {buf, len, 0};

	if (len > 0)
		buf[0] = '\0';
	for (size_t i = 0; i < s->nterms; i++) {
		const struct osh_selector_term *t = &s->terms[i];
		if (i > 0)
			put(&o, ",");
		if (t->op == OSH_SEL_NOT_EXISTS)
			put(&o, "!");
		put(&o, t->key);
		switch (t->op) {
		case OSH_SEL_EQ:
			put(&o, "=");
			put(&o, t->values[0]);
			break;
		case OSH_SEL_NE:
			put(&o, "!=");
			put(&o, t->values[0]);
			break;
		case OSH_SEL_IN:
		case OSH_SEL_NOTIN:
			put(&o, t->op == OSH_SEL_IN ? " in (" : " notin (");
			for (size_t j = 0; j < t->nvalues; j++) {
				if (j > 0)
					put(&o, ",");
				put(&o, t->values[j]);
			}
			put(&o, ")");
			break;
		case OSH_SEL_EXISTS:
		case OSH_SEL_NOT_EXISTS: break;
		}
	}
	return o.n;
}

const char *
osh_selector_op_name(enum osh_selector_op op)
{
	switch (op) {
	case OSH_SEL_EQ: return "eq";
	case OSH_SEL_NE: return "ne";
	case OSH_SEL_IN: return "in";
	case OSH_SEL_NOTIN: return "notin";
	case OSH_SEL_EXISTS: return "exists";
	case OSH_SEL_NOT_EXISTS: return "notexists";
	}
	return "";
}

struct json_object *
osh_selector_json(const struct osh_selector *s)
{
	struct json_object *arr = json_object_new_array();

	if (arr == NULL)
		return NULL;
	for (size_t i = 0; i < s->nterms; i++) {
		const struct osh_selector_term *t = &s->terms[i];
		struct json_object *o = json_object_new_object();
		struct json_object *vals = json_object_new_array();
		if (o == NULL || vals == NULL) {
			json_object_put(o);
			json_object_put(vals);
			json_object_put(arr);
			return NULL;
		}
		for (size_t j = 0; j < t->nvalues; j++)
			json_object_array_add(
			    vals, json_object_new_string(t->values[j]));
		json_object_object_add(
		    o, "key", json_object_new_string(t->key));
		json_object_object_add(o, "op",
		    json_object_new_string(osh_selector_op_name(t->op)));
		json_object_object_add(o, "values", vals);
		json_object_array_add(arr, o);
	}
	return arr;
}
