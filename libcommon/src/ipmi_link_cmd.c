/* ipmi_link_cmd.c - the parts of a request that are plain commands,
 * nothing kept between requests: device identity, chassis status and
 * control, boot device, identify, the FRU inventory, DCMI's power
 * reading and the watchdog timer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipmi_link.h"
#include "osh/util.h"

/* The most FRU data a BMC may make us hold. */
#define MAX_FRU 4096

/* A string parameter of Get System Info Parameters (1: system firmware
 * version, 6: BMC URL), block after block, into out. Optional, so failure
 * is quiet: it leaves out empty and res as it was. Returns the completion
 * code of a refused first block (0xc1: no such command), else 0. */
static uint8_t
sysinfo_string(struct bmc_link *l, uint8_t param, char *out, size_t outlen,
    struct osh_ipmi_result *res)
{
	enum osh_ipmi_err before = res->err;
	char msg[sizeof(res->message)];
	struct osh_sysinfo_text t = {0};
	uint8_t rs[64], cc = 0, refused = 0;
	size_t n;
	int more = 1;

	osh_strlcpy(msg, res->message, sizeof(msg));
	out[0] = '\0';
	for (uint8_t set = 0; more == 1; set++) {
		uint8_t rq[] = {0x59, 0x00, param, set, 0x00};

		cc = 0;
		if (ipmi_link_raw(l, NETFN_APP, rq, sizeof(rq), rs, sizeof(rs),
			&n, &cc, res) != 0) {
			if (set == 0)
				refused = cc;
			more = -1;
			break;
		}
		more = osh_sysinfo_block_parse(rs, n, set, &t);
	}
	/* A text cut short by a failed block is kept as far as it came. */
	if (more != -1 || t.have > 0)
		osh_sysinfo_decode(t.encoding, t.data, t.have, out, outlen);
	res->err = before;
	osh_strlcpy(res->message, msg, sizeof(res->message));
	return refused;
}

void
ipmi_link_cmd_device_id(struct bmc_link *l, const struct osh_ipmi_request *rq,
    struct osh_ipmi_result *res)
{
	uint8_t cmd[] = {0x01}, rs[64], cc;
	size_t n;

	if (ipmi_link_raw(l, NETFN_APP, cmd, sizeof(cmd), rs, sizeof(rs), &n,
		&cc, res) != 0)
		return;
	if (osh_device_id_parse(rs, n, &res->device) != 0) {
		ipmi_link_fail(
		    res, OSH_IPMI_BAD_RESPONSE, "short Get Device ID answer");
		return;
	}
	/* A BMC without Get System Info says so once. */
	if (sysinfo_string(l, 0x01, res->system_firmware,
		sizeof(res->system_firmware), res) != 0xc1 &&
	    rq->bmc_url && !l->late)
		sysinfo_string(
		    l, 0x06, res->bmc_url, sizeof(res->bmc_url), res);
	res->done |= OSH_IPMI_WANT_DEVICE_ID;
}

void
ipmi_link_cmd_chassis(struct bmc_link *l, struct osh_ipmi_result *res)
{
	uint8_t rq[] = {0x01}, rs[16], cc;
	size_t n;

	if (ipmi_link_raw(l, NETFN_CHASSIS, rq, sizeof(rq), rs, sizeof(rs), &n,
		&cc, res) != 0)
		return;
	if (osh_chassis_parse(rs, n, &res->chassis) != 0) {
		ipmi_link_fail(
		    res, OSH_IPMI_BAD_RESPONSE, "short Chassis Status answer");
		return;
	}
	res->done |= OSH_IPMI_WANT_CHASSIS;
}

void
ipmi_link_cmd_control(struct bmc_link *l, const struct osh_ipmi_request *rq,
    struct osh_ipmi_result *res)
{
	uint8_t cmd[] = {0x02, (uint8_t)rq->power}, rs[8], cc;
	size_t n;

	if (ipmi_link_raw(l, NETFN_CHASSIS, cmd, sizeof(cmd), rs, sizeof(rs),
		&n, &cc, res) == 0)
		res->done |= OSH_IPMI_WANT_CONTROL;
	else if (cc == 0xcc || cc == 0xc9) {
		res->err = OSH_IPMI_UNSUPPORTED;
		snprintf(res->message, sizeof(res->message),
		    "the BMC does not support power action 0x%02x", rq->power);
	}
}

/* Set System Boot Options, parameter 5 (boot flags). */
void
ipmi_link_cmd_boot(struct bmc_link *l, const struct osh_ipmi_request *rq,
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
	if (ipmi_link_raw(l, NETFN_CHASSIS, cmd, sizeof(cmd), rs, sizeof(rs),
		&n, &cc, res) == 0)
		res->done |= OSH_IPMI_WANT_BOOT;
}

void
ipmi_link_cmd_identify(struct bmc_link *l, const struct osh_ipmi_request *rq,
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
	if (ipmi_link_raw(
		l, NETFN_CHASSIS, cmd, len, rs, sizeof(rs), &n, &cc, res) == 0)
		res->done |= OSH_IPMI_WANT_IDENTIFY;
}

void
ipmi_link_cmd_fru(struct bmc_link *l, struct osh_ipmi_result *res)
{
	uint8_t rq[] = {0x10, 0x00}, rs[64], cc, *img;
	struct osh_fru_info info;
	size_t n, size, at = 0, unit;

	if (ipmi_link_raw(l, NETFN_STORAGE, rq, sizeof(rq), rs, sizeof(rs), &n,
		&cc, res) != 0)
		return;
	if (osh_fru_info_parse(rs, n, &info) != 0) {
		ipmi_link_fail(
		    res, OSH_IPMI_BAD_RESPONSE, "short FRU inventory info");
		return;
	}
	/* As large as the BMC says, within bounds; a device read by words
	 * counts offsets and lengths in words. */
	unit = info.by_words ? 2 : 1;
	size = info.size > MAX_FRU ? MAX_FRU : info.size;
	size -= size % unit;
	if ((img = calloc(1, size + 1)) == NULL) {
		ipmi_link_fail(res, OSH_IPMI_INTERNAL, "out of memory");
		return;
	}
	while (at < size) {
		size_t want = size - at < 16 ? size - at : 16;
		size_t off = at / unit;
		uint8_t rd[] = {0x11, 0x00, (uint8_t)off, (uint8_t)(off >> 8),
		    (uint8_t)(want / unit)};
		const uint8_t *data;
		int got;

		if (ipmi_link_raw(l, NETFN_STORAGE, rd, sizeof(rd), rs,
			sizeof(rs), &n, &cc, res) != 0 ||
		    (got = osh_fru_read_parse(
			 rs, n, want, info.by_words, &data)) < 0)
			break;
		memcpy(img + at, data, (size_t)got);
		at += (size_t)got;
	}
	/* Cut short by the deadline: what was read is decoded, but the part
	 * fails (a timeout) all the same. */
	if (at >= 8 && osh_fru_parse(img, at, &res->fru) >= 0 && !l->late)
		res->done |= OSH_IPMI_WANT_FRU;
	else if (res->err == OSH_IPMI_OK)
		ipmi_link_fail(
		    res, OSH_IPMI_BAD_RESPONSE, "FRU data unreadable");
	free(img);
}

/* DCMI Get Power Reading (mode 1: system power statistics). */
void
ipmi_link_cmd_dcmi(struct bmc_link *l, struct osh_ipmi_result *res)
{
	uint8_t rq[] = {0x02, 0xdc, 0x01, 0x00, 0x00}, rs[32], cc;
	struct osh_dcmi_power pw;
	size_t n;

	if (ipmi_link_raw(l, NETFN_DCMI, rq, sizeof(rq), rs, sizeof(rs), &n,
		&cc, res) != 0)
		return;
	if (osh_dcmi_power_parse(rs, n, &pw) != 0) {
		ipmi_link_fail(res, OSH_IPMI_BAD_RESPONSE, "bad DCMI answer");
		return;
	}
	res->dcmi_watts = pw.current;
	res->dcmi_active = pw.active || !pw.has_stats;
	res->done |= OSH_IPMI_WANT_DCMI_POWER;
}

void
ipmi_link_cmd_watchdog(struct bmc_link *l, struct osh_ipmi_result *res)
{
	uint8_t rq[] = {0x25}, rs[16], cc;
	size_t n;

	if (ipmi_link_raw(l, NETFN_APP, rq, sizeof(rq), rs, sizeof(rs), &n, &cc,
		res) != 0)
		return;
	if (osh_watchdog_parse(rs, n, &res->watchdog) != 0) {
		ipmi_link_fail(res, OSH_IPMI_BAD_RESPONSE,
		    "short Get Watchdog Timer answer");
		return;
	}
	res->done |= OSH_IPMI_WANT_WATCHDOG;
}
