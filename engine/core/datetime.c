/*
 * datetime.c — calendar arithmetic on civil dates and the program's time zone,
 * given as a POSIX TZ rule. Pure functions: no global state, no TZ variable,
 * no mktime/localtime, so results never depend on the host's configuration.
 */
#include "internal.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define SECS_PER_DAY 86400

/* ---- civil dates ---- */

/* Howard Hinnant's algorithms (http://howardhinnant.github.io/date_algorithms.html):
 * exact for the whole proleptic Gregorian calendar, no tables, no loops. */
int64_t cf__days_from_civil(cf__date d)
{
    int64_t y = (int64_t)d.year - (d.month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (d.month + (d.month > 2 ? -3 : 9)) + 2) / 5 + d.day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

cf__date cf__civil_from_days(int64_t days)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    cf__date d;
    d.day = (int)(doy - (153 * mp + 2) / 5 + 1);
    d.month = (int)(mp < 10 ? mp + 3 : mp - 9);
    d.year = (int)(yoe + era * 400 + (d.month <= 2));
    return d;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int cf__days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12)
        return 0;
    return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

/* Years 1..9999: what "YYYY-MM-DD" can express. */
bool cf__date_valid(cf__date d)
{
    return d.year >= 1 && d.year <= 9999 && d.month >= 1 && d.month <= 12 && d.day >= 1 &&
           d.day <= cf__days_in_month(d.year, d.month);
}

/* Exactly n ASCII digits at s. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* "YYYY-MM-DD" at the start of s (what follows is the caller's business). */
static bool date_prefix(const char *s, cf__date *out)
{
    cf__date d;
    if (!digits(s, 4, &d.year) || s[4] != '-' || !digits(s + 5, 2, &d.month) || s[7] != '-' ||
        !digits(s + 8, 2, &d.day) || !cf__date_valid(d))
        return false;
    *out = d;
    return true;
}

bool cf__date_parse(const char *s, cf__date *out)
{
    cf__date d;
    if (!s || strlen(s) != 10 || !date_prefix(s, &d))
        return false;
    *out = d;
    return true;
}

void cf__date_format(cf__date d, char *buf)
{
    int y = d.year % 10000, m = d.month % 100, day = d.day % 100;
    const int parts[3][2] = {{y, 4}, {m, 2}, {day, 2}};
    char *s = buf;
    for (int i = 0; i < 3; i++) {
        if (i)
            *s++ = '-';
        for (int k = parts[i][1] - 1, v = parts[i][0] < 0 ? 0 : parts[i][0]; k >= 0; k--, v /= 10)
            s[k] = (char)('0' + v % 10);
        s += parts[i][1];
    }
    *s = '\0';
}

cf__date cf__date_add_days(cf__date d, int64_t n)
{
    return cf__civil_from_days(cf__days_from_civil(d) + n);
}

cf__date cf__date_add_months(cf__date d, int64_t n)
{
    int64_t m = (int64_t)d.year * 12 + (d.month - 1) + n;
    int64_t y = m >= 0 ? m / 12 : -((-m + 11) / 12);
    cf__date r;
    r.year = (int)y;
    r.month = (int)(m - y * 12) + 1;
    int dim = cf__days_in_month(r.year, r.month);
    r.day = d.day > dim ? dim : d.day;
    return r;
}

cf__date cf__date_add_years(cf__date d, int64_t n)
{
    return cf__date_add_months(d, n * 12);
}

int cf__date_weekday(cf__date d)
{
    int64_t w = (cf__days_from_civil(d) + 4) % 7; /* 1970-01-01 was a Thursday */
    return (int)(w < 0 ? w + 7 : w);
}

/* ---- POSIX TZ rules ---- */

typedef struct tz_cursor {
    const char *s;
    const char *spec;
    cf__err *err;
} tz_cursor;

static int tz_fail(tz_cursor *c, const char *what)
{
    return cf__fail(c->err, CF_EINVAL,
                    "time zone '%s': %s at offset %d (expected a POSIX rule such as "
                    "\"PST8PDT,M3.2.0,M11.1.0\" or \"UTC0\")",
                    c->spec, what, (int)(c->s - c->spec));
}

/* A zone abbreviation: 3+ letters, or <...> of letters, digits, '+' and '-'. */
static bool tz_name(tz_cursor *c)
{
    const char *s = c->s;
    if (*s == '<') {
        s++;
        const char *start = s;
        while (isalnum((unsigned char)*s) || *s == '+' || *s == '-')
            s++;
        if (*s != '>' || s - start < 3)
            return false;
        c->s = s + 1;
        return true;
    }
    while (isalpha((unsigned char)*s))
        s++;
    if (s - c->s < 3)
        return false;
    c->s = s;
    return true;
}

/* [+-]hh[:mm[:ss]] with hh up to max_hours; seconds into *out. */
static bool tz_hms(tz_cursor *c, int max_hours, int *out)
{
    const char *s = c->s;
    int sign = 1;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*s))
        return false;
    int h = 0, m = 0, sec = 0, n = 0;
    while (isdigit((unsigned char)*s) && n < 3) {
        h = h * 10 + (*s++ - '0');
        n++;
    }
    if (isdigit((unsigned char)*s) || h > max_hours)
        return false;
    if (*s == ':') {
        if (!digits(s + 1, 2, &m) || m > 59)
            return false;
        s += 3;
        if (*s == ':') {
            if (!digits(s + 1, 2, &sec) || sec > 59)
                return false;
            s += 3;
        }
    }
    c->s = s;
    *out = sign * (h * 3600 + m * 60 + sec);
    return true;
}

/* ",Mm.w.d[/time]" */
static int tz_rule(tz_cursor *c, int *month, int *week, int *wday, int *time)
{
    if (*c->s != ',')
        return tz_fail(c, "expected ',' before a transition rule");
    c->s++;
    if (*c->s != 'M')
        return tz_fail(c, "only Mm.w.d transition rules are supported");
    char *end;
    const char *s = c->s + 1;
    int v[3];
    for (int i = 0; i < 3; i++) {
        if (!isdigit((unsigned char)*s))
            return tz_fail(c, "malformed Mm.w.d rule");
        long x = strtol(s, &end, 10);
        s = end;
        v[i] = x > 99 ? 99 : (int)x;
        if (i < 2 && *s++ != '.')
            return tz_fail(c, "malformed Mm.w.d rule");
    }
    if (v[0] < 1 || v[0] > 12 || v[1] < 1 || v[1] > 5 || v[2] > 6)
        return tz_fail(c, "Mm.w.d rule out of range (month 1-12, week 1-5, day 0-6)");
    c->s = s;
    *month = v[0];
    *week = v[1];
    *wday = v[2];
    *time = 7200;
    if (*c->s == '/') {
        c->s++;
        if (!tz_hms(c, 167, time))
            return tz_fail(c, "malformed transition time");
    }
    return CF_OK;
}

int cf__tz_parse(const char *spec, cf__tz *out, cf__err *err)
{
    if (!spec)
        return cf__fail(err, CF_EINVAL, "no time zone given");
    tz_cursor c = {spec, spec, err};
    cf__tz tz;
    memset(&tz, 0, sizeof tz);
    int off;
    if (!tz_name(&c))
        return tz_fail(&c, "expected a zone name of at least 3 letters");
    if (!tz_hms(&c, 24, &off))
        return tz_fail(&c, "expected the standard time offset");
    tz.std_offset = -off; /* POSIX counts hours west of Greenwich */
    if (*c.s) {
        if (!tz_name(&c))
            return tz_fail(&c, "expected a daylight-saving zone name");
        tz.has_dst = true;
        tz.dst_offset = tz.std_offset + 3600;
        if (*c.s && *c.s != ',') {
            if (!tz_hms(&c, 24, &off))
                return tz_fail(&c, "expected the daylight-saving offset");
            tz.dst_offset = -off;
        }
        if (*c.s) {
            int rc = tz_rule(&c, &tz.start_month, &tz.start_week, &tz.start_wday, &tz.start_time);
            if (rc == CF_OK)
                rc = tz_rule(&c, &tz.end_month, &tz.end_week, &tz.end_wday, &tz.end_time);
            if (rc != CF_OK)
                return rc;
            if (*c.s)
                return tz_fail(&c, "unexpected text after the rules");
        } else {
            /* No rules: the United States rules, as glibc assumes. */
            tz.start_month = 3, tz.start_week = 2, tz.start_wday = 0, tz.start_time = 7200;
            tz.end_month = 11, tz.end_week = 1, tz.end_wday = 0, tz.end_time = 7200;
        }
    } else {
        tz.dst_offset = tz.std_offset;
    }
    *out = tz;
    return CF_OK;
}

/* Day number of the w-th (5 = last) weekday wd of a month. */
static int64_t rule_day(int year, int month, int week, int wd)
{
    cf__date first = {year, month, 1};
    int w0 = cf__date_weekday(first);
    int day = 1 + (wd - w0 + 7) % 7 + (week - 1) * 7;
    int dim = cf__days_in_month(year, month);
    while (day > dim)
        day -= 7;
    cf__date d = {year, month, day};
    return cf__days_from_civil(d);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int cf__tz_offset_at(const cf__tz *tz, cf_time t)
{
    if (!tz->has_dst)
        return tz->std_offset;
    int year = cf__civil_from_days(floor_div(t + tz->std_offset, SECS_PER_DAY)).year;
    /* The start time is given in standard time, the end time in daylight time. */
    cf_time start = rule_day(year, tz->start_month, tz->start_week, tz->start_wday) * SECS_PER_DAY +
                    tz->start_time - tz->std_offset;
    cf_time end = rule_day(year, tz->end_month, tz->end_week, tz->end_wday) * SECS_PER_DAY +
                  tz->end_time - tz->dst_offset;
    bool dst = start < end ? (t >= start && t < end) : (t >= start || t < end);
    return dst ? tz->dst_offset : tz->std_offset;
}

cf__date cf__tz_local_date(const cf__tz *tz, cf_time t)
{
    return cf__civil_from_days(floor_div(t + cf__tz_offset_at(tz, t), SECS_PER_DAY));
}

/* The instant at which the local clock reads `wall` (seconds since the epoch as
 * if local time were UTC). Ambiguous times (the repeated hour) take the first
 * occurrence; times in the skipped hour use the offset in force before the gap,
 * unless first_after_gap asks for the instant the gap ends instead. */
static cf_time local_to_utc(const cf__tz *tz, cf_time wall, bool first_after_gap)
{
    cf_time a = wall - tz->std_offset, b = wall - tz->dst_offset;
    bool a_ok = cf__tz_offset_at(tz, a) == tz->std_offset;
    bool b_ok = cf__tz_offset_at(tz, b) == tz->dst_offset;
    if (a_ok && b_ok)
        return a < b ? a : b;
    if (a_ok)
        return a;
    if (b_ok)
        return b;
    cf_time lo = a < b ? a : b, hi = a < b ? b : a;
    if (!first_after_gap)
        return hi;
    /* The transition lies in (lo, hi]: find the first instant of the new offset. */
    int before = cf__tz_offset_at(tz, lo);
    while (hi - lo > 1) {
        cf_time mid = lo + (hi - lo) / 2;
        if (cf__tz_offset_at(tz, mid) == before)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

cf_time cf__tz_midnight(const cf__tz *tz, cf__date d)
{
    return local_to_utc(tz, cf__days_from_civil(d) * SECS_PER_DAY, true);
}

/* ---- ISO 8601 text ---- */

typedef enum zone_kind { ZONE_NONE, ZONE_UTC, ZONE_OFFSET } zone_kind;

typedef struct iso_parts {
    cf__date date;
    bool has_time;
    int secs;      /* seconds after midnight */
    zone_kind zone;
    int offset;    /* seconds east of UTC for ZONE_OFFSET */
} iso_parts;

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]", nothing else. */
static bool iso_parse(const char *s, iso_parts *out)
{
    iso_parts p;
    memset(&p, 0, sizeof p);
    if (!s || !date_prefix(s, &p.date))
        return false;
    s += 10;
    if (*s == '\0') {
        *out = p;
        return true;
    }
    int h, m, sec = 0;
    if (*s != 'T' || !digits(s + 1, 2, &h) || s[3] != ':' || !digits(s + 4, 2, &m) || h > 23 || m > 59)
        return false;
    s += 6;
    if (*s == ':') {
        if (!digits(s + 1, 2, &sec) || sec > 59)
            return false;
        s += 3;
    }
    p.has_time = true;
    p.secs = h * 3600 + m * 60 + sec;
    if (*s == 'Z') {
        p.zone = ZONE_UTC;
        s++;
    } else if (*s == '+' || *s == '-') {
        int oh, om;
        if (!digits(s + 1, 2, &oh) || s[3] != ':' || !digits(s + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        p.zone = ZONE_OFFSET;
        p.offset = (*s == '-' ? -1 : 1) * (oh * 3600 + om * 60);
        s += 6;
    }
    if (*s != '\0')
        return false;
    *out = p;
    return true;
}

static cf_time iso_wall(const iso_parts *p)
{
    return cf__days_from_civil(p->date) * SECS_PER_DAY + p->secs;
}

int cf__tz_parse_instant(const cf__tz *tz, const char *iso, cf_time *out)
{
    iso_parts p;
    if (!iso_parse(iso, &p))
        return CF_EINVAL;
    if (!p.has_time)
        *out = cf__tz_midnight(tz, p.date);
    else if (p.zone == ZONE_NONE)
        *out = local_to_utc(tz, iso_wall(&p), false);
    else
        *out = iso_wall(&p) - p.offset;
    return CF_OK;
}

int cf_time_parse(const char *iso, cf_time *out)
{
    iso_parts p;
    if (!out || !iso_parse(iso, &p))
        return CF_EINVAL;
    *out = iso_wall(&p) - p.offset;
    return CF_OK;
}

int cf_time_format(cf_time t, char *buf, size_t size)
{
    if (!buf || size < 21)
        return CF_EINVAL;
    int64_t days = floor_div(t, SECS_PER_DAY);
    int64_t secs = t - days * SECS_PER_DAY;
    if (days < -719162 || days > 2932896) /* outside 0001-01-01 .. 9999-12-31 */
        return CF_EINVAL;
    cf__date d = cf__civil_from_days(days);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", d.year, d.month, d.day, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60));
    return CF_OK;
}

/* ---- the public date functions (certflow.h): day numbers, the engine's zone ---- */

#define DAY_FIRST (-719162) /* 0001-01-01 */
#define DAY_LAST 2932896    /* 9999-12-31 */

static bool day_in_range(int64_t day)
{
    return day >= DAY_FIRST && day <= DAY_LAST;
}

/* The engine's zone is read, never written: a success leaves the handle's last
 * message as it was (a caller may still be reporting it). */
static int zone_usable(const cf_engine *e)
{
    if (!e)
        return CF_EINVAL;
    return e->open_rc; /* the open failure's message says what to fix */
}

int cf_date_parse(const char *text, int64_t *day)
{
    cf__date d;
    if (!day || !cf__date_parse(text, &d))
        return CF_EINVAL;
    *day = cf__days_from_civil(d);
    return CF_OK;
}

int cf_date_format(int64_t day, char *buf, size_t size)
{
    if (!buf || size < 11 || !day_in_range(day))
        return CF_EINVAL;
    cf__date_format(cf__civil_from_days(day), buf);
    return CF_OK;
}

int cf_date_from_civil(int year, int month, int dom, int64_t *day)
{
    cf__date d = {year, month, dom};
    if (!day || !cf__date_valid(d))
        return CF_EINVAL;
    *day = cf__days_from_civil(d);
    return CF_OK;
}

int cf_date_to_civil(int64_t day, int *year, int *month, int *dom)
{
    if (!day_in_range(day))
        return CF_EINVAL;
    cf__date d = cf__civil_from_days(day);
    if (year)
        *year = d.year;
    if (month)
        *month = d.month;
    if (dom)
        *dom = d.day;
    return CF_OK;
}

int cf_local_date(cf_engine *e, cf_time t, int64_t *day)
{
    int rc = zone_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!day)
        return cf__fail(&e->err, CF_EINVAL, "cf_local_date: no place for the date given (pass a non-NULL day)");
    /* A day either side of the range leaves room for any offset before the check. */
    if (t < (cf_time)(DAY_FIRST - 1) * SECS_PER_DAY || t > (cf_time)(DAY_LAST + 2) * SECS_PER_DAY)
        return cf__fail(&e->err, CF_EINVAL,
                        "cf_local_date: instant %lld lies outside years 1 to 9999; give a time within them",
                        (long long)t);
    int64_t local = cf__days_from_civil(cf__tz_local_date(&e->tz, t));
    if (!day_in_range(local))
        return cf__fail(&e->err, CF_EINVAL,
                        "cf_local_date: instant %lld lies outside years 1 to 9999 in the engine's time zone; give a "
                        "time within them",
                        (long long)t);
    *day = local;
    return CF_OK;
}

int cf_local_midnight(cf_engine *e, int64_t day, cf_time *out)
{
    int rc = zone_usable(e);
    if (rc != CF_OK)
        return rc;
    if (!out)
        return cf__fail(&e->err, CF_EINVAL, "cf_local_midnight: no place for the instant given (pass a non-NULL out)");
    if (!day_in_range(day))
        return cf__fail(&e->err, CF_EINVAL,
                        "cf_local_midnight: day %lld lies outside years 1 to 9999; give a date from 0001-01-01 to "
                        "9999-12-31",
                        (long long)day);
    *out = cf__tz_midnight(&e->tz, cf__civil_from_days(day));
    return CF_OK;
}
