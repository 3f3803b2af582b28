#!/usr/bin/env python3
"""What the JIT compiled during each part of a `bench-pipeline` run, by package.

    DALLE2_JAVA_OPTS="-Xmx6g -XX:+PrintCompilation" ./dalle2 bench-pipeline ... > run.log
    scripts/jit-by-package.py run.log [TOP=8]

HotSpot's -XX:+PrintCompilation writes one line per compilation (and one per method "made not entrant", a
deoptimised compilation thrown away) to the same stdout as the bench's report, so the report's section headers
("one job at a time", "burst of", "backlog burst of", "gateway on loopback") split the compilations by part. For
each part it prints the compilations, those by C2 (tier 4) and the methods made not entrant, and the packages
(first three name parts) with the most C2 compilations and deoptimisations.
"""
import collections
import re
import sys

COMPILATION = re.compile(r"^\s*\d+\s+\d+\s+[%sbn! ]{5}\s*(\d)?\s+(\S+)\s+\(\d+ bytes\)(.*)$")
SECTION = re.compile(r"^(models alone|one job at a time|burst of|backlog burst of|gateway on loopback)")


def package(method):
    return ".".join(method.split("::")[0].split(".")[:3])


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    parts = []  # [name, compilations, c2 Counter, not-entrant Counter]
    current = ["start-up", 0, collections.Counter(), collections.Counter()]
    parts.append(current)
    with open(sys.argv[1], errors="replace") as log:
        for line in log:
            header = SECTION.match(line)
            if header:
                current = [line.strip().rstrip(":"), 0, collections.Counter(), collections.Counter()]
                parts.append(current)
                continue
            m = COMPILATION.match(line)
            if not m:
                continue
            tier, method, rest = m.groups()
            if "made not entrant" in rest:
                current[3][package(method)] += 1
            else:
                current[1] += 1
                if tier == "4":
                    current[2][package(method)] += 1
    for name, compilations, c2, dropped in parts:
        print(f"{name}: {compilations} compilations, {sum(c2.values())} by C2, {sum(dropped.values())} made not entrant")
        print("  C2:", ", ".join(f"{p} {n}" for p, n in c2.most_common(top)))
        print("  not entrant:", ", ".join(f"{p} {n}" for p, n in dropped.most_common(top)))


if __name__ == "__main__":
    main()
