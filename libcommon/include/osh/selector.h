/* selector.h - label selectors in Kubernetes syntax: parsed into a plain
 * list of terms that code can match against a labels object, print back,
 * or turn into SQL (every term is a key, an operator and its values).
 *
 * Syntax: terms separated by ',', all of which must hold (an empty
 * selector, no term at all, matches everything):
 *
 *   key=value  key==value   the label is there with this value
 *   key!=value              the label is absent, or has another value
 *   key in (v1,v2)          the label is there with one of the values
 *   key notin (v1,v2)       the label is absent, or has none of them
 *   key                     the label is there (any value)
 *   !key                    the label is absent
 *
 * Spaces and tabs may surround every token; 'in' and 'notin' are
 * keywords only after a key. Keys: 1 to OSH_SELECTOR_KEY_MAX bytes of
 * letters, digits, '_', '-', '.' and '/', starting with a letter, a
 * digit or '_'. Values: 0 to OSH_SELECTOR_VALUE_MAX bytes of valid UTF-8
 * without spaces, control characters or any of ",()=!" (an empty value
 * only after '=', '==' or '!='; a set holds 1 to OSH_SELECTOR_MAX_VALUES
 * non-empty values). A selector holds at most OSH_SELECTOR_MAX_TERMS
 * terms and OSH_SELECTOR_MAX_LEN bytes.
 *
 * Labels (osh_selector_match) are a JSON object whose values are strings;
 * a member of another type counts as present for 'key' and '!key' and
 * equals no value.
 */
#ifndef OSH_SELECTOR_H
#define OSH_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

#define OSH_SELECTOR_MAX_LEN 4096
#define OSH_SELECTOR_MAX_TERMS 32
#define OSH_SELECTOR_MAX_VALUES 64
#define OSH_SELECTOR_KEY_MAX 63
#define OSH_SELECTOR_VALUE_MAX 256

enum osh_selector_op {
	OSH_SEL_EQ, /* key=value, key==value: one value */
	OSH_SEL_NE, /* key!=value: one value */
	OSH_SEL_IN, /* key in (...): 1 to OSH_SELECTOR_MAX_VALUES values */
	OSH_SEL_NOTIN, /* key notin (...): as IN */
	OSH_SEL_EXISTS, /* key: no value */
	OSH_SEL_NOT_EXISTS, /* !key: no value */
};

struct osh_selector_term {
	enum osh_selector_op op;
	char *key; /* NUL terminated */
	char **values; /* nvalues NUL-terminated strings, in the given order */
	size_t nvalues;
};

/* A parsed selector: its terms in the order written. Everything it points
 * to belongs to it and goes with osh_selector_free. Read-only for users. */
struct osh_selector {
	struct osh_selector_term *terms;
	size_t nterms;
};

/* Why a text is not a selector: the byte offset where it went wrong (from
 * 0; the length of the text when it ended too early) and a sentence
 * naming what was expected there. */
struct osh_selector_err {
	size_t pos;
	char message[160];
};

/* Parses text[0..len) (NUL bytes in it are errors). Returns a new selector
 * the caller frees with osh_selector_free, or NULL with err filled (also
 * when out of memory: "out of memory", position 0). */
struct osh_selector *osh_selector_parse(
    const char *text, size_t len, struct osh_selector_err *err);
void osh_selector_free(struct osh_selector *s);

/* Whether labels (a JSON object; NULL or any other type: no labels)
 * satisfy every term of s. */
bool osh_selector_match(
    const struct osh_selector *s, struct json_object *labels);

/* Writes s in canonical form into buf (always NUL terminated when len >
 * 0): terms joined by ',', each as "k=v", "k!=v", "k in (a,b)",
 * "k notin (a,b)", "k" or "!k". Parsing the result gives the same terms.
 * Returns the length of the whole canonical text (as snprintf does: the
 * text was cut when it is >= len). */
size_t osh_selector_format(const struct osh_selector *s, char *buf, size_t len);

/* The terms as JSON, for storing and for SQL: an array of
 * {"key": k, "op": "eq"|"ne"|"in"|"notin"|"exists"|"notexists",
 * "values": [..]} in order (values empty for exists and notexists). The
 * caller puts it. NULL when out of memory. */
struct json_object *osh_selector_json(const struct osh_selector *s);

/* The name of op in osh_selector_json ("eq", ...). */
const char *osh_selector_op_name(enum osh_selector_op op);

#endif
