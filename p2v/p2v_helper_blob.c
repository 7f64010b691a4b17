/* p2v_helper_blob.c: the bytes of ksp2v-helper (p2v/helper), built by
 * CMake for this machine, embedded in kvmshift so that it can upload it to
 * a source for the duration of a copy. Empty when it could not be built. */
#include "p2v_internal.h"

#ifdef KS_HELPER_PATH
__asm__(".section .rodata\n"
        ".balign 16\n"
        ".global p2v_helper_blob\n"
        "p2v_helper_blob:\n"
        ".incbin \"" KS_HELPER_PATH "\"\n"
        ".global p2v_helper_blob_end\n"
        "p2v_helper_blob_end:\n"
        ".previous\n");
extern const unsigned char p2v_helper_blob_end[];

size_t p2v_helper_size(void)
{
    return (size_t)(p2v_helper_blob_end - p2v_helper_blob);
}
#else
const unsigned char p2v_helper_blob[1];

size_t p2v_helper_size(void)
{
    return 0;
}
#endif

const char *p2v_helper_arch(void)
{
#if defined(__x86_64__)
    return "x86_64";
#elif defined(__aarch64__)
    return "aarch64";
#else
    return "";
#endif
}
