#!/usr/bin/env python3
"""Flag SQL statements that commonly cause locking or rewrite problems.

Usage: find_risky_ddl.py FILE...

Prints one line per finding: FILE:LINE: message. Exit status is 0 even when
findings exist; the reviewer decides what matters.
"""
import re
import sys

RULES = [
    (r"\bcreate\s+(unique\s+)?index\b(?!\s+concurrently)", "index built without CONCURRENTLY blocks writes"),
    (r"\balter\s+column\b.*\btype\b", "column type change usually rewrites the table"),
    (r"\badd\s+constraint\b.*\bforeign\s+key\b(?!.*\bnot\s+valid\b)", "foreign key without NOT VALID scans under lock"),
    (r"\bdefault\s+(now|clock_timestamp|random|gen_random_uuid)\s*\(", "volatile default rewrites the table"),
    (r"\brename\s+column\b", "rename breaks code that still uses the old name"),
    (r"\bdrop\s+(column|table)\b", "drop is irreversible; check nothing still reads it"),
]


def scan(path):
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            text = line.split("--", 1)[0].lower()
            for pattern, message in RULES:
                if re.search(pattern, text):
                    print(f"{path}:{lineno}: {message}")


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    for path in argv[1:]:
        scan(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
