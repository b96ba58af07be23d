/* SPDX-License-Identifier: MIT */
/* The architecture front ends' pure decodes: what an adapter's raw
 * register values and instructions mean (arch_*.c, events.c,
 * guest_linux.c). */
#include <string.h>

#include "engine_internal.h"
#include "tap.h"

/* DSB CRm -> completes TLB maintenance or not, local (NSH) or not: the
 * rule det_dsb applies */
static void arm64_barriers(void)
{
	for (unsigned crm = 0; crm < 16; crm++) {
		ptw_barrier_kind k = ptw_arm64_barrier(crm);
		bool full =
			crm == 0xf || crm == 0xb || crm == 0x7 || crm == 0x3;
		CHECK_EQ(k.completes_tlbi, full);
		CHECK_EQ(k.local, crm == 0x7);
	}
}

int main(void)
{
	RUN(arm64_barriers);
	TAP_DONE();
}
