/*
 * backend.h — what the dispatcher (store.c) and every storage backend share: the
 * first member of a backend's handle and of its plugin statements, which says
 * whose it is. A backend's handle (struct cf__sqlite, struct cf__pg) starts with a
 * cf__store, so the engine holds a cf__store * and store.c hands the call to the
 * backend that opened it. Nothing else of a backend is seen outside its folder.
 */
#ifndef CF_STORE_BACKEND_H
#define CF_STORE_BACKEND_H

#include "store/store.h"

enum {
    CF__BACKEND_SQLITE = 1, /* engine/store/sqlite/: a file or ":memory:" */
    CF__BACKEND_PG = 2      /* engine/store/pg/: a postgresql:// URI or a libpq connection string */
};

struct cf__store {
    int backend;
};

struct cf__pstmt {
    int backend;
};

#endif /* CF_STORE_BACKEND_H */
