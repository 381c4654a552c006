/* selevents.c - the sel-events collector of ipmi_exporter 1.8 and later:
 * its module key (sel_events: a list of {name, regex}) and its tally of
 * the whole SEL by FreeIPMI's state and by those rules. The reference
 * compiles Go regular expressions (RE2) and searches the Event column of
 * ipmi-sel with them; here they are POSIX extended expressions, with the
 * RE2 spellings configurations commonly use rewritten ((?i), (?:, lazy
 * repetitions, \d \s \w, \pL and the other classes of escape()),
 * searched in the same text; an RE2 spelling with no POSIX one is refused
 * at load, never matched as something else. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "exporter.h"
#include "yamlerr.h"

#define MAX_NAME 128
#define MAX_REGEX 512

static const char *
scalar(const yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE
	    ? (const char *)n->data.scalar.value
	    : NULL;
}

/* RE2's class escapes, as the inside of a POSIX bracket expression:
 * \d, \s, \w (ASCII, as RE2 has them), and the Unicode classes
 * configurations use, \pL (\p{L}), \p{Lu}, \p{Ll}, \pN (\p{N}, \p{Nd}),
 * as their ASCII members: FreeIPMI's event texts are ASCII. Upper case
 * (\D, \PL, \P{L}) negates. */
static const struct {
	const char *name; /* after the backslash */
	const char *inside;
	bool negated;
} class_escapes[] = {
    {"d", "0-9", false},
    {"D", "0-9", true},
    {"s", "[:space:]", false},
    {"S", "[:space:]", true},
    {"w", "[:alnum:]_", false},
    {"W", "[:alnum:]_", true},
    {"pL", "[:alpha:]", false},
    {"PL", "[:alpha:]", true},
    {"p{L}", "[:alpha:]", false},
    {"P{L}", "[:alpha:]", true},
    {"p{Lu}", "[:upper:]", false},
    {"P{Lu}", "[:upper:]", true},
    {"p{Ll}", "[:lower:]", false},
    {"P{Ll}", "[:lower:]", true},
    {"pN", "[:digit:]", false},
    {"PN", "[:digit:]", true},
    {"p{N}", "[:digit:]", false},
    {"P{N}", "[:digit:]", true},
    {"p{Nd}", "[:digit:]", false},
    {"P{Nd}", "[:digit:]", true},
};

/* The POSIX spelling of the escape at c (c[0] == '\\'), written into buf
 * (16 bytes at least), and how many characters of c it took; 0 when
 * POSIX has none (an escape RE2 has that cannot be said here, or one RE2
 * refuses too). */
static size_t
escape(const char *c, bool in_class, char *buf, size_t len)
{
	const char *e = c + 1;

	for (size_t i = 0; i < OSH_ARRAY_LEN(class_escapes); i++) {
		size_t n = strlen(class_escapes[i].name);

		if (strncmp(e, class_escapes[i].name, n) != 0)
			continue;
		if (in_class && class_escapes[i].negated)
			return 0; /* [\D] has no POSIX spelling */
		if (in_class)
			snprintf(buf, len, "%s", class_escapes[i].inside);
		else
			snprintf(buf, len, "[%s%s]",
			    class_escapes[i].negated ? "^" : "",
			    class_escapes[i].inside);
		return n + 1;
	}
	if (*e == 'p' || *e == 'P')
		return 0; /* another Unicode class */
	switch (*e) {
	case 't': snprintf(buf, len, "\t"); return 2;
	case 'n': snprintf(buf, len, "\n"); return 2;
	case 'r': snprintf(buf, len, "\r"); return 2;
	case 'f': snprintf(buf, len, "\f"); return 2;
	case 'v': snprintf(buf, len, "\v"); return 2;
	case 'A': snprintf(buf, len, "^"); return in_class ? 0 : 2;
	case 'z': snprintf(buf, len, "$"); return in_class ? 0 : 2;
	/* word boundaries: glibc's \b and \B are RE2's (ASCII words) */
	case 'b':
	case 'B': snprintf(buf, len, "\\%c", *e); return in_class ? 0 : 2;
	default: break;
	}
	/* Any other letter or digit: a back reference, \Q...\E, \x41, \C:
	 * refused rather than matched as something else. */
	if (*e == '\0' || isalnum((unsigned char)*e))
		return 0;
	/* Punctuation stands for itself. In a POSIX bracket expression a
	 * backslash is itself and needs none; ] ^ - [ would need moving. */
	if (!in_class)
		snprintf(buf, len, "\\%c", *e);
	else if (strchr("]^-[", *e) != NULL)
		return 0;
	else
		snprintf(buf, len, "%c", *e);
	return 2;
}

/* Rewrites the RE2 spellings POSIX lacks into out (at least 3 times
 * strlen(re) + 1 bytes, and 16 more; 8 times suffices for any): a leading (?i) sets *icase, (?:
 * opens a plain group, escapes become what escape() says, and the '?'
 * that makes a repetition lazy goes (a search only asks whether there is
 * a match). Returns false for flags other than a leading (?i), and for
 * escapes with no POSIX spelling: never a pattern that would match
 * otherwise than upstream's (glibc takes an unknown \p as a plain p). */
static bool
from_re2(const char *re, char *out, size_t outlen, int *icase)
{
	size_t o = 0;
	bool in_class = false, after_rep = false;

	*icase = 0;
	if (strncmp(re, "(?i)", 4) == 0) {
		*icase = REG_ICASE;
		re += 4;
	}
	for (const char *c = re; *c != '\0'; c++) {
		const char *put = NULL, *end;
		char one[2] = {*c, '\0'}, esc[32];
		bool rep = false;
		size_t n;

		if (*c == '\\') {
			if ((n = escape(c, in_class, esc, sizeof(esc))) == 0)
				return false;
			put = esc;
			c += n - 1;
		} else if (in_class && *c == '[' && c[1] == ':' &&
		    (end = strstr(c + 2, ":]")) != NULL) {
			/* [:digit:] inside a class, as it is */
			if (o + (size_t)(end + 2 - c) + 1 > outlen)
				return false;
			memcpy(out + o, c, (size_t)(end + 2 - c));
			o += (size_t)(end + 2 - c);
			c = end + 1;
			continue;
		} else if (in_class) {
			/* a ']' first in the class is one of its members */
			if (*c == ']' && c[-1] != '[' &&
			    !(c[-1] == '^' && c[-2] == '['))
				in_class = false;
		} else if (*c == '[') {
			in_class = true;
		} else if (*c == '(' && c[1] == '?') {
			if (c[2] != ':')
				return false;
			c += 2;
		} else if (*c == '?' && after_rep) {
			after_rep = false;
			continue; /* lazy */
		} else if (*c == '*' || *c == '+' || *c == '?' || *c == '}') {
			rep = true;
		}
		after_rep = rep;
		if (put == NULL)
			put = one;
		if (o + strlen(put) + 1 > outlen)
			return false;
		memcpy(out + o, put, strlen(put));
		o += strlen(put);
	}
	out[o] = '\0';
	return true;
}

static int
add_rule(yaml_document_t *doc, const yaml_node_t *item, struct module *m,
    char *err, size_t errlen)
{
	const char *name = NULL, *regex = NULL;
	char posix[8 * MAX_REGEX + 1]; /* "\\W": "[^[:alnum:]_]" */
	struct sel_event_rule *r;
	int icase, rc;

	if (item->type != YAML_MAPPING_NODE)
		return yamlerr(err, errlen, item,
		    "sel_events items are mappings with name and regex");
	for (yaml_node_pair_t *pr = item->data.mapping.pairs.start;
	     pr < item->data.mapping.pairs.top; pr++) {
		const yaml_node_t *k = yaml_document_get_node(doc, pr->key);
		const yaml_node_t *v = yaml_document_get_node(doc, pr->value);
		const char *ks = scalar(k);

		if (ks != NULL && strcmp(ks, "name") == 0 && scalar(v))
			name = scalar(v);
		else if (ks != NULL && strcmp(ks, "regex") == 0 && scalar(v))
			regex = scalar(v);
		else
			return yamlerr(err, errlen, k,
			    "unknown key \"%s\" in sel_events (valid: name, "
			    "regex, plain values)",
			    ks ? ks : "?");
	}
	if (name == NULL || regex == NULL)
		return yamlerr(
		    err, errlen, item, "sel_events items need name and regex");
	if (strlen(name) > MAX_NAME)
		return yamlerr(err, errlen, item,
		    "sel_events name longer than %d bytes", MAX_NAME);
	if (strlen(regex) > MAX_REGEX)
		return yamlerr(err, errlen, item,
		    "sel_events regex longer than %d bytes", MAX_REGEX);
	if (m->nsel_events == MAX_SEL_EVENTS)
		return yamlerr(
		    err, errlen, item, "at most %d sel_events", MAX_SEL_EVENTS);
	if (!from_re2(regex, posix, sizeof(posix), &icase) ||
	    !pattern_ok(posix))
		return yamlerr(err, errlen, item,
		    "sel_events regex \"%s\": unsupported or too costly",
		    regex);
	r = &m->sel_events[m->nsel_events];
	if ((rc = regcomp(&r->re, posix, REG_EXTENDED | REG_NOSUB | icase)) !=
	    0) {
		char why[128];
		regerror(rc, &r->re, why, sizeof(why));
		return yamlerr(err, errlen, item,
		    "bad sel_events regex \"%s\": %s", regex, why);
	}
	r->name = strdup(name);
	r->text = strdup(regex);
	m->nsel_events++;
	if (r->name == NULL || r->text == NULL)
		return yamlerr(err, errlen, item, "out of memory");
	return 0;
}

int
selevents_parse(yaml_document_t *doc, const yaml_node_t *n, struct module *m,
    char *err, size_t errlen)
{
	size_t count;

	/* "sel_events:" with nothing, as a list of none. */
	if (n->type == YAML_SCALAR_NODE && scalar(n)[0] == '\0')
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return yamlerr(err, errlen, n,
		    "sel_events must be a list of {name, regex}");
	if (m->sel_events != NULL)
		return yamlerr(err, errlen, n, "sel_events given twice");
	count =
	    (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (count > MAX_SEL_EVENTS)
		return yamlerr(
		    err, errlen, n, "at most %d sel_events", MAX_SEL_EVENTS);
	if ((m->sel_events = calloc(count + 1, sizeof(*m->sel_events))) == NULL)
		return yamlerr(err, errlen, n, "out of memory");
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++)
		if (add_rule(doc, yaml_document_get_node(doc, *it), m, err,
			errlen) != 0)
			return -1;
	return 0;
}

void
selevents_free(struct module *m)
{
	for (size_t i = 0; i < m->nsel_events; i++) {
		regfree(&m->sel_events[i].re);
		free(m->sel_events[i].name);
		free(m->sel_events[i].text);
	}
	free(m->sel_events);
	m->sel_events = NULL;
	m->nsel_events = 0;
}

static int
state_of(enum osh_sensor_state s)
{
	switch (s) {
	case OSH_SENSOR_NOMINAL: return SEL_STATE_NOMINAL;
	case OSH_SENSOR_WARNING: return SEL_STATE_WARNING;
	case OSH_SENSOR_CRITICAL: return SEL_STATE_CRITICAL;
	default: return SEL_STATE_NA;
	}
}

int
selevents_tally(const struct module *m, const struct osh_sel_entry *e, size_t n,
    struct sel_tally *t)
{
	selevents_tally_free(t);
	t->count = calloc(m->nsel_events + 1, sizeof(*t->count));
	t->latest = calloc(m->nsel_events + 1, sizeof(*t->latest));
	if (t->count == NULL || t->latest == NULL) {
		selevents_tally_free(t);
		return -1;
	}
	t->n = m->nsel_events;
	for (size_t i = 0; i < n; i++) {
		/* ipmi-sel prints no line for records of unknown types. */
		if (e[i].record_type != 0x02 && e[i].record_type < 0xc0)
			continue;
		/* Upstream splits ipmi-sel's comma separated line with a
		 * pattern that allows no comma in a column: a line whose
		 * sensor name, type or event text has one ("Power Supply
		 * input out-of-range, but present") matches it not, and the
		 * entry counts nowhere, by state or by name. */
		if (strchr(e[i].sensor, ',') != NULL ||
		    strchr(e[i].type_name, ',') != NULL ||
		    strchr(e[i].event, ',') != NULL)
			continue;
		t->by_state[state_of(e[i].severity)]++;
		for (size_t r = 0; r < m->nsel_events; r++) {
			if (regexec(&m->sel_events[r].re,
				e[i].event[0] ? e[i].event : "N/A", 0, NULL,
				0) != 0)
				continue;
			t->count[r]++;
			/* Relative to the BMC's start ("PostInit"): 0. */
			if (e[i].timestamp > t->latest[r])
				t->latest[r] = e[i].timestamp;
		}
	}
	return 0;
}

void
selevents_tally_free(struct sel_tally *t)
{
	free(t->count);
	free(t->latest);
	memset(t, 0, sizeof(*t));
}
