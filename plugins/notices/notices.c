/*
 * notices.c — the notices plugin: an outbox of notices due to people and
 * counties (certification expiry approaching, renewal window open, grace period
 * ending, supervisor training due, investigation or appeal review overdue),
 * written by actions at the shipped workflows' timers and state entries, each
 * from a text template per notice type. Queries list the outbox and mark
 * notices sent. docs/plugins.md, "notices".
 */
#include "../common/shipped.h"

#include <stdlib.h>
#include <string.h>

/* A notice type: who receives it, the data fields its {date} and {name} come
 * from, and its default template. */
typedef struct notice_type {
    const char *type;
    const char *action;     /* the action that writes it */
    const char *recipient;  /* "person" or "county" */
    const char *date_field; /* dotted path in the data */
    const char *name_field;
    const char *rule;
    const char *template_;
} notice_type;

static const notice_type TYPES[] = {
    {"expiry_approaching", "notices_expiry_approaching", "person", "expires_on", "name", "REN_4",
     "Dear {name}, your peer support specialist certification {number} expires on {date}. Renew it by then "
     "to keep it active."},
    {"renewal_window_open", "notices_renewal_window_open", "person", "expires_on", "name", "REN_4",
     "Dear {name}, you may now renew certification {number}: submit your renewal by {date}, its expiry date."},
    {"grace_period_ending", "notices_grace_period_ending", "county", "grace_ends_on", "name", "EMP_1",
     "{county}: the grace period of {name} (employment {id}) ends on {date}. Without certification by then, "
     "EHR access for peer services is suspended."},
    {"supervisor_training_due", "notices_supervisor_training_due", "person", "training_due_on", "name", "SUP_2",
     "Dear {name}, complete a DHCS-approved supervisory training by {date}."},
    {"investigation_overdue", "notices_investigation_overdue", "county", "review_due_on", "respondent", "DIS_5",
     "{county}: the investigation of complaint {id} about {name} was due on {date} and is overdue."},
    {"appeal_review_overdue", "notices_appeal_review_overdue", "county", "appeal.review_due_on", "respondent",
     "DIS_5", "{county}: the review of the appeal in complaint {id} about {name} was due on {date} and is overdue."},
};
#define NTYPES (sizeof TYPES / sizeof TYPES[0])

typedef struct notices {
    const cf_host *h;
    char *templates[NTYPES]; /* configured, or NULL for the default */
} notices;

typedef struct action_ud {
    notices *n;
    size_t type;
} action_ud;

typedef struct plugin_state {
    notices n;
    action_ud actions[NTYPES];
} plugin_state;

static void free_state(void *ud)
{
    plugin_state *p = ud;
    for (size_t i = 0; i < NTYPES; i++)
        free(p->n.templates[i]);
    free(p);
}

/* Append text to a growing buffer; 0 or -1 out of memory. */
static int put(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = (*cap ? *cap * 2 : 256) + n;
        char *p = realloc(*buf, c);
        if (!p)
            return -1;
        *buf = p;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

/* Fill {name}, {date}, {county}, {id}, {number}, {state}; unknown placeholders stay as written. */
static char *render(const char *tpl, const char *const keys[], const char *const vals[], size_t nkeys)
{
    char *out = NULL;
    size_t len = 0, cap = 0;
    if (put(&out, &len, &cap, "", 0))
        return NULL;
    for (const char *p = tpl; *p;) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        size_t i = nkeys;
        if (close)
            for (i = 0; i < nkeys; i++)
                if ((size_t)(close - p - 1) == strlen(keys[i]) && strncmp(p + 1, keys[i], strlen(keys[i])) == 0)
                    break;
        int bad;
        if (i < nkeys) {
            bad = put(&out, &len, &cap, vals[i], strlen(vals[i]));
            p = close + 1;
        } else {
            bad = put(&out, &len, &cap, p, 1);
            p++;
        }
        if (bad) {
            free(out);
            return NULL;
        }
    }
    return out;
}

/* The actions notices_<type>: one notice into the outbox, once per instance, type and date. */
static int queue(cf_call *call, void *ud)
{
    const action_ud *a = ud;
    const cf_host *h = a->n->h;
    const notice_type *t = &TYPES[a->type];
    json_t *data = sp_data(h, call, NULL);
    const char *date = json_string_value(sp_path(data, t->date_field));
    if (!date) {
        json_decref(data);
        return sp_fail(h, call, "notice %s needs the date in data.%s, which is missing", t->type, t->date_field);
    }
    const char *name = sp_str(data, t->name_field, sp_str(data, "name", ""));
    static const char *const keys[] = {"name", "date", "county", "id", "number", "state"};
    const char *vals[] = {name, date, h->county(call), h->instance_id(call), sp_str(data, "certification_number", ""),
                          h->state(call)};
    char *text = render(a->n->templates[a->type] ? a->n->templates[a->type] : t->template_, keys, vals, 6);
    if (!text) {
        json_decref(data);
        return sp_fail(h, call, "out of memory rendering a notice");
    }
    char on[32];
    h->time_format(h->now(call), on, sizeof on);
    const sp_val v[] = {SP_T(h->instance_id(call)), SP_T(h->workflow(call)), SP_T(h->county(call)), SP_T(t->type),
                        SP_T(t->recipient), SP_T(name), SP_T(date), SP_T(text), SP_I(h->now(call)), SP_T(on)};
    int rc = sp_exec(h, call,
                     "INSERT INTO notices_outbox(instance, workflow, county, type, recipient, recipient_name, date,"
                     " text, created_at, created, status) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'pending')"
                     " ON CONFLICT(instance, type, date) DO NOTHING",
                     v, 10);
    free(text);
    json_decref(data);
    return rc;
}

static const char *const COLS[] = {"id", "instance", "workflow", "county", "type", "recipient", "recipient_name",
                                   "date", "text", "created", "status", "sent"};
#define COL_TYPES "ittttttttttt"

/* Query notices.list {"status": "pending"|"sent", "county": C} (both optional): oldest first. */
static int list(cf_call *call, void *ud, const char *args)
{
    const notices *n = ud;
    const cf_host *h = n->h;
    (void)args;
    json_t *status = sp_event(h, call, "status"), *county = sp_event(h, call, "county");
    const char *st = json_string_value(status);
    int rc = CF_PLUGIN_OK;
    if (status && (!st || (strcmp(st, "pending") != 0 && strcmp(st, "sent") != 0)))
        rc = sp_fail(h, call, "status must be \"pending\" or \"sent\"");
    json_t *rows = json_array();
    const sp_val v[] = {SP_T(st), SP_T(json_string_value(county))};
    if (rc == CF_PLUGIN_OK)
        rc = sp_select(h, call,
                       "SELECT id, instance, workflow, county, type, recipient, recipient_name, date, text, created,"
                       " status, sent FROM notices_outbox WHERE (?1 IS NULL OR status = ?1)"
                       " AND (?2 IS NULL OR county = ?2) ORDER BY created_at, id",
                       v, 2, COLS, COL_TYPES, rows);
    json_decref(status);
    json_decref(county);
    if (rc != CF_PLUGIN_OK) {
        json_decref(rows);
        return rc;
    }
    return sp_answer(h, call, rows);
}

/* Query notices.mark_sent {"ids": [1, 2]} (writes): each pending notice marked sent now.
 * An unknown id fails the whole call; one already sent is reported and left as it is. */
static int mark_sent(cf_call *call, void *ud, const char *args)
{
    const notices *n = ud;
    const cf_host *h = n->h;
    (void)args;
    json_t *ids = sp_event(h, call, "ids");
    if (!json_is_array(ids) || json_array_size(ids) == 0) {
        json_decref(ids);
        return sp_fail(h, call, "notices.mark_sent needs {\"ids\": [ID, ...]}");
    }
    char now[32];
    h->time_format(h->now(call), now, sizeof now);
    json_t *marked = json_array(), *already = json_array();
    int rc = CF_PLUGIN_OK;
    size_t i;
    json_t *idv;
    json_array_foreach(ids, i, idv)
    {
        if (!json_is_integer(idv)) {
            rc = sp_fail(h, call, "ids[%zu] is not a notice id (a whole number)", i);
            break;
        }
        json_int_t id = json_integer_value(idv);
        json_t *found = json_array();
        static const char *const cols[] = {"status"};
        const sp_val v[] = {SP_I(id)};
        rc = sp_select(h, call, "SELECT status FROM notices_outbox WHERE id = ?1", v, 1, cols, "t", found);
        const char *status = sp_str(json_array_get(found, 0), "status", NULL);
        if (rc == CF_PLUGIN_OK && !status)
            rc = sp_fail(h, call, "there is no notice %lld (list them with notices.list); nothing was marked",
                         (long long)id);
        if (rc == CF_PLUGIN_OK && strcmp(status, "sent") == 0) {
            json_array_append_new(already, json_integer(id));
        } else if (rc == CF_PLUGIN_OK) {
            const sp_val u[] = {SP_I(id), SP_T(now), SP_I(h->now(call))};
            rc = sp_exec(h, call, "UPDATE notices_outbox SET status = 'sent', sent = ?2, sent_at = ?3 WHERE id = ?1",
                         u, 3);
            json_array_append_new(marked, json_integer(id));
        }
        json_decref(found);
        if (rc != CF_PLUGIN_OK)
            break;
    }
    json_decref(ids);
    if (rc != CF_PLUGIN_OK) {
        json_decref(marked);
        json_decref(already);
        return rc;
    }
    return sp_answer(h, call, json_pack("{s:o, s:o}", "marked", marked, "already_sent", already));
}

/* Configuration: {"templates": {"<type>": "text with {name}, {date}, ..."}}. */
static int configure(notices *n, const cf_host *host, cf_plugin *self, const char *config_json)
{
    json_t *cfg = json_loads(config_json ? config_json : "{}", 0, NULL);
    json_t *tpl = json_object_get(cfg, "templates");
    int rc = CF_PLUGIN_OK;
    if (tpl && !json_is_object(tpl))
        rc = host->init_error(self, "\"templates\" must be an object of notice type to template text");
    const char *key;
    json_t *v;
    json_object_foreach(tpl, key, v)
    {
        if (rc != CF_PLUGIN_OK)
            break;
        size_t i = 0;
        while (i < NTYPES && strcmp(TYPES[i].type, key) != 0)
            i++;
        char msg[256];
        if (i == NTYPES) {
            snprintf(msg, sizeof msg,
                     "templates: '%.60s' is not a notice type (expiry_approaching, renewal_window_open, "
                     "grace_period_ending, supervisor_training_due, investigation_overdue, appeal_review_overdue)",
                     key);
            rc = host->init_error(self, msg);
        } else if (!json_is_string(v) || !*json_string_value(v)) {
            snprintf(msg, sizeof msg, "templates.%s must be a non-empty text", key);
            rc = host->init_error(self, msg);
        } else if (!(n->templates[i] = sp_strdup(json_string_value(v)))) {
            rc = host->init_error(self, "out of memory");
        }
    }
    json_decref(cfg);
    return rc;
}

CF_PLUGIN_EXPORT const cf_plugin_info *certflow_plugin_info(void)
{
    static const cf_plugin_info info =
        CF_PLUGIN_INFO_INIT("notices", "1.0.0", "an outbox of notices due to people and counties, from templates");
    return &info;
}

CF_PLUGIN_EXPORT int certflow_plugin_init(const cf_host *host, cf_plugin *self, const char *config_json)
{
    SP_NEEDS_QUERIES(host, self);
    plugin_state *p = calloc(1, sizeof *p);
    if (!p)
        return host->init_error(self, "out of memory");
    p->n.h = host;
    int rc = host->at_close(self, free_state, p);
    if (rc == CF_PLUGIN_OK)
        rc = configure(&p->n, host, self, config_json);
    if (rc == CF_PLUGIN_OK && !sp_known_dialect(host, self))
        return host->init_error(self, "notices knows the SQL of SQLite and PostgreSQL only");
    if (rc == CF_PLUGIN_OK && sp_postgresql(host, self))
        rc = host->add_migration(self, 1,
                                 "CREATE TABLE notices_outbox("
                                 "  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
                                 "  instance TEXT NOT NULL,"
                                 "  workflow TEXT NOT NULL,"
                                 "  county TEXT NOT NULL,"
                                 "  type TEXT NOT NULL,"
                                 "  recipient TEXT NOT NULL CHECK (recipient IN ('person', 'county')),"
                                 "  recipient_name TEXT NOT NULL,"
                                 "  date TEXT NOT NULL,"
                                 "  text TEXT NOT NULL,"
                                 "  created_at bigint NOT NULL,"
                                 "  created TEXT NOT NULL,"
                                 "  status TEXT NOT NULL CHECK (status IN ('pending', 'sent')),"
                                 "  sent TEXT,"
                                 "  sent_at bigint,"
                                 "  UNIQUE (instance, type, date));"
                                 "CREATE INDEX notices_outbox_by_status ON notices_outbox(status, county);");
    else if (rc == CF_PLUGIN_OK)
        rc = host->add_migration(self, 1,
                                 "CREATE TABLE notices_outbox("
                                 "  id INTEGER PRIMARY KEY,"
                                 "  instance TEXT NOT NULL,"
                                 "  workflow TEXT NOT NULL,"
                                 "  county TEXT NOT NULL,"
                                 "  type TEXT NOT NULL,"
                                 "  recipient TEXT NOT NULL CHECK (recipient IN ('person', 'county')),"
                                 "  recipient_name TEXT NOT NULL,"
                                 "  date TEXT NOT NULL,"
                                 "  text TEXT NOT NULL,"
                                 "  created_at INTEGER NOT NULL,"
                                 "  created TEXT NOT NULL,"
                                 "  status TEXT NOT NULL CHECK (status IN ('pending', 'sent')),"
                                 "  sent TEXT,"
                                 "  sent_at INTEGER,"
                                 "  UNIQUE (instance, type, date));"
                                 "CREATE INDEX notices_outbox_by_status ON notices_outbox(status, county);");
    for (size_t i = 0; i < NTYPES && rc == CF_PLUGIN_OK; i++) {
        p->actions[i] = (action_ud){&p->n, i};
        rc = host->register_action(self, TYPES[i].action, queue, &p->actions[i]);
    }
    if (rc == CF_PLUGIN_OK)
        rc = host->register_query(self, "list", list, &p->n, CF_PLUGIN_QUERY_READ);
    if (rc == CF_PLUGIN_OK)
        rc = host->register_query(self, "mark_sent", mark_sent, &p->n, CF_PLUGIN_QUERY_WRITE);
    return rc;
}
