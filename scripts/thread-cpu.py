#!/usr/bin/env python3
"""CPU per thread of a running JVM, in windows: which threads take the cores while a benchmark runs.

    scripts/thread-cpu.py PID [WINDOW_SECONDS=3] [WINDOWS=30]

Each window prints the process's total (100 % = one core) and its busiest threads, by their Java names (from
`jcmd PID Thread.print`, taken after each window; threads it does not name show their Linux thread id). Reads
/proc only, so it runs beside the JVM it watches; jcmd briefly pauses that JVM at a safepoint once a window.
"""
import os
import re
import subprocess
import sys
import time


def ticks(pid):
    """Clock ticks (1/100 s) of user + system time per thread id."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            stat = open(f"/proc/{pid}/task/{tid}/stat").read()
        except OSError:
            continue  # the thread ended
        fields = stat[stat.rfind(")") + 2:].split()
        out[tid] = int(fields[11]) + int(fields[12])
    return out


def java_names(pid):
    """Linux thread id -> Java thread name."""
    try:
        dump = subprocess.run(["jcmd", pid, "Thread.print"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return {str(int(m.group(2), 16)): m.group(1) for m in re.finditer(r'^"([^"]+)".*? nid=0x([0-9a-f]+)', dump, re.M)}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    pid = sys.argv[1]
    window = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    windows = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    names = {}
    for _ in range(windows):
        if not os.path.isdir(f"/proc/{pid}"):
            break
        before = ticks(pid)
        time.sleep(window)
        if not os.path.isdir(f"/proc/{pid}"):
            break
        after = ticks(pid)
        names.update(java_names(pid))
        used = sorted(((after[t] - before.get(t, 0), t) for t in after), reverse=True)
        top = " | ".join(f"{names.get(t, t)[:40]}={v / window:.0f}%" for v, t in used[:9] if v > 0)
        print(time.strftime("%H:%M:%S"), f"total {sum(v for v, _ in used) / window:.0f}%", top, flush=True)


if __name__ == "__main__":
    main()
