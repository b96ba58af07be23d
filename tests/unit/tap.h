/* SPDX-License-Identifier: MIT */
/* Minimal TAP helpers for ptwatch unit tests. */
#ifndef PTW_TAP_H
#define PTW_TAP_H
#include <stdio.h>
#include <inttypes.h>

static int tap_n, tap_fail, tap_case_fail;
static const char *tap_case;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			printf("# %s:%d: check failed: %s\n", __FILE__,        \
			       __LINE__, #cond);                               \
			tap_case_fail = 1;                                     \
		}                                                              \
	} while (0)

#define CHECK_EQ(a, b)                                                         \
	do {                                                                   \
		uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b);               \
		if (_a != _b) {                                                \
			printf("# %s:%d: %s == 0x%" PRIx64                     \
			       ", expected %s == 0x%" PRIx64 "\n",             \
			       __FILE__, __LINE__, #a, _a, #b, _b);            \
			tap_case_fail = 1;                                     \
		}                                                              \
	} while (0)

#define RUN(fn)                                                                \
	do {                                                                   \
		tap_case = #fn;                                                \
		tap_case_fail = 0;                                             \
		fn();                                                          \
		tap_n++;                                                       \
		if (tap_case_fail)                                             \
			tap_fail++;                                            \
		printf("%s %d - %s\n", tap_case_fail ? "not ok" : "ok", tap_n, \
		       tap_case);                                              \
	} while (0)

#define TAP_DONE()                                                             \
	do {                                                                   \
		printf("1..%d\n", tap_n);                                      \
		return tap_fail ? 1 : 0;                                       \
	} while (0)

#endif
