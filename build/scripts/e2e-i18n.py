#!/usr/bin/python3
"""The desk's words, read from frontend/src/lib/i18n.ts, for the e2e scripts.

  e2e-i18n.py messages LANG     key<TAB>value, one a line (LANG: en or sv)
  e2e-i18n.py english           the words of the English dictionary that the
                                Swedish one never uses, one a line: any of
                                them on a Swedish screen is English left over
"""

import os
import re
import sys

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "frontend", "src", "lib", "i18n.ts")
ENTRY = re.compile(r"""^\s*'([^']+)':\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"),?\s*$""")


def dictionaries():
    out, cur = {}, None
    with open(SRC, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^const (en|sv)\b", line)
            if m:
                cur = out.setdefault(m.group(1), {})
                continue
            if line.startswith("}"):
                cur = None
                continue
            m = ENTRY.match(line) if cur is not None else None
            if m:
                v = m.group(2) if m.group(2) is not None else m.group(3)
                cur[m.group(1)] = v.replace("\\'", "'").replace('\\"', '"')
    return out


def words(s):
    return re.findall(r"[^\W\d_]+", re.sub(r"\{\w+\}", " ", s).lower())


def main():
    d = dictionaries()
    if len(sys.argv) == 3 and sys.argv[1] == "messages":
        for k, v in d[sys.argv[2]].items():
            print(f"{k}\t{v}")
    elif len(sys.argv) == 2 and sys.argv[1] == "english":
        sv = {w for v in d["sv"].values() for w in words(v)}
        for w in sorted({w for v in d["en"].values() for w in words(v) if len(w) > 1 and w not in sv}):
            print(w)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
