/* SPDX-License-Identifier: MIT */
/*
 * Guest memory: RAM through the shared backend file the launcher created
 * (memory-backend-file, share=on), which the engine reads; and the memory
 * callbacks, the hot path: every load and store with its VA, the PA of the
 * TLB entry QEMU actually used, and the PC, through the engine's lock-free
 * filters (or, in a patched QEMU, only those to the pages the engine
 * watches: ptwatch_patched.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ptwatch.h"

/* guest RAM through the shared backend */
static uint8_t *ram;
static uint64_t ram_size, ram_base, ram_below_4g;

bool ram_map(const plugin_args *a)
{
	ram_base = a->ram_base;
	ram_below_4g = a->ram_below_4g;
	int fd = open(a->ram_path, O_RDONLY);
	if (fd < 0)
		FAIL("cannot open RAM backend '%s': %s", a->ram_path,
		     strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size <= 0) {
		close(fd);
		FAIL("RAM backend '%s' is empty or unreadable (is QEMU using "
		     "it with share=on?)",
		     a->ram_path);
	}
	ram_size = (uint64_t)st.st_size;
	ram = mmap(NULL, ram_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (ram == MAP_FAILED)
		FAIL("cannot map RAM backend '%s': %s", a->ram_path,
		     strerror(errno));
	if (!a->have_base)
		ram_base = arch == PTW_ARCH_ARM64 ? 0x40000000ULL : 0;
	if (arch == PTW_ARCH_X86_64) {
		if (!a->have_below)
			ram_below_4g = ram_size;
		if (ram_below_4g > ram_size)
			FAIL("ram_below_4g larger than RAM backend");
	}
	return true;
}

void ram_unmap(void)
{
	if (ram)
		munmap(ram, ram_size);
	ram = NULL;
}

void ram_layout(uint64_t *base, uint64_t *size, uint64_t *below_4g)
{
	*base = ram_base;
	*size = ram_size;
	*below_4g = ram_below_4g;
}

bool ram_read_phys(void *opaque, uint64_t pa, void *buf, size_t len)
{
	(void)opaque;
	uint64_t off;
	if (arch == PTW_ARCH_X86_64) {
		if (pa + len <= ram_below_4g)
			off = pa;
		else if (pa >= (1ULL << 32) &&
			 pa - (1ULL << 32) + len <= ram_size - ram_below_4g)
			off = ram_below_4g + (pa - (1ULL << 32));
		else
			return false;
	} else {
		if (pa < ram_base || pa - ram_base + len > ram_size)
			return false;
		off = pa - ram_base;
	}
	if (len == 8 && !(off & 7))
		*(uint64_t *)buf = __atomic_load_n((uint64_t *)(ram + off),
						   __ATOMIC_RELAXED);
	else
		memcpy(buf, ram + off, len);
	return true;
}

/* ------------------------------------------------------------------ */
/* hot path */

/*
 * Pages (by VA) seen to be MMIO. QEMU 10.0's qemu_plugin_get_hwaddr asserts
 * (iotlb_to_section) when an MMIO store has just changed the memory map,
 * e.g. a PCI BAR write, because the TLB entry still indexes the old map. MMIO
 * is of no interest here, so after a page is once seen as MMIO its stores
 * are not looked up again. Lock-free open-addressing set of VA pages.
 */
#define IO_PAGES 4096
static uint64_t io_pages[IO_PAGES];

static bool io_page_known(uint64_t page)
{
	uint64_t h = (page >> 12) * 0x9e3779b97f4a7c15ULL;
	for (unsigned i = 0; i < 8; i++) {
		uint64_t v = __atomic_load_n(&io_pages[(h + i) % IO_PAGES],
					     __ATOMIC_RELAXED);
		if (v == (page | 1))
			return true;
		if (!v)
			return false;
	}
	return false;
}

static void io_page_add(uint64_t page)
{
	uint64_t h = (page >> 12) * 0x9e3779b97f4a7c15ULL;
	for (unsigned i = 0; i < 8; i++) {
		uint64_t exp = 0;
		uint64_t *slot = &io_pages[(h + i) % IO_PAGES];
		if (__atomic_compare_exchange_n(slot, &exp, page | 1, false,
						__ATOMIC_RELAXED,
						__ATOMIC_RELAXED) ||
		    exp == (page | 1))
			return;
	}
}

void stall_vcpu(uint64_t ns)
{
	if (ns)
		g_usleep(ns / 1000 ? ns / 1000 : 1);
}

void mem_access(unsigned vcpu, uint64_t pc, uint64_t vaddr, uint64_t pa,
		unsigned size, bool st, const uint8_t *bytes, unsigned want)
{
	ptw_ctx c = ctx_of(vcpu, pc);
	uint64_t v64 = 0;
	memcpy(&v64, bytes, size < 8 ? size : 8);
	ptw_ev_access_checked(eng, &c, vaddr, pa, size, st, v64, want);
	if (st) {
		barrier_due_sync(vcpu);
		stall_vcpu(ptw_take_stall(eng, vcpu));
	}
	if ((want & PTW_INTEREST_DATA) && size <= 16)
		ptw_ev_data(eng, &c, vaddr, size, st, bytes);
}

void vcpu_mem(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr,
	      void *udata)
{
	bool st = qemu_plugin_mem_is_store(info);
	if (st && io_page_known(vaddr & ~0xfffULL))
		return;
	struct qemu_plugin_hwaddr *hw = qemu_plugin_get_hwaddr(info, vaddr);
	if (!hw)
		return;
	if (qemu_plugin_hwaddr_is_io(hw)) {
		io_page_add(vaddr & ~0xfffULL);
		return;
	}
	uint64_t pa = qemu_plugin_hwaddr_phys_addr(hw);
	unsigned size = 1u << qemu_plugin_mem_size_shift(info);
	unsigned want = ptw_access_interest(eng, vcpu, vaddr, pa, size, st);
	if (!want)
		return;
	qemu_plugin_mem_value mv = qemu_plugin_mem_get_value(info);
	uint8_t bytes[16];
	switch (mv.type) {
	case QEMU_PLUGIN_MEM_VALUE_U8:
		bytes[0] = mv.data.u8;
		break;
	case QEMU_PLUGIN_MEM_VALUE_U16:
		memcpy(bytes, &mv.data.u16, 2);
		break;
	case QEMU_PLUGIN_MEM_VALUE_U32:
		memcpy(bytes, &mv.data.u32, 4);
		break;
	case QEMU_PLUGIN_MEM_VALUE_U64:
		memcpy(bytes, &mv.data.u64, 8);
		break;
	case QEMU_PLUGIN_MEM_VALUE_U128:
		memcpy(bytes, &mv.data.u128.low, 8);
		memcpy(bytes + 8, &mv.data.u128.high, 8);
		break;
	}
	mem_access(vcpu, (uint64_t)(uintptr_t)udata, vaddr, pa, size, st, bytes,
		   want);
}
