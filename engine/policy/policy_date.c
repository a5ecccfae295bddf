/*
 * policy_date.c — the `date` library policies see: calendar dates "YYYY-MM-DD"
 * and date-times read in the engine's time zone, with errors that name the
 * function, the argument and what it must be.
 */
#include "internal.h"
#include "policy/policy_private.h"

#include <lauxlib.h>
#include <lua.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>


static int date_error(lua_State *L, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    luaL_where(L, 1); /* the policy line that called the library */
    lua_pushstring(L, msg);
    lua_concat(L, 2);
    return lua_error(L);
}

/* What an argument looked like, for messages. */
static const char *arg_repr(lua_State *L, int idx, char *buf, size_t size)
{
    if (lua_type(L, idx) == LUA_TSTRING)
        snprintf(buf, size, "\"%.40s\"", lua_tostring(L, idx));
    else if (lua_type(L, idx) == LUA_TNUMBER)
        snprintf(buf, size, "%.14g", lua_tonumber(L, idx));
    else
        snprintf(buf, size, "a %s", luaL_typename(L, idx));
    return buf;
}

static cf__date arg_date(lua_State *L, int idx, const char *fn)
{
    cf__date d;
    if (lua_type(L, idx) != LUA_TSTRING || !cf__date_parse(lua_tostring(L, idx), &d)) {
        char b[64];
        date_error(L, "date.%s: argument %d must be a date \"YYYY-MM-DD\" (got %s)", fn, idx,
                   arg_repr(L, idx, b, sizeof b));
    }
    return d;
}

static int64_t arg_int(lua_State *L, int idx, const char *fn, const char *what, int64_t lo, int64_t hi)
{
    int isint = 0;
    lua_Integer n = lua_tointegerx(L, idx, &isint);
    if (!isint || lua_type(L, idx) != LUA_TNUMBER || n < lo || n > hi) {
        char b[64];
        date_error(L, "date.%s: argument %d must be a whole number of %s between %lld and %lld (got %s)", fn,
                   idx, what, (long long)lo, (long long)hi, arg_repr(L, idx, b, sizeof b));
    }
    return n;
}

/* The time zone that dates and date-times are read in (the functions' upvalue). */
static const cf__tz *date_tz(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* A date-time argument as an instant (a bare date means local midnight). */
static cf_time arg_instant(lua_State *L, int idx, const char *fn)
{
    cf_time t;
    if (lua_type(L, idx) != LUA_TSTRING || cf__tz_parse_instant(date_tz(L), lua_tostring(L, idx), &t)) {
        char b[64];
        date_error(L, "date.%s: argument %d must be a date-time \"YYYY-MM-DDTHH:MM:SSZ\" (got %s)", fn, idx,
                   arg_repr(L, idx, b, sizeof b));
    }
    return t;
}

static int push_date(lua_State *L, cf__date d, const char *fn)
{
    if (!cf__date_valid(d))
        return date_error(L, "date.%s: the result is outside the years 1 to 9999", fn);
    char buf[11];
    cf__date_format(d, buf);
    lua_pushstring(L, buf);
    return 1;
}

static int d_valid(lua_State *L)
{
    cf__date d;
    lua_pushboolean(L, lua_type(L, 1) == LUA_TSTRING && cf__date_parse(lua_tostring(L, 1), &d));
    return 1;
}

static int d_add_days(lua_State *L)
{
    cf__date d = arg_date(L, 1, "add_days");
    return push_date(L, cf__date_add_days(d, arg_int(L, 2, "add_days", "days", -3700000, 3700000)), "add_days");
}

static int d_add_months(lua_State *L)
{
    cf__date d = arg_date(L, 1, "add_months");
    return push_date(L, cf__date_add_months(d, arg_int(L, 2, "add_months", "months", -120000, 120000)),
                     "add_months");
}

static int d_add_years(lua_State *L)
{
    cf__date d = arg_date(L, 1, "add_years");
    return push_date(L, cf__date_add_years(d, arg_int(L, 2, "add_years", "years", -10000, 10000)), "add_years");
}

static int d_add_business_days(lua_State *L)
{
    cf__date d = arg_date(L, 1, "add_business_days");
    int64_t n = arg_int(L, 2, "add_business_days", "days", 0, 2600000);
    if (n == 0)
        return push_date(L, d, "add_business_days");
    /* From a weekend, count as from the Friday before: the same weekdays follow. */
    int wd = cf__date_weekday(d);
    int64_t day = cf__days_from_civil(d) - (wd == 6 ? 1 : wd == 0 ? 2 : 0);
    day += (n / 5) * 7;
    for (int64_t left = n % 5; left > 0;) {
        day++;
        wd = cf__date_weekday(cf__civil_from_days(day));
        if (wd != 0 && wd != 6)
            left--;
    }
    return push_date(L, cf__civil_from_days(day), "add_business_days");
}

static int d_days_between(lua_State *L)
{
    cf__date a = arg_date(L, 1, "days_between"), b = arg_date(L, 2, "days_between");
    lua_pushinteger(L, (lua_Integer)(cf__days_from_civil(b) - cf__days_from_civil(a)));
    return 1;
}

static bool is_plain_date(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TSTRING && lua_rawlen(L, idx) == 10;
}

static int d_compare(lua_State *L)
{
    int64_t a, b;
    bool da = is_plain_date(L, 1), db = is_plain_date(L, 2);
    if (da != db)
        return date_error(L, "date.compare: compare two dates or two date-times, not one of each");
    if (da) {
        a = cf__days_from_civil(arg_date(L, 1, "compare"));
        b = cf__days_from_civil(arg_date(L, 2, "compare"));
    } else {
        a = arg_instant(L, 1, "compare");
        b = arg_instant(L, 2, "compare");
    }
    lua_pushinteger(L, a < b ? -1 : a > b ? 1 : 0);
    return 1;
}

static int d_age(lua_State *L)
{
    cf__date b = arg_date(L, 1, "age"), on = arg_date(L, 2, "age");
    if (cf__days_from_civil(on) < cf__days_from_civil(b))
        return date_error(L, "date.age: the date %s is before the birth date %s", lua_tostring(L, 2),
                          lua_tostring(L, 1));
    /* Full years: a 29 February birthday comes round on 1 March in other years. */
    int years = on.year - b.year;
    if (on.month < b.month || (on.month == b.month && on.day < b.day))
        years--;
    lua_pushinteger(L, years);
    return 1;
}

static int d_weekday(lua_State *L)
{
    lua_pushinteger(L, cf__date_weekday(arg_date(L, 1, "weekday")));
    return 1;
}

static int d_is_leap(lua_State *L)
{
    int64_t y = arg_int(L, 1, "is_leap", "years", 1, 9999);
    lua_pushboolean(L, cf__days_in_month((int)y, 2) == 29);
    return 1;
}

static int d_end_of_month(lua_State *L)
{
    cf__date d = arg_date(L, 1, "end_of_month");
    d.day = cf__days_in_month(d.year, d.month);
    return push_date(L, d, "end_of_month");
}

static int d_of(lua_State *L)
{
    return push_date(L, cf__tz_local_date(date_tz(L), arg_instant(L, 1, "of")), "of");
}

static int d_add_hours(lua_State *L)
{
    cf_time t = arg_instant(L, 1, "add_hours");
    if (lua_type(L, 2) != LUA_TNUMBER || !isfinite(lua_tonumber(L, 2)) || fabs(lua_tonumber(L, 2)) > 8.0e7) {
        char b[64];
        return date_error(L, "date.add_hours: argument 2 must be a number of hours (got %s)",
                          arg_repr(L, 2, b, sizeof b));
    }
    char buf[32];
    if (cf_time_format(t + (cf_time)llround(lua_tonumber(L, 2) * 3600.0), buf, sizeof buf) != CF_OK)
        return date_error(L, "date.add_hours: the result is outside the years 1 to 9999");
    lua_pushstring(L, buf);
    return 1;
}

static int d_hours_between(lua_State *L)
{
    cf_time a = arg_instant(L, 1, "hours_between"), b = arg_instant(L, 2, "hours_between");
    lua_pushnumber(L, (lua_Number)(b - a) / 3600.0);
    return 1;
}

static const luaL_Reg DATE_FUNCS[] = {
    {"valid", d_valid},
    {"add_days", d_add_days},
    {"add_months", d_add_months},
    {"add_years", d_add_years},
    {"add_business_days", d_add_business_days},
    {"days_between", d_days_between},
    {"compare", d_compare},
    {"age", d_age},
    {"weekday", d_weekday},
    {"is_leap", d_is_leap},
    {"end_of_month", d_end_of_month},
    {"of", d_of},
    {"add_hours", d_add_hours},
    {"hours_between", d_hours_between},
    {NULL, NULL},
};

void cf__policy_push_date_library(lua_State *L, const cf__tz *tz)
{
    luaL_newlibtable(L, DATE_FUNCS);
    lua_pushlightuserdata(L, (void *)tz);
    luaL_setfuncs(L, DATE_FUNCS, 1);
}
