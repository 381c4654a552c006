/* ipmi_link.c - what runs on a worker thread for one BMC: opening the
 * session, raw commands, and each part of a request (device id, chassis,
 * power, boot, identify, sensors with the SDR cache, FRU, SEL). */
#include <freeipmi/freeipmi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipmi_link.h"
#include "osh/crypto.h"
#include "osh/util.h"

#define NETFN_CHASSIS 0x00
#define NETFN_SENSOR 0x04
#define NETFN_APP 0x06
#define NETFN_STORAGE 0x0a
#define NETFN_DCMI 0x2c

/* Bounds on what a BMC may make us hold; buffers are sized to what it
 * reports, up to these. */
#define MAX_SDRS 1024
#define MAX_FRU 4096
#define MAX_SEL 4096

static pthread_mutex_t interpret_mu = PTHREAD_MUTEX_INITIALIZER;
static ipmi_interpret_ctx_t interpret;

/* FreeIPMI's own reading of sensor and SEL states, shared by all threads
 * (the library keeps state in it, so one thread at a time): made on first
 * use, with interpret_mu held. */
static ipmi_interpret_ctx_t
interpreter(void)
{
	if (interpret == NULL && (interpret = ipmi_interpret_ctx_create())) {
		ipmi_interpret_load_sensor_config(interpret, NULL);
		ipmi_interpret_load_sel_config(interpret, NULL);
	}
	return interpret;
}

static unsigned
interpret_sensor(uint8_t reading_type, uint8_t type, uint16_t bits)
{
	unsigned state = IPMI_INTERPRET_STATE_UNKNOWN;

	pthread_mutex_lock(&interpret_mu);
	if (interpreter() != NULL &&
	    ipmi_interpret_sensor(interpret, reading_type, type, bits, &state) <
		0)
		state = IPMI_INTERPRET_STATE_UNKNOWN;
	pthread_mutex_unlock(&interpret_mu);
	return state;
}

static unsigned
interpret_sel(const uint8_t *rec)
{
	unsigned state = IPMI_INTERPRET_STATE_UNKNOWN;

	pthread_mutex_lock(&interpret_mu);
	if (interpreter() != NULL &&
	    ipmi_interpret_sel(interpret, rec, 16, &state) < 0)
		state = IPMI_INTERPRET_STATE_UNKNOWN;
	pthread_mutex_unlock(&interpret_mu);
	return state;
}

static enum osh_sensor_state
state_of(unsigned s)
{
	switch (s) {
	case IPMI_INTERPRET_STATE_NOMINAL: return OSH_SENSOR_NOMINAL;
	case IPMI_INTERPRET_STATE_WARNING: return OSH_SENSOR_WARNING;
	case IPMI_INTERPRET_STATE_CRITICAL: return OSH_SENSOR_CRITICAL;
	default: return OSH_SENSOR_UNKNOWN;
	}
}

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
static bool
session_lost(enum osh_ipmi_err e)
{
	return e == OSH_IPMI_TIMEOUT || e == OSH_IPMI_UNREACHABLE ||
	    e == OSH_IPMI_INTERNAL;
}

static void fail(struct osh_ipmi_result *res, enum osh_ipmi_err e,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
fail(struct osh_ipmi_result *res, enum osh_ipmi_err e, const char *fmt, ...)
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

static int
open_session(struct bmc_link *l, const struct osh_ipmi_target *t,
    uint64_t deadline_us, struct osh_ipmi_result *res)
{
	unsigned total = l->session_timeout_ms ? l->session_timeout_ms : 55000;
	unsigned retrans;
	char hostport[300];
	ipmi_ctx_t ctx;
	int rc;

	if (remaining_ms(deadline_us) < 50) {
		fail(res, OSH_IPMI_TIMEOUT,
		    "deadline passed before the BMC was reached");
		return -1;
	}
	/* Resend often enough that one lost datagram costs little; the
	 * engine answers the caller at the deadline whatever happens. */
	retrans = remaining_ms(deadline_us) / 4;
	if (retrans > 1000)
		retrans = 1000;
	if (retrans < 100)
		retrans = 100;
	if (strchr(t->host, ':') != NULL)
		snprintf(
		    hostport, sizeof(hostport), "[%s]:%u", t->host, t->port);
	else
		snprintf(hostport, sizeof(hostport), "%s:%u", t->host, t->port);
	if ((ctx = ipmi_ctx_create()) == NULL) {
		fail(res, OSH_IPMI_INTERNAL, "out of memory");
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
		fail(res, err_of(e), "session to %s failed: %s", hostport,
		    ipmi_ctx_strerror(e));
		ipmi_ctx_destroy(ctx);
		return -1;
	}
	l->ctx = ctx;
	l->setups++;
	res->new_session = true;
	return 0;
}

/* Sends one raw command. On success returns the bytes after the
 * completion code in rs (n of them); on failure fills res and returns -1
 * (cc set when the BMC answered with an error code). Past the link's
 * deadline nothing is sent: it fails with OSH_IPMI_TIMEOUT and sets
 * l->late, so that every loop stops there. */
static int
raw(struct bmc_link *l, uint8_t netfn, const uint8_t *rq, size_t rqlen,
    uint8_t *rs, size_t rscap, size_t *n, uint8_t *cc,
    struct osh_ipmi_result *res)
{
	uint8_t buf[300];
	int got;

	*cc = 0;
	*n = 0;
	if (l->late || osh_now_us() >= l->deadline_us) {
		l->late = true;
		fail(res, OSH_IPMI_TIMEOUT, "deadline passed");
		return -1;
	}
	got = ipmi_cmd_raw(
	    l->ctx, 0, netfn, rq, (unsigned)rqlen, buf, sizeof(buf));
	if (got < 0) {
		int e = ipmi_ctx_errnum(l->ctx);
		fail(res, err_of(e), "command 0x%02x/0x%02x: %s", netfn, rq[0],
		    ipmi_ctx_strerror(e));
		return -1;
	}
	if (got < 2) {
		fail(res, OSH_IPMI_BAD_RESPONSE,
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
		fail(res, e, "command 0x%02x/0x%02x: completion code 0x%02x",
		    netfn, rq[0], *cc);
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

/* Get System Info Parameters, "system firmware version" (parameter 1,
 * set 0): optional, so failure is quiet and leaves it empty. */
static void
system_firmware(struct bmc_link *l, struct osh_ipmi_result *res)
{
	uint8_t rq[] = {0x59, 0x00, 0x01, 0x00, 0x00}, rs[64], cc;
	enum osh_ipmi_err before = res->err;
	char msg[sizeof(res->message)];
	size_t n;

	osh_strlcpy(msg, res->message, sizeof(msg));
	if (raw(l, NETFN_APP, rq, sizeof(rq), rs, sizeof(rs), &n, &cc, res) ==
		0 &&
	    n >= 4) {
		/* rev, set, encoding, length, text... */
		size_t len = rs[3] < n - 4 ? rs[3] : n - 4;
		char *clean = osh_utf8_clean((const char *)rs + 4, len,
		    sizeof(res->system_firmware) - 1);
		osh_strlcpy(res->system_firmware, clean ? clean : "",
		    sizeof(res->system_firmware));
		free(clean);
	}
	res->err = before;
	osh_strlcpy(res->message, msg, sizeof(res->message));
}

static void
do_device_id(struct bmc_link *l, struct osh_ipmi_result *res)
{
	uint8_t rq[] = {0x01}, rs[64], cc;
	size_t n;

	if (raw(l, NETFN_APP, rq, sizeof(rq), rs, sizeof(rs), &n, &cc, res) !=
	    0)
		return;
	if (osh_device_id_parse(rs, n, &res->device) != 0) {
		fail(res, OSH_IPMI_BAD_RESPONSE, "short Get Device ID answer");
		return;
	}
	system_firmware(l, res);
	res->done |= OSH_IPMI_WANT_DEVICE_ID;
}

static void
do_chassis(struct bmc_link *l, struct osh_ipmi_result *res)
{
	uint8_t rq[] = {0x01}, rs[16], cc;
	size_t n;

	if (raw(l, NETFN_CHASSIS, rq, sizeof(rq), rs, sizeof(rs), &n, &cc,
		res) != 0)
		return;
	if (osh_chassis_parse(rs, n, &res->chassis) != 0) {
		fail(res, OSH_IPMI_BAD_RESPONSE, "short Chassis Status answer");
		return;
	}
	res->done |= OSH_IPMI_WANT_CHASSIS;
}

static void
do_control(struct bmc_link *l, const struct osh_ipmi_request *rq,
    struct osh_ipmi_result *res)
{
	uint8_t cmd[] = {0x02, (uint8_t)rq->power}, rs[8], cc;
	size_t n;

	if (raw(l, NETFN_CHASSIS, cmd, sizeof(cmd), rs, sizeof(rs), &n, &cc,
		res) == 0)
		res->done |= OSH_IPMI_WANT_CONTROL;
	else if (cc == 0xcc || cc == 0xc9) {
		res->err = OSH_IPMI_UNSUPPORTED;
		snprintf(res->message, sizeof(res->message),
		    "the BMC does not support power action 0x%02x", rq->power);
	}
}

/* Set System Boot Options, parameter 5 (boot flags). */
static void
do_boot(struct bmc_link *l, const struct osh_ipmi_request *rq,
    struct osh_ipmi_result *res)
{
	uint8_t cmd[] = {0x08, 0x05, 0x80, 0, 0, 0, 0}, rs[8], cc;
	size_t n;

	if (rq->boot.device != OSH_BOOT_NONE) {
		cmd[2] = (uint8_t)(0x80 | (rq->boot.persistent ? 0x40 : 0) |
		    (rq->boot.efi ? 0x20 : 0));
		cmd[3] = (uint8_t)(rq->boot.device << 2);
	} else {
		cmd[2] = 0x00; /* no override */
	}
	if (raw(l, NETFN_CHASSIS, cmd, sizeof(cmd), rs, sizeof(rs), &n, &cc,
		res) == 0)
		res->done |= OSH_IPMI_WANT_BOOT;
}

static void
do_identify(struct bmc_link *l, const struct osh_ipmi_request *rq,
    struct osh_ipmi_result *res)
{
	uint8_t cmd[3] = {0x04, 0, 0}, rs[8], cc;
	size_t n, len = 2;
	int secs = rq->identify.seconds;

	if (rq->identify.force) {
		cmd[1] = 0;
		cmd[2] = 1;
		len = 3;
	} else {
		cmd[1] = (uint8_t)(secs < 0 ? 0 : secs > 255 ? 255 : secs);
	}
	if (raw(l, NETFN_CHASSIS, cmd, len, rs, sizeof(rs), &n, &cc, res) == 0)
		res->done |= OSH_IPMI_WANT_IDENTIFY;
}

/* Doubles an array of *cap elements, to max at most. */
static int
grow(void **a, size_t *cap, size_t max, size_t size)
{
	size_t want = *cap * 2 < max ? *cap * 2 : max;
	void *p;

	if (*cap >= max || (p = realloc(*a, want * size)) == NULL)
		return -1;
	*a = p;
	*cap = want;
	return 0;
}

static void
sdr_free(struct sdr_cache *c)
{
	free(c->records);
	memset(c, 0, sizeof(*c));
}

/* Reads one SDR record, header then body in chunks, re-reserving when the
 * BMC cancels the reservation. Returns the record length or -1. */
static int
get_sdr(struct bmc_link *l, uint16_t *resid, uint16_t id, uint16_t *next,
    uint8_t *out, size_t cap, struct osh_ipmi_result *res)
{
	uint8_t rs[64], cc;
	size_t n, len, at = 0, chunk = 16;

	for (int tries = 0; tries < 3; tries++) {
		uint8_t rq[] = {0x23, (uint8_t)*resid, (uint8_t)(*resid >> 8),
		    (uint8_t)id, (uint8_t)(id >> 8), 0, 5};
		uint8_t rr[] = {0x22};

		if (raw(l, NETFN_STORAGE, rq, sizeof(rq), rs, sizeof(rs), &n,
			&cc, res) == 0)
			break;
		if (cc != 0xc5)
			return -1;
		res->err = OSH_IPMI_OK; /* reservation lost: reserve again */
		if (raw(l, NETFN_STORAGE, rr, 1, rs, sizeof(rs), &n, &cc,
			res) != 0 ||
		    n < 2)
			return -1;
		*resid = (uint16_t)(rs[0] | rs[1] << 8);
		n = 0;
	}
	if (n < 7)
		return -1;
	*next = (uint16_t)(rs[0] | rs[1] << 8);
	memcpy(out, rs + 2, 5);
	len = (size_t)out[4] + 5;
	if (len > cap)
		return -1;
	at = 5;
	while (at < len) {
		size_t want = len - at < chunk ? len - at : chunk;
		uint8_t rq[] = {0x23, (uint8_t)*resid, (uint8_t)(*resid >> 8),
		    (uint8_t)id, (uint8_t)(id >> 8), (uint8_t)at,
		    (uint8_t)want};

		if (raw(l, NETFN_STORAGE, rq, sizeof(rq), rs, sizeof(rs), &n,
			&cc, res) != 0) {
			if (cc == 0xca && chunk > 8) { /* fewer bytes, please */
				res->err = OSH_IPMI_OK;
				chunk = 8;
				continue;
			}
			return -1;
		}
		if (n < 3)
			return -1;
		n -= 2;
		if (n > want)
			n = want;
		memcpy(out + at, rs + 2, n);
		at += n;
	}
	return (int)len;
}

static bool
same_sensor(const struct osh_sdr *a, const struct osh_sdr *b)
{
	return a->owner == b->owner && a->lun == b->lun &&
	    a->number == b->number;
}

/* Makes sure the SDR cache is current: one Get SDR Repository Info when it
 * is, a full read when it is not. */
static int
sdr_refresh(struct bmc_link *l, struct osh_ipmi_result *res)
{
	uint8_t rq[] = {0x20}, rs[32], cc, rec[280];
	uint16_t resid, id = 0, next;
	size_t n, cap;
	struct sdr_cache c;

	if (raw(l, NETFN_STORAGE, rq, 1, rs, sizeof(rs), &n, &cc, res) != 0 ||
	    n < 13) {
		fail(res, OSH_IPMI_BAD_RESPONSE, "no SDR repository info");
		return -1;
	}
	if (l->sdr.valid && l->sdr.count == (uint16_t)(rs[1] | rs[2] << 8) &&
	    memcmp(l->sdr.stamp, rs + 5, 8) == 0) {
		res->sdr_cached = true;
		return 0;
	}
	memset(&c, 0, sizeof(c));
	c.count = (uint16_t)(rs[1] | rs[2] << 8);
	memcpy(c.stamp, rs + 5, 8);
	{
		uint8_t rr[] = {0x22};
		if (raw(l, NETFN_STORAGE, rr, 1, rs, sizeof(rs), &n, &cc,
			res) != 0 ||
		    n < 2)
			return -1;
		resid = (uint16_t)(rs[0] | rs[1] << 8);
	}
	/* As many as the BMC says it has (sensors are fewer: other record
	 * types are skipped), more only if it said too few. */
	cap = c.count < 8 ? 8 : c.count > MAX_SDRS ? MAX_SDRS : c.count;
	if ((c.records = calloc(cap, sizeof(*c.records))) == NULL) {
		fail(res, OSH_IPMI_INTERNAL, "out of memory");
		return -1;
	}
	for (int i = 0; i < MAX_SDRS && id != 0xffff; i++) {
		struct osh_sdr s;
		int len = get_sdr(l, &resid, id, &next, rec, sizeof(rec), res);
		bool dup = false;

		if (len < 0) {
			free(c.records);
			return -1;
		}
		if (next == id)
			next = 0xffff; /* a loop: stop here */
		id = next;
		switch (osh_sdr_parse(rec, (size_t)len, &s)) {
		case 1:
			for (size_t k = 0; k < c.nrecords && !dup; k++)
				dup = same_sensor(&c.records[k], &s);
			if (dup) {
				c.skipped++;
				break;
			}
			if (c.nrecords == cap &&
			    grow((void **)&c.records, &cap, MAX_SDRS,
				sizeof(*c.records)) != 0) {
				c.skipped++;
				break;
			}
			c.records[c.nrecords++] = s;
			break;
		case -1: c.skipped++; break;
		default: break;
		}
	}
	sdr_free(&l->sdr);
	c.valid = true;
	l->sdr = c;
	return 0;
}

static void
do_sensors(struct bmc_link *l, struct osh_ipmi_result *res)
{
	struct osh_sensor *out;
	size_t total = 0, k = 0;

	if (sdr_refresh(l, res) != 0)
		return;
	res->skipped_records = l->sdr.skipped;
	for (size_t i = 0; i < l->sdr.nrecords; i++)
		total += l->sdr.records[i].share_count;
	if ((out = calloc(total ? total : 1, sizeof(*out))) == NULL) {
		fail(res, OSH_IPMI_INTERNAL, "out of memory");
		return;
	}
	for (size_t i = 0; i < l->sdr.nrecords; i++) {
		const struct osh_sdr *s = &l->sdr.records[i];

		for (unsigned j = 0; j < s->share_count; j++) {
			uint8_t rq[] = {0x2d, (uint8_t)(s->number + j)};
			uint8_t rs[16], cc;
			size_t n = 0;
			struct osh_sensor *o = &out[k++];
			enum osh_ipmi_err before = res->err;
			bool ok = false;

			/* Only sensors the BMC itself owns are read. */
			if (!s->event_only && s->owner == 0x20 && s->lun == 0) {
				ok = raw(l, NETFN_SENSOR, rq, sizeof(rq), rs,
					 sizeof(rs), &n, &cc, res) == 0;
				if (!ok && (l->late || session_lost(res->err)))
					goto out;
				if (!ok && before == OSH_IPMI_OK)
					res->err = OSH_IPMI_OK; /* one sensor */
			}
			osh_sensor_fill(s, j, ok ? rs : NULL, n, o);
			if (!o->unavailable && !o->threshold)
				o->state = state_of(interpret_sensor(
				    o->reading_type, o->type, o->events));
		}
	}
out:
	res->sensors = out;
	res->nsensors = k;
	if (!l->late && !session_lost(res->err))
		res->done |= OSH_IPMI_WANT_SENSORS;
}

static void
do_fru(struct bmc_link *l, struct osh_ipmi_result *res)
{
	uint8_t rq[] = {0x10, 0x00}, rs[64], cc, *img;
	size_t n, size, at = 0;

	if (raw(l, NETFN_STORAGE, rq, sizeof(rq), rs, sizeof(rs), &n, &cc,
		res) != 0)
		return;
	if (n < 3) {
		fail(res, OSH_IPMI_BAD_RESPONSE, "short FRU inventory info");
		return;
	}
	/* As large as the BMC says, within bounds. */
	size = (size_t)(rs[0] | rs[1] << 8);
	if (size > MAX_FRU)
		size = MAX_FRU;
	if ((img = calloc(1, size + 1)) == NULL) {
		fail(res, OSH_IPMI_INTERNAL, "out of memory");
		return;
	}
	while (at < size) {
		size_t want = size - at < 16 ? size - at : 16;
		uint8_t rd[] = {
		    0x11, 0x00, (uint8_t)at, (uint8_t)(at >> 8), (uint8_t)want};

		if (raw(l, NETFN_STORAGE, rd, sizeof(rd), rs, sizeof(rs), &n,
			&cc, res) != 0 ||
		    n < 2 || rs[0] == 0)
			break;
		if ((size_t)rs[0] > want || (size_t)rs[0] > n - 1)
			break;
		memcpy(img + at, rs + 1, rs[0]);
		at += rs[0];
	}
	/* Cut short by the deadline: what was read is decoded, but the part
	 * fails (a timeout) all the same. */
	if (at >= 8 && osh_fru_parse(img, at, &res->fru) >= 0 && !l->late)
		res->done |= OSH_IPMI_WANT_FRU;
	else if (res->err == OSH_IPMI_OK)
		fail(res, OSH_IPMI_BAD_RESPONSE, "FRU data unreadable");
	free(img);
}

/* Get SEL Info into info. */
static int
sel_info_read(
    struct bmc_link *l, struct osh_sel_info *info, struct osh_ipmi_result *res)
{
	uint8_t rq[] = {0x40}, rs[32], cc;
	size_t n;

	if (raw(l, NETFN_STORAGE, rq, 1, rs, sizeof(rs), &n, &cc, res) != 0)
		return -1;
	if (n < 13) {
		fail(res, OSH_IPMI_BAD_RESPONSE, "short SEL info");
		return -1;
	}
	info->version = rs[0];
	info->entries = (uint16_t)(rs[1] | rs[2] << 8);
	info->free_bytes = (uint16_t)(rs[3] | rs[4] << 8);
	info->last_add = (uint32_t)rs[5] | (uint32_t)rs[6] << 8 |
	    (uint32_t)rs[7] << 16 | (uint32_t)rs[8] << 24;
	info->last_erase = (uint32_t)rs[9] | (uint32_t)rs[10] << 8 |
	    (uint32_t)rs[11] << 16 | (uint32_t)rs[12] << 24;
	return 0;
}

static void
do_sel_info(struct bmc_link *l, struct osh_ipmi_result *res)
{
	if (sel_info_read(l, &res->sel_info, res) == 0)
		res->done |= OSH_IPMI_WANT_SEL_INFO;
}

/* Names SEL entries after their sensors, from the SDR cache. */
static void
sel_name(const struct bmc_link *l, struct osh_sel_entry *e)
{
	for (size_t i = 0; i < l->sdr.nrecords; i++) {
		const struct osh_sdr *s = &l->sdr.records[i];
		if (e->raw[7] == s->owner && e->sensor_number >= s->number &&
		    e->sensor_number < s->number + s->share_count) {
			osh_strlcpy(e->sensor, s->name, sizeof(e->sensor));
			return;
		}
	}
}

static void
sel_reset(struct sel_cache *c)
{
	free(c->recs);
	memset(c, 0, sizeof(*c));
}

/* Starts a walk from the first record, with room for as many as the BMC
 * says it holds (within bounds). */
static int
sel_begin(struct sel_cache *c, const struct osh_sel_info *info)
{
	size_t cap = info->entries < 16 ? 16 : info->entries;

	sel_reset(c);
	if (cap > MAX_SEL)
		cap = MAX_SEL;
	if ((c->recs = calloc(cap, sizeof(*c->recs))) == NULL)
		return -1;
	c->cap = cap;
	c->valid = true;
	c->next = 0x0000; /* the first */
	c->last_erase = info->last_erase;
	return 0;
}

/* Keeps a record; at the bound, the oldest quarter makes room. */
static void
sel_keep(struct sel_cache *c, uint16_t id, const uint8_t *raw16)
{
	if (c->n == c->cap &&
	    grow((void **)&c->recs, &c->cap, MAX_SEL, sizeof(*c->recs)) != 0) {
		size_t drop = c->n / 4 ? c->n / 4 : c->n;

		memmove(
		    c->recs, c->recs + drop, (c->n - drop) * sizeof(*c->recs));
		c->n -= drop;
		c->dropped += drop;
	}
	c->recs[c->n].id = id;
	memcpy(c->recs[c->n].raw, raw16, 16);
	c->n++;
}

/* Get SEL Entry: the whole record and the id of the one after it. */
static int
sel_get(struct bmc_link *l, uint16_t id, uint8_t *rec, uint16_t *next,
    uint8_t *cc, struct osh_ipmi_result *res)
{
	uint8_t cmd[] = {0x43, 0, 0, (uint8_t)id, (uint8_t)(id >> 8), 0, 0xff};
	uint8_t rs[32];
	size_t n;

	if (raw(l, NETFN_STORAGE, cmd, sizeof(cmd), rs, sizeof(rs), &n, cc,
		res) != 0)
		return -1;
	if (n < 18) {
		fail(res, OSH_IPMI_BAD_RESPONSE, "short SEL entry 0x%04x", id);
		return -1;
	}
	*next = (uint16_t)(rs[0] | rs[1] << 8);
	memcpy(rec, rs + 2, 16);
	return 0;
}

/* Brings the SEL cache up to date with the log, reading only what is
 * new: nothing when the SEL info says nothing changed, the records after
 * the last one known when some were added, everything when some were
 * erased (or went without a word: an overwriting log). Stops at the
 * deadline with the walk kept (the next request goes on from there). */
static int
sel_refresh(struct bmc_link *l, const struct osh_sel_info *info,
    struct osh_ipmi_result *res)
{
	struct sel_cache *c = &l->sel;
	bool again = false;
	uint8_t rec[16], cc;
	uint16_t next;

	if (c->valid && c->next == 0xffff && info->last_add == c->last_add &&
	    info->last_erase == c->last_erase && info->entries == c->entries)
		return 0;
	if (c->valid &&
	    (info->last_erase != c->last_erase ||
		(c->next == 0xffff && info->entries < c->entries)))
		sel_reset(c); /* erased since: start over */
restart:
	if (!c->valid && sel_begin(c, info) != 0) {
		fail(res, OSH_IPMI_INTERNAL, "out of memory");
		return -1;
	}
	if (c->next == 0xffff && c->n > 0) {
		/* Walked to the end before: the last record known now
		 * points at the first one added since. */
		if (sel_get(l, c->recs[c->n - 1].id, rec, &next, &cc, res) !=
		    0) {
			if (cc != 0xcb || again)
				return -1;
			res->err = OSH_IPMI_OK; /* gone: start over */
			sel_reset(c);
			again = true;
			goto restart;
		}
		c->next = next;
	}
	/* Bounded by the deadline, and by twice the most records kept (a
	 * BMC whose chain loops). */
	for (size_t i = 0; c->next != 0xffff && i < 2 * MAX_SEL; i++) {
		uint16_t id = c->next;

		if (sel_get(l, id, rec, &next, &cc, res) != 0) {
			if (cc == 0xcb && id == 0x0000) { /* empty */
				res->err = OSH_IPMI_OK;
				res->message[0] = '\0';
				c->next = 0xffff;
				break;
			}
			if (cc == 0xcb && !again && !l->late) {
				/* Deleted under the walk: start over. */
				res->err = OSH_IPMI_OK;
				sel_reset(c);
				again = true;
				goto restart;
			}
			return -1;
		}
		sel_keep(c, (uint16_t)(rec[0] | rec[1] << 8), rec);
		res->sel_read++;
		c->next = next == id ? 0xffff : next; /* a loop: end */
	}
	if (c->next != 0xffff) {
		sel_reset(c);
		fail(res, OSH_IPMI_BAD_RESPONSE, "SEL chain longer than %d",
		    2 * MAX_SEL);
		return -1;
	}
	/* Went on from a complete walk, and found other than as many new
	 * records as the BMC counts more: some went without a word (a log
	 * overwriting its oldest, say). */
	if (c->entries_valid && !again &&
	    (int)(c->n + c->dropped - c->walked) !=
		(int)info->entries - (int)c->entries) {
		sel_reset(c);
		again = true;
		goto restart;
	}
	c->last_add = info->last_add;
	c->entries = info->entries;
	c->walked = c->n + c->dropped;
	c->entries_valid = true;
	return 0;
}

/* The page asked for, newest first, from the cache. */
static void
sel_page(const struct bmc_link *l, const struct osh_ipmi_request *rq,
    struct osh_ipmi_result *res)
{
	const struct sel_cache *c = &l->sel;
	size_t limit =
	    rq->sel.limit ? rq->sel.limit : OSH_IPMI_SEL_PAGE_DEFAULT;
	size_t top = c->n, count;

	if (limit > OSH_IPMI_SEL_PAGE_MAX)
		limit = OSH_IPMI_SEL_PAGE_MAX;
	res->sel_total = c->n;
	if (rq->sel.start != 0) {
		while (top > 0 && c->recs[top - 1].id != rq->sel.start)
			top--;
		if (top == 0) {
			res->sel_start_gone = true;
			return;
		}
	}
	/* recs[top - 1] is the newest of the page. */
	count = top < limit ? top : limit;
	if (count == 0 || (res->sel = calloc(count, sizeof(*res->sel))) == NULL)
		return;
	for (size_t k = 0; k < count; k++) {
		const struct sel_rec *r = &c->recs[top - 1 - k];
		struct osh_sel_entry *e = &res->sel[res->nsel];

		if (osh_sel_parse(r->raw, sizeof(r->raw), e) != 0)
			continue;
		e->severity = state_of(interpret_sel(r->raw));
		sel_name(l, e);
		res->nsel++;
	}
	res->sel_next = top > count ? c->recs[top - 1 - count].id : 0;
}

static void
do_sel(struct bmc_link *l, const struct osh_ipmi_request *rq,
    struct osh_ipmi_result *res)
{
	struct osh_sel_info info;

	if (!l->sdr.valid) {
		sdr_refresh(l, res); /* names only: failure is fine */
		res->err = OSH_IPMI_OK;
		res->message[0] = '\0';
	}
	if (res->done & OSH_IPMI_WANT_SEL_INFO)
		info = res->sel_info; /* read just before */
	else if (sel_info_read(l, &info, res) != 0)
		return;
	if (sel_refresh(l, &info, res) != 0)
		return;
	sel_page(l, rq, res);
	res->done |= OSH_IPMI_WANT_SEL;
}

static void
do_sel_clear(struct bmc_link *l, struct osh_ipmi_result *res)
{
	uint8_t rq[] = {0x42}, rs[8], cc;
	size_t n;
	uint16_t resid;

	if (raw(l, NETFN_STORAGE, rq, 1, rs, sizeof(rs), &n, &cc, res) != 0 ||
	    n < 2)
		return;
	resid = (uint16_t)(rs[0] | rs[1] << 8);
	{
		uint8_t clr[] = {0x47, (uint8_t)resid, (uint8_t)(resid >> 8),
		    'C', 'L', 'R', 0xaa};
		if (raw(l, NETFN_STORAGE, clr, sizeof(clr), rs, sizeof(rs), &n,
			&cc, res) == 0)
			res->done |= OSH_IPMI_WANT_SEL_CLEAR;
		sel_reset(&l->sel);
	}
}

/* DCMI Get Power Reading (mode 1: system power statistics). */
static void
do_dcmi(struct bmc_link *l, struct osh_ipmi_result *res)
{
	uint8_t rq[] = {0x02, 0xdc, 0x01, 0x00, 0x00}, rs[32], cc;
	size_t n;

	if (raw(l, NETFN_DCMI, rq, sizeof(rq), rs, sizeof(rs), &n, &cc, res) !=
	    0)
		return;
	if (n < 3 || rs[0] != 0xdc) {
		fail(res, OSH_IPMI_BAD_RESPONSE, "bad DCMI answer");
		return;
	}
	res->dcmi_watts = (double)(rs[1] | rs[2] << 8);
	res->done |= OSH_IPMI_WANT_DCMI_POWER;
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
	sdr_free(&l->sdr);
	sel_reset(&l->sel);
}

void
ipmi_link_keepalive(struct bmc_link *l, struct osh_ipmi_result *res)
{
	if (l->ctx == NULL)
		return;
	l->deadline_us = UINT64_MAX; /* one command, FreeIPMI's timeout */
	l->late = false;
	do_chassis(l, res);
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
	case OSH_IPMI_WANT_DEVICE_ID: do_device_id(l, res); break;
	case OSH_IPMI_WANT_CHASSIS: do_chassis(l, res); break;
	case OSH_IPMI_WANT_CONTROL: do_control(l, rq, res); break;
	case OSH_IPMI_WANT_BOOT: do_boot(l, rq, res); break;
	case OSH_IPMI_WANT_IDENTIFY: do_identify(l, rq, res); break;
	case OSH_IPMI_WANT_SENSORS: do_sensors(l, res); break;
	case OSH_IPMI_WANT_FRU: do_fru(l, res); break;
	case OSH_IPMI_WANT_SEL_INFO: do_sel_info(l, res); break;
	case OSH_IPMI_WANT_SEL: do_sel(l, rq, res); break;
	case OSH_IPMI_WANT_SEL_CLEAR: do_sel_clear(l, res); break;
	case OSH_IPMI_WANT_DCMI_POWER: do_dcmi(l, res); break;
	}
	if (res->err != OSH_IPMI_OK)
		part_failed(res, which, res->err);
	if (before != OSH_IPMI_OK) { /* keep the first error */
		enum osh_ipmi_err now = res->err;
		res->err = before;
		osh_strlcpy(res->message, msg, sizeof(res->message));
		return !session_lost(now);
	}
	return !session_lost(res->err);
}

void
ipmi_link_run(struct bmc_link *l, const struct osh_ipmi_target *t,
    const struct osh_ipmi_request *rq, uint64_t deadline_us,
    struct osh_ipmi_result *res)
{
	uint64_t start = osh_now_us();

	l->deadline_us = deadline_us;
	l->late = false;
	for (int attempt = 0; attempt < 2; attempt++) {
		bool reused = l->ctx != NULL, lost = false;

		if (l->ctx == NULL && open_session(l, t, deadline_us, res) != 0)
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
			fail(res, OSH_IPMI_TIMEOUT, "deadline passed");
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
