/*
 * fuzz.h
 *		What the libFuzzer harnesses of src/core share: a check that turns a
 *		broken promise of the API into a crash the fuzzer reports.
 *
 * AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer find memory
 * errors; these checks find wrong answers: a status of the wrong class, a
 * payload handed back with a failure, a JSON member that its own name does
 * not find.
 */
#ifndef JWT_FUZZ_H
#define JWT_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond, what) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz check failed at %s:%d: %s (%s)\n", \
					__FILE__, __LINE__, (what), #cond); \
			abort(); \
		} \
	} while (0)

#endif							/* JWT_FUZZ_H */
