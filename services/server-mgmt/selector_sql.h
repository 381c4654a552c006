/* selector_sql.h - label selectors (libcommon's osh/selector.h, parsed by
 * osh_selector_parse) as the SQL parameters with which GET /api/servers'
 * labels= and label= let PostgreSQL's GIN index on labels do the work.
 * Pure: no I/O. Parsing and its rules are libcommon's; this file only
 * translates, with the semantics of osh_selector_match (!= and notin
 * match servers that lack the label). */
#ifndef SM_SELECTOR_SQL_H
#define SM_SELECTOR_SQL_H

#include <stddef.h>

struct osh_selector;

/* The terms of every selector of sels[0..n) (all must hold) as:
 *   eq:   JSON object text for labels @> eq (key=value terms, and key in
 *         (v) with one value),
 *   keys: PostgreSQL array text for labels ?& keys (keys that must be
 *         there: key, and in with several values), every key quoted,
 *   rest: JSON array text for labels_selected(labels, rest), what the
 *         index does not settle: {"k": key, "op": "in"|"notin"|"!exists",
 *         "v": [values]} (see migrations/004).
 * Each is a new string the caller frees, or NULL when there is nothing of
 * its kind. Returns 0, or -1 when out of memory (all three NULL then). */
int selector_sql(const struct osh_selector *const *sels, size_t n, char **eq,
    char **keys, char **rest);

#endif
