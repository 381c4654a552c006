/* fuzz_rmcp.c - libFuzzer target: the RMCP answer parser
 * (osh_rmcp_parse), which reads whatever datagram comes back to a
 * discovery or engine probe, from any host. Checked against a plain
 * reference of what it must accept: an RMCP IPMI message, an IPMI 1.5
 * session header (with an authentication code when the type is not
 * none), and a Get Channel Authentication Capabilities answer with
 * completion code 0 and its eight data bytes.
 *
 * Input: the datagram. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh/rmcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_rmcp: %s\n", what);
	abort();
}

/* Where the answer's data begins, or 0 when it is not one. */
static size_t
reference(const uint8_t *p, size_t n)
{
	size_t msg;

	if (n < 14 || p[0] != 0x06 || p[3] != 0x07)
		return 0;
	/* RMCP 4, auth type 1, sequence 4, session id 4, [code 16],
	 * length 1. */
	msg = 4 + 1 + 4 + 4 + (p[4] != 0 ? 16 : 0) + 1;
	/* rqAddr netfn/lun checksum rsAddr seq/lun cmd cc, data 8. */
	if (n < msg + 7 + 8 || p[msg + 5] != 0x38 || p[msg + 6] != 0x00)
		return 0;
	return msg + 7;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *dg = malloc(size ? size : 1);
	struct osh_rmcp_caps c;
	size_t at;
	bool ok;

	if (dg == NULL)
		return 0;
	memcpy(dg, data, size);
	ok = osh_rmcp_parse(dg, size, &c);
	at = reference(dg, size);
	check(ok == (at != 0), "accepts what the reference does not");
	check(c.answered == ok, "answered");
	check(!c.refused && c.junk == 0 && c.rtt_ms == 0, "fields not ours");
	if (ok) {
		const uint8_t *d = dg + at;

		check(c.oem_id ==
			((uint32_t)d[4] | (uint32_t)d[5] << 8 |
			    (uint32_t)d[6] << 16),
		    "oem id");
		check(c.auth_md5 == ((d[1] & 0x04) != 0), "md5");
		check(c.ipmi20 == ((d[1] & 0x80) && (d[3] & 0x02)), "ipmi 2.0");
		check(c.ipmi15 || c.ipmi20 || (d[1] & 0x80), "ipmi 1.5");
	}
	free(dg);
	return 0;
}
