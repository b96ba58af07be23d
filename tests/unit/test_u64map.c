/* SPDX-License-Identifier: MIT */
/* u64map.h, the open-addressing table of the hot lookups: values stored
 * and found again through growth (100,000 keys, every 64-bit pattern
 * class: 0, ~0, keys that share their low bits), absent keys absent, a
 * put of a present key its old value, clear; removal. */
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

/* removal against a GHashTable: keys that crowd into few home slots
 * (multiples of 2^40: long runs that wrap around the table's end), put
 * and removed at random; every key the reference holds is found with its
 * value, every other one absent */
static void remove_keeps_runs(void)
{
	u64map m;
	u64map_init(&m, sizeof(uint64_t));
	GHashTable *ref = g_hash_table_new_full(g_int64_hash, g_int64_equal,
						g_free, g_free);
	uint64_t seed = 1;
	unsigned bad = 0;
	for (unsigned step = 0; step < 200000; step++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		uint64_t k = (seed >> 33) % 3000;
		k = k % 3 ? k << 40 : k;
		if ((seed >> 20) & 1) {
			*(uint64_t *)u64map_put(&m, k, NULL) = step;
			uint64_t *kk = g_new(uint64_t, 1),
				 *vv = g_new(uint64_t, 1);
			*kk = k;
			*vv = step;
			g_hash_table_replace(ref, kk, vv);
		} else {
			bool had = g_hash_table_remove(ref, &k);
			bad += u64map_remove(&m, k) != had;
		}
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(m.len, g_hash_table_size(ref));
	for (uint64_t k0 = 0; k0 < 3000; k0++) {
		uint64_t k = k0 % 3 ? k0 << 40 : k0;
		uint64_t *want = g_hash_table_lookup(ref, &k);
		uint64_t *got = u64map_get(&m, k);
		bad += want ? !got || *got != *want : got != NULL;
	}
	CHECK_EQ(bad, 0);
	CHECK(!u64map_remove(&m, 1ULL << 63));
	g_hash_table_destroy(ref);
	u64map_free(&m);
}

int main(void)
{
	RUN(store_find_grow_clear);
	RUN(remove_keeps_runs);
	TAP_DONE();
}
