/* SPDX-License-Identifier: MIT */
/*
 * What every detector (det_*.c) includes: the interface (detector.h) and
 * the helpers of detectors.c that build findings. Nothing here belongs to
 * one detector; a detector's own types and limits stay in its file.
 * Hidden: nothing here leaves the plugin.
 */
#ifndef PTW_DETECTORS_H
#define PTW_DETECTORS_H

#include <string.h>

#include "detector.h"

#pragma GCC visibility push(hidden)

/* detectors.c: findings */
void describe_nonpresent(ptw_engine *e, uint64_t d, int level, char *buf,
			 size_t n);
void report(ptw_engine *e, ptw_kind k, ptw_severity sev, const char *sev_why,
	    const ptw_ctx *c, uint64_t pte_pa, uint64_t va, int level,
	    uint64_t old, uint64_t new, const char *detail);
guint u64_hash(gconstpointer p);
gboolean u64_eq(gconstpointer a, gconstpointer b);

#pragma GCC visibility pop

#endif
