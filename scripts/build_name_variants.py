"""Regenerate ``rules/name_variants.json``: 旧字体/異体字 -> the standard form, for name folding.

Usage: ``python scripts/build_name_variants.py [--db moji.db]``. Without ``--db`` it fetches the
pinned package with ``npm pack`` (the npm registry), checks its integrity and reads its SQLite
database; nothing else is downloaded. Run it after changing ``PACKAGE`` and commit the JSON.

Sources (all inside ``@mandel59/mojidata``; its ``download.txt`` lists the upstream files):

1. 常用漢字表 (文化庁, 2010): the 364 康熙字典体 in brackets -> their 通用字体 (國 -> 国).
2. 人名用漢字 別表第二 (法務省, via Unihan ``kJinmeiyoKanji`` "2010:U+…", Unicode 17.0): the
   variant pairs a name may use (峯 -> 峰, 嶋 -> 島, 凜 -> 凛).
3. 戸籍統一文字 異体字 (法務省; as the Kanji Database Project's koseki-variants.txt, MIT): a
   variant linked to a 常用/人名用 character folds to it (髙 -> 高, 﨑 -> 崎, 邉 -> 邊 -> 辺, 𠮷 -> 吉);
   one linked to none folds to its 正字 (薮 -> 藪). Only one hop, only characters Japanese
   systems encode (a Unihan J source); a 常用/人名用 character is never folded away by this
   source, and a variant linked to two of them (尓: 爾/示) is left alone.

Every key is NFKC-stable (NFKC already folds the compatibility ideographs), no value is a
key (chains are resolved), and two different 常用/人名用 characters never end in the same form
unless list 1 or 2 says so — the script refuses to write a table that breaks this.
"""

from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import json
import sqlite3
import subprocess
import tarfile
import tempfile
import unicodedata
from pathlib import Path

PACKAGE = "@mandel59/mojidata@1.8.1"
#: npm's ``dist.integrity`` of that version
INTEGRITY = "sha512-OLA5LEmPHuVbdI8lGXwV3pGVpSIFAqU5+oqhPzK7q662ziWYMqxTGXoxfFb9dQCJ31WzSCG1C5rsUb2uynQhIQ=="
OUT = Path(__file__).resolve().parent.parent / "rules" / "name_variants.json"

Pairs = dict[str, str]


def fetch_db(workdir: Path) -> Path:
    """``npm pack`` the pinned package into ``workdir``, check it, unpack its database."""
    subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=workdir, check=True, stdout=subprocess.DEVNULL)
    (tgz,) = workdir.glob("*.tgz")
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tgz.read_bytes()).digest()).decode()
    if digest != INTEGRITY:
        raise SystemExit(f"{tgz.name}: integrity {digest} is not the pinned {INTEGRITY}")
    with tarfile.open(tgz) as tar:
        tar.extract("package/dist/moji.db", workdir, filter="data")
    return workdir / "package" / "dist" / "moji.db"


def nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def official(db: sqlite3.Connection) -> Pairs:
    """Lists 1 and 2: old form or variant -> the standard form."""
    pairs: Pairs = {}
    for old, new in db.execute('SELECT "康熙字典体", "漢字" FROM joyo_kangxi'):
        pairs[nfkc(old)] = nfkc(new)
    for ucs, value in db.execute('SELECT "UCS", value FROM unihan_each_kJinmeiyoKanji'):
        if ":" in value:  # "2010:U+XXXX": a variant of that character
            pairs[nfkc(ucs)] = nfkc(chr(int(value.split(":")[1].removeprefix("U+"), 16)))
    return {k: v for k, v in pairs.items() if k != v}


def standard(db: sqlite3.Connection) -> set[str]:
    """The 常用漢字 and the 人名用漢字 that are no variant of another."""
    joyo = {nfkc(u) for (u,) in db.execute('SELECT DISTINCT "UCS" FROM unihan_each_kJoyoKanji')}
    jinmei = {nfkc(u) for u, v in db.execute('SELECT "UCS", value FROM unihan_each_kJinmeiyoKanji') if ":" not in v}
    return joyo | jinmei


def resolve(ch: str, pairs: Pairs) -> str:
    seen = {ch}
    while ch in pairs and pairs[ch] not in seen:
        ch = pairs[ch]
        seen.add(ch)
    return ch


def koseki(db: sqlite3.Connection, std: set[str], base: Pairs) -> tuple[Pairs, list[str]]:
    """List 3, filtered as the module docstring says; also the variants left out as ambiguous."""
    japanese = {nfkc(u) for (u,) in db.execute('SELECT "UCS" FROM unihan_kIRG_JSource')}
    linked: dict[str, set[str]] = collections.defaultdict(set)
    proper: dict[str, set[str]] = collections.defaultdict(set)
    for subject, variant in db.execute('SELECT subject, object FROM "kdpv_koseki/variant"'):
        s, v = nfkc(subject), nfkc(variant)
        if len(s) == 1 and len(v) == 1 and s != v:
            linked[s].add(v)
            linked[v].add(s)
            proper[v].add(s)

    def foldable(ch: str) -> bool:
        return ch not in std and ch not in base and ch in japanese

    pairs: Pairs = {}
    ambiguous: list[str] = []
    for ch in sorted(c for c in linked if foldable(c)):
        targets = {resolve(n, base) for n in linked[ch]} & std
        if len(targets) == 1:
            pairs[ch] = targets.pop()
        elif targets:
            ambiguous.append(ch)
    # a variant of a 正字 that is neither 常用 nor 人名用 (薮 -> 藪): to that 正字, when it is the
    # only one and is no such variant itself (so no chain or cycle arises)
    rest = {c: next(iter(proper[c])) for c in linked if foldable(c) and c not in pairs and len(proper[c]) == 1}
    rest = {c: p for c, p in rest.items() if c not in ambiguous and p not in rest}
    for ch, p in rest.items():
        pairs[ch] = pairs.get(p, resolve(p, base))
    resolved = {k: resolve(k, pairs) for k in pairs}
    return {k: v for k, v in resolved.items() if v != k}, ambiguous


def check(pairs: Pairs, std: set[str], base: Pairs) -> None:
    for k, v in pairs.items():
        assert nfkc(k) == k and len(k) == 1 and len(v) == 1 and k != v, (k, v)
        assert v not in pairs, f"chain left: {k} -> {v} -> {pairs[v]}"
    merged: dict[str, set[str]] = collections.defaultdict(set)
    for ch in std:
        merged[pairs.get(ch, ch)].add(ch)
    for target, group in merged.items():
        extra = {ch for ch in group if ch != target and resolve(ch, base) != target}
        assert not extra, f"standard characters folded together: {sorted(group)} -> {target}"


def build(db_path: Path) -> dict[str, object]:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    base = official(db)
    std = standard(db)
    base = {k: resolve(v, base) for k, v in base.items()}
    extra, ambiguous = koseki(db, std, base)
    pairs = dict(sorted({**extra, **base}.items(), key=lambda kv: ord(kv[0])))
    check(pairs, std, base)
    return {
        "generated_by": "scripts/build_name_variants.py",
        "package": PACKAGE,
        "integrity": INTEGRITY,
        "sources": {
            "joyo": "常用漢字表 (文化庁 2010): 康熙字典体 -> 通用字体",
            "jinmei": "人名用漢字 別表第二 (法務省), Unihan kJinmeiyoKanji, Unicode 17.0.0",
            "koseki": "戸籍統一文字 異体字 (法務省), Kanji Database Project koseki-variants.txt "
            "(cjkvi-variants e4f1da2, MIT © 2014-2018 CJKVI Database)",
        },
        "counts": {"official": len(base), "koseki": len(extra), "ambiguous_left_out": len(ambiguous)},
        "pairs": pairs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="moji.db of the pinned package (default: npm pack it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = args.db or fetch_db(Path(tmp))
        table = build(db_path)
    text = json.dumps(table, ensure_ascii=False, indent=0, sort_keys=False)
    OUT.write_text(text + "\n", encoding="utf-8")
    print(f"{OUT}: {table['counts']}")


if __name__ == "__main__":
    main()
