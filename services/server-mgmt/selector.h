/* selector.h - label selectors in Kubernetes syntax, as GET /api/servers
 * takes them in labels=: requirements separated by commas, each one of
 *   key=value  key==value  key!=value
 *   key in (v1,v2)  key notin (v1,v2)
 *   key  !key
 * with spaces allowed around the tokens. Keys are label names (a letter
 * or '_', then letters, digits and '_', 1 to 63 bytes); values are UTF-8
 * text without spaces, control characters or any of ,()=! (at most 256
 * bytes; empty only after = == !=). As in Kubernetes, != and notin match
 * servers that lack the label. Pure: no I/O; the parser of outside input
 * behind tests/fuzz/fuzz_server_mgmt_selector.c. */
#ifndef SM_SELECTOR_H
#define SM_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#define SELECTOR_MAX_TEXT 4096 /* bytes of a selector */
#define SELECTOR_MAX_REQS 32 /* requirements */
#define SELECTOR_MAX_VALUES 32 /* values of one set */
#define SELECTOR_MAX_KEY 63
#define SELECTOR_MAX_VALUE 256

enum selector_op {
	SELECTOR_IN, /* = == (one value) and in */
	SELECTOR_NOTIN, /* != (one value) and notin */
	SELECTOR_EXISTS, /* key */
	SELECTOR_NOT_EXISTS, /* !key */
};

struct selector_req {
	char key[SELECTOR_MAX_KEY + 1];
	enum selector_op op;
	bool set; /* written in (...): in / notin, not = or != */
	size_t nvalues;
	char *values[SELECTOR_MAX_VALUES]; /* owned */
};

struct selector {
	size_t n;
	struct selector_req reqs[SELECTOR_MAX_REQS];
};

/* Parses text (NUL-terminated) into out, appending to the requirements
 * out holds already (selector_init first). Returns 0, or -1 with a
 * sentence for people in why (out keeps what it held before; release it
 * all the same). */
void selector_init(struct selector *s);
int selector_parse(
    const char *text, struct selector *out, char *why, size_t whylen);
/* Adds key=value (the older label=key=value filter). 0 or -1 (full, or
 * out of memory). */
int selector_add_eq(struct selector *s, const char *key, const char *value);
void selector_release(struct selector *s);

/* The selector as SQL parameters for the indexes of labels (GIN):
 *   eq:   JSON object text for labels @> eq (the = requirements),
 *   keys: PostgreSQL array text for labels ?& keys (keys that must be
 *         there: key, and in with several values),
 *   rest: JSON array text for labels_selected(labels, rest) (what the
 *         index does not settle: in with several values, notin, !key;
 *         see migrations/004).
 * Each is a new string (free it) or NULL when there is nothing of its
 * kind. Returns 0, or -1 when out of memory (all three NULL then). */
int selector_sql(const struct selector *s, char **eq, char **keys, char **rest);

/* Writes the selector back in its syntax (canonical: no spaces, = and !=
 * for single values given so); false when it does not fit. */
bool selector_format(const struct selector *s, char *out, size_t len);

#endif
