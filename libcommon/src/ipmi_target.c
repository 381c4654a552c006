/* ipmi_target.c - the IPMI module without its engine: BMC addresses and
 * workaround flags as text, wiping a target, and what errors are called
 * (API codes, HTTP statuses). */
#include <arpa/inet.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "osh/ipmi.h"
#include "osh/util.h"

const char *
osh_ipmi_err_code(enum osh_ipmi_err e)
{
	switch (e) {
	case OSH_IPMI_OK: return "ok";
	case OSH_IPMI_UNREACHABLE: return "bmc_unreachable";
	case OSH_IPMI_TIMEOUT: return "bmc_timeout";
	case OSH_IPMI_AUTH_FAILED: return "bmc_auth_failed";
	case OSH_IPMI_PRIVILEGE: return "bmc_insufficient_privilege";
	case OSH_IPMI_UNSUPPORTED: return "bmc_unsupported";
	case OSH_IPMI_BAD_RESPONSE: return "bmc_bad_response";
	case OSH_IPMI_BUSY: return "bmc_busy";
	case OSH_IPMI_INTERNAL: return "bmc_error";
	}
	return "bmc_error";
}

int
osh_ipmi_err_status(enum osh_ipmi_err e)
{
	switch (e) {
	case OSH_IPMI_OK: return 200;
	case OSH_IPMI_UNREACHABLE:
	case OSH_IPMI_TIMEOUT: return 504;
	case OSH_IPMI_UNSUPPORTED: return 501;
	case OSH_IPMI_BUSY: return 503;
	default: return 502;
	}
}

static const struct {
	const char *name;
	unsigned flag;
} wa_names[] = {
    {"authcap", OSH_IPMI_WA_AUTHCAP},
    {"idzero", OSH_IPMI_WA_IDZERO},
    {"unexpectedauth", OSH_IPMI_WA_UNEXPECTEDAUTH},
    {"forcepermsg", OSH_IPMI_WA_FORCEPERMSG},
    {"endianseq", OSH_IPMI_WA_ENDIANSEQ},
    {"noauthcodecheck", OSH_IPMI_WA_NOAUTHCODECHECK},
    {"nochecksumcheck", OSH_IPMI_WA_NOCHECKSUMCHECK},
    {"intel20", OSH_IPMI_WA_INTEL20},
    {"supermicro20", OSH_IPMI_WA_SUPERMICRO20},
    {"sun20", OSH_IPMI_WA_SUN20},
    {"opensesspriv", OSH_IPMI_WA_OPENSESSPRIV},
    {"integritycheckvalue", OSH_IPMI_WA_INTEGRITYCHECKVALUE},
};

bool
osh_ipmi_workarounds_parse(
    const char *s, unsigned *out, char *bad, size_t badlen)
{
	char buf[256], *tok, *save = NULL;

	*out = 0;
	if (!osh_strlcpy(buf, s, sizeof(buf))) {
		osh_strlcpy(bad, "(too long)", badlen);
		return false;
	}
	for (tok = strtok_r(buf, ", ", &save); tok != NULL;
	     tok = strtok_r(NULL, ", ", &save)) {
		size_t i;
		for (i = 0; i < OSH_ARRAY_LEN(wa_names); i++) {
			if (strcasecmp(tok, wa_names[i].name) == 0) {
				*out |= wa_names[i].flag;
				break;
			}
		}
		if (i == OSH_ARRAY_LEN(wa_names)) {
			osh_strlcpy(bad, tok, badlen);
			return false;
		}
	}
	return true;
}

void
osh_ipmi_workarounds_format(unsigned flags, char *out, size_t len)
{
	out[0] = '\0';
	for (size_t i = 0; i < OSH_ARRAY_LEN(wa_names); i++) {
		if (!(flags & wa_names[i].flag))
			continue;
		if (out[0] != '\0')
			strncat(out, ",", len - strlen(out) - 1);
		strncat(out, wa_names[i].name, len - strlen(out) - 1);
	}
}

void
osh_ipmi_target_wipe(struct osh_ipmi_target *t)
{
	sodium_memzero(t->password, sizeof(t->password));
}

bool
osh_ipmi_parse_address(
    const char *s, char *host, size_t hostlen, uint16_t *port)
{
	unsigned char v6[16];
	const char *colon, *end;
	int64_t p = 623;
	size_t n;

	*port = 623;
	if (s == NULL || *s == '\0')
		return false;
	if (s[0] == '[') {
		/* "[v6addr]" or "[v6addr]:port": an IPv6 address only. */
		if ((end = strchr(s, ']')) == NULL)
			return false;
		n = (size_t)(end - s - 1);
		if (end[1] == ':') {
			if (!osh_parse_int(end + 2, 1, 65535, &p))
				return false;
		} else if (end[1] != '\0') {
			return false;
		}
		if (n == 0 || n >= hostlen)
			return false;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		*port = (uint16_t)p;
		return inet_pton(AF_INET6, host, v6) == 1;
	}
	colon = strchr(s, ':');
	if (colon != NULL && strchr(colon + 1, ':') != NULL) {
		/* A bare IPv6 address, no port. */
		return inet_pton(AF_INET6, s, v6) == 1 &&
		    osh_strlcpy(host, s, hostlen);
	}
	n = colon ? (size_t)(colon - s) : strlen(s);
	if (n == 0 || n >= hostlen)
		return false;
	if (colon != NULL && !osh_parse_int(colon + 1, 1, 65535, &p))
		return false;
	memcpy(host, s, n);
	host[n] = '\0';
	if (!osh_host_valid(host))
		return false;
	*port = (uint16_t)p;
	return true;
}
