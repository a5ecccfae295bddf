/*
 * util.c — small pieces every engine file needs: error messages, a growable
 * buffer, reading files and folders, SHA-256, "did you mean" hints, the one
 * check of a table's keys (a Lua table or a JSON object), the checks of text at
 * the door, names, and the one rule for JSON objects.
 */
#include "internal.h"

#include <lua.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cf__fail(cf__err *err, int rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return rc;
}

void cf__err_prefix(cf__err *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[CF__MSG_MAX];
    char old[CF__MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    cf__buf b = {0};
    cf__buf_printf(&b, "%s: %s", prefix, old);
    if (b.data) {
        size_t n = b.len < sizeof err->msg - 1 ? b.len : sizeof err->msg - 1;
        memcpy(err->msg, b.data, n);
        err->msg[n] = '\0';
    }
    cf__buf_free(&b);
}

void cf__buf_append(cf__buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void cf__buf_puts(cf__buf *b, const char *s)
{
    cf__buf_append(b, s, strlen(s));
}

void cf__buf_printf(cf__buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        cf__buf_append(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    cf__buf_append(b, big, (size_t)n);
    free(big);
}

void cf__buf_free(cf__buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

char *cf__strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

int cf__read_file(const char *path, char **out, size_t *len, cf__err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cf__fail(err, CF_EIO, "cannot open %s: %s (check the path and its permissions)", path,
                        strerror(errno));
    cf__buf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        cf__buf_append(&b, chunk, n);
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        cf__buf_free(&b);
        return cf__fail(err, CF_EIO, "cannot read %s", path);
    }
    if (b.oom) {
        cf__buf_free(&b);
        return cf__fail(err, CF_ENOMEM, "out of memory reading %s", path);
    }
    if (!b.data)
        cf__buf_append(&b, "", 0);
    if (b.oom) {
        cf__buf_free(&b);
        return cf__fail(err, CF_ENOMEM, "out of memory reading %s", path);
    }
    if (len)
        *len = b.len;
    *out = b.data;
    return CF_OK;
}

static void hex_digest(const unsigned char md[32], char out[CF__HASH_HEX])
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

/* SHA-256 fetched from OpenSSL's default provider once per process (issue 13):
 * EVP_sha256() makes every digest call look the algorithm up again, which cost
 * about as much as hashing a history row. The fetched method lives until the
 * process ends (OpenSSL frees it at exit); NULL if the fetch failed, and then
 * the implicit EVP_sha256() is used. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
/* And one digest context per thread, reused by every cf__sha256_hex (issue 13's
 * lean fire: EVP_Digest allocates, sets up and frees a context on every call, and
 * a fire hashes four times). The context goes with its thread (the key's
 * destructor); without the key, or without memory for a context, EVP_Digest. */
static pthread_key_t sha256_key;
static bool sha256_key_ok;

static void sha256_ctx_free(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    sha256_key_ok = pthread_key_create(&sha256_key, sha256_ctx_free) == 0;
}

static EVP_MD_CTX *sha256_ctx(void)
{
    if (!sha256_key_ok)
        return NULL;
    EVP_MD_CTX *ctx = pthread_getspecific(sha256_key);
    if (!ctx && (ctx = EVP_MD_CTX_new()) != NULL && pthread_setspecific(sha256_key, ctx) != 0) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

static const EVP_MD *sha256_method(void)
{
    pthread_once(&sha256_once, sha256_fetch);
    return sha256_md ? sha256_md : EVP_sha256();
}

void cf__sha256_hex(const void *data, size_t len, char out[CF__HASH_HEX])
{
    /* Every history append hashes a row: the thread's context, set up again. */
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    const EVP_MD *method = sha256_method();
    EVP_MD_CTX *ctx = sha256_ctx();
    int ok = ctx ? EVP_DigestInit_ex(ctx, method, NULL) == 1 && EVP_DigestUpdate(ctx, data, len) == 1 &&
                       EVP_DigestFinal_ex(ctx, md, &n) == 1
                 : EVP_Digest(data, len, md, &n, method, NULL) == 1;
    if (!ok || n != 32) {
        /* Only reachable when memory ran out: an all-'x' hash never verifies. */
        memset(out, 'x', CF__HASH_HEX - 1);
        out[CF__HASH_HEX - 1] = '\0';
        return;
    }
    hex_digest(md, out);
}

struct cf__sha256 {
    EVP_MD_CTX *ctx;
};

cf__sha256 *cf__sha256_new(void)
{
    cf__sha256 *h = malloc(sizeof *h);
    if (!h)
        return NULL;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || EVP_DigestInit_ex(h->ctx, sha256_method(), NULL) != 1) {
        EVP_MD_CTX_free(h->ctx);
        free(h);
        return NULL;
    }
    return h;
}

void cf__sha256_update(cf__sha256 *h, const void *data, size_t len)
{
    if (h && len)
        EVP_DigestUpdate(h->ctx, data, len);
}

void cf__sha256_final(cf__sha256 *h, char out[CF__HASH_HEX])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!h || EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != 32) {
        /* Only reachable when memory ran out: an all-'x' hash never verifies. */
        memset(out, 'x', CF__HASH_HEX - 1);
        out[CF__HASH_HEX - 1] = '\0';
    } else {
        for (unsigned i = 0; i < 32; i++) {
            out[2 * i] = hex[md[i] >> 4];
            out[2 * i + 1] = hex[md[i] & 15];
        }
        out[64] = '\0';
    }
    if (h) {
        EVP_MD_CTX_free(h->ctx);
        free(h);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cf__list_dir(const char *dir, const char *suffix, char ***names, size_t *count, cf__err *err)
{
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return cf__fail(err, CF_EIO, "cannot open folder %s: %s (check the path given in the options)", dir,
                        strerror(errno));
    char **list = NULL;
    size_t n = 0, cap = 0;
    size_t slen = strlen(suffix);
    struct dirent *ent;
    int rc = CF_OK;
    while ((ent = readdir(d)) != NULL) {
        size_t len = strlen(ent->d_name);
        if (ent->d_name[0] == '.' || len <= slen || strcmp(ent->d_name + len - slen, suffix) != 0)
            continue;
        size_t plen = strlen(dir) + 1 + len + 1;
        char *path = malloc(plen);
        if (!path) {
            rc = CF_ENOMEM;
            break;
        }
        snprintf(path, plen, "%s/%s", dir, ent->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **p = realloc(list, ncap * sizeof *p);
            if (!p) {
                free(path);
                rc = CF_ENOMEM;
                break;
            }
            list = p;
            cap = ncap;
        }
        list[n++] = path;
    }
    closedir(d);
    if (rc != CF_OK) {
        cf__free_list(list, n);
        return cf__fail(err, rc, "out of memory listing %s", dir);
    }
    if (n)
        qsort(list, n, sizeof *list, cmp_str);
    *names = list;
    *count = n;
    return CF_OK;
}

void cf__free_list(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

size_t cf__edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            size_t m = sub < del ? sub : del;
            cur[j] = m < ins ? m : ins;
        }
        memcpy(prev, cur, sizeof(size_t) * (lb + 1));
    }
    return prev[lb];
}

const char *cf__closest(const char *name, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    size_t best_d = 4;
    for (size_t i = 0; i < n; i++) {
        size_t d = cf__edit_distance(name, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best;
}

/* ---- The one check of a table's keys ---- */

static void keys_begin(cf__keys_found *f, const char *const *allowed, size_t n)
{
    memset(f, 0, sizeof *f);
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof f->allowed; i++)
        used += (size_t)snprintf(f->allowed + used, sizeof f->allowed - used, "%s%s", i ? ", " : "", allowed[i]);
}

/* The smallest unknown key wins, so that a message does not depend on the table's order. */
static void keys_note(cf__keys_found *f, const char *key, const char *const *allowed, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, allowed[i]) == 0)
            return;
    if (!f->unknown_found || strcmp(key, f->unknown) < 0) {
        snprintf(f->unknown, sizeof f->unknown, "%s", key);
        f->unknown_found = true;
    }
}

static bool keys_end(cf__keys_found *f, const char *const *allowed, size_t n)
{
    if (f->unknown_found)
        f->closest = cf__closest(f->unknown, allowed, n);
    return !f->unknown_found && !f->unnamed;
}

bool cf__check_keys_json(const json_t *o, const char *const *allowed, size_t n, cf__keys_found *f)
{
    keys_begin(f, allowed, n);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        (void)v;
        keys_note(f, key, allowed, n);
    }
    return keys_end(f, allowed, n);
}

bool cf__check_keys_lua(lua_State *L, int t, const char *const *allowed, size_t n, cf__keys_found *f)
{
    keys_begin(f, allowed, n);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING) {
            keys_note(f, lua_tostring(L, -1), allowed, n);
            continue;
        }
        if (lua_isinteger(L, -1)) {
            lua_Integer k = lua_tointeger(L, -1);
            if (!f->unnamed || !f->unnamed_is_int || k < f->unnamed_int) {
                f->unnamed_int = k;
                f->unnamed_is_int = true;
            }
        } else if (!f->unnamed) {
            f->unnamed_type = lua_typename(L, lua_type(L, -1));
        }
        f->unnamed = true;
    }
    return keys_end(f, allowed, n);
}

/* ---- Text checked at the door ---- */

size_t cf__utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2, v = c & 0x1Fu, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, v = c & 0x0Fu, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, v = c & 0x07u, min = 0x10000;
    } else {
        return 0; /* a continuation byte, an overlong lead (C0, C1) or beyond U+10FFFF (F5..FF) */
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

size_t cf__utf8_invalid_at(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (u[i] < 0x80) { /* ASCII, most of what is checked (guards' reasons): no decoding */
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = cf__utf8_decode(u + i, n - i, &cp);
        if (k == 0)
            return i;
        i += k;
    }
    return n;
}

bool cf__utf8_valid(const char *s, size_t n)
{
    return cf__utf8_invalid_at(s, n) == n;
}

bool cf__is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || cp == 0x061C ||
           cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

int cf__check_text(cf__err *err, const char *what, const char *s, bool line)
{
    if (!s)
        return CF_OK;
    /* Printable ASCII, the usual case (ids, event names, actors), passes at once. */
    const unsigned char *a = (const unsigned char *)s;
    while (*a >= 0x20 && *a < 0x7f)
        a++;
    if (!*a)
        return CF_OK;
    size_t n = strlen(s);
    size_t bad = cf__utf8_invalid_at(s, n);
    if (bad < n)
        return cf__fail(err, CF_EINVAL,
                        "%s is not valid UTF-8 (byte 0x%02X at offset %zu); pass UTF-8 text (nothing was changed)",
                        what, (unsigned)(unsigned char)s[bad], bad);
    if (!line)
        return CF_OK;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp = 0;
        size_t k = cf__utf8_decode(u + i, n - i, &cp);
        if (cf__is_control(cp))
            return cf__fail(err, CF_EINVAL,
                            "%s holds the control character U+%04X at offset %zu; use one line of printable "
                            "text (nothing was changed)",
                            what, (unsigned)cp, i);
        i += k;
    }
    return CF_OK;
}

int cf__check_returned_text(cf__err *err, const char *what, const char *s, size_t n)
{
    if (!s)
        return CF_OK;
    const char *nul = memchr(s, '\0', n);
    if (nul)
        return cf__fail(err, CF_EPOLICY,
                        "%s holds a NUL byte at offset %zu; return plain UTF-8 text without \"\\0\"", what,
                        (size_t)(nul - s));
    size_t bad = cf__utf8_invalid_at(s, n);
    if (bad < n)
        return cf__fail(err, CF_EPOLICY, "%s is not valid UTF-8 (byte 0x%02X at offset %zu); return UTF-8 text",
                        what, (unsigned)(unsigned char)s[bad], bad);
    return CF_OK;
}

char *cf__json_canonical(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

bool cf__valid_name(const char *s, size_t max)
{
    if (!s || !islower((unsigned char)s[0]))
        return false;
    size_t n = 0;
    for (; s[n]; n++)
        if (!(islower((unsigned char)s[n]) || isdigit((unsigned char)s[n]) || s[n] == '_'))
            return false;
    return n <= max;
}

bool cf__valid_county(const char *s)
{
    return cf__valid_name(s, 64);
}

/* ---- the fast path of parsing (issue 13) ----
 * jansson reads its input one character at a time through a callback, which made
 * parsing an instance's data about a sixth of a batched fire. Most of certflow's
 * JSON (the data it stored itself, compact and sorted) is objects, arrays, ASCII
 * strings without escapes, small integers, true, false and null: this parser
 * builds the same jansson values for that, and gives up on anything else (an
 * escape or a byte outside printable ASCII in a string, a number with a fraction
 * or an exponent, "-0" or more than 18 digits, a duplicate key, a key longer than
 * 255 bytes, nesting deeper than 64, any syntax error, a failed allocation). What
 * it gives up on goes to json_loads whole, so every result and every error stay
 * jansson's own. */
enum { FAST_MAX_DEPTH = 64, FAST_MAX_KEY = 255 };

static json_t *fast_value(const char **pp, int depth);

static void fast_ws(const char **pp)
{
    const char *p = *pp;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    *pp = p;
}

/* A string of printable ASCII without escapes; *s and *n: its bytes. */
static bool fast_string(const char **pp, const char **s, size_t *n)
{
    const char *p = *pp;
    if (*p != '"')
        return false;
    const char *q = ++p;
    while (*q >= 0x20 && *q < 0x7f && *q != '"' && *q != '\\')
        q++;
    if (*q != '"')
        return false;
    *s = p;
    *n = (size_t)(q - p);
    *pp = q + 1;
    return true;
}

static json_t *fast_number(const char **pp)
{
    const char *p = *pp;
    bool neg = *p == '-';
    if (neg)
        p++;
    if (*p < '0' || *p > '9')
        return NULL;
    const char *d = p;
    long long v = 0;
    while (*p >= '0' && *p <= '9' && p - d < 18) /* 18 digits cannot overflow */
        v = v * 10 + (*p++ - '0');
    size_t n = (size_t)(p - d);
    /* Reals, leading zeros, "-0" and longer numbers are jansson's to judge. */
    if (*p == '.' || *p == 'e' || *p == 'E' || (*p >= '0' && *p <= '9') || (n > 1 && *d == '0') ||
        (neg && v == 0))
        return NULL;
    *pp = p;
    return json_integer(neg ? -v : v);
}

static json_t *fast_object(const char **pp, int depth)
{
    const char *p = *pp + 1;
    json_t *obj = json_object();
    fast_ws(&p);
    if (*p == '}') {
        *pp = p + 1;
        return obj;
    }
    while (obj) {
        const char *k;
        size_t kn;
        char key[FAST_MAX_KEY + 1];
        if (!fast_string(&p, &k, &kn) || kn > FAST_MAX_KEY)
            break;
        memcpy(key, k, kn);
        key[kn] = '\0';
        fast_ws(&p);
        if (*p++ != ':' || json_object_get(obj, key))
            break;
        fast_ws(&p);
        json_t *v = fast_value(&p, depth + 1);
        if (!v || json_object_set_new_nocheck(obj, key, v) != 0)
            break;
        fast_ws(&p);
        if (*p == '}') {
            *pp = p + 1;
            return obj;
        }
        if (*p++ != ',')
            break;
        fast_ws(&p);
    }
    json_decref(obj);
    return NULL;
}

static json_t *fast_array(const char **pp, int depth)
{
    const char *p = *pp + 1;
    json_t *arr = json_array();
    fast_ws(&p);
    if (*p == ']') {
        *pp = p + 1;
        return arr;
    }
    while (arr) {
        json_t *v = fast_value(&p, depth + 1);
        if (!v || json_array_append_new(arr, v) != 0)
            break;
        fast_ws(&p);
        if (*p == ']') {
            *pp = p + 1;
            return arr;
        }
        if (*p++ != ',')
            break;
        fast_ws(&p);
    }
    json_decref(arr);
    return NULL;
}

static json_t *fast_value(const char **pp, int depth)
{
    const char *p = *pp;
    if (depth > FAST_MAX_DEPTH)
        return NULL;
    switch (*p) {
    case '{':
        return fast_object(pp, depth);
    case '[':
        return fast_array(pp, depth);
    case '"': {
        const char *s;
        size_t n;
        if (!fast_string(pp, &s, &n))
            return NULL;
        return json_stringn_nocheck(s, n);
    }
    case 't':
        if (strncmp(p, "true", 4) != 0)
            return NULL;
        *pp = p + 4;
        return json_true();
    case 'f':
        if (strncmp(p, "false", 5) != 0)
            return NULL;
        *pp = p + 5;
        return json_false();
    case 'n':
        if (strncmp(p, "null", 4) != 0)
            return NULL;
        *pp = p + 4;
        return json_null();
    default:
        return fast_number(pp);
    }
}

json_t *cf__json_fast_parse(const char *text)
{
    const char *p = text;
    fast_ws(&p);
    if (*p != '{' && *p != '[') /* json_loads takes no bare value at the top */
        return NULL;
    json_t *v = fast_value(&p, 1);
    if (v) {
        fast_ws(&p);
        if (*p) { /* more than one value: jansson says what is wrong */
            json_decref(v);
            v = NULL;
        }
    }
    return v;
}

cf__json_kind cf__json_load_object(const char *text, json_t **out, json_error_t *jerr)
{
    json_t *v = cf__json_fast_parse(text);
    if (!v)
        v = json_loads(text, JSON_REJECT_DUPLICATES, jerr);
    *out = NULL;
    if (!v)
        return CF__JSON_INVALID;
    if (!json_is_object(v)) {
        cf__json_kind k = json_is_array(v) ? CF__JSON_ARRAY : CF__JSON_SCALAR;
        json_decref(v);
        return k;
    }
    *out = v;
    return CF__JSON_OBJECT;
}

int cf__parse_object(cf__err *err, const char *text, const char *what, json_t **out)
{
    *out = NULL;
    if (!text) {
        *out = json_object();
        return *out ? CF_OK : cf__fail(err, CF_ENOMEM, "out of memory");
    }
    if (!*text)
        return cf__fail(err, CF_EJSON,
                        "%s is empty: give a JSON object such as {} (or NULL for none); nothing was changed", what);
    json_error_t jerr;
    cf__json_kind k = cf__json_load_object(text, out, &jerr);
    if (k == CF__JSON_INVALID && strstr(jerr.text, "\\u0000"))
        return cf__fail(err, CF_EJSON,
                        "%s is not valid JSON: it holds \\u0000 (a NUL character) at line %d, column %d; "
                        "keys and text may not contain it", what, jerr.line, jerr.column);
    if (k == CF__JSON_INVALID)
        return cf__fail(err, CF_EJSON,
                        "%s is not valid JSON: %s (line %d, column %d); pass a JSON object such as "
                        "{\"hours\": 20}",
                        what, jerr.text, jerr.line, jerr.column);
    if (k != CF__JSON_OBJECT)
        return cf__fail(err, CF_EJSON, "%s must be a JSON object ({...}), not %s", what,
                        k == CF__JSON_ARRAY ? "an array" : "a single value");
    return CF_OK;
}

/* RFC 7386 JSON merge patch of patch into target (an object). */
int cf__json_merge_patch(json_t *target, json_t *patch)
{
    const char *key;
    json_t *value;
    json_object_foreach(patch, key, value)
    {
        if (json_is_null(value)) {
            json_object_del(target, key);
        } else if (json_is_object(value)) {
            json_t *cur = json_object_get(target, key);
            if (!json_is_object(cur)) {
                cur = json_object();
                if (!cur || json_object_set_new(target, key, cur) != 0)
                    return CF_ENOMEM;
            }
            int rc = cf__json_merge_patch(cur, value);
            if (rc != CF_OK)
                return rc;
        } else if (json_object_set_new(target, key, json_deep_copy(value)) != 0) {
            return CF_ENOMEM;
        }
    }
    return CF_OK;
}
