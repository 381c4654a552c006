/* http_body.c - reply bodies shared by many replies: one copy, counted by
 * reference, that every connection sending it points at (see osh_body in
 * osh/http.h). */
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>

#include "http_int.h"

struct osh_body {
	unsigned refs;
	size_t len;
	struct osh_body *gzip; /* its gzip encoding, once asked for */
	bool gzip_tried;
	char data[]; /* len bytes and a NUL */
};

struct osh_body *
osh_body_new(const void *data, size_t len)
{
	struct osh_body *b;

	if (len > SIZE_MAX - sizeof(*b) - 1 ||
	    (b = malloc(sizeof(*b) + len + 1)) == NULL)
		return NULL;
	b->refs = 1;
	b->len = len;
	b->gzip = NULL;
	b->gzip_tried = false;
	if (len > 0)
		memcpy(b->data, data, len);
	b->data[len] = '\0';
	return b;
}

struct osh_body *
osh_body_ref(struct osh_body *b)
{
	b->refs++;
	return b;
}

void
osh_body_unref(struct osh_body *b)
{
	if (b != NULL && --b->refs == 0) {
		osh_body_unref(b->gzip);
		free(b);
	}
}

const char *
osh_body_data(const struct osh_body *b)
{
	return b->data;
}

size_t
osh_body_len(const struct osh_body *b)
{
	return b->len;
}

struct osh_body *
http_body_gzip(struct osh_body *b)
{
	if (!b->gzip_tried) {
		b->gzip_tried = true;
		if (b->len >= HTTP_GZIP_MIN)
			b->gzip = http_gzip(b->data, b->len);
		/* Not worth a header when it saves less than a tenth. */
		if (b->gzip != NULL && b->gzip->len > b->len - b->len / 10) {
			osh_body_unref(b->gzip);
			b->gzip = NULL;
		}
	}
	return b->gzip;
}

/* libevent is done with a body it sent (or dropped). */
static void
body_sent(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	osh_body_unref(arg);
}

int
http_body_queue(struct evbuffer *out, struct osh_body *b)
{
	if (b->len == 0)
		return 0;
	osh_body_ref(b);
	if (evbuffer_add_reference(out, b->data, b->len, body_sent, b) != 0) {
		osh_body_unref(b);
		return -1;
	}
	return 0;
}
