// The libpq C API, exposed to Swift as the CLibPQ module.
#include <libpq-fe.h>
