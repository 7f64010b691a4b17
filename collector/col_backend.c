/* col_backend.c: which backend collects which inventory method. */
#include "col_backend.h"

const col_backend *col_backend_for(ks_method m)
{
    switch (m) {
    case KS_METHOD_SSH:
        return &col_backend_ssh;
    case KS_METHOD_SNMP:
        return &col_backend_snmp;
    case KS_METHOD_IMPORT:
        return NULL; /* imported data: nothing to poll */
    }
    return NULL;
}
