"""bench/simbench.py — the simulation figures of issue 13 (run by scripts/bench.sh): `certflow
simulate --years 3` at a small and a large population, each in a fresh database, timed from
outside (wall clock, CPU and peak RSS of the child). Prints RESULT lines for bench/table.py:

  RESULT sim_<small|big>_us_per_event <wall µs per event> us/event <people>_people_<events>_events
  RESULT sim_<small|big>_cpu_us_per_event <CPU µs per event> us/event ...
  RESULT sim_big_s <wall seconds> sec <people>_people
  RESULT sim_big_rss_kb <peak RSS> kB <people>_people

An event is one the simulation fired or a timer that fired (the summary's "Events:" line).

  python3 bench/simbench.py CERTFLOW ROOT PLUGIN_DIR WORKDIR SMALL BIG
"""
import os
import re
import resource
import subprocess
import sys
import time

certflow, root, plugins, work, small, big = sys.argv[1:7]


def run(people):
    db = os.path.join(work, f"sim{people}.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run([certflow, "--db", db, "--workflows", os.path.join(root, "workflows"), "--policies",
                        os.path.join(root, "lua"), "--plugins", plugins, "simulate", "--people", str(people),
                        "--years", "3"], capture_output=True, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        sys.exit(f"simbench: certflow simulate --people {people} exited {p.returncode}")
    m = re.search(r"Events: ([\d,]+) fired .*; ([\d,]+) timers fired", p.stdout)
    events = int(m.group(1).replace(",", "")) + int(m.group(2).replace(",", ""))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    return wall, cpu, events, after.ru_maxrss


for label, people in (("small", small), ("big", big)):
    wall, cpu, events, rss = run(int(people))
    note = f"{people}_people_{events}_events"
    print(f"RESULT sim_{label}_us_per_event {wall / events * 1e6:.1f} us/event {note}", flush=True)
    print(f"RESULT sim_{label}_cpu_us_per_event {cpu / events * 1e6:.1f} us/event {note}", flush=True)
    print(f"RESULT sim_{label}_s {wall:.2f} sec {people}_people", flush=True)
    # RUSAGE_CHILDREN's maxrss is the largest child so far: the big run comes last
    print(f"RESULT sim_{label}_rss_kb {rss} kB {people}_people", flush=True)
