/* fuzz_fru.c - libFuzzer target: the FRU inventory decoder
 * (osh_fru_parse, and osh_ipmi_tl_string under it). A BMC sends the
 * image; the decoder must never read past it, and every field must come
 * out as valid, terminated UTF-8.
 *
 * Input: the FRU image, common header first. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osh/ipmi_parse.h"
#include "osh/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_fru: %s\n", what);
	abort();
}

static void
check_text(const char *s, size_t cap, const char *what)
{
	size_t n = strnlen(s, cap);

	check(n < cap, what);
	check(osh_utf8_valid(s, n), what);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *img = malloc(size ? size : 1);
	struct osh_fru f;
	int areas;

	if (img == NULL)
		return 0;
	memcpy(img, data, size);
	areas = osh_fru_parse(img, size, &f);
	check(areas >= -1 && areas <= 3, "return value");
	if (size < 8)
		check(areas == -1, "a header shorter than 8 bytes parsed");
	{
		const struct {
			const char *s;
			size_t cap;
			const char *what;
		} fields[] = {
		    {f.chassis_type, sizeof(f.chassis_type), "chassis type"},
		    {f.chassis_part, sizeof(f.chassis_part), "chassis part"},
		    {f.chassis_serial, sizeof(f.chassis_serial),
			"chassis serial"},
		    {f.board_mfg, sizeof(f.board_mfg), "board mfg"},
		    {f.board_product, sizeof(f.board_product), "board product"},
		    {f.board_serial, sizeof(f.board_serial), "board serial"},
		    {f.board_part, sizeof(f.board_part), "board part"},
		    {f.product_mfg, sizeof(f.product_mfg), "product mfg"},
		    {f.product_name, sizeof(f.product_name), "product name"},
		    {f.product_part, sizeof(f.product_part), "product part"},
		    {f.product_version, sizeof(f.product_version),
			"product version"},
		    {f.product_serial, sizeof(f.product_serial),
			"product serial"},
		    {f.product_asset, sizeof(f.product_asset), "product asset"},
		};
		for (size_t i = 0; i < OSH_ARRAY_LEN(fields); i++)
			check_text(fields[i].s, fields[i].cap, fields[i].what);
	}
	check(f.board_mfg_time == -1 || f.board_mfg_time >= 820454400,
	    "manufacturing time before 1996");
	free(img);
	return 0;
}
