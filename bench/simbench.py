"""bench/simbench.py — the simulation figures of issue 13 (run by scripts/bench.sh and, on
PostgreSQL, by scripts/bench-pg.sh): `certflow simulate --years 3` at a small and a large
population, each in a fresh database, timed from outside (wall clock, CPU and peak RSS of that
child alone, from wait4). ROUNDS rounds, small then large in each (interleaved: S L S L ...);
each round prints "ROUND <r>" and RESULT lines for bench/table.py:

  RESULT sim_<small|big>_us_per_event <wall µs per event> us/event <people>_people_<events>_events
  RESULT sim_<small|big>_cpu_us_per_event <CPU µs per event> us/event ...
  RESULT sim_<small|big>_s <wall seconds> sec <people>_people
  RESULT sim_<small|big>_rss_kb <peak RSS> kB <people>_people

An event is one the simulation fired or a timer that fired (the summary's "Events:" line).

  python3 bench/simbench.py CERTFLOW ROOT PLUGIN_DIR WORKDIR SMALL BIG [ROUNDS [--pg]]

With --pg every run gets a fresh PostgreSQL database (dropdb/createdb certflow_sim, reached
through PGHOST/PGPORT/PGUSER as scripts/pg-test-cluster.sh sets them) instead of a SQLite file
in WORKDIR.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

certflow, root, plugins, work, small, big = sys.argv[1:7]
rounds = int(sys.argv[7]) if len(sys.argv) > 7 else 1
pg = len(sys.argv) > 8 and sys.argv[8] == "--pg"


def fresh_db(people):
    if pg:
        subprocess.run(["dropdb", "--if-exists", "certflow_sim"], check=True, capture_output=True)
        subprocess.run(["createdb", "certflow_sim"], check=True, capture_output=True)
        return "postgresql:///certflow_sim"
    db = os.path.join(work, f"sim{people}.db")
    remove(db)
    return db


def remove(db):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)


def run(people):
    db = fresh_db(people)
    with tempfile.TemporaryFile(mode="w+") as out, tempfile.TemporaryFile(mode="w+") as err:
        t0 = time.monotonic()
        p = subprocess.Popen([certflow, "--db", db, "--workflows", os.path.join(root, "workflows"), "--policies",
                              os.path.join(root, "lua"), "--plugins", plugins, "simulate", "--people", str(people),
                              "--years", "3"], stdout=out, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        stdout = out.read()
        if p.returncode != 0:
            err.seek(0)
            sys.stderr.write(err.read())
            sys.exit(f"simbench: certflow simulate --people {people} exited {p.returncode}")
    m = re.search(r"Events: ([\d,]+) fired .*; ([\d,]+) timers fired", stdout)
    events = int(m.group(1).replace(",", "")) + int(m.group(2).replace(",", ""))
    if not pg:
        remove(db)
    return wall, ru.ru_utime + ru.ru_stime, events, ru.ru_maxrss


for r in range(1, rounds + 1):
    lines = [f"ROUND {r}"]
    for label, people in (("small", small), ("big", big)):
        wall, cpu, events, rss = run(int(people))
        note = f"{people}_people_{events}_events"
        lines.append(f"RESULT sim_{label}_us_per_event {wall / events * 1e6:.1f} us/event {note}")
        lines.append(f"RESULT sim_{label}_cpu_us_per_event {cpu / events * 1e6:.1f} us/event {note}")
        lines.append(f"RESULT sim_{label}_s {wall:.2f} sec {people}_people")
        lines.append(f"RESULT sim_{label}_rss_kb {rss} kB {people}_people")
    print("\n".join(lines), flush=True)
