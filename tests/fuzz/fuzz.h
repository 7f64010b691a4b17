/* fuzz.h: what every fuzz target here shares. Each defines
 * LLVMFuzzerTestOneInput (replayed by replay.c under ctest, or run by
 * libFuzzer) and aborts through REQUIRE when a result breaks its contract,
 * so that the fuzzer and the sanitizers report it. */
#ifndef KS_FUZZ_H
#define KS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#endif
