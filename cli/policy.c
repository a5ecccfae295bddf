/*
 * policy.c — certflow policy diff | apply | log | test: show what a proposed county
 * overlay changes for the county's live instances, apply it, list the changes
 * applied, or run the policy test cases of a folder. Public API only
 * (cf_policy_diff_for, cf_policy_apply_for, cf_policy_log, cf_policy_test).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* What the engine reported, kept for printing (text or JSON) once the call is done. */
typedef struct changes {
    json_t *params;  /* [{name, old, new}] */
    json_t *rows;    /* [{instance_id, who, county, workflow, state, kind, name, event, old, new, effect}] */
    json_t *ids;     /* set of affected instance ids */
    char old_hash[80], new_hash[80];
    size_t moved, due_now, added, removed, eligibility, states, pins;
} changes;

static int collect_change(void *ud, const cf_policy_change *c)
{
    changes *ch = ud;
    if (strcmp(c->kind, "policy") == 0) {
        snprintf(ch->old_hash, sizeof ch->old_hash, "%s", c->old_value);
        snprintf(ch->new_hash, sizeof ch->new_hash, "%s", c->new_value);
        return 0;
    }
    json_t *o = json_object();
    if (strcmp(c->kind, "param") == 0) {
        json_object_set_new(o, "name", cli_json_str(c->name));
        json_object_set_new(o, "old", cli_json_text(c->old_value));
        json_object_set_new(o, "new", cli_json_text(c->new_value));
        json_array_append_new(ch->params, o);
        return 0;
    }
    json_object_set_new(o, "instance_id", cli_json_str(c->instance_id));
    json_object_set_new(o, "who", cli_json_str(c->who ? c->who : ""));
    json_object_set_new(o, "county", cli_json_str(c->county ? c->county : ""));
    json_object_set_new(o, "workflow", cli_json_str(c->workflow));
    json_object_set_new(o, "state", cli_json_str(c->state));
    json_object_set_new(o, "kind", cli_json_str(c->kind));
    json_object_set_new(o, "name", cli_json_str(c->name));
    json_object_set_new(o, "event", cli_json_str(c->event));
    json_object_set_new(o, "old", cli_json_str(c->old_value));
    json_object_set_new(o, "new", cli_json_str(c->new_value));
    json_object_set_new(o, "effect", cli_json_str(c->effect ? c->effect : ""));
    json_array_append_new(ch->rows, o);
    json_object_set_new(ch->ids, c->instance_id, json_true());
    const char *effect = c->effect ? c->effect : "";
    if (strcmp(c->kind, "deadline") == 0) {
        if (strncmp(effect, "set on entering", 15) == 0)
            ; /* the deadline of a state change, counted with it */
        else if (strcmp(c->old_value, "none") == 0)
            ch->added++;
        else if (strcmp(c->new_value, "none") == 0)
            ch->removed++;
        else {
            ch->moved++;
            if (strncmp(effect, "due already", 11) == 0)
                ch->due_now++;
        }
    } else if (strcmp(c->kind, "state") == 0) {
        ch->states++;
    } else if (strcmp(c->kind, "pin") == 0) {
        ch->pins++;
    } else {
        ch->eligibility++;
    }
    return 0;
}

static const char *json_text(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* "deadline escalation (escalate)", "eligibility assign: has_assignee", "state (policy_changed)"
 * or "pin hire_grace_days". */
static void what_text(json_t *row, char *buf, size_t size)
{
    const char *kind = json_text(row, "kind");
    if (strcmp(kind, "deadline") == 0)
        snprintf(buf, size, "deadline %s (fires %s)", json_text(row, "name"), json_text(row, "event"));
    else if (strcmp(kind, "state") == 0)
        snprintf(buf, size, "state (%s)", json_text(row, "event"));
    else if (strcmp(kind, "pin") == 0)
        snprintf(buf, size, "pin %s", json_text(row, "name"));
    else
        snprintf(buf, size, "eligibility %s: guard %s", json_text(row, "event"), json_text(row, "name"));
}

static void print_changes(cli_run *r, const changes *ch)
{
    if (json_array_size(ch->params)) {
        static const char *const ph[] = {"parameter", "old", "new"};
        cli_table *t = cli_table_new(3, ph);
        size_t i;
        json_t *p;
        json_array_foreach(ch->params, i, p)
        {
            char *o = json_dumps(json_object_get(p, "old"), JSON_COMPACT | JSON_ENCODE_ANY);
            char *n = json_dumps(json_object_get(p, "new"), JSON_COMPACT | JSON_ENCODE_ANY);
            const char *cells[3] = {json_text(p, "name"), o, n};
            cli_table_add(t, cells);
            free(o);
            free(n);
        }
        cli_table_print(r->out, t);
        cli_table_free(t);
    } else {
        fputs("parameters: none differ\n", r->out);
    }
    if (!json_array_size(ch->rows))
        return;
    fputc('\n', r->out);
    static const char *const headers[] = {"instance", "who", "county", "workflow", "state", "what", "old", "new",
                                          "on apply"};
    cli_table *t = cli_table_new(9, headers);
    size_t i;
    json_t *row;
    json_array_foreach(ch->rows, i, row)
    {
        char what[256];
        what_text(row, what, sizeof what);
        const char *cells[9] = {json_text(row, "instance_id"), json_text(row, "who"),   json_text(row, "county"),
                                json_text(row, "workflow"),    json_text(row, "state"), what,
                                json_text(row, "old"),         json_text(row, "new"),   json_text(row, "effect")};
        cli_table_add(t, cells);
    }
    cli_table_print(r->out, t);
    cli_table_free(t);
}

static json_t *changes_json(const cli_run *r, const changes *ch, const char *county, const char *file, int applied,
                            const char *applies_to)
{
    json_t *o = json_object();
    json_object_set_new(o, "county", json_string(county));
    json_object_set_new(o, "for", json_string(applies_to));
    json_object_set_new(o, "file", json_string(file));
    json_object_set_new(o, "applied", json_boolean(applied));
    json_object_set_new(o, "old_policy_hash", json_string(ch->old_hash));
    json_object_set_new(o, "new_policy_hash", json_string(ch->new_hash));
    json_object_set_new(o, "params", json_incref(ch->params));
    json_object_set_new(o, "changes", json_incref(ch->rows));
    json_object_set_new(o, "instances_affected", json_integer((json_int_t)json_object_size(ch->ids)));
    json_t *sum = json_object();
    json_object_set_new(sum, "timers_moved", json_integer((json_int_t)ch->moved));
    json_object_set_new(sum, "timers_due_now", json_integer((json_int_t)ch->due_now));
    json_object_set_new(sum, "timers_added", json_integer((json_int_t)ch->added));
    json_object_set_new(sum, "timers_removed", json_integer((json_int_t)ch->removed));
    json_object_set_new(sum, "state_changes", json_integer((json_int_t)ch->states));
    json_object_set_new(sum, "pinned", json_integer((json_int_t)ch->pins));
    json_object_set_new(sum, "eligibility", json_integer((json_int_t)ch->eligibility));
    json_object_set_new(o, "summary", sum);
    (void)r;
    return o;
}

/* "2 timers moved (1 due now), 0 added, 0 removed, 1 state change, 0 released, 1 eligibility" */
static void summary_text(const changes *ch, const char *applies_to, char *buf, size_t size)
{
    snprintf(buf, size, "%zu timer%s moved (%zu due now), %zu added, %zu removed, %zu state change%s, %zu %s, "
             "%zu eligibility",
             ch->moved, ch->moved == 1 ? "" : "s", ch->due_now, ch->added, ch->removed, ch->states,
             ch->states == 1 ? "" : "s", ch->pins, strcmp(applies_to, "new") == 0 ? "pinned" : "released",
             ch->eligibility);
}

static int diff_or_apply(cli_run *r, int apply)
{
    const char *county = r->a->opt[CLI_OPT_COUNTY], *file = r->a->pos[1];
    const char *sub = apply ? "apply" : "diff";
    if (!county)
        return cli_usage(r, CLI_CMD_POLICY, "'policy %s' needs --county COUNTY", sub);
    if (!apply && r->a->opt[CLI_OPT_ACTOR])
        return cli_usage(r, CLI_CMD_POLICY, "--actor applies to 'policy apply' only");
    if (!file)
        return cli_usage(r, CLI_CMD_POLICY, "'policy %s' needs the proposed overlay FILE", sub);
    const char *applies_to = r->a->opt[CLI_OPT_FOR] ? r->a->opt[CLI_OPT_FOR] : "all";
    if (strcmp(applies_to, "all") != 0 && strcmp(applies_to, "new") != 0)
        return cli_usage(r, CLI_CMD_POLICY, "--for takes all (every live instance, the default) or new (instances "
                         "the change would move keep the old values), not '%.40s'", applies_to);
    changes ch;
    memset(&ch, 0, sizeof ch);
    ch.params = json_array();
    ch.rows = json_array();
    ch.ids = json_object();
    int rc = apply ? cf_policy_apply_for(r->e, county, file, r->actor, applies_to, collect_change, &ch)
                   : cf_policy_diff_for(r->e, county, file, applies_to, collect_change, &ch);
    int code = 0;
    if (rc != CF_OK) {
        code = cli_fail(r, rc);
    } else if (r->a->opt[CLI_OPT_JSON]) {
        code = cli_json_print(r->out, changes_json(r, &ch, county, file, apply, applies_to)) ? CLI_EXIT_OTHER : 0;
    } else {
        size_t n = json_object_size(ch.ids);
        if (apply)
            cli_textf(r->out, "applied %s as the overlay of %s: policy %.12s -> %.12s\n", file, county, ch.old_hash,
                    ch.new_hash);
        else
            cli_textf(r->out, "county %s: policy %.12s -> %.12s with %s\n", county, ch.old_hash, ch.new_hash, file);
        print_changes(r, &ch);
        char sum[256];
        summary_text(&ch, applies_to, sum, sizeof sum);
        if (apply)
            fprintf(r->out, "%zu instance%s changed (for %s): %s%s\n", n, n == 1 ? "" : "s", applies_to, sum,
                    n ? "; each has a policy_changed history row" : "");
        else if (n)
            fprintf(r->out, "%zu instance%s would change (for %s): %s; nothing was written\n", n, n == 1 ? "" : "s",
                    applies_to, sum);
        else
            cli_textf(r->out, "no live instance of %s would change; nothing was written\n", county);
    }
    json_decref(ch.params);
    json_decref(ch.rows);
    json_decref(ch.ids);
    return code;
}

typedef struct test_out {
    cli_run *r;
    json_t *cases; /* --json */
    int passed, failed;
    json_t *uncovered; /* --coverage: {"kind", "name", "file"} of each function no case ran, parameter no case read */
} test_out;

static int collect_uncovered(void *ud, const cf_policy_uncovered *u)
{
    test_out *t = ud;
    json_array_append_new(t->uncovered,
                          json_pack("{s:s,s:s,s:s}", "kind", u->kind, "name", u->name, "file", u->file ? u->file : ""));
    return 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int print_case(void *ud, const cf_policy_case *c)
{
    test_out *t = ud;
    if (c->passed)
        t->passed++;
    else
        t->failed++;
    if (t->cases) {
        json_t *o = json_object();
        json_object_set_new(o, "file", cli_json_str(c->file));
        json_object_set_new(o, "name", cli_json_str(c->name));
        json_object_set_new(o, "passed", json_boolean(c->passed));
        json_object_set_new(o, "expected", cli_json_str(c->expected));
        json_object_set_new(o, "got", cli_json_str(c->got));
        json_array_append_new(t->cases, o);
        return 0;
    }
    if (c->passed)
        cli_textf(t->r->out, "PASS  %s  %s\n", base_name(c->file), c->name);
    else
        cli_textf(t->r->out, "FAIL  %s  %s  expected: %s  got: %s\n", base_name(c->file), c->name,
                *c->expected ? c->expected : "(see got)", c->got);
    return 0;
}

static int cmd_test(cli_run *r)
{
    if (r->a->opt[CLI_OPT_COUNTY] || r->a->opt[CLI_OPT_ACTOR])
        return cli_usage(r, CLI_CMD_POLICY,
                         "'policy test' takes no --county or --actor: to test a proposed overlay, put it in a copy "
                         "of the policy folder and pass --policies COPY");
    if (!r->a->pos[1])
        return cli_usage(r, CLI_CMD_POLICY, "'policy test' needs the folder of test cases DIR (or one case FILE)");
    int json = r->a->opt[CLI_OPT_JSON] != NULL;
    test_out t = {r, json ? json_array() : NULL, 0, 0, r->a->opt[CLI_OPT_COVERAGE] ? json_array() : NULL};
    int failed = 0;
    cf_policy_test_options o = CF_POLICY_TEST_OPTIONS_INIT;
    o.cases = r->a->pos[1];
    o.case_name = r->a->opt[CLI_OPT_CASE];
    if (t.uncovered) {
        o.uncovered = collect_uncovered;
        o.uncovered_ud = &t;
    }
    int rc = cf_policy_test_run(r->e, &o, print_case, &t, &failed);
    if (rc != CF_OK) {
        json_decref(t.cases);
        json_decref(t.uncovered);
        return cli_fail(r, rc);
    }
    int code = failed ? CLI_EXIT_INVALID : 0;
    if (json) {
        json_t *doc = json_object();
        json_object_set_new(doc, "cases", t.cases);
        json_object_set_new(doc, "passed", json_integer(t.passed));
        json_object_set_new(doc, "failed", json_integer(t.failed));
        json_object_set_new(doc, "policy_dir", json_string(r->policies));
        if (t.uncovered)
            json_object_set_new(doc, "uncovered", t.uncovered);
        return cli_json_print(r->out, doc) ? CLI_EXIT_OTHER : code;
    }
    int n = t.passed + t.failed;
    fprintf(r->out, "%d case%s: %d passed, %d failed\n", n, n == 1 ? "" : "s", t.passed, t.failed);
    if (t.uncovered) {
        size_t nu = json_array_size(t.uncovered), i;
        json_t *u;
        if (nu == 0)
            fputs("coverage: every guard and deadline function ran, and every parameter was read, in some case\n",
                  r->out);
        else
            fprintf(r->out, "coverage: %zu not exercised (guard or deadline functions no case ran, parameters no case "
                            "read):\n", nu);
        json_array_foreach(t.uncovered, i, u)
            cli_textf(r->out, "  %-9s  %s  (%s)\n", json_string_value(json_object_get(u, "kind")),
                      json_string_value(json_object_get(u, "name")), json_string_value(json_object_get(u, "file")));
        json_decref(t.uncovered);
    }
    return code;
}

typedef struct log_out {
    cli_run *r;
    json_t *rows;
} log_out;

static int collect_log(void *ud, const cf_policy_log_entry *l)
{
    log_out *lo = ud;
    char at[32];
    if (cf_time_format(l->at, at, sizeof at) != CF_OK)
        snprintf(at, sizeof at, "@%lld", (long long)l->at);
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer(l->seq));
    json_object_set_new(o, "at", json_string(at));
    json_object_set_new(o, "actor", cli_json_str(l->actor));
    json_object_set_new(o, "county", cli_json_str(l->county));
    json_object_set_new(o, "overlay_hash", cli_json_str(l->overlay_hash));
    json_object_set_new(o, "old_policy_hash", cli_json_str(l->old_policy_hash));
    json_object_set_new(o, "new_policy_hash", cli_json_str(l->new_policy_hash));
    json_object_set_new(o, "for", cli_json_str(l->applies_to));
    json_object_set_new(o, "instances", json_integer(l->instances));
    json_t *params = json_loads(l->params, 0, NULL);
    json_object_set_new(o, "params", params ? params : json_array());
    json_array_append_new(lo->rows, o);
    return 0;
}

static int cmd_log(cli_run *r)
{
    if (r->a->pos[1])
        return cli_usage(r, CLI_CMD_POLICY, "'policy log' takes no FILE (only --county COUNTY)");
    if (r->a->opt[CLI_OPT_ACTOR] || r->a->opt[CLI_OPT_FOR])
        return cli_usage(r, CLI_CMD_POLICY, "'policy log' takes only --county COUNTY");
    const char *county = r->a->opt[CLI_OPT_COUNTY];
    log_out lo = {r, json_array()};
    int rc = cf_policy_log(r->e, county, collect_log, &lo);
    if (rc != CF_OK) {
        json_decref(lo.rows);
        return cli_fail(r, rc);
    }
    if (r->a->opt[CLI_OPT_JSON]) {
        json_t *o = json_object();
        json_object_set_new(o, "changes", lo.rows);
        return cli_json_print(r->out, o) ? CLI_EXIT_OTHER : 0;
    }
    if (json_array_size(lo.rows) == 0) {
        cli_textf(r->out, "no policy change has been applied%s%s\n", county ? " to " : "", county ? county : "");
        json_decref(lo.rows);
        return 0;
    }
    static const char *const headers[] = {"applied", "by", "county", "overlay", "policy", "for", "instances",
                                          "parameters"};
    cli_table *t = cli_table_new(8, headers);
    size_t i;
    json_t *row;
    json_array_foreach(lo.rows, i, row)
    {
        char params[512] = "", moved[32], overlay[16], policy[32];
        size_t k;
        json_t *p;
        json_array_foreach(json_object_get(row, "params"), k, p)
        {
            char *o = json_dumps(json_object_get(p, "old"), JSON_ENCODE_ANY);
            char *n = json_dumps(json_object_get(p, "new"), JSON_ENCODE_ANY);
            size_t used = strlen(params);
            snprintf(params + used, sizeof params - used, "%s%s %s -> %s", k ? ", " : "", json_text(p, "name"),
                     json_is_string(json_object_get(p, "old")) ? json_text(p, "old") : (o ? o : "?"),
                     json_is_string(json_object_get(p, "new")) ? json_text(p, "new") : (n ? n : "?"));
            free(o);
            free(n);
        }
        snprintf(moved, sizeof moved, "%lld", (long long)json_integer_value(json_object_get(row, "instances")));
        snprintf(overlay, sizeof overlay, "%.12s", json_text(row, "overlay_hash"));
        snprintf(policy, sizeof policy, "%.12s -> %.12s", json_text(row, "old_policy_hash"),
                 json_text(row, "new_policy_hash"));
        const char *cells[8] = {json_text(row, "at"), json_text(row, "actor"), json_text(row, "county"), overlay,
                                policy, json_text(row, "for"), moved, params[0] ? params : "none"};
        cli_table_add(t, cells);
    }
    cli_table_print(r->out, t);
    cli_table_free(t);
    size_t n = json_array_size(lo.rows);
    fprintf(r->out, "%zu change%s applied\n", n, n == 1 ? "" : "s");
    json_decref(lo.rows);
    return 0;
}

int cli_cmd_policy(cli_run *r)
{
    const char *sub = r->a->pos[0];
    if (strcmp(sub, "log") == 0)
        return cmd_log(r);
    if (r->a->opt[CLI_OPT_FOR] && strcmp(sub, "diff") != 0 && strcmp(sub, "apply") != 0)
        return cli_usage(r, CLI_CMD_POLICY, "--for applies to 'policy diff' and 'policy apply' only");
    if (strcmp(sub, "diff") == 0)
        return diff_or_apply(r, 0);
    if (strcmp(sub, "apply") == 0)
        return diff_or_apply(r, 1);
    if (strcmp(sub, "test") == 0)
        return cmd_test(r);
    return cli_usage(r, CLI_CMD_POLICY, "unknown policy command '%.60s' (use diff, apply, log or test)", sub);
}
