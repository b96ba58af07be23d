/* SPDX-License-Identifier: MIT */
/* u64map.h, the open-addressing table of the hot lookups: values stored
 * and found again through growth (100,000 keys, every 64-bit pattern
 * class: 0, ~0, keys that share their low bits), absent keys absent, a
 * put of a present key its old value, clear. */
#include "tap.h"
#include "u64map.h"

typedef struct {
	uint64_t a, b;
} val;

static void store_find_grow_clear(void)
{
	u64map m;
	u64map_init(&m, sizeof(val));
	CHECK(u64map_get(&m, 42) == NULL);
	const unsigned n = 100000;
	for (unsigned i = 0; i < n; i++) {
		uint64_t k = (uint64_t)i << 32; /* same low bits */
		bool made = false;
		val *v = u64map_put(&m, k, &made);
		CHECK(made);
		CHECK(v->a == 0 && v->b == 0);
		v->a = i;
		v->b = ~k;
	}
	bool made = true;
	val *z = u64map_put(&m, 0, &made);
	CHECK(!made && z->a == 0 && z->b == ~0ULL);
	val *f = u64map_put(&m, ~0ULL, &made);
	CHECK(made);
	f->a = 7;
	CHECK_EQ(m.len, n + 1);
	unsigned bad = 0;
	for (unsigned i = 0; i < n; i++) {
		val *v = u64map_get(&m, (uint64_t)i << 32);
		bad += !v || v->a != i || v->b != ~((uint64_t)i << 32);
	}
	CHECK_EQ(bad, 0);
	CHECK(u64map_get(&m, 1) == NULL);
	CHECK(((val *)u64map_get(&m, ~0ULL))->a == 7);
	CHECK(m.cap >= 2 * m.len && (m.cap & (m.cap - 1)) == 0);
	u64map_clear(&m);
	CHECK_EQ(m.len, 0);
	CHECK(u64map_get(&m, 0) == NULL && u64map_get(&m, ~0ULL) == NULL);
	u64map_free(&m);
}

int main(void)
{
	RUN(store_find_grow_clear);
	TAP_DONE();
}
