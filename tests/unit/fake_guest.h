/* SPDX-License-Identifier: MIT */
/*
 * A synthetic guest for engine unit tests: a flat RAM buffer the engine
 * reads through ptw_read_phys_fn, and helpers that change memory with or
 * without telling the engine (hardware A/D updates, DC ZVA and the
 * page-table walker are invisible to a TCG plugin).
 */
#ifndef PTW_FAKE_GUEST_H
#define PTW_FAKE_GUEST_H

#include <stdlib.h>
#include <string.h>

#include "ptw.h"

typedef struct {
	uint64_t base, size;
	uint8_t *mem;
	ptw_engine *e;
	uint64_t icount;
} fake_guest;

static bool fake_read(void *opaque, uint64_t pa, void *buf, size_t len)
{
	fake_guest *g = opaque;
	if (pa < g->base || pa - g->base + len > g->size)
		return false;
	memcpy(buf, g->mem + (pa - g->base), len);
	return true;
}

static inline void fake_init(fake_guest *g, ptw_arch arch, unsigned ncpus,
			     uint64_t base, uint64_t size)
{
	g->base = base;
	g->size = size;
	g->mem = calloc(1, size);
	g->icount = 0;
	ptw_config cfg = {.arch = arch,
			  .ncpus = ncpus,
			  .read_phys = fake_read,
			  .read_opaque = g,
			  .out_dir = NULL,
			  .echo = getenv("PTW_TEST_ECHO") ? stdout : NULL};
	char *err = NULL;
	g->e = ptw_engine_new(&cfg, &err);
}

static inline void fake_fini(fake_guest *g)
{
	ptw_engine_free(g->e);
	free(g->mem);
}

static inline ptw_ctx fake_ctx(fake_guest *g, unsigned cpu)
{
	ptw_ctx c = {.cpu = cpu,
		     .pc = 0x1000 + g->icount * 4,
		     .icount = ++g->icount};
	return c;
}

/* memory changes the engine does not see */
static inline void mem_w64(fake_guest *g, uint64_t pa, uint64_t v)
{
	memcpy(g->mem + (pa - g->base), &v, 8);
}

static inline uint64_t mem_r64(fake_guest *g, uint64_t pa)
{
	uint64_t v;
	memcpy(&v, g->mem + (pa - g->base), 8);
	return v;
}

/* a guest store the plugin reports (va, pa, value) */
static inline void guest_store(fake_guest *g, unsigned cpu, uint64_t va,
			       uint64_t pa, uint64_t v)
{
	mem_w64(g, pa, v);
	ptw_ctx c = fake_ctx(g, cpu);
	ptw_ev_access(g->e, &c, va, pa, 8, true, v);
}

/* a page-table store through the identity map */
static inline void pt_store(fake_guest *g, unsigned cpu, uint64_t pa,
			    uint64_t v)
{
	guest_store(g, cpu, pa, pa, v);
}

/* a load of va that QEMU translated to pa (possibly stale) */
static inline void guest_load(fake_guest *g, unsigned cpu, uint64_t va,
			      uint64_t pa)
{
	ptw_ctx c = fake_ctx(g, cpu);
	ptw_ev_access(g->e, &c, va, pa, 8, false, 0);
}

static inline void sysreg(fake_guest *g, unsigned cpu, ptw_reg r, uint64_t v)
{
	ptw_ctx c = fake_ctx(g, cpu);
	ptw_ev_sysreg(g->e, &c, r, v);
}

/* arm64, 4K granule, 48-bit VA: map va with the leaf descriptor 'leaf'
 * through the four tables at t[0..3] (table descriptors: PA | 3), then
 * turn vCPUs 0..ncpus-1's MMU on with t[0] in TTBR0 under ASID asid
 * (MAIR 0xff, TCR_EL1 T0SZ=16, EPD1, AS) */
static inline void fake_arm64_map_48(fake_guest *g, unsigned ncpus,
				     const uint64_t t[4], uint64_t va,
				     uint64_t leaf, uint64_t asid)
{
	for (int l = 0; l < 4; l++)
		mem_w64(g, t[l] + ((va >> (39 - 9 * l)) & 511) * 8,
			l < 3 ? t[l + 1] | 3ULL : leaf);
	for (unsigned c = 0; c < ncpus; c++) {
		sysreg(g, c, PTW_REG_ARM_MAIR, 0xff);
		sysreg(g, c, PTW_REG_ARM_TCR,
		       16ULL | (1ULL << 23) | (1ULL << 36));
		sysreg(g, c, PTW_REG_ARM_TTBR0, t[0] | (asid << 48));
		sysreg(g, c, PTW_REG_ARM_SCTLR, 1);
	}
}

/* x86-64: map va -> page through the four tables at t[0..3] (PML4, PDPT,
 * PD, PT; table entries present, writable), then put vCPUs 0..ncpus-1 in
 * long mode on t[0] (CR4.PAE, EFER.LME, CR3, CR0.PG|PE) */
static inline void fake_x86_map_long_mode(fake_guest *g, unsigned ncpus,
					  const uint64_t t[4], uint64_t va,
					  uint64_t page)
{
	for (int l = 0; l < 4; l++)
		mem_w64(g, t[l] + ((va >> (39 - 9 * l)) & 511) * 8,
			(l < 3 ? t[l + 1] : page) | 0x63ULL);
	for (unsigned c = 0; c < ncpus; c++) {
		sysreg(g, c, PTW_REG_X86_CR4, 1ULL << 5);
		sysreg(g, c, PTW_REG_X86_EFER, 1ULL << 8);
		sysreg(g, c, PTW_REG_X86_CR3, t[0]);
		sysreg(g, c, PTW_REG_X86_CR0, (1ULL << 31) | 1);
	}
}

#endif
