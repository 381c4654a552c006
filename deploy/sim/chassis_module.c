/* chassis_module.c - the simulated BMC's chassis, inside ipmi_sim.
 *
 * ipmi_sim runs its chassis_control program (chassis.sh) with popen for
 * every Get Chassis Status and every command, and waits for it: two
 * processes a poll, while the whole ipmi_sim (every LAN channel of it)
 * waits. A fleet of a hundred BMCs polled every two seconds, or five
 * hundred in a power job, then measures how fast this machine forks, not
 * what it is meant to. This module does what chassis.sh does, in the
 * process, with the same files under the BMC's directory, so that tests
 * and osh-sim read and change them as before:
 *
 *   power          "0" or "1"
 *   boot           none, pxe, default, cdrom or bios
 *   commands       "<ms> set <what> <args>" for every command, appended
 *   events         "reset <s>", "shutdown <s>", "identify <i> <force>"
 *   control_delay  seconds a command takes to be answered (osh-sim slow)
 *
 * Loaded by lan.conf: loadlib "<this .so>" "<directory>"; osh-sim uses
 * chassis.sh when the module is not built. Test tooling, not shipped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <OpenIPMI/mcserv.h>
#include <OpenIPMI/serv.h>

int ipmi_sim_module_init(sys_data_t *sys, const char *initstr);
int ipmi_sim_module_post_init(sys_data_t *sys);

#define BMC_IPMB 0x20

static char dir[1024];

/* The boot devices as ipmi_sim's own chassis program is told them. */
static const struct {
	unsigned char value;
	const char *name;
} boot_names[] = {
    {0, "none"}, {1, "pxe"}, {2, "default"}, {5, "cdrom"}, {6, "bios"}};

static void
path_of(char *out, size_t cap, const char *file)
{
	snprintf(out, cap, "%s/%s", dir, file);
}

/* The first word of a state file, or "" when there is none. */
static void
read_word(const char *file, char *out, size_t cap)
{
	char path[1100];
	FILE *f;

	out[0] = '\0';
	path_of(path, sizeof(path), file);
	if ((f = fopen(path, "r")) == NULL)
		return;
	if (fgets(out, (int)cap, f) == NULL)
		out[0] = '\0';
	fclose(f);
	out[strcspn(out, " \t\r\n")] = '\0';
}

/* Replaces a state file whole (written beside it, then renamed), so that
 * a reader never sees it half written. */
static int
write_word(const char *file, const char *word)
{
	char path[1100], tmp[1110];
	FILE *f;

	path_of(path, sizeof(path), file);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return errno;
	fprintf(f, "%s\n", word);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return errno ? errno : EIO;
	return 0;
}

static void
append_line(const char *file, const char *line)
{
	char path[1100];
	FILE *f;

	path_of(path, sizeof(path), file);
	if ((f = fopen(path, "a")) == NULL)
		return;
	fprintf(f, "%s\n", line);
	fclose(f);
}

static long long
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A BMC slow to carry out a command (osh-sim slow): ipmi_sim answers
 * when the command is done, as with chassis.sh's sleep. */
static void
control_delay(void)
{
	char word[32];
	double s;
	struct timespec ts;

	read_word("control_delay", word, sizeof(word));
	if (word[0] == '\0' || (s = strtod(word, NULL)) <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
chassis_set(lmc_data_t *mc, int op, unsigned char *val, void *cb_data)
{
	char what[64], line[128];
	const char *boot = NULL;
	int rv = 0;

	(void)mc;
	(void)cb_data;
	switch (op) {
	case CHASSIS_CONTROL_POWER:
		snprintf(what, sizeof(what), "power %d", val[0] ? 1 : 0);
		break;
	case CHASSIS_CONTROL_RESET:
		snprintf(what, sizeof(what), "reset 1");
		break;
	case CHASSIS_CONTROL_GRACEFUL_SHUTDOWN:
		snprintf(what, sizeof(what), "shutdown 1");
		break;
	case CHASSIS_CONTROL_IDENTIFY:
		snprintf(what, sizeof(what), "identify %u %u", val[0], val[1]);
		break;
	case CHASSIS_CONTROL_BOOT:
		for (size_t i = 0;
		     i < sizeof(boot_names) / sizeof(boot_names[0]); i++)
			if (boot_names[i].value == val[0])
				boot = boot_names[i].name;
		if (boot == NULL)
			return EINVAL; /* as ipmi_sim's program would be */
		snprintf(what, sizeof(what), "boot %s", boot);
		break;
	default: return 0; /* boot info acknowledged: nothing kept */
	}
	snprintf(line, sizeof(line), "%lld set %s", wall_ms(), what);
	append_line("commands", line);
	control_delay();
	switch (op) {
	case CHASSIS_CONTROL_POWER:
		rv = write_word("power", val[0] ? "1" : "0");
		break;
	case CHASSIS_CONTROL_RESET:
		snprintf(line, sizeof(line), "reset %lld", wall_ms() / 1000);
		append_line("events", line);
		break;
	case CHASSIS_CONTROL_GRACEFUL_SHUTDOWN:
		/* The operating system honours it and powers off. */
		snprintf(line, sizeof(line), "shutdown %lld", wall_ms() / 1000);
		append_line("events", line);
		rv = write_word("power", "0");
		break;
	case CHASSIS_CONTROL_BOOT: rv = write_word("boot", boot); break;
	default: append_line("events", what); break;
	}
	return rv;
}

static int
chassis_get(lmc_data_t *mc, int op, unsigned char *val, void *cb_data)
{
	char word[32];

	(void)mc;
	(void)cb_data;
	if (op == CHASSIS_CONTROL_POWER) {
		read_word("power", word, sizeof(word));
		val[0] = word[0] == '1';
		return 0;
	}
	if (op == CHASSIS_CONTROL_BOOT) {
		read_word("boot", word, sizeof(word));
		val[0] = 2; /* default */
		for (size_t i = 0;
		     i < sizeof(boot_names) / sizeof(boot_names[0]); i++)
			if (strcmp(boot_names[i].name, word) == 0)
				val[0] = boot_names[i].value;
		return 0;
	}
	return EINVAL;
}

int
ipmi_sim_module_init(sys_data_t *sys, const char *initstr)
{
	if (initstr == NULL || initstr[0] == '\0' ||
	    strlen(initstr) >= sizeof(dir)) {
		sys->log(sys, SETUP_ERROR, NULL,
		    "osh chassis module: a state directory is needed");
		return EINVAL;
	}
	snprintf(dir, sizeof(dir), "%s", initstr);
	return 0;
}

/* After the emulator's commands: the BMC exists by now. */
int
ipmi_sim_module_post_init(sys_data_t *sys)
{
	lmc_data_t *bmc = sys->ipmb_addrs[BMC_IPMB];

	if (bmc == NULL) {
		sys->log(sys, SETUP_ERROR, NULL,
		    "osh chassis module: no BMC at 0x%02x", BMC_IPMB);
		return EINVAL;
	}
	ipmi_mc_set_chassis_control_func(bmc, chassis_set, chassis_get, NULL);
	return 0;
}
