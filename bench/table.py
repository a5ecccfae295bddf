"""bench/table.py — print the benchmark table from the RESULT/VERSION/MACHINE lines that
scripts/bench.sh collected (one file, given as the argument), with the ratios and the goals
of issues 5 and 13 (the simulation and policy-diff figures, and PostgreSQL rows when
scripts/bench-pg.sh ran)."""
import sys

res, info = {}, []
for line in open(sys.argv[1]):
    parts = line.split()
    if not parts:
        continue
    if parts[0] == "RESULT" and len(parts) >= 4:
        res[parts[1]] = (float(parts[2]), parts[3], parts[4] if len(parts) > 4 else "")
    elif parts[0] in ("MACHINE", "VERSION"):
        info.append(" ".join(parts[1:]))


def v(name):
    return res[name][0] if name in res else None


def fmt(x, unit):
    if x is None:
        return "n/a"
    if unit in ("fires/s", "tx-pairs/s", "sends/s", "triggers/s"):
        return f"{x:,.0f}/s"
    if unit == "ns/call":
        return f"{x:,.0f} ns"
    if unit == "kB":
        return f"{x / 1024:,.1f} MiB"
    if unit == "ms":
        return f"{x:,.1f} ms"
    if unit == "s":
        return f"{x * 1000:,.0f} ms"
    if unit == "sec":
        return f"{x:,.1f} s"
    if unit == "us/event":
        return f"{x:,.1f} µs/event"
    return f"{x:g} {unit}"


rows = []


def row(what, name, base_label, base, ratio_text, goal, met):
    val = fmt(v(name), res[name][1]) if name in res else "n/a"
    rows.append((what, val, base_label, ratio_text, goal, met))


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def pct(r):
    return "n/a" if r is None else f"{r * 100:.0f} %"


def times(r):
    return "n/a" if r is None else f"{r:.2f}x"


def yes(ok):
    return "n/a" if ok is None else ("yes" if ok else "NO")


# 1. one transaction per fire
r = ratio(v("certflow_tx_normal"), v("raw_tx_normal"))
row("1 fire/tx, WAL+NORMAL, Lua guard", "certflow_tx_normal",
    f"raw UPDATE+INSERT/tx {fmt(v('raw_tx_normal'), 'tx-pairs/s')}", None, pct(r), ">= 75 %",
    yes(None if r is None else r >= 0.75))
r = ratio(v("certflow_tx_full"), v("raw_tx_normal"))
row("1 fire/tx, WAL+FULL", "certflow_tx_full",
    f"same raw (NORMAL) {fmt(v('raw_tx_normal'), 'tx-pairs/s')}", None, pct(r), "report", "")
r = ratio(v("certflow_tx_full"), v("raw_tx_full"))
row("1 fire/tx, WAL+FULL (like for like)", "certflow_tx_full",
    f"raw FULL {fmt(v('raw_tx_full'), 'tx-pairs/s')}", None, pct(r), "report", "")
# 2. batched
r = ratio(v("certflow_batch_1000"), v("xstate_send"))
row("batched, 1000 fires/tx, durable", "certflow_batch_1000",
    f"XState 5 actor.send in memory {fmt(v('xstate_send'), 'sends/s')}", None, times(r), ">= 1.5x",
    yes(None if r is None else r >= 1.5))
r = ratio(v("certflow_batch_1000"), v("python_transitions"))
row("batched, 1000 fires/tx, durable", "certflow_batch_1000",
    f"Python transitions in memory {fmt(v('python_transitions'), 'triggers/s')}", None, times(r), "report", "")
r = ratio(v("certflow_batch_1000"), v("raw_batch_1000"))
row("batched, 1000 fires/tx, durable", "certflow_batch_1000",
    f"raw UPDATE+INSERT 1000/tx {fmt(v('raw_batch_1000'), 'tx-pairs/s')}", None, pct(r), ">= 30 %",
    yes(None if r is None else r >= 0.30))
# 3. guard
a, b = v("guard_certflow_ns"), v("guard_bare_pcall_ns")
d = None if a is None or b is None else a - b
row("guard reading inst.data (new instance per call)", "guard_certflow_ns",
    f"bare lua_pcall {fmt(b, 'ns/call')}", None, "n/a" if d is None else f"+{d:.0f} ns", "<= +100 ns",
    yes(None if d is None else d <= 100))
a2 = v("guard_certflow_same_instance_ns")
d2 = None if a2 is None or b is None else a2 - b
row("guard reading inst.data (same instance)", "guard_certflow_same_instance_ns",
    f"bare lua_pcall {fmt(b, 'ns/call')}", None, "n/a" if d2 is None else f"+{d2:.0f} ns", "report", "")
# 4. timers
r = ratio(v("tick_fires_per_s"), v("certflow_batch_1000"))
note = res.get("tick_fires_per_s", (0, "", ""))[2].replace("_", " ")
row(f"tick ({note})", "tick_fires_per_s", f"batched rate {fmt(v('certflow_batch_1000'), 'fires/s')}", None,
    pct(r), "~ batched rate", yes(None if r is None else r >= 0.8))
note = res.get("due_30d_s", (0, "", ""))[2].replace("_", " ")
row(f"due --within 30d ({note})", "due_30d_s", "", None, "", "well under 1 s",
    yes(None if v("due_30d_s") is None else v("due_30d_s") < 0.5))
# 5. memory
r = ratio(v("mem_large_kb"), v("mem_small_kb"))
nl = res.get("mem_large_kb", (0, "", ""))[2].split("_")[0]
ns = res.get("mem_small_kb", (0, "", ""))[2].split("_")[0]
row(f"peak RSS, {nl} instances in the database", "mem_large_kb", f"{ns} instances {fmt(v('mem_small_kb'), 'kB')}",
    None, times(r), "independent of count", yes(None if r is None else r <= 1.15))
# 6. open
row("open + every shipped workflow + 2 overlays", "open_ms", "", None, "", "report", "")
row("  the same, creating the database", "open_new_db_ms", "", None, "", "report", "")
# 7. issue 13: the simulation grows linearly, and a policy diff over many live instances
def people(name):
    return res.get(name, (0, "", ""))[2].split("_")[0]


def events(name):
    parts = res.get(name, (0, "", ""))[2].split("_")
    return parts[2] if len(parts) > 2 else "?"


big, small = people("sim_big_us_per_event"), people("sim_small_us_per_event")
at_goal = big == "100000"
r = ratio(v("sim_big_us_per_event"), v("sim_small_us_per_event"))
row(f"simulate --years 3: time per event, {big} people ({events('sim_big_us_per_event')} events)",
    "sim_big_us_per_event", f"{small} people {fmt(v('sim_small_us_per_event'), 'us/event')}", None, times(r),
    "<= 1.3x" if at_goal else "<= 1.3x (goal at 100000)", yes(None if r is None else r <= 1.3))
r = ratio(v("sim_big_cpu_us_per_event"), v("sim_small_cpu_us_per_event"))
row(f"  the same in CPU time", "sim_big_cpu_us_per_event",
    f"{small} people {fmt(v('sim_small_cpu_us_per_event'), 'us/event')}", None, times(r), "report", "")
row(f"simulate --people {big} --years 3, wall clock", "sim_big_s", "", None, "",
    "<= 60 s at 100000" if at_goal else "report (goal at 100000)",
    yes(v("sim_big_s") <= 60) if at_goal and v("sim_big_s") is not None else "")
row(f"simulate --people {big}, peak RSS", "sim_big_rss_kb", "", None, "", "<= 256 MiB",
    yes(None if v("sim_big_rss_kb") is None else v("sim_big_rss_kb") <= 256 * 1024))
n = res.get("policy_diff_s", (0, "", ""))[2].replace("_", " ")
row(f"policy diff of a county parameter ({n})", "policy_diff_s", "", None, "",
    "<= 5 s at 100000" if n.startswith("100000 ") else "report (goal at 100000)",
    yes(v("policy_diff_s") <= 5) if n.startswith("100000 ") else "")
row("  its peak RSS", "policy_diff_rss_kb", "", None, "", "report", "")

# 7. PostgreSQL (scripts/bench-pg.sh, run by scripts/bench.sh when a server can be
# started): the same goals against raw libpq doing the fire's two statements, and
# against XState from the same run.
if any(k.startswith("certflow_tx_sync_on") for k in res):
    r = ratio(v("certflow_tx_sync_on"), v("raw_libpq_tx_sync_on"))
    row("PostgreSQL: 1 fire/tx, synchronous_commit=on", "certflow_tx_sync_on",
        f"raw libpq UPDATE+INSERT/tx {fmt(v('raw_libpq_tx_sync_on'), 'tx-pairs/s')}", None, pct(r), ">= 75 %",
        yes(None if r is None else r >= 0.75))
    r = ratio(v("certflow_tx_sync_off"), v("raw_libpq_tx_sync_off"))
    row("PostgreSQL: 1 fire/tx, synchronous_commit=off", "certflow_tx_sync_off",
        f"raw libpq UPDATE+INSERT/tx {fmt(v('raw_libpq_tx_sync_off'), 'tx-pairs/s')}", None, pct(r), "report", "")
    r = ratio(v("certflow_batch_1000_sync_on"), v("xstate_send"))
    row("PostgreSQL: batched, 1000 fires/tx", "certflow_batch_1000_sync_on",
        f"XState 5 actor.send in memory {fmt(v('xstate_send'), 'sends/s')}", None, times(r), ">= 1.5x",
        yes(None if r is None else r >= 1.5))
    r = ratio(v("certflow_batch_1000_sync_on"), v("raw_libpq_batch_1000_sync_on"))
    row("PostgreSQL: batched, 1000 fires/tx", "certflow_batch_1000_sync_on",
        f"raw libpq UPDATE+INSERT 1000/tx {fmt(v('raw_libpq_batch_1000_sync_on'), 'tx-pairs/s')}", None, pct(r),
        ">= 30 %", yes(None if r is None else r >= 0.30))
    for procs in (1, 2, 4):
        row(f"PostgreSQL: 1 fire/tx, {procs} engine process{'es' if procs > 1 else ''}",
            f"certflow_tx_{procs}_processes", "", None, "", "report", "")

w = [max(len(str(r[i])) for r in rows + [("figure", "certflow", "against", "ratio", "goal", "met")])
     for i in range(6)]
head = ("figure", "certflow", "against", "ratio", "goal", "met")
print(" | ".join(h.ljust(w[i]) for i, h in enumerate(head)))
print("-+-".join("-" * w[i] for i in range(6)))
for r in rows:
    print(" | ".join(str(c).ljust(w[i]) for i, c in enumerate(r)))
print()
for line in info:
    print(line)
