/* throttle.h - limits on password guessing, per username and per client
 * address, kept in Redis so that every replica counts the same attempts.
 *
 * An attempt is reserved atomically before its password is verified: the
 * counters are checked and raised in one script, so N concurrent guesses
 * cannot all pass a check made before any of them failed. A reservation
 * then ends in one of three ways: the password was wrong (it stays, as
 * the failure: throttle_failed), right (throttle_succeeded: the user's
 * count is cleared and the address's reservation handed back) or never
 * checked (throttle_release: both handed back). */
#ifndef AUTH_THROTTLE_H
#define AUTH_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

struct osh_redis;

struct throttle {
	char user_key[320];
	char addr_key[160];
	bool reserved; /* a reservation is held and not yet settled */
};

enum throttle_answer {
	THROTTLE_OK, /* reserved */
	THROTTLE_LIMITED, /* too many failures: retry_after_s says when */
	THROTTLE_UNAVAILABLE, /* Redis did not answer: nothing reserved */
};

typedef void (*throttle_cb)(
    enum throttle_answer a, int64_t retry_after_s, void *arg);

/* Fills the counter keys of a username (case-insensitive) and address. */
void throttle_init(
    struct throttle *t, const char *username, const char *client);

/* Reserves one attempt unless the user has max_user failures (or the
 * address max_addr) within the window; counters expire window_s after
 * their first attempt. cb runs later, exactly once. */
void throttle_reserve(struct osh_redis *r, struct throttle *t, int64_t max_user,
    int64_t max_addr, int64_t window_s, throttle_cb cb, void *arg);

/* Settles a reservation; each does nothing when none is held. */
void throttle_failed(struct throttle *t);
void throttle_succeeded(struct osh_redis *r, struct throttle *t);
void throttle_release(struct osh_redis *r, struct throttle *t);

#endif
