"""Summarises benchmark runs for compare.sh and rov_cost.sh.

stdin: one run per line, "seconds received rss_kb announcements_per_prefix"; argv[1]: the
label. Prints the label, the median, min and max seconds, the routes received, the peak RSS
and the median announcements per prefix at the sink (update amplification).
"""
import statistics
import sys

rows = [line.split() for line in sys.stdin if line.strip()]
t = [float(r[0]) for r in rows]
rss = [int(r[2]) for r in rows]
amp = statistics.median(float(r[3]) for r in rows)
print(f"{sys.argv[1]:10} median {statistics.median(t):.3f} s  min {min(t):.3f}  "
      f"max {max(t):.3f}  received {rows[0][1]}  peak RSS {max(rss) / 1024:.0f} MiB  "
      f"announcements/prefix {amp:.2f}")
