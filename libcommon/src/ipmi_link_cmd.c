/* ipmi_link_cmd.c - the parts of a request that are plain commands,
 * nothing kept between requests: device identity, chassis status and
 * control, boot device, identify, the FRU inventory and DCMI's power
 * reading. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipmi_link.h"
#include "osh/util.h"

/* The most FRU data a BMC may make us hold. */
#define MAX_FRU 4096

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
	if (ipmi_link_raw(l, NETFN_APP, rq, sizeof(rq), rs, sizeof(rs), &n, &cc,
		res) == 0 &&
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

void
ipmi_link_cmd_device_id(struct bmc_link *l, struct osh_ipmi_result *res)
{
	uint8_t rq[] = {0x01}, rs[64], cc;
	size_t n;

	if (ipmi_link_raw(l, NETFN_APP, rq, sizeof(rq), rs, sizeof(rs), &n, &cc,
		res) != 0)
		return;
	if (osh_device_id_parse(rs, n, &res->device) != 0) {
		ipmi_link_fail(
		    res, OSH_IPMI_BAD_RESPONSE, "short Get Device ID answer");
		return;
	}
	system_firmware(l, res);
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
	size_t n, size, at = 0;

	if (ipmi_link_raw(l, NETFN_STORAGE, rq, sizeof(rq), rs, sizeof(rs), &n,
		&cc, res) != 0)
		return;
	if (n < 3) {
		ipmi_link_fail(
		    res, OSH_IPMI_BAD_RESPONSE, "short FRU inventory info");
		return;
	}
	/* As large as the BMC says, within bounds. */
	size = (size_t)(rs[0] | rs[1] << 8);
	if (size > MAX_FRU)
		size = MAX_FRU;
	if ((img = calloc(1, size + 1)) == NULL) {
		ipmi_link_fail(res, OSH_IPMI_INTERNAL, "out of memory");
		return;
	}
	while (at < size) {
		size_t want = size - at < 16 ? size - at : 16;
		uint8_t rd[] = {
		    0x11, 0x00, (uint8_t)at, (uint8_t)(at >> 8), (uint8_t)want};

		if (ipmi_link_raw(l, NETFN_STORAGE, rd, sizeof(rd), rs,
			sizeof(rs), &n, &cc, res) != 0 ||
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
		ipmi_link_fail(
		    res, OSH_IPMI_BAD_RESPONSE, "FRU data unreadable");
	free(img);
}

/* DCMI Get Power Reading (mode 1: system power statistics). */
void
ipmi_link_cmd_dcmi(struct bmc_link *l, struct osh_ipmi_result *res)
{
	uint8_t rq[] = {0x02, 0xdc, 0x01, 0x00, 0x00}, rs[32], cc;
	size_t n;

	if (ipmi_link_raw(l, NETFN_DCMI, rq, sizeof(rq), rs, sizeof(rs), &n,
		&cc, res) != 0)
		return;
	if (n < 3 || rs[0] != 0xdc) {
		ipmi_link_fail(res, OSH_IPMI_BAD_RESPONSE, "bad DCMI answer");
		return;
	}
	res->dcmi_watts = (double)(rs[1] | rs[2] << 8);
	res->done |= OSH_IPMI_WANT_DCMI_POWER;
}
