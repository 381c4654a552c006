/* fuzz_selector.c - libFuzzer target: label selectors (selector.c).
 *
 * Input: the selector text. Invariants: what parses stays within the
 * bounds, prints back canonically, the canonical text parses to the same
 * canonical text and matches the same labels; what fails names a
 * position inside the text (or its end) and a reason. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh/selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_selector: %s\n", what);
	abort();
}

static struct json_object *labels[4];

static void
setup(void)
{
	static const char *const texts[] = {
	    "{}",
	    "{\"rack\":\"r12\",\"env\":\"lab\",\"role\":\"db\"}",
	    "{\"a\":\"\",\"in\":\"notin\",\"k\":\"v\",\"n\":1}",
	    "{\"x\":\"1\",\"y\":\"2\",\"z\":null}",
	};

	for (size_t i = 0; i < 4; i++)
		labels[i] = json_tokener_parse(texts[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct osh_selector_err err = {0};
	struct osh_selector *s, *again;
	char *text, *canon, *canon2;
	size_t n, n2;

	if (labels[0] == NULL)
		setup();
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	s = osh_selector_parse(text, size, &err);
	if (s == NULL) {
		check(err.pos <= size || err.pos == OSH_SELECTOR_MAX_LEN,
		    "error position outside the text");
		check(err.message[0] != '\0', "error without a reason");
		free(text);
		return 0;
	}
	check(s->nterms <= OSH_SELECTOR_MAX_TERMS, "too many terms");
	for (size_t i = 0; i < s->nterms; i++) {
		const struct osh_selector_term *t = &s->terms[i];
		size_t want = t->op == OSH_SEL_EQ || t->op == OSH_SEL_NE ? 1
		    : t->op == OSH_SEL_EXISTS || t->op == OSH_SEL_NOT_EXISTS
		    ? 0
		    : t->nvalues;
		check(t->nvalues == want, "wrong number of values");
		check(t->nvalues <= OSH_SELECTOR_MAX_VALUES, "too many values");
		check(strlen(t->key) >= 1 &&
			strlen(t->key) <= OSH_SELECTOR_KEY_MAX,
		    "key length");
		for (size_t j = 0; j < t->nvalues; j++)
			check(strlen(t->values[j]) <= OSH_SELECTOR_VALUE_MAX,
			    "value length");
	}
	n = osh_selector_format(s, NULL, 0);
	canon = malloc(n + 1);
	check(canon != NULL, "out of memory");
	check(osh_selector_format(s, canon, n + 1) == n, "format length");
	check(strlen(canon) == n, "format NUL");
	if (n <= OSH_SELECTOR_MAX_LEN) {
		again = osh_selector_parse(canon, n, &err);
		check(again != NULL, "canonical text does not parse");
		n2 = osh_selector_format(again, NULL, 0);
		canon2 = malloc(n2 + 1);
		check(canon2 != NULL, "out of memory");
		osh_selector_format(again, canon2, n2 + 1);
		check(strcmp(canon, canon2) == 0, "canonical text changed");
		for (size_t i = 0; i < 4; i++)
			check(osh_selector_match(s, labels[i]) ==
				osh_selector_match(again, labels[i]),
			    "canonical text matches differently");
		free(canon2);
		osh_selector_free(again);
	}
	json_object_put(osh_selector_json(s));
	free(canon);
	osh_selector_free(s);
	free(text);
	return 0;
}
