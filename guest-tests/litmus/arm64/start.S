/* SPDX-License-Identifier: MIT */
/*
 * arm64 litmus guests: entry points and the exception vector table.
 *
 * QEMU (-M virt, no EL2/EL3) starts CPU0 at _start at EL1h with the MMU
 * off and all interrupts masked; CPU1 starts at secondary_entry in the same
 * state once CPU0 calls PSCI CPU_ON. The image runs at its link address.
 */
#include "layout.h"

	.section .text.boot, "ax"

	.globl	_start
_start:
	ldr	x0, =vectors
	msr	vbar_el1, x0
	isb
	ldr	x0, =cpu0_stack_top
	mov	sp, x0

	/* Zero .bss (page tables, shared state, stacks): 64-bit stores. */
	ldr	x0, =__bss_start
	ldr	x1, =__bss_end
1:	cmp	x0, x1
	b.hs	2f
	str	xzr, [x0], #8
	b	1b
2:
	bl	primary_main
	b	park

	.globl	secondary_entry
secondary_entry:
	ldr	x0, =vectors
	msr	vbar_el1, x0
	isb
	ldr	x0, =cpu1_stack_top
	mov	sp, x0
	bl	secondary_main

	.globl	park
park:
	wfe
	b	park

	.ltorg

/*
 * Exception vectors: 16 entries of 0x80 bytes. Every exception is fatal,
 * so each entry just passes its index to exc_common; except a fault of
 * the one load in probe_load, which resumes at probe_fault (x16, x17 are
 * the intra-procedure scratch registers: probe_load's callers expect them
 * clobbered).
 */
	.section .text.vectors, "ax"
	.balign	0x800
	.globl	vectors
vectors:
	.irp	idx, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	.balign	0x80
	mrs	x16, elr_el1
	adr	x17, probe_insn
	cmp	x16, x17
	b.eq	probe_resume
	mov	x0, #\idx
	b	exc_common
	.endr

probe_resume:
	adr	x16, probe_fault
	msr	elr_el1, x16
	eret

/*
 * uint64_t probe_load(uint64_t va): the 64-bit value at va, or
 * PROBE_FAULTED if the load took an exception (a translation fault).
 */
	.text
	.globl	probe_load
probe_load:
probe_insn:
	ldr	x0, [x0]
	ret
probe_fault:
	mov	x0, #-1
	ret

exc_common:
	/* Fresh stack at the top of this CPU's stack: we never return. */
	mrs	x4, mpidr_el1
	and	x4, x4, #0xff
	ldr	x5, =cpu0_stack_top
	ldr	x6, =cpu1_stack_top
	cmp	x4, #0
	csel	x5, x5, x6, eq
	mov	sp, x5
	mrs	x1, esr_el1
	mrs	x2, far_el1
	mrs	x3, elr_el1
	bl	exception_handler
	b	park

	.ltorg

	.section .bss.stacks, "aw", %nobits
	.balign	16
cpu0_stack:
	.space	STACK_SIZE
cpu0_stack_top:
cpu1_stack:
	.space	STACK_SIZE
cpu1_stack_top:
