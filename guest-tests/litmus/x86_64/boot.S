/* SPDX-License-Identifier: MIT */
/*
 * x86-64 litmus harness: boot code.
 *
 * QEMU loads this ELF with -kernel through the PVH boot protocol: it finds
 * the Xen ELF note XEN_ELFNOTE_PHYS32_ENTRY, loads the PT_LOAD segments at
 * their physical addresses and (from its pvh.bin option ROM) enters
 * pvh_entry in 32-bit protected mode, paging off, interrupts off, with a
 * flat CS/DS and EBX pointing to an hvm_start_info (which we ignore).
 *
 * CPU0: pvh_entry -> own GDT -> zero .bss -> long mode -> bsp_main().
 * CPU1: INIT-SIPI-SIPI from CPU0 -> ap_trampoline (real mode, copied to
 *       AP_TRAMPOLINE) -> ap_entry32 -> long mode -> ap_main().
 *
 * All page tables are assembled statically (see the end of this file), so
 * the boot path performs no page-table stores at all.
 */
#include "layout.h"

/* --------------------------------------------------------------------- */
/* PVH ELF note (in its own PT_NOTE segment, see link.ld).                */
/* --------------------------------------------------------------------- */

/*
 * QEMU reads the descriptor of a 64-bit ELF as a 64-bit value (size_t), so
 * the 32-bit entry address is stored as a .quad.
 */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4			/* namesz: "Xen\0" */
	.long 8			/* descsz */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.quad pvh_entry
	.balign 4

/* --------------------------------------------------------------------- */
/* 32-bit entry and the switch to long mode.                              */
/* --------------------------------------------------------------------- */

/*
 * Enable PAE, load CR3, set EFER.LME, turn paging on (CR4.LA57 stays 0, so
 * this is 4-level paging) and far-jump to the 64-bit code at \target.
 * Clobbers eax, ecx, edx.
 */
.macro ENTER_LONG_MODE target
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP | CR0_PE), %eax
	movl %eax, %cr0
	ljmp $GDT_CODE64, $\target
.endm

.macro LOAD_DATA_SEGMENTS
	movl $GDT_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
.endm

	.section .text.boot, "ax"
	.code32
	.globl pvh_entry
pvh_entry:
	cli
	cld
	lgdt gdt_ptr
	ljmp $GDT_CODE32, $1f
1:	LOAD_DATA_SEGMENTS
	movl $bsp_stack_top, %esp

	/* .bss is zero-filled by QEMU's ELF loader already; be explicit. */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb

	ENTER_LONG_MODE bsp_entry64

/* CPU1 arrives here from the trampoline, in protected mode, paging off. */
	.globl ap_entry32
ap_entry32:
	LOAD_DATA_SEGMENTS
	ENTER_LONG_MODE ap_entry64

	.code64
bsp_entry64:
	movl $GDT_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movq $bsp_stack_top, %rsp
	xorl %ebp, %ebp
	call bsp_main
	jmp halt_forever

ap_entry64:
	movl $GDT_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movq $ap_stack_top, %rsp
	xorl %ebp, %ebp
	call ap_main
	jmp halt_forever

/* --------------------------------------------------------------------- */
/* AP real-mode trampoline: copied to AP_TRAMPOLINE and entered by SIPI    */
/* with CS = AP_TRAMPOLINE >> 4, IP = 0. Position independent (DS = CS).  */
/* --------------------------------------------------------------------- */

	.section .rodata.trampoline, "a"
	.code16
	.globl ap_trampoline, ap_trampoline_end
ap_trampoline:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl (ap_tramp_gdt_ptr - ap_trampoline)
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	/* 32-bit far jump into the image (linear address, CS base 0). */
	ljmpl $GDT_CODE32, $ap_entry32

	.balign 8
ap_tramp_gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt
ap_trampoline_end:
	.code64

/* --------------------------------------------------------------------- */
/* GDT. Accessed bits preset so the CPU never writes the descriptors.     */
/* --------------------------------------------------------------------- */

	.section .data.gdt, "aw"
	.balign 16
gdt:
	.quad 0				/* null */
	.quad 0x00cf9b000000ffff	/* 0x08: 32-bit code, flat */
	.quad 0x00cf93000000ffff	/* 0x10: data, flat */
	.quad 0x00af9b000000ffff	/* 0x18: 64-bit code */
gdt_end:

	.balign 8
	.word 0				/* pad so that the base is aligned */
gdt_ptr:
	.word gdt_end - gdt - 1
	.quad gdt

/* --------------------------------------------------------------------- */
/* Exception entry stubs (vectors 0-31).                                  */
/* --------------------------------------------------------------------- */

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERRCODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || \
			(v) == 21 || (v) == 29 || (v) == 30)

	.text
	.globl halt_forever
halt_forever:
	cli
	hlt
	jmp halt_forever

.macro ISR_STUB v
	.balign 16
isr_stub_\v:
	.ifeq HAS_ERRCODE(\v)
	pushq $0			/* dummy error code */
	.endif
	pushq $\v
	jmp isr_common
.endm

	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ISR_STUB \v
	.endr

/*
 * Stack on entry: vector, error code, RIP, CS, RFLAGS, RSP, SS.
 * Save the general registers below them (struct exc_frame in harness.c)
 * and call the C handler, which reports and powers off.
 */
isr_common:
	/* a #PF of the one load in probe_load resumes at probe_fault */
	cmpq $14, (%rsp)
	jne 1f
	pushq %rax
	leaq probe_insn(%rip), %rax
	cmpq %rax, 24(%rsp)		/* rax, vector, error code, RIP */
	jne 2f
	leaq probe_fault(%rip), %rax
	movq %rax, 24(%rsp)
	popq %rax
	addq $16, %rsp			/* vector and error code */
	iretq
2:	popq %rax
1:	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	andq $-16, %rsp
	cld
	call exception_handler
	jmp halt_forever

/*
 * uint64_t probe_load(uint64_t va): the 64-bit value at va, or
 * PROBE_FAULTED (~0) if the load took a page fault.
 */
	.globl probe_load
probe_load:
probe_insn:
	movq (%rdi), %rax
	ret
probe_fault:
	movq $-1, %rax
	ret

	.section .rodata
	.balign 8
	.globl isr_stub_table
isr_stub_table:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad isr_stub_\v
	.endr

/* --------------------------------------------------------------------- */
/* Stacks.                                                                */
/* --------------------------------------------------------------------- */

	.bss
	.balign 16
bsp_stack:
	.skip STACK_SIZE
	.globl bsp_stack_top
bsp_stack_top:
ap_stack:
	.skip STACK_SIZE
	.globl ap_stack_top
ap_stack_top:

/* --------------------------------------------------------------------- */
/* Page tables, all static. See layout.h for the map.                     */
/* --------------------------------------------------------------------- */

	.section .data.pagetables, "aw"
	.balign 4096
	.globl pml4, pdpt, pd_ident, pd_test, pt_test, pt_size, pd_apic, pt_apic
/* U/S on the walk to pt_test only (pml4[0], pdpt[1], pd_test[0]): a leaf
 * there is user-accessible exactly when it has U/S itself (pt_page_mapped_*,
 * layout.h); the identity map's and the APIC's walks stay supervisor-only. */
pml4:
	.quad pdpt + PTE_TABLE_USER
	.fill 511, 8, 0

pdpt:
	.quad pd_ident + PTE_TABLE	/* 0 - 1 GiB: identity */
	.quad pd_test + PTE_TABLE_USER	/* 1 - 2 GiB: test area */
	.quad 0
	.quad pd_apic + PTE_TABLE	/* 3 - 4 GiB: local APIC only */
	.fill 508, 8, 0

/* 0 - 1 GiB identity, 2 MiB pages. */
pd_ident:
	.set .Lidx, 0
	.rept 512
	.quad (.Lidx << 21) + PTE_LARGE
	.set .Lidx, .Lidx + 1
	.endr

/* Test area PD: [0] -> pt_test (4 KiB pages), [1] -> 2 MiB size region. */
pd_test:
	.quad pt_test + PTE_TABLE_USER
	.quad SIZE_REGION_PA + PTE_LARGE
	.fill 510, 8, 0

/* Test PT: empty; scenarios write their entries at run time. */
pt_test:
	.fill 512, 8, 0

/*
 * The same 2 MiB as pd_test[1], as 4 KiB pages, except that page
 * SIZE_CHANGE_PAGE maps SIZE_CHANGE_PA (installed by size_change*).
 */
pt_size:
	.set .Lidx, 0
	.rept 512
	.if .Lidx == SIZE_CHANGE_PAGE
	.quad SIZE_CHANGE_PA + PTE_PAGE
	.else
	.quad SIZE_REGION_PA + (.Lidx << 12) + PTE_PAGE
	.endif
	.set .Lidx, .Lidx + 1
	.endr

/* 3 - 4 GiB: only 0xfee00000 (pd_apic[0x1f7] -> pt_apic[0]), uncached. */
pd_apic:
	.fill 0x1f7, 8, 0
	.quad pt_apic + PTE_TABLE
	.fill 512 - 0x1f7 - 1, 8, 0

pt_apic:
	.quad APIC_BASE + PTE_PAGE + PTE_PCD + PTE_PWT
	.fill 511, 8, 0
