/* ipmi_link.c - what runs on a worker thread for one BMC: the session
 * (opened, kept alive, closed), raw commands, and a request run part by
 * part (the parts: ipmi_link_cmd.c, ipmi_link_sdr.c, ipmi_link_sel.c). */
#include <arpa/inet.h>
#include <freeipmi/freeipmi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipmi_link.h"
#include "osh/util.h"

/* Maps a libfreeipmi error to ours. */
static enum osh_ipmi_err
err_of(int e)
{
	switch (e) {
	case IPMI_ERR_USERNAME_INVALID:
	case IPMI_ERR_PASSWORD_INVALID:
	case IPMI_ERR_K_G_INVALID:
	case IPMI_ERR_PASSWORD_VERIFICATION_TIMEOUT:
		return OSH_IPMI_AUTH_FAILED;
	case IPMI_ERR_PRIVILEGE_LEVEL_INSUFFICIENT:
	case IPMI_ERR_PRIVILEGE_LEVEL_CANNOT_BE_OBTAINED:
	case IPMI_ERR_PERMISSION: return OSH_IPMI_PRIVILEGE;
	case IPMI_ERR_AUTHENTICATION_TYPE_UNAVAILABLE:
	case IPMI_ERR_CIPHER_SUITE_ID_UNAVAILABLE:
	case IPMI_ERR_IPMI_2_0_UNAVAILABLE:
	case IPMI_ERR_COMMAND_INVALID_OR_UNSUPPORTED:
		return OSH_IPMI_UNSUPPORTED;
	case IPMI_ERR_CONNECTION_TIMEOUT:
	case IPMI_ERR_SESSION_TIMEOUT:
	case IPMI_ERR_MESSAGE_TIMEOUT:
	case IPMI_ERR_DRIVER_TIMEOUT: return OSH_IPMI_TIMEOUT;
	case IPMI_ERR_HOSTNAME_INVALID:
	case IPMI_ERR_SYSTEM_ERROR: return OSH_IPMI_UNREACHABLE;
	case IPMI_ERR_BMC_BUSY:
	case IPMI_ERR_DRIVER_BUSY: return OSH_IPMI_BUSY;
	case IPMI_ERR_BAD_COMPLETION_CODE:
	case IPMI_ERR_BAD_RMCPPLUS_STATUS_CODE:
	case IPMI_ERR_IPMI_ERROR: return OSH_IPMI_BAD_RESPONSE;
	default: return OSH_IPMI_INTERNAL;
	}
}

/* Errors after which the session cannot be trusted any more. */
bool
ipmi_link_session_lost(enum osh_ipmi_err e)
{
	return e == OSH_IPMI_TIMEOUT || e == OSH_IPMI_UNREACHABLE ||
	    e == OSH_IPMI_INTERNAL;
}

void
ipmi_link_fail(
    struct osh_ipmi_result *res, enum osh_ipmi_err e, const char *fmt, ...)
{
	va_list ap;

	if (res->err != OSH_IPMI_OK)
		return; /* keep the first */
	res->err = e;
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
}

static unsigned
remaining_ms(uint64_t deadline_us)
{
	uint64_t now = osh_now_us();

	return deadline_us > now ? (unsigned)((deadline_us - now) / 1000) : 0;
}

/* Our workaround flags to FreeIPMI's, which differ for IPMI 2.0 and 1.5. */
struct wa_map {
	unsigned ours, freeipmi;
};

static const struct wa_map wa20_map[] = {
    {OSH_IPMI_WA_AUTHCAP,
	IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_AUTHENTICATION_CAPABILITIES},
    {OSH_IPMI_WA_INTEL20,
	IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_INTEL_2_0_SESSION},
    {OSH_IPMI_WA_SUPERMICRO20,
	IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_SUPERMICRO_2_0_SESSION},
    {OSH_IPMI_WA_SUN20, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_SUN_2_0_SESSION},
    {OSH_IPMI_WA_OPENSESSPRIV,
	IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_OPEN_SESSION_PRIVILEGE},
    {OSH_IPMI_WA_INTEGRITYCHECKVALUE,
	IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_NON_EMPTY_INTEGRITY_CHECK_VALUE},
    {OSH_IPMI_WA_NOCHECKSUMCHECK,
	IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_NO_CHECKSUM_CHECK},
};

static const struct wa_map wa15_map[] = {
    {OSH_IPMI_WA_AUTHCAP,
	IPMI_WORKAROUND_FLAGS_OUTOFBAND_AUTHENTICATION_CAPABILITIES},
    {OSH_IPMI_WA_IDZERO,
	IPMI_WORKAROUND_FLAGS_OUTOFBAND_ACCEPT_SESSION_ID_ZERO},
    {OSH_IPMI_WA_FORCEPERMSG,
	IPMI_WORKAROUND_FLAGS_OUTOFBAND_FORCE_PERMSG_AUTHENTICATION},
    {OSH_IPMI_WA_UNEXPECTEDAUTH,
	IPMI_WORKAROUND_FLAGS_OUTOFBAND_CHECK_UNEXPECTED_AUTHCODE},
    {OSH_IPMI_WA_ENDIANSEQ,
	IPMI_WORKAROUND_FLAGS_OUTOFBAND_BIG_ENDIAN_SEQUENCE_NUMBER},
    {OSH_IPMI_WA_NOAUTHCODECHECK,
	IPMI_WORKAROUND_FLAGS_OUTOFBAND_NO_AUTH_CODE_CHECK},
    {OSH_IPMI_WA_NOCHECKSUMCHECK,
	IPMI_WORKAROUND_FLAGS_OUTOFBAND_NO_CHECKSUM_CHECK},
};

static unsigned
workarounds(unsigned w, const struct wa_map *map, size_t n)
{
	unsigned f = 0;

	for (size_t i = 0; i < n; i++)
		if (w & map[i].ours)
			f |= map[i].freeipmi;
	return f;
}

/* Opens a session to t. once: a request on it is sent once and waited
 * for until the deadline, never resent (see struct bmc_link). */
static int
open_session(struct bmc_link *l, const struct osh_ipmi_target *t,
    uint64_t deadline_us, bool once, struct osh_ipmi_result *res)
{
	unsigned total = l->session_timeout_ms ? l->session_timeout_ms : 55000;
	unsigned retrans;
	char hostport[INET6_ADDRSTRLEN + 10];
	struct in_addr a4;
	struct in6_addr a6;
	ipmi_ctx_t ctx;
	int rc;

	if (remaining_ms(deadline_us) < 50) {
		ipmi_link_fail(res, OSH_IPMI_TIMEOUT,
		    "deadline passed before the BMC was reached");
		return -1;
	}
	/* Resend often enough that one lost datagram costs little; the
	 * engine answers the caller at the deadline whatever happens. Not
	 * for a power action: a BMC slow to answer a cycle would run the
	 * resent one too (FreeIPMI gives a resent request a new sequence
	 * number; ipmi_sim runs it, as do BMCs without a cache of answers),
	 * nor for the other changes (boot device, identify, clearing the
	 * SEL: harmless twice, but a command is sent once).
	 * A lost answer costs the deadline instead, and the caller learns
	 * the outcome is unknown. FreeIPMI wants the resend sooner than
	 * the session timeout: at its last millisecond, when a BMC silent
	 * that long (25 s as shipped: ipmi_session.c) has long been given
	 * up. */
	retrans = remaining_ms(deadline_us) / 4;
	if (retrans > 1000)
		retrans = 1000;
	if (retrans < 100)
		retrans = 100;
	if (once)
		retrans = total - 1;
	if (inet_pton(AF_INET, l->addr, &a4) == 1) {
		snprintf(hostport, sizeof(hostport), "%s:%u", l->addr, t->port);
	} else if (inet_pton(AF_INET6, l->addr, &a6) == 1) {
		snprintf(
		    hostport, sizeof(hostport), "[%s]:%u", l->addr, t->port);
	} else {
		/* A name would block this thread in getaddrinfo. */
		ipmi_link_fail(
		    res, OSH_IPMI_INTERNAL, "no address to open a session to");
		return -1;
	}
	if ((ctx = ipmi_ctx_create()) == NULL) {
		ipmi_link_fail(res, OSH_IPMI_INTERNAL, "out of memory");
		return -1;
	}
	if (t->ipmi15)
		rc = ipmi_ctx_open_outofband(ctx, hostport, t->user,
		    t->password, IPMI_AUTHENTICATION_TYPE_MD5, t->privilege,
		    total, retrans,
		    workarounds(
			t->workarounds, wa15_map, OSH_ARRAY_LEN(wa15_map)),
		    IPMI_FLAGS_DEFAULT);
	else
		rc = ipmi_ctx_open_outofband_2_0(ctx, hostport, t->user,
		    t->password, NULL, 0, t->privilege, t->cipher_suite, total,
		    retrans,
		    workarounds(
			t->workarounds, wa20_map, OSH_ARRAY_LEN(wa20_map)),
		    IPMI_FLAGS_DEFAULT);
	if (rc < 0) {
		int e = ipmi_ctx_errnum(ctx);
		ipmi_link_fail(res, err_of(e), "session to %s failed: %s",
		    hostport, ipmi_ctx_strerror(e));
		ipmi_ctx_destroy(ctx);
		return -1;
	}
	l->ctx = ctx;
	l->resends = !once;
	l->setups++;
	res->new_session = true;
	return 0;
}

/* Sends one raw command. On success returns the bytes after the
 * completion code in rs (n of them); on failure fills res and returns -1
 * (cc set when the BMC answered with an error code). Past the link's
 * deadline nothing is sent: it fails with OSH_IPMI_TIMEOUT and sets
 * l->late, so that every loop stops there. */
int
ipmi_link_raw(struct bmc_link *l, uint8_t netfn, const uint8_t *rq,
    size_t rqlen, uint8_t *rs, size_t rscap, size_t *n, uint8_t *cc,
    struct osh_ipmi_result *res)
{
	uint8_t buf[300];
	int got;

	*cc = 0;
	*n = 0;
	if (l->late || osh_now_us() >= l->deadline_us) {
		l->late = true;
		ipmi_link_fail(res, OSH_IPMI_TIMEOUT, "deadline passed");
		return -1;
	}
	got = ipmi_cmd_raw(
	    l->ctx, 0, netfn, rq, (unsigned)rqlen, buf, sizeof(buf));
	if (got < 0) {
		int e = ipmi_ctx_errnum(l->ctx);
		ipmi_link_fail(res, err_of(e), "command 0x%02x/0x%02x: %s",
		    netfn, rq[0], ipmi_ctx_strerror(e));
		return -1;
	}
	if (got < 2) {
		ipmi_link_fail(res, OSH_IPMI_BAD_RESPONSE,
		    "short answer to 0x%02x/0x%02x", netfn, rq[0]);
		return -1;
	}
	*cc = buf[1];
	if (*cc != 0) {
		enum osh_ipmi_err e = OSH_IPMI_BAD_RESPONSE;
		if (*cc == 0xc1 || *cc == 0xc2 || *cc == 0xcb)
			e = OSH_IPMI_UNSUPPORTED;
		else if (*cc == 0xd4)
			e = OSH_IPMI_PRIVILEGE;
		else if (*cc == 0xc0)
			e = OSH_IPMI_BUSY;
		ipmi_link_fail(res, e,
		    "command 0x%02x/0x%02x: completion code 0x%02x", netfn,
		    rq[0], *cc);
		return -1;
	}
	*n = (size_t)got - 2 < rscap ? (size_t)got - 2 : rscap;
	memcpy(rs, buf + 2, *n);
	return 0;
}

static void
part_failed(struct osh_ipmi_result *res, unsigned part, enum osh_ipmi_err e)
{
	for (unsigned i = 0; i < OSH_IPMI_NPARTS; i++)
		if (part == 1u << i)
			res->part_err[i] = e;
}

/* Doubles an array of *cap elements, to max at most. */
int
ipmi_link_grow(void **a, size_t *cap, size_t max, size_t size)
{
	size_t want = *cap * 2 < max ? *cap * 2 : max;
	void *p;

	if (*cap >= max || (p = realloc(*a, want * size)) == NULL)
		return -1;
	*a = p;
	*cap = want;
	return 0;
}

/* Ends the session but keeps the SDR cache: the next session revalidates
 * it with one request instead of reading every record again. */
static void
drop_session(struct bmc_link *l)
{
	if (l->ctx != NULL) {
		ipmi_ctx_destroy(l->ctx); /* sends Close Session */
		l->ctx = NULL;
	}
}

void
ipmi_link_close(struct bmc_link *l)
{
	drop_session(l);
	ipmi_link_sdr_free(&l->sdr);
	ipmi_link_sel_reset(&l->sel);
}

void
ipmi_link_keepalive(struct bmc_link *l, struct osh_ipmi_result *res)
{
	if (l->ctx == NULL)
		return;
	l->deadline_us = UINT64_MAX; /* one command, FreeIPMI's timeout */
	l->late = false;
	ipmi_link_cmd_chassis(l, res);
	if (res->err != OSH_IPMI_OK)
		drop_session(l);
}

void
ipmi_result_release(struct osh_ipmi_result *res)
{
	free(res->sensors);
	free(res->sel);
	res->sensors = NULL;
	res->sel = NULL;
}

/* Runs one part; a part that fails on its own does not fail the rest. */
static bool
part(struct bmc_link *l, const struct osh_ipmi_request *rq, unsigned which,
    struct osh_ipmi_result *res)
{
	enum osh_ipmi_err before = res->err;
	char msg[sizeof(res->message)];

	if (!(rq->want & which))
		return true;
	osh_strlcpy(msg, res->message, sizeof(msg));
	res->err = OSH_IPMI_OK;
	switch (which) {
	case OSH_IPMI_WANT_DEVICE_ID:
		ipmi_link_cmd_device_id(l, rq, res);
		break;
	case OSH_IPMI_WANT_CHASSIS: ipmi_link_cmd_chassis(l, res); break;
	case OSH_IPMI_WANT_CONTROL: ipmi_link_cmd_control(l, rq, res); break;
	case OSH_IPMI_WANT_BOOT: ipmi_link_cmd_boot(l, rq, res); break;
	case OSH_IPMI_WANT_IDENTIFY: ipmi_link_cmd_identify(l, rq, res); break;
	case OSH_IPMI_WANT_SENSORS: ipmi_link_sdr_sensors(l, res); break;
	case OSH_IPMI_WANT_FRU: ipmi_link_cmd_fru(l, res); break;
	case OSH_IPMI_WANT_SEL_INFO: ipmi_link_sel_info(l, res); break;
	case OSH_IPMI_WANT_SEL: ipmi_link_sel_read(l, rq, res); break;
	case OSH_IPMI_WANT_SEL_CLEAR: ipmi_link_sel_clear(l, res); break;
	case OSH_IPMI_WANT_DCMI_POWER: ipmi_link_cmd_dcmi(l, res); break;
	case OSH_IPMI_WANT_WATCHDOG: ipmi_link_cmd_watchdog(l, res); break;
	}
	if (res->err != OSH_IPMI_OK)
		part_failed(res, which, res->err);
	if (before != OSH_IPMI_OK) { /* keep the first error */
		enum osh_ipmi_err now = res->err;
		res->err = before;
		osh_strlcpy(res->message, msg, sizeof(res->message));
		return !ipmi_link_session_lost(now);
	}
	return !ipmi_link_session_lost(res->err);
}

void
ipmi_link_run(struct bmc_link *l, const struct osh_ipmi_target *t,
    const struct osh_ipmi_request *rq, uint64_t deadline_us,
    struct osh_ipmi_result *res)
{
	uint64_t start = osh_now_us();
	bool once = rq->no_resend || (rq->want & OSH_IPMI_WANT_CHANGES) != 0;

	l->deadline_us = deadline_us;
	l->late = false;
	/* A change needs a session that does not resend (see
	 * open_session). Other requests keep using it (a job's verify polls
	 * follow its action, and each setup costs four round trips) until
	 * it is dropped: idle, lost, or timed out, and the next one opened
	 * resends again. */
	if (l->ctx != NULL && once && l->resends)
		drop_session(l);
	for (int attempt = 0; attempt < 2; attempt++) {
		bool reused = l->ctx != NULL, lost = false;

		if (l->ctx == NULL &&
		    open_session(l, t, deadline_us, once, res) != 0)
			break;
		for (unsigned i = 0; i < OSH_IPMI_NPARTS && !lost; i++) {
			if (osh_now_us() >= deadline_us)
				l->late = true;
			if (l->late)
				break;
			lost = !part(l, rq, 1u << i, res);
		}
		if (l->late) {
			/* Out of time, not out of session: what is not done
			 * fails, the session stays. */
			ipmi_link_fail(
			    res, OSH_IPMI_TIMEOUT, "deadline passed");
			for (unsigned k = 0; k < OSH_IPMI_NPARTS; k++)
				if ((rq->want & ~res->done & (1u << k)) &&
				    res->part_err[k] == OSH_IPMI_OK)
					res->part_err[k] = OSH_IPMI_TIMEOUT;
			break;
		}
		if (!lost)
			break;
		/* The session is gone. If it was an old one, the BMC may
		 * simply have dropped it: retry once on a fresh session. */
		drop_session(l);
		if (!reused || remaining_ms(deadline_us) < 100 ||
		    (rq->want &
			(OSH_IPMI_WANT_CONTROL | OSH_IPMI_WANT_SEL_CLEAR)))
			break;
		ipmi_result_release(res);
		memset(res, 0, sizeof(*res));
	}
	res->elapsed_s = (double)(osh_now_us() - start) / 1e6;
}
