# Rewrites the README's QCFS results subsection from docs/results (run after scripts/collect-results.sh).
import subprocess, re, sys, os
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(root)
runs = sorted(d for d in os.listdir("docs/results") if re.match(r"fmnist-qcfs-(rcs-)?l2-s\d+$", d))
runs = sorted(runs, key=lambda d: ("rcs" in d, d))
table = subprocess.run(["node", "scripts/results-table.mjs", *[f"docs/results/{d}" for d in runs]], capture_output=True, text=True, check=True).stdout
table = table.replace("docs/results/", "")
old8 = subprocess.run(["node", "scripts/results-table.mjs", "docs/results/fmnist-qcfs-s1200", "docs/results/fmnist-qcfs-rcs-s1200"], capture_output=True, text=True, check=True).stdout.replace("docs/results/", "")
text = open("SECTION.md").read() if False else None
p = "README.md"
s = open(p).read()
a = s.index("### QCFS conversion")
b = s.index("### Direct training")
body = open(sys.argv[1]).read().replace("{{TABLE}}", table.strip()).replace("{{OLD8}}", old8.strip().split("\n\n")[0])
s = s[:a] + body + "\n" + s[b:]
open(p, "w").write(s)
