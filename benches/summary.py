"""Summarises benchmark runs for compare.sh, rov_cost.sh and ixp.sh.

stdin: one run per line, "seconds received rss_kb announcements_per_prefix [extra...]";
argv[1]: the label; argv[2]: what the second column is (default "received"). Prints the
label, the median, min and max seconds, the second column of the first run, the peak RSS,
the median announcements per prefix (update amplification) and the first run's extras.
"""
import statistics
import sys

rows = [line.split() for line in sys.stdin if line.strip()]
name = sys.argv[2] if len(sys.argv) > 2 else "received"
t = [float(r[0]) for r in rows]
rss = [int(r[2]) for r in rows]
amp = statistics.median(float(r[3]) for r in rows)
print(f"{sys.argv[1]:10} median {statistics.median(t):.3f} s  min {min(t):.3f}  "
      f"max {max(t):.3f}  {name} {rows[0][1]}  peak RSS {max(rss) / 1024:.0f} MiB  "
      f"announcements/prefix {amp:.2f}" + "".join(f"  {x}" for x in rows[0][4:]))
