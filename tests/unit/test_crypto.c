/* Unit tests: crypto.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "osh/crypto.h"
#include "osh/util.h"

static int
setup(void **state)
{
	(void)state;
	return osh_crypto_init();
}

static void
passwords(void **state)
{
	char h[OSH_PWHASH_LEN];

	(void)state;
	assert_int_equal(osh_password_hash("correct horse", h), 0);
	assert_non_null(strstr(h, "$argon2id$"));
	assert_true(osh_password_verify(h, "correct horse"));
	assert_false(osh_password_verify(h, "correct horsf"));
	assert_false(osh_password_verify("not a hash", "x"));
	assert_false(osh_password_verify_dummy("anything"));
}

static void
tokens_and_hashes(void **state)
{
	char a[65], b[65], ha[OSH_TOKEN_HASH_LEN], hb[OSH_TOKEN_HASH_LEN];
	unsigned char raw[32];

	(void)state;
	osh_random_token(a, sizeof(a), 32);
	osh_random_token(b, sizeof(b), 32);
	assert_int_equal(strlen(a), 43);
	assert_string_not_equal(a, b);
	assert_null(strpbrk(a, "+/="));
	osh_token_hash(a, ha);
	osh_token_hash(a, hb);
	assert_string_equal(ha, hb);
	assert_int_equal(strlen(ha), 64);
	assert_int_equal(osh_b64url_decode(a, strlen(a), raw, sizeof(raw)), 32);
	assert_int_equal(osh_b64url_decode("!!", 2, raw, sizeof(raw)), -1);
	assert_true(osh_const_streq("abc", "abc"));
	assert_false(osh_const_streq("abc", "abcd"));
}

static void
seal_and_open(void **state)
{
	char path[] = "/tmp/osh-keys-XXXXXX";
	int fd = mkstemp(path);
	struct osh_keyring *k;
	char *sealed, *plain;
	size_t len;
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("k2:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
	      "k1:HxwdHh8AAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRo=\n",
	    f);
	fclose(f);
	k = osh_keyring_load(path);
	assert_non_null(k);
	sealed = osh_seal(k, "s3cret", 6, "server:1");
	assert_non_null(sealed);
	assert_int_equal(strncmp(sealed, "k2:", 3), 0);
	assert_null(strstr(sealed, "s3cret"));
	plain = osh_open(k, sealed, "server:1", &len);
	assert_non_null(plain);
	assert_string_equal(plain, "s3cret");
	assert_int_equal(len, 6);
	osh_free_secret(plain);
	/* Bound to its owner: another server's record does not open. */
	assert_null(osh_open(k, sealed, "server:2", NULL));
	sealed[strlen(sealed) - 3] ^= 1;
	assert_null(osh_open(k, sealed, "server:1", NULL));
	assert_null(osh_open(k, "k9:AAAA", "server:1", NULL));
	free(sealed);
	osh_keyring_free(k);
	unlink(path);
	assert_null(osh_keyring_load("/nonexistent/keys"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(passwords),
	    cmocka_unit_test(tokens_and_hashes),
	    cmocka_unit_test(seal_and_open),
	};
	return cmocka_run_group_tests_name("crypto", tests, setup, NULL);
}
