/* SPDX-License-Identifier: MIT */
/*
 * The engine's concurrency, under ThreadSanitizer (this test and the
 * engine it links are built with -fsanitize=thread; a data race it sees
 * ends the test with a report and a non-zero status): two vCPU threads
 * send events at once as the plugin's vCPU threads do, on the same tables
 * of an arm64 fake guest. vCPU 0 breaks and makes an entry again and
 * again (its stores, TLBIs and DSBs taken under the engine lock), returns
 * to user mode, calls the rmap walker and completes deferred flushes (the
 * three events applied without the lock, on its own vCPU's slots); vCPU 1
 * loads the entry and the data it maps (under the lock: the detectors
 * read the tasks' returns to user, which vCPU 0 writes without it) and
 * returns to user mode too, asks the lock-free filters about the old page
 * (ptw_access_interest(), ptw_watch_unwanted(): the stale-TLB records'
 * per-vCPU filters and the page watch's lingering pages, which vCPU 0's
 * events change under the lock) and reloads its TTBR0 now and then (the
 * address-space keys those filters read). The guest's memory is the
 * harness's: its
 * writes and the engine's reads of it take one mutex, as RAM is atomic per
 * access. Then every event counted: no store, load or return lost.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ptw.h"
#include "tap.h"

#define RAM	 0x40000000ULL
#define L0	 (RAM + 0x100000)
#define L1	 (RAM + 0x101000)
#define L2	 (RAM + 0x102000)
#define L3	 (RAM + 0x103000)
#define PAGE_A	 (RAM + 0x200000)
#define VA	 0x100000000ULL /* L0[0] L1[4] L2[0] L3[0] */
#define PAGE(pa) ((pa) | (1ULL << 11) | (1ULL << 10) | (3ULL << 8) | 3ULL)
#define ROUNDS	 20000
#define TASK_A	 0xffff000000a00000ULL /* guest task_structs */
#define TASK_B	 0xffff000000b00000ULL
#define TASK_C	 0xffff000000c00000ULL

static uint8_t *mem;
static pthread_mutex_t mem_lock = PTHREAD_MUTEX_INITIALIZER;
static ptw_engine *eng;

static bool ram_read(void *opaque, uint64_t pa, void *buf, size_t len)
{
	(void)opaque;
	if (pa < RAM || pa - RAM + len > (4u << 20))
		return false;
	pthread_mutex_lock(&mem_lock);
	memcpy(buf, mem + (pa - RAM), len);
	pthread_mutex_unlock(&mem_lock);
	return true;
}

static void ram_w64(uint64_t pa, uint64_t v)
{
	pthread_mutex_lock(&mem_lock);
	memcpy(mem + (pa - RAM), &v, 8);
	pthread_mutex_unlock(&mem_lock);
}

typedef struct {
	unsigned cpu;
	uint64_t icount;
} vcpu;

/* a page watch that keeps nothing: the engine's own counts are what is
 * raced on */
static unsigned watch_calls;
static void watch_phys(void *opaque, uint64_t pa, uint64_t len, bool on)
{
	(void)opaque;
	(void)pa;
	(void)len;
	(void)on;
	__atomic_fetch_add(&watch_calls, 1, __ATOMIC_RELAXED);
}

static void watch_vrange(void *opaque, uint64_t lo, uint64_t hi)
{
	(void)opaque;
	(void)lo;
	(void)hi;
}

static ptw_ctx next(vcpu *v, uint64_t pc)
{
	ptw_ctx c = {.cpu = v->cpu, .pc = pc, .icount = ++v->icount};
	return c;
}

static void *breaker(void *arg)
{
	vcpu *v = arg;
	for (int i = 0; i < ROUNDS; i++) {
		ptw_ctx c = next(v, 0x1000);
		ram_w64(L3, 0);
		ptw_ev_access(eng, &c, L3, L3, 8, true, 0);
		c = next(v, 0x1004);
		ptw_ev_arm64_dsb(eng, &c, 0xb);
		c = next(v, 0x1008);
		ptw_ev_arm64_tlbi(eng, &c, 0, 3, 1, (VA >> 12) | (1ULL << 48));
		c = next(v, 0x100c);
		ptw_ev_arm64_dsb(eng, &c, 0xb);
		c = next(v, 0x1010);
		ram_w64(L3, PAGE(PAGE_A));
		ptw_ev_access(eng, &c, L3, L3, 8, true, PAGE(PAGE_A));
		ptw_ev_lower_half_entry(eng, v->cpu);
		c = next(v, 0x1012);
		ptw_ev_task(eng, &c, i & 1 ? TASK_A : TASK_B);
		c = next(v, 0x1014);
		ptw_ev_call(eng, &c);
		c = next(v, 0x1018);
		ptw_ev_deferred_flush_call(eng, &c);
	}
	return NULL;
}

static void *reader(void *arg)
{
	vcpu *v = arg;
	for (int i = 0; i < ROUNDS; i++) {
		uint64_t d;
		ram_read(NULL, L3, &d, 8);
		ptw_ctx c = next(v, 0x2000);
		ptw_ev_access(eng, &c, L3, L3, 8, false, d);
		c = next(v, 0x2004);
		ptw_ev_access(eng, &c, VA, PAGE_A, 8, false, 0);
		if (!ptw_access_interest(eng, v->cpu, 0xffff000000000000ULL,
					 PAGE_A, 8, true))
			ptw_watch_unwanted(eng, PAGE_A);
		if (!(i % 64)) {
			c = next(v, 0x2006);
			ptw_ev_sysreg(eng, &c, PTW_REG_ARM_TTBR0,
				      L0 | (1ULL << 48));
		}
		ptw_ev_lower_half_entry(eng, v->cpu);
		/* task A moves between the vCPUs */
		c = next(v, 0x2008);
		ptw_ev_task(eng, &c, i & 1 ? TASK_C : TASK_A);
	}
	return NULL;
}

static void two_vcpus_at_once(void)
{
	mem = calloc(1, 4u << 20);
	ptw_config cfg = {
		.arch = PTW_ARCH_ARM64, .ncpus = 2, .read_phys = ram_read};
	char *err = NULL;
	eng = ptw_engine_new(&cfg, &err);
	CHECK(eng != NULL);
	if (!eng)
		return;
	ptw_watch_ops w = {.phys = watch_phys, .vrange = watch_vrange};
	ptw_set_watch(eng, &w);
	const uint64_t t[4] = {L0, L1, L2, L3};
	for (int l = 0; l < 4; l++)
		ram_w64(t[l] + ((VA >> (39 - 9 * l)) & 511) * 8,
			l < 3 ? t[l + 1] | 3ULL : PAGE(PAGE_A));
	vcpu v[2] = {{0, 0}, {1, 0}};
	for (unsigned c = 0; c < 2; c++) {
		ptw_ctx x = next(&v[c], 0x100);
		ptw_ev_sysreg(eng, &x, PTW_REG_ARM_MAIR, 0xff);
		ptw_ev_sysreg(eng, &x, PTW_REG_ARM_TCR,
			      16ULL | (1ULL << 23) | (1ULL << 36));
		ptw_ev_sysreg(eng, &x, PTW_REG_ARM_TTBR0, L0 | (1ULL << 48));
		ptw_ev_sysreg(eng, &x, PTW_REG_ARM_SCTLR, 1);
	}
	uint64_t stores0 = ptw_stat(eng, "page_table_stores");
	uint64_t loads0 = ptw_stat(eng, "page_table_loads");
	pthread_t a, b;
	pthread_create(&a, NULL, breaker, &v[0]);
	pthread_create(&b, NULL, reader, &v[1]);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	CHECK_EQ(ptw_stat(eng, "page_table_stores") - stores0, 2 * ROUNDS);
	CHECK_EQ(ptw_stat(eng, "page_table_loads") - loads0, ROUNDS);
	CHECK_EQ(ptw_stat(eng, "lower_half_entries"), 2 * ROUNDS);
	CHECK(watch_calls > 0);
	CHECK(ptw_stat(eng, "watch_pages_unlingered") > 0);
	ptw_engine_finish(eng);
	ptw_engine_free(eng);
	free(mem);
}

int main(void)
{
	RUN(two_vcpus_at_once);
	TAP_DONE();
}
