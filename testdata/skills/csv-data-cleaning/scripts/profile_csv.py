#!/usr/bin/env python3
"""Profile a CSV file: delimiter, encoding, and per-column statistics.

Usage: profile_csv.py FILE [--limit N]
"""
import csv
import re
import sys
from collections import Counter

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}$")
EMPTY = {"", "na", "n/a", "null", "none", "-"}


def read_text(path):
    raw = open(path, "rb").read()
    for encoding in ("utf-8-sig", "utf-8"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    return raw.decode("latin-1"), "latin-1 (fallback)"


def kind(value):
    v = value.strip()
    if v.lower() in EMPTY:
        return "empty"
    if NUMBER.match(v.replace(",", "")):
        return "number"
    if DATE.match(v):
        return "date"
    return "text"


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    limit = int(argv[argv.index("--limit") + 1]) if "--limit" in argv else 100000
    text, encoding = read_text(argv[1])
    dialect = csv.Sniffer().sniff(text[:20000])
    rows = list(csv.reader(text.splitlines(), dialect))[: limit + 1]
    header, body = rows[0], rows[1:]
    print(f"encoding: {encoding}  delimiter: {dialect.delimiter!r}  rows: {len(body)}")
    dupes = sum(n - 1 for n in Counter(map(tuple, body)).values() if n > 1)
    print(f"duplicate rows: {dupes}")
    for i, name in enumerate(header):
        values = [r[i] if i < len(r) else "" for r in body]
        kinds = Counter(kind(v) for v in values)
        main_kind = max((k for k in kinds if k != "empty"), key=kinds.get, default="empty")
        odd = [v for v in values if kind(v) not in (main_kind, "empty")][:3]
        padded = sum(1 for v in values if v != v.strip())
        print(f"- {name}: {main_kind}, empty={kinds['empty']}, distinct={len(set(values))}, "
              f"padded={padded}, odd={odd}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
