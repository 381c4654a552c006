/* pattern.c - which regular expressions glibc can compile in reasonable
 * time and space: the sensor filters' and sel_events'. */
#include <stdlib.h>
#include <string.h>

#include "exporter.h"

/* glibc's regcomp copies what a repetition applies to ("a+" becomes
 * "aa*", "a{2,5}" five copies), so repetitions of repetitions grow the
 * compiled pattern exponentially: "a+++++" alone would take seconds and
 * gigabytes. This estimates the size first; sensor filters never come
 * near the limit. Repetition operators in a row are refused as
 * Prometheus' own regular expressions (RE2) refuse them ("a**": invalid
 * nested repetition), but for one '?' after another operator (lazy);
 * glibc's epsilon closure of "a******++++++" alone ran for minutes. */
#define PATTERN_MAX_COST 20000.0
#define PATTERN_MAX_DEPTH 16

bool
pattern_ok(const char *re)
{
	double sum[PATTERN_MAX_DEPTH + 1] = {0}, last = 0;
	int depth = 0, reps = 0;

	for (const char *c = re; *c != '\0'; c++) {
		double times = 0;

		if (*c == '*' || *c == '+' || *c == '?' || *c == '{') {
			if (++reps > 2 || (reps == 2 && *c != '?'))
				return false;
		} else {
			reps = 0;
		}

		switch (*c) {
		case '(':
			if (depth == PATTERN_MAX_DEPTH)
				return false;
			sum[++depth] = 0;
			last = 0;
			continue;
		case ')':
			if (depth > 0) {
				last = sum[depth--] + 1;
				sum[depth] += last;
				continue;
			}
			break;
		case '|': last = 0; continue;
		case '*':
		case '+':
		case '?': times = 2; break;
		case '{': {
			char *end;
			long lo = strtol(c + 1, &end, 10), hi = lo;
			if (*end != ',' && *end != '}')
				break;
			if (lo < 0 || lo > 255)
				return false;
			if (*end == ',')
				hi = end[1] == '}' ? lo + 1
						   : strtol(end + 1, &end, 10);
			if (hi < 0 || hi > 255)
				return false;
			times = (double)(hi > lo ? hi : lo) + 1;
			c = strchr(c, '}') ? strchr(c, '}') : c;
			break;
		}
		case '[':
			/* One atom: up to the ']' that ends it. */
			c += c[1] == '^' ? 2 : 1;
			if (*c == ']')
				c++;
			while (*c != '\0' && *c != ']') {
				if (*c == '[' &&
				    (c[1] == ':' || c[1] == '.' ||
					c[1] == '=')) {
					const char *e = strchr(c + 2, c[1]);
					c = e != NULL && e[1] == ']' ? e + 1
								     : c;
				}
				c++;
			}
			if (*c == '\0')
				return false;
			break;
		case '\\':
			if (c[1] != '\0')
				c++;
			break;
		default: break;
		}
		if (times > 0) {
			sum[depth] += last * (times - 1);
			last *= times;
		} else {
			sum[depth] += 1;
			last = 1;
		}
		if (sum[depth] > PATTERN_MAX_COST || last > PATTERN_MAX_COST)
			return false;
	}
	return true;
}
