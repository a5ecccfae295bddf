"""bench/table.py — print the benchmark table from the lines scripts/bench.sh collected (one file,
given as the argument): RESULT lines grouped into rounds by "ROUND <r>" lines, and MACHINE and
VERSION lines printed under the table.

  RESULT <name> <value> <unit> <note>     one measurement of one round
  ROUND <r>                               the RESULT lines after it belong to round r

Every figure is printed as the median over its rounds with the spread (min–max) and the number
of rounds; a ratio to a baseline is computed per round (certflow's round r against the
baseline's round r, which ran right after it) and printed as the median of those ratios with
their spread; the goal's verdict (met / missed) is taken on the median ratio, and the number of
rounds that met it follows in brackets. SQLite's and PostgreSQL's rows (names prefixed pg_, from
scripts/bench-pg.sh) of one figure stand one under the other.

  python3 bench/table.py RESULTS          print the table
  python3 bench/table.py --selftest       check the arithmetic and the layout on canned lines
"""
import statistics
import sys


def parse(lines):
    """RESULT lines by name and round, their units and notes, and the MACHINE/VERSION lines."""
    res, units, notes, info = {}, {}, {}, []
    rnd = 0
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "ROUND" and len(parts) >= 2:
            rnd = int(parts[1])
        elif parts[0] == "RESULT" and len(parts) >= 4:
            try:
                value = float(parts[2])
            except ValueError:
                continue
            res.setdefault(parts[1], {})[rnd] = value
            units[parts[1]] = parts[3]
            notes[parts[1]] = parts[4] if len(parts) > 4 else ""
        elif parts[0] in ("MACHINE", "VERSION"):
            info.append((parts[0], " ".join(parts[1:])))
    return res, units, notes, info


def stats(values):
    """(median, min, max, n) of a list of numbers, or None when it is empty."""
    if not values:
        return None
    return statistics.median(values), min(values), max(values), len(values)


RATE_UNITS = ("fires/s", "tx-pairs/s", "sends/s", "triggers/s", "req/s")


def fmt(x, unit):
    if x is None:
        return "n/a"
    if unit in RATE_UNITS:
        return f"{x:,.0f}/s"
    if unit == "ns/call":
        return f"{x:,.0f} ns"
    if unit == "kB":
        return f"{x / 1024:,.1f} MiB"
    if unit == "ms":
        return f"{x:,.2f} ms" if x < 1 else f"{x:,.1f} ms"
    if unit == "s":
        if x < 0.01:
            return f"{x * 1000:,.1f} ms"
        return f"{x * 1000:,.0f} ms" if x < 10 else f"{x:,.1f} s"
    if unit == "sec":
        return f"{x:,.1f} s"
    if unit == "us/event":
        return f"{x:,.0f} µs/event" if x >= 100 else f"{x:,.1f} µs/event"
    return f"{x:g} {unit}"


SUFFIXES = ("/s", " ns", " MiB", " ms", " s", " µs/event", " %", "x")


def span(lo_text, hi_text):
    """'lo–hi', the unit written once when both ends carry the same one."""
    for suffix in SUFFIXES:
        if lo_text.endswith(suffix) and hi_text.endswith(suffix):
            return f"{lo_text[: -len(suffix)]}–{hi_text}"
    return f"{lo_text}–{hi_text}"


def spread(st, unit):
    """'median (min–max)' of a figure."""
    if st is None:
        return "n/a"
    med, lo, hi, n = st
    if n == 1:
        return fmt(med, unit)
    return f"{fmt(med, unit)} ({span(fmt(lo, unit), fmt(hi, unit))})"


class Table:
    KIND_FMT = {
        "pct": lambda r: f"{r * 100:.0f} %",
        "x": lambda r: f"{r:.2f}x",
        "diff": lambda d: f"{d:+,.0f} ns",
    }

    def __init__(self, res, units, notes):
        self.res, self.units, self.notes = res, units, notes
        self.rows = []

    def has(self, name):
        return name in self.res

    def note(self, name):
        return self.notes.get(name, "")

    def figure(self, name):
        rounds = self.res.get(name)
        return stats(list(rounds.values())) if rounds else None

    def per_round(self, a, b, kind):
        """The ratio (or the difference, kind diff) of a to b in every round both have."""
        ra, rb = self.res.get(a, {}), self.res.get(b, {})
        out = []
        for k in sorted(set(ra) & set(rb)):
            if kind == "diff":
                out.append(ra[k] - rb[k])
            elif rb[k] != 0:
                out.append(ra[k] / rb[k])
        return out

    def add(self, what, store, a, against_label=None, b=None, kind=None, goal="report", test=None):
        """One row: certflow's figure a, against the baseline b (per-round ratio of kind pct, x or
        diff), the goal's text and its test on a number (the median ratio, or a's median when
        there is no baseline)."""
        sa = self.figure(a)
        cf = spread(sa, self.units.get(a, ""))
        against, ratio, met, n = "", "", "", (sa[3] if sa else 0)
        checked = None
        if b is not None:
            sb = self.figure(b)
            against = f"{against_label} {spread(sb, self.units.get(b, ''))}".strip()
            rs = self.per_round(a, b, kind)
            if rs:
                st = stats(rs)
                f = self.KIND_FMT[kind]
                ratio = f(st[0]) if st[3] == 1 else f"{f(st[0])} ({span(f(st[1]), f(st[2]))})"
                checked = rs
                n = st[3]
            else:
                ratio = "n/a"
        elif sa is not None:
            checked = list(self.res[a].values())
        if test is not None:
            if checked:
                ok = test(statistics.median(checked))
                hits = sum(1 for x in checked if test(x))
                met = f"{'yes' if ok else 'NO'} ({hits}/{len(checked)})"
            else:
                met = "n/a"
        self.rows.append((what, store, cf, against, ratio, str(n) if n else "", goal, met))

    def plain(self, what, store, cells, goal, met):
        self.rows.append((what, store, cells, "", "", "", goal, met))

    def render(self):
        head = ("figure", "store", "certflow: median (min–max)", "against: median (min–max)",
                "ratio per round: median (min–max)", "rounds", "goal", "met (rounds)")
        w = [max(len(r[i]) for r in self.rows + [head]) for i in range(len(head))]
        lines = [" | ".join(h.ljust(w[i]) for i, h in enumerate(head)).rstrip(),
                 "-+-".join("-" * w[i] for i in range(len(head)))]
        for r in self.rows:
            lines.append(" | ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip())
        return "\n".join(lines)


def build(res, units, notes):
    t = Table(res, units, notes)
    pg = any(k.startswith("pg_") for k in res)
    SQ, PG = "SQLite", "PostgreSQL"

    def ge(x):
        return lambda v: v >= x

    def le(x):
        return lambda v: v <= x

    # 1. one transaction per fire
    t.add("1 fire/tx, Lua guard, vs raw UPDATE+INSERT per tx", f"{SQ} WAL, synchronous=NORMAL", "certflow_tx_normal",
          "raw", "raw_tx_normal", "pct", ">= 75 %", ge(0.75))
    if pg:
        t.add("", f"{PG} synchronous_commit=off", "pg_certflow_tx_sync_off", "raw libpq", "pg_raw_libpq_tx_sync_off",
              "pct", ">= 75 %", ge(0.75))
        t.add("", f"{PG} synchronous_commit=on", "pg_certflow_tx_sync_on", "raw libpq", "pg_raw_libpq_tx_sync_on",
              "pct", ">= 75 %", ge(0.75))
    t.add("1 fire/tx, synchronous=FULL, vs raw FULL", f"{SQ} WAL, synchronous=FULL", "certflow_tx_full",
          "raw FULL", "raw_tx_full", "pct")
    t.add("1 fire/tx, synchronous=FULL, vs raw NORMAL", f"{SQ} WAL, synchronous=FULL", "certflow_tx_full",
          "raw NORMAL", "raw_tx_normal", "pct")
    # 2. batched
    t.add("batched 1000/tx vs XState 5 actor.send (memory)", SQ, "certflow_batch_1000", "XState",
          "xstate_send", "x", ">= 1.5x", ge(1.5))
    if pg:
        t.add("", f"{PG} synchronous_commit=on", "pg_certflow_batch_1000_sync_on", "XState", "xstate_send", "x",
              ">= 1.5x", ge(1.5))
    t.add("batched 1000/tx vs raw UPDATE+INSERT 1000/tx", SQ, "certflow_batch_1000", "raw", "raw_batch_1000",
          "pct", ">= 30 %", ge(0.30))
    if pg:
        t.add("", f"{PG} synchronous_commit=on", "pg_certflow_batch_1000_sync_on", "raw libpq",
              "pg_raw_libpq_batch_1000_sync_on", "pct", ">= 30 %", ge(0.30))
    if pg:
        t.add("", f"{PG} synchronous_commit=off", "pg_certflow_batch_1000_sync_off", "raw libpq",
              "pg_raw_libpq_batch_1000_sync_off", "pct", "report")
    t.add("batched 1000/tx vs Python transitions (memory)", SQ, "certflow_batch_1000", "transitions",
          "python_transitions", "x")
    if pg:
        t.add("", f"{PG} synchronous_commit=on", "pg_certflow_batch_1000_sync_on", "transitions",
              "python_transitions", "x")
    # 3. the guard: no store on its path
    t.add("guard reading inst.data (new instance per call)", "(no store)", "guard_certflow_ns", "bare lua_pcall",
          "guard_bare_pcall_ns", "diff", "<= +100 ns", le(100))
    if pg:
        t.plain("", PG, "does not apply: the guard reads no store", "", "")
    t.add("guard reading inst.data (same instance)", "(no store)", "guard_certflow_same_instance_ns",
          "bare lua_pcall", "guard_bare_pcall_ns", "diff")
    # 4. timers
    for store, prefix, batch in ((SQ, "", "certflow_batch_1000"),
                                 (f"{PG} synchronous_commit=on", "pg_", "pg_certflow_batch_1000_sync_on")):
        if prefix and not pg:
            continue
        name = prefix + "tick_fires_per_s"
        what = f"tick ({t.note(name).replace('_', ' ')}) vs the batched rate" if not prefix else ""
        if prefix:
            store = f"{store} ({t.note(name).replace('_', ' ')})"
        t.add(what, store, name, "batched", batch, "pct", "~ batched rate", ge(0.8))
    for store, prefix in ((SQ, ""), (PG, "pg_")):
        if prefix and not pg:
            continue
        name = prefix + "due_30d_s"
        note = t.note(name).replace("_", " ")
        t.add(f"due --within 30d ({note})" if not prefix else "", store if not prefix else f"{store} ({note})",
              name, goal="well under 1 s", test=lambda v: v < 0.5)
    # 5. memory
    for store, prefix in ((SQ, ""), (PG, "pg_")):
        if prefix and not pg:
            continue
        large, small = prefix + "mem_large_kb", prefix + "mem_small_kb"
        nl, ns = t.note(large).split("_")[0], t.note(small).split("_")[0]
        t.add("peak RSS, many instances vs few" if not prefix else "", f"{store}: {nl} vs {ns}", large,
              f"{ns}:", small, "x", "independent of count", le(1.15))
    # 6. open
    t.add("open + every shipped workflow + 2 overlays", SQ, "open_ms")
    t.add("  the same, creating the database", SQ, "open_new_db_ms")

    # 7. issue 13: the simulation grows linearly, and a policy diff over many live instances
    def people(name):
        return t.note(name).split("_")[0]

    def events(name):
        parts = t.note(name).split("_")
        return parts[2] if len(parts) > 2 else "?"

    for store, prefix in ((SQ + ", synchronous=NORMAL", ""), (PG + " synchronous_commit=off", "pg_")):
        if prefix and not pg:
            continue
        big, small = people(prefix + "sim_big_us_per_event"), people(prefix + "sim_small_us_per_event")
        at_goal = big == "100000"
        t.add("simulate --years 3: time per event, big vs small" if not prefix else "",
              f"{store}: {big} ({events(prefix + 'sim_big_us_per_event')} events) vs {small}",
              prefix + "sim_big_us_per_event", f"{small}:", prefix + "sim_small_us_per_event", "x",
              "<= 1.3x" if at_goal else "<= 1.3x (goal at 100000)", le(1.3))
    for store, prefix in ((SQ, ""), (PG, "pg_")):
        if prefix and not pg:
            continue
        big, small = people(prefix + "sim_big_us_per_event"), people(prefix + "sim_small_us_per_event")
        t.add("  the same in CPU time" if not prefix else "", f"{store}: {big} vs {small}",
              prefix + "sim_big_cpu_us_per_event", f"{small}:", prefix + "sim_small_cpu_us_per_event", "x")
    for store, prefix in ((SQ, ""), (PG, "pg_")):
        if prefix and not pg:
            continue
        big = people(prefix + "sim_big_s")
        at_goal = big == "100000"
        t.add("simulate --people BIG --years 3, wall clock" if not prefix else "", f"{store}: {big} people",
              prefix + "sim_big_s", goal="<= 60 s" if at_goal else "report (goal: 60 s at 100000)",
              test=le(60) if at_goal else None)
    for store, prefix in ((SQ, ""), (PG, "pg_")):
        if prefix and not pg:
            continue
        big = people(prefix + "sim_big_rss_kb")
        t.add("simulate --people BIG, peak RSS" if not prefix else "", f"{store}: {big} people",
              prefix + "sim_big_rss_kb", goal="<= 256 MiB", test=le(256 * 1024))
    for store, prefix in ((SQ, ""), (PG, "pg_")):
        if prefix and not pg:
            continue
        name = prefix + "policy_diff_s"
        n = t.note(name).split("_")[0]
        at_goal = n == "100000"
        t.add("policy diff of a county parameter" if not prefix else "", f"{store}: {n} instances", name,
              goal="<= 5 s" if at_goal else "report (goal: 5 s at 100000)", test=le(5) if at_goal else None)
    for store, prefix in ((SQ, ""), (PG, "pg_")):
        if prefix and not pg:
            continue
        t.add("  its peak RSS" if not prefix else "", store, prefix + "policy_diff_rss_kb")
    # 8. PostgreSQL only: engine processes side by side
    if pg:
        for procs in (1, 2, 4):
            t.add(f"1 fire/tx, {procs} engine process{'es' if procs > 1 else ''} (sum)",
                  f"{PG} synchronous_commit=on", f"pg_certflow_tx_{procs}_processes")
    # 9. issue 15: certflow serve over HTTP (bench/httpbench.c)
    for store, prefix in ((SQ, ""), (PG, "pg_")):
        if prefix and not pg:
            continue
        for kind in ("registry", "show", "fire"):
            for c in (1, 4, 16):
                base = f"{prefix}http_{kind}_c{c}"
                if not t.has(base + "_rps"):
                    continue
                t.add(f"HTTP {kind}, {c} client{'s' if c > 1 else ''}: req/s", store, base + "_rps")
                t.add("  p50", store, base + "_p50_ms")
                if kind == "registry" and c == 16:
                    t.add("  p99", store, base + "_p99_ms", goal="< 10 ms", test=lambda v: v < 10)
                else:
                    t.add("  p99", store, base + "_p99_ms")
        if t.has(prefix + "http_fire_c1_rps"):
            t.add("HTTP fire (1 client) vs C API fire 1/tx", store, prefix + "http_fire_c1_rps", "C API",
                  prefix + "capi_fire_tx", "pct", ">= 50 %", ge(0.50))
    return t


def main(path):
    with open(path) as f:
        res, units, notes, info = parse(f)
    print(build(res, units, notes).render())
    print()
    print("Every figure: the median of its rounds (min–max); a ratio: computed per round against the baseline's")
    print("run in the same round, its median (min–max); met: on the median ratio, (rounds that met it / rounds).")
    print("PostgreSQL's rows against XState and transitions pair its round r with the peers' round r, run")
    print("earlier beside SQLite's.")
    print()
    for kind, text in info:
        if kind == "MACHINE":
            print(text)
    print("versions: " + "; ".join(text for kind, text in info if kind == "VERSION"))


CANNED = """MACHINE 2 cores: Test CPU; 1.0 GiB RAM; kernel Linux 6
VERSION sqlite 3.40.1
ROUND 1
RESULT certflow_tx_normal 100 fires/s 20_fires_1_per_tx
RESULT raw_tx_normal 200 tx-pairs/s 20_pairs_1_per_tx
RESULT certflow_batch_1000 1000 fires/s 100_fires_1000_per_batch
RESULT raw_batch_1000 4000 tx-pairs/s 100_pairs_1000_per_tx
RESULT xstate_send 500 sends/s x
ROUND 2
RESULT certflow_tx_normal 160 fires/s 20_fires_1_per_tx
RESULT raw_tx_normal 200 tx-pairs/s 20_pairs_1_per_tx
RESULT certflow_batch_1000 1200 fires/s 100_fires_1000_per_batch
RESULT raw_batch_1000 3000 tx-pairs/s 100_pairs_1000_per_tx
RESULT xstate_send 1000 sends/s x
ROUND 3
RESULT certflow_tx_normal 90 fires/s 20_fires_1_per_tx
RESULT raw_tx_normal 100 tx-pairs/s 20_pairs_1_per_tx
RESULT certflow_batch_1000 800 fires/s 100_fires_1000_per_batch
RESULT raw_batch_1000 4000 tx-pairs/s 100_pairs_1000_per_tx
RESULT xstate_send 400 sends/s x
ROUND 1
RESULT guard_certflow_ns 200 ns/call 10_calls
RESULT guard_bare_pcall_ns 80 ns/call 10_calls
ROUND 2
RESULT guard_certflow_ns 150 ns/call 10_calls
RESULT guard_bare_pcall_ns 60 ns/call 10_calls
ROUND 1
RESULT sim_small_us_per_event 100 us/event 1000_people_12000_events
RESULT sim_big_us_per_event 120 us/event 100000_people_1300000_events
RESULT sim_big_s 50 sec 100000_people
ROUND 2
RESULT sim_small_us_per_event 100 us/event 1000_people_12000_events
RESULT sim_big_us_per_event 140 us/event 100000_people_1300000_events
RESULT sim_big_s 70 sec 100000_people
ROUND 1
RESULT pg_certflow_tx_sync_off 50 fires/s 20_fires_1_per_tx
RESULT pg_raw_libpq_tx_sync_off 100 fires/s 20_fires_1_per_tx
RESULT pg_certflow_batch_1000_sync_on 300 fires/s 100_fires_batched
MACHINE load average at end: 1.00 1.00 1.00
"""


def selftest():
    res, units, notes, info = parse(CANNED.splitlines())
    assert res["certflow_tx_normal"] == {1: 100, 2: 160, 3: 90}, res["certflow_tx_normal"]
    assert units["raw_tx_normal"] == "tx-pairs/s" and notes["certflow_batch_1000"] == "100_fires_1000_per_batch"
    assert info[0] == ("MACHINE", "2 cores: Test CPU; 1.0 GiB RAM; kernel Linux 6")
    assert stats([3, 1, 2]) == (2, 1, 3, 3) and stats([1, 2, 3, 10]) == (2.5, 1, 10, 4) and stats([]) is None
    t = build(res, units, notes)
    # per-round ratios 0.5, 0.8, 0.9: median 0.8 -> 80 %, meets >= 75 % in 2 of 3 rounds,
    # although the ratio of the medians (100 / 200) would be 50 %
    assert t.per_round("certflow_tx_normal", "raw_tx_normal", "pct") == [0.5, 0.8, 0.9]
    rows = {(r[0] or prev, r[1]): r for prev, r in _named(t.rows)}
    r = rows[("1 fire/tx, Lua guard, vs raw UPDATE+INSERT per tx", "SQLite WAL, synchronous=NORMAL")]
    assert r[2] == "100/s (90–160/s)", r
    assert r[3] == "raw 200/s (100–200/s)", r
    assert r[4] == "80 % (50–90 %)" and r[5] == "3" and r[7] == "yes (2/3)", r
    # batched vs XState: 2.0, 1.2, 2.0 -> 2.00x, met in 2/3; vs raw: 25 %, 40 %, 20 % -> 25 %, NO (1/3)
    r = rows[("batched 1000/tx vs XState 5 actor.send (memory)", "SQLite")]
    assert r[4] == "2.00x (1.20–2.00x)" and r[7] == "yes (2/3)", r
    r = rows[("batched 1000/tx vs raw UPDATE+INSERT 1000/tx", "SQLite")]
    assert r[4] == "25 % (20–40 %)" and r[7] == "NO (1/3)", r
    # the PostgreSQL row stands right under SQLite's, paired with XState's round 1 only
    i = [k for k, row in enumerate(t.rows) if row[0] == "batched 1000/tx vs XState 5 actor.send (memory)"][0]
    assert t.rows[i + 1][1] == "PostgreSQL synchronous_commit=on" and t.rows[i + 1][4] == "0.60x", t.rows[i + 1]
    assert t.rows[i + 1][5] == "1" and t.rows[i + 1][7] == "NO (0/1)", t.rows[i + 1]
    r = rows[("1 fire/tx, Lua guard, vs raw UPDATE+INSERT per tx", "PostgreSQL synchronous_commit=off")]
    assert r[4] == "50 %" and r[7] == "NO (0/1)", r
    # a figure without rounds on one side: n/a, no verdict
    r = rows[("1 fire/tx, Lua guard, vs raw UPDATE+INSERT per tx", "PostgreSQL synchronous_commit=on")]
    assert r[2] == "n/a" and r[4] == "n/a" and r[7] == "n/a", r
    # the guard: differences 120 and 90 ns -> +105 ns, missed, met in 1 of 2 rounds
    r = rows[("guard reading inst.data (new instance per call)", "(no store)")]
    assert r[4] == "+105 ns (+90–+120 ns)" and r[7] == "NO (1/2)", r
    r = rows[("guard reading inst.data (new instance per call)", "PostgreSQL")]
    assert r[2].startswith("does not apply"), r
    # simulate at the goal's size: per event 1.2x and 1.4x -> 1.30x, met (<= 1.3x) in 1 of 2;
    # the wall clock 50 and 70 s -> 60 s, met in 1 of 2
    r = [row for row in t.rows if row[0] == "simulate --years 3: time per event, big vs small"][0]
    assert r[4] == "1.30x (1.20–1.40x)" and r[6] == "<= 1.3x" and r[7] == "yes (1/2)", r
    assert r[1] == "SQLite, synchronous=NORMAL: 100000 (1300000 events) vs 1000", r
    r = [row for row in t.rows if row[0] == "simulate --people BIG --years 3, wall clock"][0]
    assert r[2] == "60.0 s (50.0–70.0 s)" and r[6] == "<= 60 s" and r[7] == "yes (1/2)", r
    text = t.render()
    lines = text.splitlines()
    assert len({len(line) for line in lines[:2]}) == 1 and len(lines) == len(t.rows) + 2
    print("table.py selftest: ok")


def _named(rows):
    """(the figure of the row, or of the row above when it is blank, row) for every row."""
    prev = ""
    for r in rows:
        if r[0]:
            prev = r[0]
        yield prev, r


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--selftest":
        selftest()
    elif len(sys.argv) == 2:
        main(sys.argv[1])
    else:
        sys.exit("usage: python3 bench/table.py RESULTS | --selftest")
