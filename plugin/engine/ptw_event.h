/* SPDX-License-Identifier: MIT */
/*
 * The engine's event boundary: every fact the engine learns about the guest
 * arrives as one ptw_event through ptw_engine_event(), and everything it
 * reads from guest memory goes through the configured reader (ptw_config
 * read_phys). A trace (docs/trace-format.md) is exactly this stream plus
 * those reads, so a replay feeds the same engine the same input.
 *
 * Producers: the QEMU plugin (plugin/ptwatch.c and the files beside it,
 * plugin/ptwatch.h) turns QEMU callbacks into events through the
 * architecture front ends in ptw.h (ptw_ev_arm64_tlbi() decodes a TLBI to
 * its scope, ptw_ev_x86_insn() reads the registers an instruction names
 * ...), the trace reader replays recorded events, the unit tests build them
 * by hand. Nothing below this header includes QEMU headers or knows which
 * producer feeds it.
 */
#ifndef PTW_EVENT_H
#define PTW_EVENT_H

#include <stdbool.h>
#include <stdint.h>

/* Scope of a TLB invalidation, decoded. */
typedef struct {
	bool all;	/* everything (incl. global) */
	bool nonglobal; /* all non-global entries */
	bool by_asid;	/* restrict non-global matches to asid */
	uint16_t asid;
	bool by_va;
	uint64_t va_lo, va_hi; /* inclusive range */
	bool scoped;	       /* a targeted (VA or ASID) operation */
} ptw_inval_scope;

typedef enum {
	PTW_EV_SYSREG = 1,     /* sysreg: a translation control or root */
	PTW_EV_ACCESS,	       /* access: a load or store the filters kept */
	PTW_EV_DATA,	       /* data: an access to tracked data, with bytes */
	PTW_EV_INVAL,	       /* inval: TLB invalidation, decoded scope */
	PTW_EV_BARRIER,	       /* barrier: arm64 DSB */
	PTW_EV_CLIENT,	       /* client: a request from the guest */
	PTW_EV_LOWER_ENTRY,    /* the vCPU went on to lower-half (user) code */
	PTW_EV_TASK,	       /* task: the vCPU runs another guest task */
	PTW_EV_CALL,	       /* a call to the watched rmap walker (Linux) */
	PTW_EV_OP_START,       /* the task starts an operation (Linux fault) */
	PTW_EV_DEFERRED_FLUSH, /* reclaim completes a deferred flush */
	PTW_EV_FINISH,	       /* the run ended: final checks, summary */
	/* from a patched QEMU's fault callback (qemu-patches/) only: */
	PTW_EV_FAULT, /* fault: a translation fault delivered to the guest */
	PTW_EV_HW_UPDATE, /* the MMU set an entry's access or dirty flag */
	PTW_EV_ZAP,	  /* Linux: a call to zap_page_range_single() */
	PTW_EV_COUNT
} ptw_ev_kind;

/* access.flags */
#define PTW_ACC_STORE	0x1
#define PTW_ACC_TABLE	0x2 /* the PA lies in a page-table page */
#define PTW_ACC_PENDING 0x4 /* a pending stale-TLB record may cover the PA */

/* inval.origin */
typedef enum {
	PTW_INVAL_TLBI = 1, /* arm64 TLBI: local or broadcast */
	/* x86 INVLPG / INVPCID: this CPU only; also ends its unmap pass */
	PTW_INVAL_LOCAL_FLUSH = 2,
} ptw_inval_origin;

typedef struct {
	ptw_ev_kind kind;
	ptw_ctx ctx;
	union {
		struct {
			ptw_reg reg;
			uint64_t value;
		} sysreg;
		struct {
			uint64_t va, pa, value; /* value: what QEMU reported */
			uint8_t size, flags;
		} access;
		struct {
			uint64_t va;
			uint8_t size; /* 1..64 */
			bool store;
			uint8_t bytes[64];
		} data;
		struct {
			ptw_inval_scope scope;
			uint8_t origin; /* ptw_inval_origin */
			bool broadcast; /* all CPUs (arm64 Inner Shareable) */
			/* false: an encoding not modelled, taken as all */
			bool modelled;
			uint8_t op1, crm, op2; /* arm64 encoding, for logs */
		} inval;
		struct {
			uint8_t crm; /* DSB option: 0xb ISH, 0xf SY, ... */
		} barrier;
		struct {
			uint64_t req, a[4];
		} client;
		struct {
			uint64_t task;
		} task;
		struct {
			uint64_t va; /* the faulting address; ctx.pc: insn */
			uint64_t pte_pa; /* has_desc: the entry that faulted */
			uint64_t desc;	 /* its value as the walker read it */
			int8_t level;	 /* its table's level, -2: none */
			uint8_t type;	 /* ptw_fault_type */
			bool store, fetch, has_desc;
		} fault;
		struct {
			uint64_t pte_pa;   /* the entry the MMU updated */
			uint64_t old, new; /* its value before and after */
			uint64_t va;	   /* the access being translated */
		} hw_update;
		struct {
			uint64_t start, size; /* the VA range it zaps */
			uint64_t details;     /* struct zap_details *, or 0 */
		} zap;
	};
} ptw_event;

/* fault.type (the patched QEMU's enum qemu_plugin_fault_type) */
typedef enum {
	PTW_FAULT_TRANSLATION = 0, /* an invalid (not present) entry */
	PTW_FAULT_ACCESS_FLAG = 1,
	PTW_FAULT_PERMISSION = 2,
	PTW_FAULT_OTHER = 3,
} ptw_fault_type;

/* Feed one event to the engine. Returns, for PTW_EV_DEFERRED_FLUSH, how
 * long the producer should stall the vCPU (widen=), else 0. Thread-safe. */
uint64_t ptw_engine_event(ptw_engine *e, const ptw_event *ev);

#endif
