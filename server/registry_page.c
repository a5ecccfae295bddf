/*
 * registry_page.c — the public registry lookup page of certflow serve
 * (docs/server.md, "The registry page"): server-rendered HTML, no script.
 *   GET /registry?q=TEXT     a search form (name or certificate number) and its results
 *   GET /registry/NUMBER     a printable verification page for one certificate
 * Only the public fields of REG_2 are shown (the rows of program/program.c,
 * built by plugins/common/registry_row.h), whatever else the records hold; every
 * value written into the page is HTML-escaped.
 */
#include "server.h"

#include "../program/program.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct page {
    char *buf;
    size_t len, cap;
    int oom;
} page;

static void put_n(page *pg, const char *s, size_t n)
{
    if (pg->oom)
        return;
    if (pg->len + n + 1 > pg->cap) {
        size_t cap = pg->cap ? pg->cap : 4096;
        while (cap < pg->len + n + 1)
            cap *= 2;
        char *nb = realloc(pg->buf, cap);
        if (!nb) {
            pg->oom = 1;
            return;
        }
        pg->buf = nb;
        pg->cap = cap;
    }
    memcpy(pg->buf + pg->len, s, n);
    pg->len += n;
    pg->buf[pg->len] = '\0';
}

static void put(page *pg, const char *s)
{
    put_n(pg, s, strlen(s));
}

/* s with & < > " ' escaped: safe in text and in quoted attribute values. */
static void put_esc(page *pg, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': put(pg, "&amp;"); break;
        case '<': put(pg, "&lt;"); break;
        case '>': put(pg, "&gt;"); break;
        case '"': put(pg, "&quot;"); break;
        case '\'': put(pg, "&#39;"); break;
        default: put_n(pg, s, 1);
        }
    }
}

/* s percent-encoded for a URL path segment (unreserved characters kept). */
static void put_url(page *pg, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
            put_n(pg, s, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            put_n(pg, e, 3);
        }
    }
}

/* The stylesheet: dark text on white (contrast 17.4:1), links 8.6:1, status labels
 * in words (never colour alone). tests/test_registry_browser.c computes the ratios. */
static const char STYLE[] =
    "body{color:#1a1a1a;background:#ffffff;font-family:sans-serif;line-height:1.5;margin:0 auto;max-width:60rem;"
    "padding:1rem}"
    "a{color:#0b4f8a}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{border:1px solid #595959;padding:.3rem .5rem;text-align:left}"
    "label{font-weight:bold;margin-right:.5rem}"
    "input{font-size:1rem;padding:.2rem}"
    "button{font-size:1rem}"
    "dt{font-weight:bold}"
    "@media print{form,nav{display:none}}";

static void head(page *pg, const char *title)
{
    put(pg, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    put_esc(pg, title);
    put(pg, "</title>\n<style>");
    put(pg, STYLE);
    put(pg, "</style>\n</head>\n<body>\n");
}

static void updated_line(page *pg, const prog_registry *reg, cf_engine *e)
{
    put(pg, "<p id=\"updated\">Registry last updated: ");
    int64_t day;
    char d[11];
    if (reg->count && cf_local_date(e, reg->updated_at, &day) == CF_OK)
        put_esc(pg, prog_format_date(day, d));
    else
        put(pg, "never (no certificate issued yet)");
    put(pg, "</p>\n");
}

static void specs(page *pg, const prog_entry *r)
{
    put_esc(pg, *r->specializations ? r->specializations : "none");
}

static int finish(page *pg, srv_response *out, int status)
{
    put(pg, "</body>\n</html>\n");
    if (pg->oom) {
        free(pg->buf);
        srv_http_error(out, 500, "CF_ENOMEM", "out of memory");
        return -1;
    }
    out->status = status;
    out->raw = pg->buf;
    out->raw_len = pg->len;
    out->raw_type = "text/html; charset=utf-8";
    return 0;
}

static int load(const srv_request *rq, srv_response *out, prog_registry *reg)
{
    int64_t today;
    int rc = cf_local_date(rq->e, cf_engine_now(rq->e), &today);
    if (rc == CF_OK)
        rc = prog_registry_load(rq->e, today, reg);
    if (rc != CF_OK) {
        srv_fail(out, rq->e, rc);
        return -1;
    }
    return 0;
}

static int name_has(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

#define PAGE_LIMIT 50

void srv_registry_page(const srv_request *rq, srv_response *out, const char *const *p)
{
    (void)p;
    const char *q = rq->query(rq, "q");
    while (q && *q == ' ')
        q++;
    if (q && !*q)
        q = NULL;
    if (q && strlen(q) > 200) {
        srv_http_error(out, 400, "CF_EINVAL", "the search text is longer than 200 characters");
        return;
    }
    prog_registry reg;
    if (load(rq, out, &reg) != 0)
        return;
    page pg = {0};
    head(&pg, "Peer Support Specialist Registry");
    put(&pg, "<header>\n<h1>Peer Support Specialist Registry</h1>\n"
             "<p>Verify a Medi-Cal Peer Support Specialist certification: search by name or certificate number. "
             "The registry shows public information only.</p>\n");
    updated_line(&pg, &reg, rq->e);
    put(&pg, "</header>\n<main>\n<h2>Search</h2>\n"
             "<form method=\"get\" action=\"/registry\" role=\"search\">\n"
             "<label for=\"q\">Name or certificate number</label>\n"
             "<input type=\"search\" id=\"q\" name=\"q\" maxlength=\"200\" value=\"");
    put_esc(&pg, q ? q : "");
    put(&pg, "\">\n<button type=\"submit\">Search</button>\n</form>\n");
    if (q) {
        size_t total = 0;
        for (size_t i = 0; i < reg.count; i++)
            if (strcasecmp(reg.rows[i].number, q) == 0 || name_has(reg.rows[i].name, q))
                total++;
        put(&pg, "<h2>Results</h2>\n<p id=\"count\">");
        char n[64];
        snprintf(n, sizeof n, "%zu", total);
        put(&pg, total ? n : "No");
        put(&pg, total == 1 ? " certificate matches " : " certificates match ");
        put(&pg, "&ldquo;");
        put_esc(&pg, q);
        put(&pg, "&rdquo;");
        if (total > PAGE_LIMIT) {
            snprintf(n, sizeof n, "; the first %d are shown, give more of the name", PAGE_LIMIT);
            put(&pg, n);
        }
        put(&pg, ".</p>\n");
        if (total) {
            put(&pg, "<table>\n<caption>Matching certificates</caption>\n<thead><tr><th scope=\"col\">Certificate "
                     "number</th><th scope=\"col\">Name</th><th scope=\"col\">Status</th><th scope=\"col\">Issued</th>"
                     "<th scope=\"col\">Expires</th><th scope=\"col\">Specializations</th><th scope=\"col\">County</th>"
                     "</tr></thead>\n<tbody>\n");
            size_t shown = 0;
            for (size_t i = 0; i < reg.count && shown < PAGE_LIMIT; i++) {
                const prog_entry *r = &reg.rows[i];
                if (!(strcasecmp(r->number, q) == 0 || name_has(r->name, q)))
                    continue;
                shown++;
                put(&pg, "<tr><td><a href=\"/registry/");
                put_url(&pg, r->number);
                put(&pg, "\">");
                put_esc(&pg, r->number);
                put(&pg, "</a></td><td>");
                put_esc(&pg, r->name);
                put(&pg, "</td><td>");
                put_esc(&pg, prog_status_names[r->status]);
                put(&pg, "</td><td>");
                put_esc(&pg, r->issued_on);
                put(&pg, "</td><td>");
                put_esc(&pg, r->expires_on);
                put(&pg, "</td><td>");
                specs(&pg, r);
                put(&pg, "</td><td>");
                put_esc(&pg, r->county);
                put(&pg, "</td></tr>\n");
            }
            put(&pg, "</tbody>\n</table>\n");
        }
    }
    put(&pg, "</main>\n");
    prog_registry_free(&reg);
    finish(&pg, out, 200);
}

void srv_registry_certificate(const srv_request *rq, srv_response *out, const char *const *p)
{
    const char *number = p[0];
    prog_registry reg;
    if (load(rq, out, &reg) != 0)
        return;
    const prog_entry *r = NULL;
    for (size_t i = 0; i < reg.count && !r; i++)
        if (strcasecmp(reg.rows[i].number, number) == 0)
            r = &reg.rows[i];
    page pg = {0};
    head(&pg, r ? "Certificate verification" : "Certificate not found");
    put(&pg, "<nav><a href=\"/registry\">Search the registry</a></nav>\n<main>\n");
    int status = 200;
    if (!r) {
        status = 404;
        put(&pg, "<h1>Certificate not found</h1>\n<p>No certificate numbered &ldquo;");
        put_esc(&pg, number);
        put(&pg, "&rdquo; is in the registry. Check the number, or search by name.</p>\n");
    } else {
        put(&pg, "<h1>Certificate verification</h1>\n<p>This certificate is in the Peer Support Specialist "
                 "Registry with the following public information.</p>\n<dl>\n<dt>Certificate number</dt><dd id=\"number\">");
        put_esc(&pg, r->number);
        put(&pg, "</dd>\n<dt>Name</dt><dd id=\"name\">");
        put_esc(&pg, r->name);
        put(&pg, "</dd>\n<dt>Status</dt><dd id=\"status\">");
        put_esc(&pg, prog_status_names[r->status]);
        put(&pg, "</dd>\n<dt>Issued</dt><dd id=\"issued\">");
        put_esc(&pg, r->issued_on);
        put(&pg, "</dd>\n<dt>Expires</dt><dd id=\"expires\">");
        put_esc(&pg, r->expires_on);
        put(&pg, "</dd>\n<dt>Specializations</dt><dd id=\"specializations\">");
        specs(&pg, r);
        put(&pg, "</dd>\n<dt>County</dt><dd id=\"county\">");
        put_esc(&pg, r->county);
        put(&pg, "</dd>\n</dl>\n");
    }
    int64_t today;
    char d[11];
    if (cf_local_date(rq->e, cf_engine_now(rq->e), &today) == CF_OK) {
        put(&pg, "<p>Verified on ");
        put_esc(&pg, prog_format_date(today, d));
        put(&pg, ".</p>\n");
    }
    updated_line(&pg, &reg, rq->e);
    put(&pg, "</main>\n");
    prog_registry_free(&reg);
    finish(&pg, out, status);
}
