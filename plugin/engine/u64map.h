/* SPDX-License-Identifier: MIT */
/*
 * An open-addressing hash table for the hot lookups (issue 24): 64-bit
 * keys, values of one fixed size stored inline (no allocation per entry,
 * no pointer chased per lookup), linear probing, grown by doubling at half
 * full. A key is removed by shifting the later keys of its run back (no
 * tombstones), or all at once (u64map_clear). Not thread-safe (the engine
 * lock guards it).
 */
#ifndef PTW_U64MAP_H
#define PTW_U64MAP_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef struct {
	size_t vsize; /* bytes per value */
	size_t cap;   /* slots, a power of two (0: none yet) */
	size_t len;   /* keys present */
	uint64_t *keys;
	uint8_t *used;
	uint8_t *vals; /* cap * vsize */
} u64map;

static inline void u64map_init(u64map *m, size_t vsize)
{
	memset(m, 0, sizeof(*m));
	m->vsize = vsize;
}

static inline void u64map_free(u64map *m)
{
	g_free(m->keys);
	g_free(m->used);
	g_free(m->vals);
	m->keys = NULL;
	m->used = NULL;
	m->vals = NULL;
	m->cap = m->len = 0;
}

static inline size_t u64map_slot(const u64map *m, uint64_t key)
{
	uint64_t h = key * 0x9e3779b97f4a7c15ULL;
	return (size_t)(h ^ h >> 29) & (m->cap - 1);
}

/* the value of key, or NULL */
static inline void *u64map_get(const u64map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = u64map_slot(m, key);; i = (i + 1) & (m->cap - 1)) {
		if (!m->used[i])
			return NULL;
		if (m->keys[i] == key)
			return m->vals + i * m->vsize;
	}
}

static inline void u64map_grow(u64map *m);

/* key's value, made (zeroed) if absent; *made says which */
static inline void *u64map_put(u64map *m, uint64_t key, bool *made)
{
	if (2 * (m->len + 1) > m->cap)
		u64map_grow(m);
	size_t i = u64map_slot(m, key);
	for (; m->used[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key) {
			if (made)
				*made = false;
			return m->vals + i * m->vsize;
		}
	m->used[i] = 1;
	m->keys[i] = key;
	m->len++;
	memset(m->vals + i * m->vsize, 0, m->vsize);
	if (made)
		*made = true;
	return m->vals + i * m->vsize;
}

static inline void u64map_grow(u64map *m)
{
	u64map old = *m;
	m->cap = old.cap ? old.cap * 2 : 1024;
	m->len = 0;
	m->keys = g_new(uint64_t, m->cap);
	m->used = g_new0(uint8_t, m->cap);
	m->vals = g_malloc(m->cap * m->vsize);
	for (size_t i = 0; i < old.cap; i++)
		if (old.used[i]) {
			void *v = u64map_put(m, old.keys[i], NULL);
			memcpy(v, old.vals + i * m->vsize, m->vsize);
		}
	g_free(old.keys);
	g_free(old.used);
	g_free(old.vals);
}

/* key gone (false: it was absent). The keys after it in its run that may
 * live earlier (their home slot is not between the hole and them) move
 * back into the hole, so every key stays reachable from its home slot. */
static inline bool u64map_remove(u64map *m, uint64_t key)
{
	if (!m->cap)
		return false;
	size_t mask = m->cap - 1, i = u64map_slot(m, key);
	for (;; i = (i + 1) & mask) {
		if (!m->used[i])
			return false;
		if (m->keys[i] == key)
			break;
	}
	for (size_t j = (i + 1) & mask; m->used[j]; j = (j + 1) & mask) {
		size_t home = u64map_slot(m, m->keys[j]);
		/* stays if its home is cyclically in (i, j] */
		if (((j - home) & mask) < ((j - i) & mask))
			continue;
		m->keys[i] = m->keys[j];
		memcpy(m->vals + i * m->vsize, m->vals + j * m->vsize,
		       m->vsize);
		i = j;
	}
	m->used[i] = 0;
	m->len--;
	return true;
}

/* The value in slot i (i < m->cap), NULL when the slot is empty: a scan of
 * every key. A removal moves keys between slots: collect what to remove
 * during the scan, remove after it. */
static inline void *u64map_slot_value(const u64map *m, size_t i)
{
	return m->used[i] ? m->vals + i * m->vsize : NULL;
}

/* every key gone (the table keeps its size) */
static inline void u64map_clear(u64map *m)
{
	if (m->cap)
		memset(m->used, 0, m->cap);
	m->len = 0;
}

#endif
