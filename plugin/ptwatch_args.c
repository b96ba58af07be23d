/* SPDX-License-Identifier: MIT */
/*
 * The plugin's arguments:
 *   ram=PATH          RAM backend file (required)
 *   ram_base=ADDR     guest PA of the start of RAM (arm64 default 0x40000000)
 *   ram_below_4g=SIZE x86: bytes of RAM mapped below 4 GiB (default: all)
 *   out=DIR           output directory (default ./ptwatch-out)
 *   echo=on|off       also print findings and warnings on stderr (off)
 *   max_pending=N     pending-change records kept (default 65536)
 *   symbols=FILE      guest kernel symbols (/proc/kallsyms or System.map)
 *   suppress=FILE     suppressions (docs/suppressions.md)
 *   known=FILE        known upstream issues, set aside and counted
 *                     (docs/known-issues.md)
 *   widen=DURATION    race amplification: stall a vCPU that opens a break
 *                     window or starts an unmap pass over a unit, or (Linux)
 *                     calls try_to_unmap_flush*() with stale-TLB records
 *                     pending (e.g. 200us)
 *   trace=FILE        record the engine's events and the memory it reads
 *                     (docs/trace-format.md), for ptwatch-replay
 *   page_watch=on|off, tlbi_cb=on|off, vpage_watch=on|off
 *                     use the patched QEMU's page watch, TLB maintenance
 *                     callback, virtual-page watch when it has them (on)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ptwatch.h"

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s)
		return false;
	switch (*end) {
	case 'K':
	case 'k':
		v <<= 10;
		end++;
		break;
	case 'M':
	case 'm':
		v <<= 20;
		end++;
		break;
	case 'G':
	case 'g':
		v <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end)
		return false;
	*out = v;
	return true;
}

/* "250us", "5ms", "1s", "1000ns" or plain nanoseconds */
static bool parse_duration(const char *s, uint64_t *ns)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return false;
	double mul = 1;
	if (!strcmp(end, "") || !strcmp(end, "ns"))
		mul = 1;
	else if (!strcmp(end, "us"))
		mul = 1e3;
	else if (!strcmp(end, "ms"))
		mul = 1e6;
	else if (!strcmp(end, "s"))
		mul = 1e9;
	else
		return false;
	*ns = (uint64_t)(v * mul);
	return true;
}

bool args_parse(int argc, char **argv, plugin_args *a)
{
	memset(a, 0, sizeof(*a));
	a->out = "ptwatch-out";
	a->page_watch = a->tlbi_cb = a->vpage_watch = a->linux_mm = true;
	a->stacks = true;
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq)
			FAIL("malformed argument '%s' (expected key=value)",
			     argv[i]);
		g_autofree char *key = g_strndup(argv[i], eq - argv[i]);
		const char *val = eq + 1;
		if (strcmp(key, "ram") == 0)
			a->ram_path = val;
		else if (strcmp(key, "out") == 0)
			a->out = val;
		else if (strcmp(key, "symbols") == 0)
			a->symbols = val;
		else if (strcmp(key, "suppress") == 0)
			a->suppress = val;
		else if (strcmp(key, "known") == 0)
			a->known = val;
		else if (strcmp(key, "trace") == 0)
			a->trace = val;
		else if (strcmp(key, "ram_base") == 0) {
			if (!parse_u64(val, &a->ram_base))
				FAIL("bad ram_base '%s'", val);
			a->have_base = true;
		} else if (strcmp(key, "ram_below_4g") == 0) {
			if (!parse_u64(val, &a->ram_below_4g))
				FAIL("bad ram_below_4g '%s'", val);
			a->have_below = true;
		} else if (strcmp(key, "max_pending") == 0) {
			if (!parse_u64(val, &a->max_pending) ||
			    !a->max_pending || a->max_pending > (1u << 24))
				FAIL("bad max_pending '%s'", val);
		} else if (strcmp(key, "widen") == 0) {
			if (!parse_duration(val, &a->widen_ns) ||
			    a->widen_ns > 10000000000ULL)
				FAIL("bad widen '%s' (a duration up to 10s, "
				     "e.g. "
				     "200us, 5ms)",
				     val);
		} else if (strcmp(key, "echo") == 0) {
			if (!qemu_plugin_bool_parse(key, val, &a->echo))
				FAIL("bad boolean for echo: '%s'", val);
		} else if (strcmp(key, "page_watch") == 0) {
			if (!qemu_plugin_bool_parse(key, val, &a->page_watch))
				FAIL("bad boolean for page_watch: '%s'", val);
		} else if (strcmp(key, "tlbi_cb") == 0) {
			if (!qemu_plugin_bool_parse(key, val, &a->tlbi_cb))
				FAIL("bad boolean for tlbi_cb: '%s'", val);
		} else if (strcmp(key, "vpage_watch") == 0) {
			if (!qemu_plugin_bool_parse(key, val, &a->vpage_watch))
				FAIL("bad boolean for vpage_watch: '%s'", val);
		} else if (strcmp(key, "linux_mm") == 0) {
			if (!qemu_plugin_bool_parse(key, val, &a->linux_mm))
				FAIL("bad boolean for linux_mm: '%s'", val);
		} else if (strcmp(key, "stacks") == 0) {
			if (!qemu_plugin_bool_parse(key, val, &a->stacks))
				FAIL("bad boolean for stacks: '%s'", val);
		} else
			FAIL("unknown argument '%s' (known: ram, ram_base, "
			     "ram_below_4g, out, echo, max_pending, symbols, "
			     "suppress, known, widen, trace, page_watch, "
			     "tlbi_cb, vpage_watch, linux_mm, stacks)",
			     key);
	}
	if (!a->ram_path)
		FAIL("missing ram=PATH: start QEMU with a shared RAM backend "
		     "(-object memory-backend-file,id=ram,mem-path=PATH,"
		     "share=on,size=... -machine memory-backend=ram) and pass "
		     "the same PATH");
	return true;
}
