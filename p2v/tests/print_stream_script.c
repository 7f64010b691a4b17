/* print_stream_script.c: print the shell loop the source runs
 * (p2v_stream_script), so that test_helper.sh can run it beside
 * ksp2v-helper on the same requests. */
#include <stdio.h>

#include "p2v_stream.h"

int main(void)
{
    fputs(p2v_stream_script, stdout);
    return 0;
}
