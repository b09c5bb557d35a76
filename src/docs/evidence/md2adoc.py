#!/usr/bin/env python3
"""Prints the first table of a bench/results Markdown file as an AsciiDoc table, so that
benchmark.adoc quotes committed results without retyping them.
Usage: md2adoc.py FILE.md ID "CAPTION" COLS [N]   e.g. COLS = 30,35,35; N: the Nth table (default 1)"""
import sys

path, ident, caption, cols = sys.argv[1:5]
nth = int(sys.argv[5]) if len(sys.argv) > 5 else 1
tables, current = [], None
for line in open(path, encoding="utf-8"):
    if line.startswith("|"):
        if current is None:
            current = []
            tables.append(current)
        current.append(line.strip())
    else:
        current = None
rows = tables[nth - 1]
cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows if not set(r) <= set("|-: ")]
print(f"[[{ident}]]\n.{caption}\n[cols=\"{cols}\",options=\"header,breakable\"]\n|===")
for row in cells:
    print("|" + " |".join(c.replace("<->", "↔") for c in row))
print("|===")
