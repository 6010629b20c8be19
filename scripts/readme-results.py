# Rewrites the README's QCFS results subsection from docs/results (run after scripts/collect-results.sh), filling
# {{TABLE}} and {{OLD8}} in the template (default docs/results/qcfs-section.template.md; its prose quotes numbers by hand).
import subprocess, re, sys, os
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(root)
runs = sorted(d for d in os.listdir("docs/results") if re.match(r"fmnist-qcfs-(rcs-)?l2-s\d+$", d))
runs = sorted(runs, key=lambda d: ("rcs" in d, d))
table = subprocess.run(["node", "scripts/results-table.mjs", *[f"docs/results/{d}" for d in runs]], capture_output=True, text=True, check=True).stdout
table = table.replace("docs/results/", "")
old8 = subprocess.run(["node", "scripts/results-table.mjs", "docs/results/fmnist-qcfs-s1200", "docs/results/fmnist-qcfs-rcs-s1200"], capture_output=True, text=True, check=True).stdout.replace("docs/results/", "")
p = "README.md"
s = open(p).read()
a = s.index("### QCFS conversion")
b = s.index("### Direct training")
template = sys.argv[1] if len(sys.argv) > 1 else "docs/results/qcfs-section.template.md"
body = open(template).read().replace("{{TABLE}}", table.strip()).replace("{{OLD8}}", old8.strip().split("\n\n")[0])
s = s[:a] + body + "\n" + s[b:]
open(p, "w").write(s)
