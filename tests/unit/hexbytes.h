/* hexbytes.h - recorded BMC answers as hex text, for the unit tests of
 * the IPMI parsers. Include after <cmocka.h>. */
#ifndef OSH_TEST_HEXBYTES_H
#define OSH_TEST_HEXBYTES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Hex text to bytes in a heap buffer of exactly that size (so that ASan
 * sees any read past it); the caller frees it. */
static inline uint8_t *
hex(const char *s, size_t *n)
{
	size_t len = strlen(s) / 2;
	uint8_t *b = malloc(len ? len : 1);

	assert_non_null(b);
	for (size_t i = 0; i < len; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		b[i] = (uint8_t)v;
	}
	*n = len;
	return b;
}

#endif
