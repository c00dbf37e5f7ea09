"""Build the bundled sample month (令和8年10月診療分) of a small clinic.

Run ``python sample_receipts/build.py``. Deterministic (fixed seed): writes

- ``2026-10/receipts_2026-10.xlsx``      receipts, two sheets (社保・後期 / 国保 with 給付割合)
- ``2026-10/online_results_2026-10.csv`` online eligibility results, CP932
- ``2026-10/card_records_2026-10.xlsx``  card records, two sheets (資格確認書等 / 高齢受給者証)
- ``expected_problems.json``             the seeded problems and the category a correct
                                         engine emits for each (null: must not be flagged)
- ``README.md``                          for clerks (Japanese) and developers (English)

The files use the vendor-like forms of CONTRACT §1 (title rows, stray spaces in headers,
和暦, full-width digits, insurer numbers that lost their leading zero, 給付割合, CP932 …).
About 220 clean patients come from ``benchmarks.synth.generate_month``; every seeded problem
is built here explicitly, at least twice. All names, addresses and numbers are made up.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(HERE.parent))

import jaconv  # noqa: E402
import xlsxwriter  # noqa: E402

from benchmarks.synth import (  # noqa: E402
    BAND_ELDERLY,
    BAND_KOUKI,
    BAND_PRESCHOOL,
    CARD_HEADERS,
    GIVEN_FEMALE,
    GIVEN_MALE,
    LIMIT_CODES,
    ONLINE_HEADERS,
    SURNAMES,
    VALIDITY_WORDS,
    age_band,
    check_digit,
    elderly_start,
    generate_month,
    kouki_start,
)
from rules.domain import eras  # noqa: E402
from sample_receipts.native_files import service_band, write_native  # noqa: E402

SEED = 20261001
CLAIM = "2026-10"
OUT = HERE / CLAIM
NATIVE = HERE.parent / "tests" / "fixtures" / "native_month"  # not in sample_receipts/: `henrei demo` reads all of that
N_BASE = 220  # clean patients from the generator; the seeded cases come on top
FIRST_ID = 100001

RECEIPTS_FILE = f"receipts_{CLAIM}.xlsx"
ONLINE_FILE = f"online_results_{CLAIM}.csv"
CARDS_FILE = f"card_records_{CLAIM}.xlsx"
PREV = "2026-09"  # the month before: its receipts and the returns received in October
OUT_PREV = HERE / PREV
RECEIPTS_FILE_PREV = f"receipts_{PREV}.xlsx"
RETURNS_FILE = f"returns_{CLAIM}.xlsx"  # 返戻 received in October (for September claims)
SHEET_RETURNS = "返戻一覧"
N_PREV_NEW = 14  # clean September-only patients
N_PREV_REPEAT = 14  # clean October patients who also came in September
SHEET_SHAHO = "社保・後期"
SHEET_KOKUHO = "国保"
SHEET_CARDS = "資格確認書等"
SHEET_KOREI = "高齢受給者証"

CREATED = dt.datetime(2026, 11, 2, 9, 0, 0)  # workbook metadata, fixed for reproducibility
AUG_START = dt.date(2026, 8, 1)
AUG_END = dt.date(2026 + 1, 7, 31)

rng = random.Random(SEED)  # choices for the seeded cases
VRNG_OLD = random.Random(SEED + 1)  # value forms of the rows that existed first
VRNG_NEW = random.Random(SEED + 5)  # value forms of the rows added later (不詳, 2026-09, 返戻)
vrng = VRNG_OLD  # choices of the value forms (vendor quirks); see ``forms_for``


def forms_for(row: dict[str, object]) -> None:
    """Draw the value forms of ``row`` from its own stream, so that adding rows leaves the
    forms of the rows that were there before unchanged."""
    global vrng
    vrng = VRNG_NEW if row.get("_new") else VRNG_OLD


def ins(body: str) -> str:
    """An insurer number with its valid check digit."""
    return body + check_digit(body)


INSURERS = {
    "kyokai": [ins("0113001"), ins("0111001"), ins("0114001")],
    "kumiai": [ins("0613002"), ins("0613118"), ins("0614035")],
    "kyosai": [ins("3113001"), ins("3313005")],
    "kokuho": [ins("13801"), ins("13802"), ins("13110")],
    "kouki": [ins("3913001"), ins("3913002")],
}
TOKKI = {
    "ア": "26", "イ": "27", "ウ": "28", "エ": "29", "オ": "30", "現役並みⅢ": "26",
    "現役並みⅡ": "27", "現役並みⅠ": "28", "低所得Ⅱ": "30", "低所得Ⅰ": "30", "一般Ⅱ": "41",
    "一般Ⅰ": "42",
}  # fmt: skip
VALIDITY_CODE = {w: str(i) for i, w in enumerate(VALIDITY_WORDS) if w}


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def iso(x: dt.date | None) -> str:
    return x.isoformat() if x else ""


def band_of(birth: dt.date, service: dt.date) -> int:
    return int(age_band(birth.isoformat(), service.isoformat()))


def pick_name(sex: str) -> tuple[str, str]:
    s_kanji, s_kana = rng.choice(SURNAMES)
    g_kanji, g_kana = rng.choice(GIVEN_MALE if sex == "男" else GIVEN_FEMALE)
    return f"{s_kanji}\u3000{g_kanji}", f"{s_kana}\u3000{g_kana}"


# ---------------------------------------------------------------------------------------
# One seeded case: a patient with receipts, online results and card records.


@dataclass
class Case:
    key: str
    category: str | None
    note: str  # 問題 (Japanese, for the README)
    must_not: list[str] = field(default_factory=list)
    also_ok: list[str] = field(default_factory=list)
    receipts: list[dict[str, object]] = field(default_factory=list)
    online: list[dict[str, object]] = field(default_factory=list)
    cards: list[dict[str, object]] = field(default_factory=list)
    returns: list[dict[str, object]] = field(default_factory=list)  # 返戻 rows (2026-09 claims)
    pid: str = ""


def visit(
    *,
    birth: str,
    service: str,
    sex: str,
    kind: str,
    ratio: int | None = None,
    limit: str | None = None,
    name: tuple[str, str] | None = None,
    relation: str | None = None,
    method: str = "マイナ保険証",
    points: int | None = None,
    days: int = 1,
    insurer: str | None = None,
    number: str | None = None,
    claim: str = CLAIM,
) -> tuple[dict[str, object], dict[str, object], dict[str, object]]:
    """A clean receipt, its online result and the card valid on the service date."""
    b, s = d(birth), d(service)
    band = band_of(b, s)
    if (band == BAND_KOUKI) != (kind == "kouki"):
        raise ValueError(f"insurer kind {kind} does not fit birth {birth} at {service}")
    if ratio is None:
        ratio = {BAND_PRESCHOOL: 2, BAND_ELDERLY: 2, BAND_KOUKI: 1}.get(band, 3)
    if limit is None:
        limit = ""
        if band in (BAND_ELDERLY, BAND_KOUKI):
            limit = {1: "一般Ⅰ", 2: "一般Ⅱ" if band == BAND_KOUKI else "一般", 3: "現役並みⅠ"}[ratio]
    name = name or pick_name(sex)
    age = (s - b).days // 365
    if relation is None:
        relation = "本人" if band == BAND_KOUKI or (age >= 20 and rng.random() < 0.7) else "家族"
    insurer = insurer or rng.choice(INSURERS[kind])
    if kind == "kouki":
        symbol, branch = "", ""
        number = number or f"{rng.randint(10_000_000, 99_999_999)}"
    elif kind == "kokuho":
        symbol = rng.choice(["01", "02", "区01", "国01", "一般"])
        number = number or f"{rng.randint(100_000, 9_999_999)}"
        branch = "00" if relation == "本人" else f"{rng.randint(1, 4):02d}"
    else:
        symbol = f"{rng.randint(1000, 99_999_999)}"
        number = number or f"{rng.randint(1, 99_999)}"
        branch = "00" if relation == "本人" else f"{rng.randint(1, 4):02d}"
    if points is None:
        points = rng.randint(150, 900) * days
    copay = (points * ratio + 5) // 10 * 10
    myna = method in ("マイナ保険証", "マイナポータル")
    receipt: dict[str, object] = {
        "患者ID": "", "診療年月": claim, "診療日": service, "氏名": name[0],
        "カナ氏名": name[1], "性別": sex, "生年月日": birth, "保険者番号": insurer,
        "記号": symbol, "番号": number, "枝番": branch, "本人家族": relation,
        "負担割合": f"{ratio}割", "実日数": str(days), "合計点数": str(points),
        "一部負担金": str(copay), "特記事項": TOKKI.get(limit, ""), "摘要": "",
        "資格確認方法": method, "初再診": "初診" if rng.random() < 0.2 else "再診",
        "_kind": kind, "_raw": set(),
    }  # fmt: skip
    ecert = dt.date(rng.randint(2027, 2031), rng.randint(1, 12), 1) - dt.timedelta(days=1)
    online: dict[str, object] = {
        "患者ID": "", "照会日": service, "資格有効性": "有効", "保険者番号": insurer,
        "記号": symbol, "番号": number, "枝番": branch, "本人家族": relation,
        "氏名": name[0], "カナ氏名": name[1], "性別": "1" if sex == "男" else "2",
        "生年月日": birth, "負担割合": f"{ratio}割", "限度額適用区分": limit,
        "電子証明書有効期限": iso(ecert) if myna else "",
        "有効期限": iso(AUG_END) if band in (BAND_ELDERLY, BAND_KOUKI) else "",
        "_raw": set(),
    }  # fmt: skip
    if band == BAND_ELDERLY:
        doc, eff, until = "高齢受給者証", max(_d(elderly_start(birth)), AUG_START), AUG_END
    elif band == BAND_KOUKI:
        doc, eff, until = (
            "後期高齢者医療資格確認書",
            max(_d(kouki_start(birth)), AUG_START),
            AUG_END,
        )
    else:
        doc = "資格確認書" if method == "資格確認書" else "資格情報のお知らせ"
        eff = max(d("2023-04-01") - dt.timedelta(days=rng.randint(0, 2000)), b)
        until = d("2030-03-31") if doc == "資格確認書" else None
    card: dict[str, object] = {
        "患者ID": "", "証の種類": doc, "保険者番号": insurer, "記号": symbol, "番号": number,
        "枝番": branch, "本人家族": relation, "氏名": name[0], "カナ氏名": name[1],
        "生年月日": birth,
        "負担割合": f"{ratio}割" if band in (BAND_ELDERLY, BAND_KOUKI, BAND_PRESCHOOL) else "",
        "発効期日": iso(eff), "有効期限": iso(until),
        "交付年月日": iso(max(eff - dt.timedelta(days=rng.randint(3, 20)), b)),
        "限度額適用区分": limit if band in (BAND_ELDERLY, BAND_KOUKI) else "",
        "_raw": set(),
    }  # fmt: skip
    return receipt, online, card


def _d(x: object) -> dt.date:
    return dt.date.fromisoformat(str(x)[:10])


def case(key: str, category: str | None, note: str, **kw: object) -> Case:
    c = Case(key, category, note, **kw)  # type: ignore[arg-type]
    CASES.append(c)
    return c


def add(c: Case, r: dict[str, object], o: dict[str, object], *cards: dict[str, object]) -> None:
    c.receipts.append(r)
    c.online.append(o)
    c.cards.extend(cards)


def set_ratio(row: dict[str, object], ratio: int, *, copay: bool = True) -> None:
    row["負担割合"] = f"{ratio}割"
    if copay and "合計点数" in row:
        row["一部負担金"] = str((int(str(row["合計点数"])) * ratio + 5) // 10 * 10)


CASES: list[Case] = []
RATIO = ["ratio_online_vs_card", "ratio_billed_vs_verified", "ratio_implausible_for_age"]


def seed_cases() -> None:
    # --- wrong billed ratio while online and card agree ---------------------------------
    c = case("billed_ratio_wrong_elderly", "ratio_billed_vs_verified",
             "71歳・オン資と高齢受給者証は2割、3割で請求")  # fmt: skip
    r, o, k = visit(birth="1955-06-12", service="2026-10-07", sex="女", kind="kyokai")
    set_ratio(r, 3)
    add(c, r, o, k)
    c = case("billed_ratio_wrong_elderly", "ratio_billed_vs_verified",
             "72歳・国保・オン資と高齢受給者証は2割、給付割合70（3割負担）で請求")  # fmt: skip
    r, o, k = visit(birth="1954-03-20", service="2026-10-15", sex="男", kind="kokuho")
    set_ratio(r, 3)
    add(c, r, o, k)
    for birth, kind, sex in (("2022-08-05", "kumiai", "男"), ("2021-12-24", "kokuho", "女")):
        c = case("billed_ratio_wrong_child", "ratio_billed_vs_verified",
                 "未就学児（4歳）・オン資と券面は2割、3割で請求",
                 also_ok=["ratio_implausible_for_age"])  # fmt: skip
        r, o, k = visit(birth=birth, service="2026-10-09", sex=sex, kind=kind, relation="家族")
        set_ratio(r, 3)
        add(c, r, o, k)

    # --- online ratio differs from the card (70+) -------------------------------------------
    c = case("online_card_ratio", "ratio_online_vs_card",
             "72歳・オン資3割、高齢受給者証2割（2割で請求）")  # fmt: skip
    r, o, k = visit(birth="1954-03-15", service="2026-10-05", sex="男", kind="kyokai", limit="")
    set_ratio(o, 3)
    add(c, r, o, k)
    c = case("online_card_ratio", "ratio_online_vs_card",
             "73歳・国保・オン資2割、高齢受給者証3割（3割で請求）")  # fmt: skip
    r, o, k = visit(birth="1953-07-08", service="2026-10-13", sex="女", kind="kokuho", ratio=3,
                    limit="")  # fmt: skip
    set_ratio(o, 2)
    add(c, r, o, k)
    c = case("online_card_ratio", "ratio_online_vs_card",
             "78歳・後期・オン資1割、資格確認書2割（2割で請求）")  # fmt: skip
    r, o, k = visit(birth="1948-05-30", service="2026-10-21", sex="女", kind="kouki", ratio=2,
                    limit="")  # fmt: skip
    set_ratio(o, 1)
    add(c, r, o, k)

    # --- a ratio impossible for age -------------------------------------------------------
    for birth, kind, sex in (("1954-01-20", "kyokai", "女"), ("1953-09-09", "kokuho", "男")):
        c = case("card_1wari_age70_74", "ratio_implausible_for_age",
                 "72–73歳の高齢受給者証に1割（70–74歳に1割はない）",
                 also_ok=["ratio_online_vs_card"])  # fmt: skip
        r, o, k = visit(birth=birth, service="2026-10-16", sex=sex, kind=kind)
        set_ratio(k, 1)
        add(c, r, o, k)
    for birth, kind, sex in (("2021-06-10", "kyokai", "男"), ("2021-05-03", "kumiai", "女")):
        c = case("preschool_3wari_all_sources", "ratio_implausible_for_age",
                 "5歳（未就学）がオン資・請求とも3割",
                 also_ok=["ratio_billed_vs_verified"])  # fmt: skip
        r, o, k = visit(birth=birth, service="2026-10-19", sex=sex, kind=kind, relation="家族")
        set_ratio(r, 3)
        set_ratio(o, 3)
        k["負担割合"] = ""
        add(c, r, o, k)
    for birth, sex, lim in (("1946-02-11", "男", "一般Ⅱ"), ("1943-12-01", "女", "一般Ⅰ")):
        c = case("kouki_3wari_ippan", "ratio_implausible_for_age",
                 f"後期・3割で請求（オン資・券面も3割）だが限度額区分は{lim}"
                 "（一般は1割か2割）")  # fmt: skip
        r, o, k = visit(birth=birth, service="2026-10-22", sex=sex, kind="kouki", ratio=3,
                        limit=lim)  # fmt: skip
        r["特記事項"] = ""
        add(c, r, o, k)

    # --- 70th birthday: born on the 1st vs the 2nd ------------------------------------------
    ok70 = dict(must_not=RATIO)
    c = case("age70_boundary_ok", None,
             "1956-10-01生（1日生まれ）：10月から高齢受給者 2割で正しい", **ok70)  # fmt: skip
    r, o, k = visit(birth="1956-10-01", service="2026-10-14", sex="女", kind="kyokai")
    add(c, r, o, k)
    c = case("age70_boundary_ok", None,
             "1956-10-02生（2日生まれ）：11月から高齢受給者、10月は3割で正しい"
             "（11/1発効の高齢受給者証が登録済み）", **ok70)  # fmt: skip
    r, o, k = visit(birth="1956-10-02", service="2026-10-20", sex="男", kind="kumiai",
                    method="資格確認書")  # fmt: skip
    add(c, r, o, k, future_korei(k, "2026-11-01", 2))
    c = case("age70_boundary_billed_wrong", "ratio_billed_vs_verified",
             "1956-10-02生：10月はまだ3割なのに11/1発効の高齢受給者証で2割請求",
             also_ok=["ratio_implausible_for_age"])  # fmt: skip
    r, o, k = visit(birth="1956-10-02", service="2026-10-26", sex="女", kind="kyokai",
                    method="資格確認書")  # fmt: skip
    set_ratio(r, 2)
    add(c, r, o, k, future_korei(k, "2026-11-01", 2))
    c = case("age70_boundary_billed_wrong", "ratio_billed_vs_verified",
             "1956-10-01生：10月から2割（オン資・高齢受給者証とも2割）"
             "なのに給付割合70で請求")  # fmt: skip
    r, o, k = visit(birth="1956-10-01", service="2026-10-08", sex="男", kind="kokuho")
    set_ratio(r, 3)
    add(c, r, o, k)

    # --- 未就学 boundary: born 4/1 vs 4/2 -------------------------------------------------
    c = case("preschool_boundary_ok", None,
             "2020-04-01生：2026-03-31で未就学終了、10月は3割で正しい", must_not=RATIO)  # fmt: skip
    r, o, k = visit(birth="2020-04-01", service="2026-10-06", sex="男", kind="kyokai",
                    relation="家族")  # fmt: skip
    add(c, r, o, k)
    c = case("preschool_boundary_ok", None,
             "2020-04-02生：2027-03-31まで未就学、10月は2割で正しい", must_not=RATIO)  # fmt: skip
    r, o, k = visit(birth="2020-04-02", service="2026-10-06", sex="女", kind="kumiai",
                    relation="家族")  # fmt: skip
    add(c, r, o, k)
    c = case("preschool_boundary_billed_wrong", "ratio_billed_vs_verified",
             "2020-04-01生（小学1年）を2割で請求、オン資は3割",
             also_ok=["ratio_implausible_for_age"])  # fmt: skip
    r, o, k = visit(birth="2020-04-01", service="2026-10-23", sex="女", kind="kyokai",
                    relation="家族")  # fmt: skip
    set_ratio(r, 2)
    add(c, r, o, k)
    c = case("preschool_boundary_billed_wrong", "ratio_billed_vs_verified",
             "2020-04-02生（未就学）を3割で請求、オン資・券面は2割",
             also_ok=["ratio_implausible_for_age"])  # fmt: skip
    r, o, k = visit(birth="2020-04-02", service="2026-10-27", sex="男", kind="kokuho",
                    relation="家族")  # fmt: skip
    set_ratio(r, 3)
    add(c, r, o, k)

    # --- 75th birthday in October: two receipts ----------------------------------------------
    turns75 = [
        ("1951-10-15", "男", "kyokai", 2, "2026-10-06", 1, "2026-10-22", None),
        ("1951-10-20", "女", "kokuho", 2, "2026-10-08", 2, "2026-10-27", None),
        ("1951-10-10", "男", "kyokai", 3, "2026-10-05", 1, "2026-10-19", 3),
        ("1951-10-25", "女", "kumiai", 3, "2026-10-09", 2, "2026-10-28", 3),
    ]
    for birth, sex, kind, r1, s1, r2, s2, billed in turns75:
        if billed is None:
            c = case("turns75_in_month_ok", None,
                     f"{birth}生：75歳の誕生日前は{KIND_JA[kind]}{r1}割、誕生日から後期{r2}割"
                     "（同月に2件のレセプト）",
                     must_not=[*RATIO, "insurer_changed", "card_expired"])  # fmt: skip
        else:
            c = case("turns75_billed_wrong", "ratio_billed_vs_verified",
                     f"{birth}生：誕生日後の後期分（{r2}割）を旧割合{billed}割で請求")  # fmt: skip
        name = pick_name(sex)
        ra, oa, ka = visit(birth=birth, service=s1, sex=sex, kind=kind, ratio=r1, name=name,
                           relation="本人")  # fmt: skip
        ka["有効期限"] = iso(d(birth).replace(year=2026) - dt.timedelta(days=1))
        oa["有効期限"] = ka["有効期限"]
        rb, ob, kb = visit(birth=birth, service=s2, sex=sex, kind="kouki", ratio=r2, name=name)
        kb["発効期日"] = iso(d(birth).replace(year=2026))
        kb["交付年月日"] = "2026-09-25"
        if billed is not None:
            set_ratio(rb, billed)
            rb["特記事項"] = ""
        add(c, ra, oa, ka)
        add(c, rb, ob, kb)

    # --- 限度額区分 ------------------------------------------------------------------------
    c = case("limit_category_mismatch", "limit_category_mismatch",
             "52歳・限度額区分がオン資エ（A04）、券面ウ")  # fmt: skip
    r, o, k = visit(birth="1974-05-18", service="2026-10-12", sex="男", kind="kyokai",
                    limit="ウ", method="資格確認書")  # fmt: skip
    o["限度額適用区分"] = "A04"
    o["_raw"].add("限度額適用区分")  # type: ignore[attr-defined]
    k["限度額適用区分"] = "ウ"
    add(c, r, o, k)
    c = case("limit_category_mismatch", "limit_category_mismatch",
             "72歳・国保3割・限度額区分がオン資 現役並みⅡ、高齢受給者証 現役並みⅠ")  # fmt: skip
    r, o, k = visit(birth="1954-08-08", service="2026-10-14", sex="女", kind="kokuho", ratio=3,
                    limit="現役並みⅠ")  # fmt: skip
    o["限度額適用区分"] = "現役並みⅡ"
    add(c, r, o, k)

    # --- 資格無効 / 該当資格なし ---------------------------------------------------------------
    for key, cat, note, val, birth, sex, kind in (
        ("eligibility_invalid", "eligibility_invalid", "オン資「無効」（文字）", "無効",
         "1981-03-02", "男", "kumiai"),
        ("eligibility_invalid", "eligibility_invalid", "オン資「無効」（コード2）", "2",
         "1958-07-19", "女", "kokuho"),
        ("eligibility_invalid_new", "eligibility_invalid", "オン資「無効（新しい資格あり）」",
         "無効（新しい資格あり）", "1993-11-27", "女", "kyokai"),
        ("eligibility_invalid_new", "eligibility_invalid",
         "オン資「無効（新しい資格あり）」（コード3）", "3", "1949-06-06", "男", "kouki"),
        ("eligibility_not_found", "eligibility_not_found", "オン資「該当資格なし」",
         "該当資格なし", "1985-01-30", "男", "kyokai"),
        ("eligibility_not_found", "eligibility_not_found", "オン資「該当資格なし」（コード4）",
         "4", "2018-02-14", "女", "kumiai"),
    ):  # fmt: skip
        c = case(key, cat, note)
        r, o, k = visit(birth=birth, service=f"2026-10-{rng.randint(1, 28):02d}", sex=sex,
                        kind=kind)  # fmt: skip
        o["資格有効性"] = val
        o["_raw"].add("資格有効性")  # type: ignore[attr-defined]
        if cat == "eligibility_not_found":
            for col in ONLINE_HEADERS[3:8] + ONLINE_HEADERS[12:]:
                o[col] = ""
            k["証の種類"] = "資格確認書"
            k["有効期限"] = "2030-03-31"
            r["資格確認方法"] = "資格確認書"
        add(c, r, o, k)

    # --- insurer changed: card shows the new insurer, online the old ---------------------
    c = case("insurer_changed", "insurer_changed",
             "38歳・転職で新しい組合の資格確認書（9/1発効）、"
             "オン資は旧協会けんぽのまま有効")  # fmt: skip
    r, o, k = visit(birth="1988-04-21", service="2026-10-13", sex="男", kind="kyokai",
                    method="資格確認書", relation="本人")  # fmt: skip
    new = INSURERS["kumiai"][1]
    for row in (r, k):
        row["保険者番号"], row["記号"], row["番号"], row["枝番"] = new, "4501", "311", "00"
    k.update({"証の種類": "資格確認書", "発効期日": "2026-09-01", "交付年月日": "2026-09-12",
              "有効期限": "2031-08-31"})  # fmt: skip
    add(c, r, o, k)
    c = case("insurer_changed", "insurer_changed",
             "73歳・退職で国保に加入（9/1発効の高齢受給者証）、"
             "オン資は旧組合のまま有効")  # fmt: skip
    r, o, k = visit(birth="1953-05-05", service="2026-10-20", sex="女", kind="kokuho",
                    method="資格確認書", relation="本人")  # fmt: skip
    old = INSURERS["kumiai"][2]
    o["保険者番号"], o["記号"], o["番号"], o["枝番"] = old, "7702", "1186", "00"
    k.update({"発効期日": "2026-09-01", "交付年月日": "2026-09-10"})
    add(c, r, o, k)

    # --- identity: birth date or sex differs online vs card/receipt -----------------------
    c = case("identity_birth_date", "identity_mismatch",
             "生年月日がオン資1950-05-04、券面・レセ1950-05-14")  # fmt: skip
    r, o, k = visit(birth="1950-05-14", service="2026-10-02", sex="女", kind="kouki")
    o["生年月日"] = "1950-05-04"
    add(c, r, o, k)
    c = case("identity_birth_date", "identity_mismatch",
             "生年月日の月日が入れ替わり（オン資1988-03-02）")  # fmt: skip
    r, o, k = visit(birth="1988-02-03", service="2026-10-28", sex="男", kind="kyokai")
    o["生年月日"] = "1988-03-02"
    add(c, r, o, k)
    c = case("identity_sex", "identity_mismatch", "性別がオン資は男、レセプトは女")
    r, o, k = visit(birth="1966-09-30", service="2026-10-17", sex="女", kind="kokuho")
    o["性別"] = "1"
    add(c, r, o, k)
    c = case("identity_sex", "identity_mismatch", "性別がオン資は女、レセプトは男")
    r, o, k = visit(birth="2011-01-12", service="2026-10-24", sex="男", kind="kumiai",
                    relation="家族")  # fmt: skip
    o["性別"] = "2"
    add(c, r, o, k)

    # --- names -----------------------------------------------------------------------------
    for mine, other, birth, sex in (
        (("山田\u3000花子", "ヤマダ\u3000ハナコ"), ("山本\u3000幸子", "ヤマモト\u3000サチコ"),
         "1961-08-25", "女"),
        (("中村\u3000健一", "ナカムラ\u3000ケンイチ"), ("中川\u3000修", "ナカガワ\u3000オサム"),
         "1972-12-09", "男"),
    ):  # fmt: skip
        c = case("name_different", "name_mismatch", f"オン資の氏名が別人（{other[0]}）")
        r, o, k = visit(birth=birth, service="2026-10-09", sex=sex, kind="kyokai", name=mine)
        o["氏名"], o["カナ氏名"] = other
        add(c, r, o, k)
    no_name = ["name_mismatch"]
    for mine, shown in (
        (("髙橋\u3000一郎", "タカハシ\u3000イチロウ"), "●橋\u3000一郎"),
        (("山﨑\u3000幸子", "ヤマザキ\u3000サチコ"), "山●\u3000幸子"),
    ):  # fmt: skip
        c = case("masked_name", None, f"オン資の氏名が「{shown}」（●表示、氏名の誤りではない）",
                 must_not=no_name, also_ok=["masked_characters"])  # fmt: skip
        r, o, k = visit(birth=f"19{rng.randint(55, 90)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                        service="2026-10-15", sex="男" if "一郎" in mine[0] else "女",
                        kind="kyokai", name=mine)  # fmt: skip
        o["氏名"] = shown
        add(c, r, o, k)
    for mine, std, sex in (
        (("髙橋\u3000美智子", "タカハシ\u3000ミチコ"), "高橋\u3000美智子", "女"),
        (("宮﨑\u3000和夫", "ミヤザキ\u3000カズオ"), "宮崎\u3000和夫", "男"),
        (("渡邊\u3000清", "ワタナベ\u3000キヨシ"), "渡辺\u3000清", "男"),
    ):  # fmt: skip
        c = case("itaiji_name", None, f"異体字：券面・レセ「{mine[0]}」、オン資「{std}」",
                 must_not=no_name)  # fmt: skip
        r, o, k = visit(birth=f"19{rng.randint(40, 50)}-1{rng.randint(0, 2)}-0{rng.randint(1, 9)}",
                        service="2026-10-26", sex=sex, kind="kouki", name=mine)  # fmt: skip
        o["氏名"] = std
        add(c, r, o, k)
    for birth, sex in (("1979-07-07", "男"), ("1990-10-31", "女")):
        c = case("halfwidth_kana", None, "レセプトのカナ氏名が半角（ｶﾅ）、オン資は全角",
                 must_not=no_name)  # fmt: skip
        r, o, k = visit(birth=birth, service="2026-10-08", sex=sex, kind="kumiai")
        r["カナ氏名"] = half_kana(str(r["カナ氏名"]))
        r["_raw"].add("カナ氏名")  # type: ignore[attr-defined]
        add(c, r, o, k)

    # --- insurer numbers ---------------------------------------------------------------------
    for key, note, kind, wrong in (
        ("insurer_bad_check_digit", "保険者番号の検証番号誤り", "kyokai",
         INSURERS["kyokai"][0][:-1] + "3"),
        ("insurer_bad_check_digit", "国保保険者番号（6桁）の検証番号誤り", "kokuho",
         INSURERS["kokuho"][0][:-1] + "9"),
        ("insurer_unknown_hobetsu", "保険者番号の法別09は存在しない（検証番号は正しい）",
         "kyokai", ins("0913001")),
        ("insurer_unknown_hobetsu", "保険者番号の法別45は存在しない（検証番号は正しい）",
         "kumiai", ins("4513002")),
        ("insurer_wrong_length", "保険者番号が5桁", "kokuho", "13805"),
        ("insurer_wrong_length", "保険者番号が9桁", "kumiai", INSURERS["kumiai"][0] + "7"),
    ):  # fmt: skip
        c = case(key, "insurer_number_invalid", f"{note}（{wrong}）")
        r, o, k = visit(birth=f"19{rng.randint(55, 99)}-0{rng.randint(1, 9)}-2{rng.randint(0, 8)}",
                        service=f"2026-10-{rng.randint(1, 30):02d}", sex=rng.choice("男女"),
                        kind=kind)  # fmt: skip
        r["保険者番号"] = wrong
        r["_raw"].add("保険者番号")  # type: ignore[attr-defined]
        add(c, r, o, k)

    # --- 不詳 claims (correctly filed: must not be flagged as an invalid insurer) ----------
    fusho_ok = ["insurer_number_invalid", "fusho_missing_entry", "fusho_not_allowed",
                "fusho_followup_required"]  # fmt: skip
    for marker, birth, sex, tel, office in (
        ("77777777", "1974-02-17", "女", "0101", "株式会社見本商事"),
        ("77777777", "1997-09-03", "男", "0102", "架空運輸株式会社"),
        ("77777779", "1969-06-28", "男", "0103", "有限会社サンプル工務店"),
    ):  # fmt: skip
        c = case("fusho_" + marker, None,
                 f"不詳レセプト（保険者番号{marker}、摘要「不詳…」記載済み・マイナ保険証・初診1日）",
                 must_not=fusho_ok, also_ok=["eligibility_not_found"])  # fmt: skip
        r, o, _ = visit(birth=birth, service="2026-10-10", sex=sex, kind="kyokai", days=1)
        contact = "令和8年10月16日"
        r.update({
            "保険者番号": marker, "記号": "", "番号": "777777777", "枝番": "", "初再診": "初診",
            "摘要": (f"不詳　カナ氏名：{r['カナ氏名']}　保険種別：社保（わからない）　"
                     f"保険者等名称：わからない　事業所名：{office}　"
                     f"住所：東京都架空区見本町{tel[-1]}-2-3　連絡先：03-0000-{tel}　"
                     f"患者への連絡を行った日：{contact}"),
        })  # fmt: skip
        r["_raw"].add("保険者番号")  # type: ignore[attr-defined]
        o["資格有効性"] = "該当資格なし"
        for col in ONLINE_HEADERS[3:8] + ONLINE_HEADERS[12:]:
            o[col] = ""
        add(c, r, o)  # no card on file

    # --- 枝番 inside 番号 -------------------------------------------------------------------
    for kind, rel in (("kyokai", "家族"), ("kokuho", "本人")):
        c = case("branch_in_number", "card_number_format", "番号の末尾に枝番が付き、枝番が空欄")
        r, o, k = visit(birth=f"19{rng.randint(60, 99)}-11-1{rng.randint(0, 9)}",
                        service="2026-10-05", sex="女", kind=kind, relation=rel)  # fmt: skip
        r["番号"], r["枝番"] = f"{r['番号']}{r['枝番']}", ""
        add(c, r, o, k)

    # --- 本人/家族 -----------------------------------------------------------------------
    for rel, other in (("本人", "家族"), ("家族", "本人")):
        c = case("relation_mismatch", "relation_mismatch",
                 f"本人家族がレセ「{other}」、オン資・券面「{rel}」")  # fmt: skip
        r, o, k = visit(birth=f"19{rng.randint(60, 99)}-03-0{rng.randint(1, 9)}",
                        service="2026-10-19", sex="男", kind="kyokai", relation=rel)  # fmt: skip
        r["本人家族"] = other
        add(c, r, o, k)

    # --- expired cards ---------------------------------------------------------------------
    c = case("card_expired", "card_expired", "高齢受給者証の有効期限2026-07-31（更新分が未登録）")
    r, o, k = visit(birth="1954-02-02", service="2026-10-07", sex="女", kind="kyokai",
                    method="資格確認書")  # fmt: skip
    k.update({"発効期日": "2025-08-01", "有効期限": "2026-07-31", "交付年月日": "2025-07-20"})
    add(c, r, o, k)
    c = case("card_expired", "card_expired", "資格確認書の有効期限2026-09-30が診療日に切れている")
    r, o, k = visit(birth="1982-10-12", service="2026-10-14", sex="男", kind="kumiai",
                    method="資格確認書")  # fmt: skip
    k.update({"発効期日": "2021-10-01", "有効期限": "2026-09-30", "交付年月日": "2021-09-20"})
    add(c, r, o, k)
    for birth, sex, kind, until in (("1968-04-04", "男", "kyokai", ""),
                                    ("1991-06-16", "女", "kumiai", "2025-12-01")):  # fmt: skip
        c = case("old_health_insurance_card", "card_expired",
                 "旧健康保険証で受付（猶予は2026-03-31まで）")  # fmt: skip
        r, o, k = visit(birth=birth, service="2026-10-21", sex=sex, kind=kind, method="保険証")
        k.update({"証の種類": "健康保険証", "発効期日": "2019-04-01", "有効期限": until,
                  "交付年月日": "2019-04-10"})  # fmt: skip
        add(c, r, o, k)

    # --- e-certificate ----------------------------------------------------------------------
    for key, cat, ecert, service, note in (
        ("ecert_expired", "ecert_expired", "2026-05-31", "2026-10-06",
         "電子証明書が2026-05-31に失効（3か月超）"),
        ("ecert_expired", "ecert_expired", "2026-03-31", "2026-10-20",
         "電子証明書が2026-03-31に失効（3か月超）"),
        ("ecert_expired_recently_ok", None, "2026-09-05", "2026-10-06",
         "電子証明書が約1か月前に失効（3か月以内は照会可、指摘しない）"),
        ("ecert_expired_recently_ok", None, "2026-08-31", "2026-10-20",
         "電子証明書が約1か月半前に失効（3か月以内、指摘しない）"),
    ):  # fmt: skip
        c = case(key, cat, note, must_not=[] if cat else ["ecert_expired"])
        r, o, k = visit(birth=f"19{rng.randint(55, 95)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                        service=service, sex=rng.choice("男女"), kind="kyokai")  # fmt: skip
        o["電子証明書有効期限"] = ecert
        add(c, r, o, k)

    # --- 10割 charged with valid eligibility --------------------------------------------------
    for birth, sex, kind, points in (("1978-01-25", "男", "kyokai", 420),
                                     ("1946-07-14", "女", "kouki", 350)):  # fmt: skip
        c = case("full_charge_10wari", "full_charge_collected",
                 f"資格は有効なのに10割徴収（{points}点 → {points * 10}円）")  # fmt: skip
        r, o, k = visit(birth=birth, service="2026-10-03", sex=sex, kind=kind, points=points)
        r["一部負担金"] = str(points * 10)
        add(c, r, o, k)

    # --- unreadable values ---------------------------------------------------------------------
    for col, bad, note in (
        ("生年月日", "令和99年13月40日", "生年月日が読めない（令和99年13月40日）"),
        ("生年月日", "1950/02/30", "生年月日が存在しない日付（1950/02/30）"),
        ("負担割合", "7割", "負担割合欄に「7割」（給付割合の取り違え？）"),
        ("負担割合", "7割", "負担割合欄に「7割」"),
        ("合計点数", "未確定", "合計点数が文字（未確定）"),
        ("合計点数", "算定中", "合計点数が文字（算定中）"),
    ):  # fmt: skip
        c = case(UNREADABLE_KEYS[col], "input_invalid", note)
        r, o, k = visit(birth=f"19{rng.randint(53, 59)}-0{rng.randint(1, 9)}-0{rng.randint(1, 9)}",
                        service=f"2026-10-{rng.randint(1, 30):02d}", sex=rng.choice("男女"),
                        kind=rng.choice(["kyokai", "kumiai"]))  # fmt: skip
        r[col] = bad
        r["_raw"].add(col)  # type: ignore[attr-defined]
        add(c, r, o, k)


# ---------------------------------------------------------------------------------------
# 不詳 claims of October: two correctly filed (in two styles) and the defective ones.

FUSHO_CATS = ["fusho_missing_entry", "fusho_not_allowed", "fusho_followup_required"]
FUSHO_MARKER_NUMBER = {"kouki": "77777777"}  # 番号 of a 不詳 claim (後期: 8 digits)


@dataclass
class Tekiyo:
    """The items of a 不詳 claim's 摘要 (DOMAIN §6)."""

    kana: str
    shubetsu: str  # 保険種別
    insurer: str  # 保険者等名称
    office: str | None  # 事業所名 (None: not needed, e.g. 市町村国保, 後期)
    address: str
    phone: str
    contact: str  # 患者への連絡を行った日, as written
    relation: str  # 本人 / 家族


def tekiyo_text(t: Tekiyo, style: str, drop: tuple[str, ...] = ()) -> str:
    """The 摘要 in one of three styles a clerk writes; ``drop`` leaves items out.

    - ``short``:  labels, half-width spaces (「不詳 カナ氏名：… 保険者名：… 連絡日：R8.10.20 本人」)
    - ``formal``: the MHLW wording, full-width spaces (「保険者等名称：」「患者への連絡を行った日：」,
      「被保険者（本人）」/「被扶養者（家族）」)
    - ``plain``:  no labels, items in checklist order, half-width kana and full-width digits
    """
    rel_formal = "被保険者（本人）" if t.relation == "本人" else "被扶養者（家族）"
    if style == "plain":
        items = [
            ("kana", half_kana(t.kana)), ("shubetsu", t.shubetsu), ("insurer", t.insurer),
            ("office", t.office), ("address", t.address), ("phone", t.phone.translate(FULLWIDTH_TEL)),
            ("contact", f"{t.contact}連絡"), ("relation", t.relation),
        ]  # fmt: skip
        return "\u3000".join(["不詳"] + [v for k, v in items if v and k not in drop])
    labels = {
        "short": {"kana": "カナ氏名：", "shubetsu": "保険種別：", "insurer": "保険者名：",
                  "office": "事業所名：", "address": "住所：", "phone": "連絡先：",
                  "contact": "連絡日：", "relation": ""},
        "formal": {"kana": "カナ氏名：", "shubetsu": "保険種別：", "insurer": "保険者等名称：",
                   "office": "事業所名：", "address": "住所：", "phone": "連絡先：",
                   "contact": "患者への連絡を行った日：", "relation": ""},
    }[style]  # fmt: skip
    values = {
        "kana": t.kana.replace("\u3000", " ") if style == "short" else t.kana,
        "shubetsu": t.shubetsu, "insurer": t.insurer, "office": t.office,
        "address": t.address, "phone": t.phone, "contact": t.contact,
        "relation": t.relation if style == "short" else rel_formal,
    }  # fmt: skip
    sep = " " if style == "short" else "\u3000"
    parts = [labels[k] + str(v) for k, v in values.items() if v and k not in drop]
    return sep.join(["不詳", *parts])


FULLWIDTH_TEL = str.maketrans("0123456789-", "０１２３４５６７８９－")
SHUBETSU = {  # kind -> (保険種別, 保険者等名称, 事業所名 needed)
    "kyokai": ("協会けんぽ", "全国健康保険協会東京支部", True),
    "kumiai": ("健保組合", "見本電機健康保険組合", True),
    "kyosai": ("共済", "架空県職員共済組合", True),
    "kokuho": ("市町村国保", "架空区国民健康保険", False),
    "kouki": ("後期高齢者医療", "東京都後期高齢者医療広域連合", False),
}
OFFICES = ["株式会社見本商事", "架空運輸株式会社", "見本電機株式会社", "有限会社サンプル工務店",
           "架空県庁", "株式会社テスト製作所", "見本フーズ株式会社"]  # fmt: skip


def fusho_claim(
    c: Case,
    *,
    birth: str,
    service: str,
    sex: str,
    kind: str,
    style: str,
    contact: str,
    drop: tuple[str, ...] = (),
    relation: str = "本人",
    method: str = "マイナ保険証",
    visit_type: str = "初診",
    days: int = 1,
    validity: str | None = "4",
    marker: str = "77777777",
    name: tuple[str, str] | None = None,
    tekiyo: str | None = None,
    claim: str = CLAIM,
    phone: str | None = None,
) -> dict[str, object]:
    """A 不詳 claim (no card on file) and, unless ``validity`` is None, its online result:
    該当資格なし (all fields empty) or 無効 (the lost qualification kept)."""
    r, o, _ = visit(birth=birth, service=service, sex=sex, kind=kind, days=days,
                    relation=relation, name=name, claim=claim)  # fmt: skip
    shubetsu, insurer_name, needs_office = SHUBETSU[kind]
    n = len(c.receipts) + sum(len(x.receipts) for x in CASES)
    t = Tekiyo(
        kana=str(r["カナ氏名"]), shubetsu=shubetsu, insurer=insurer_name,
        office=OFFICES[n % len(OFFICES)] if needs_office else None,
        address=f"東京都架空区見本町{n % 9 + 1}-{n % 5 + 1}-{n % 7 + 2}",
        phone=phone or f"03-0000-{2000 + n:04d}", contact=contact, relation=relation,
    )  # fmt: skip
    r.update({
        "保険者番号": marker, "記号": "", "番号": FUSHO_MARKER_NUMBER.get(kind, "777777777"),
        "枝番": "", "特記事項": "", "初再診": visit_type, "資格確認方法": method,
        "摘要": tekiyo if tekiyo is not None else tekiyo_text(t, style, drop),
    })  # fmt: skip
    r["_raw"].add("保険者番号")  # type: ignore[attr-defined]
    c.receipts.append(r)
    if validity is not None:
        o["資格有効性"] = validity
        o["_raw"].add("資格有効性")  # type: ignore[attr-defined]
        if validity in ("4", "該当資格なし"):
            for col in ONLINE_HEADERS[3:8] + ONLINE_HEADERS[12:]:
                o[col] = ""
        c.online.append(o)
    return r


def seed_fusho_cases() -> None:
    good = ["insurer_number_invalid", *FUSHO_CATS]
    not_found = ["eligibility_not_found"]

    # --- correctly filed, two more styles -----------------------------------------------
    c = case("fusho_ok_styles", None,
             "不詳レセプト（ラベル付きの摘要「不詳 カナ氏名：… 保険者名：… 連絡日：R8.10.20 本人」、"
             "協会けんぽ・事業所名あり・マイナ保険証・初診・実日数1・オン資 該当資格なし）",
             must_not=good, also_ok=not_found)  # fmt: skip
    fusho_claim(c, birth="1985-04-12", service="2026-10-14", sex="男", kind="kyokai",
                style="short", contact="R8.10.20",
                name=("山田\u3000太郎", "ヤマダ\u3000タロウ"),
                tekiyo="不詳 カナ氏名：ヤマダ タロウ 保険種別：協会けんぽ 保険者名：全国健康保険協会東京支部 "
                       "事業所名：株式会社サンプル 住所：東京都新宿区西新宿1-2-3 連絡先：03-0000-1234 "
                       "連絡日：R8.10.20 本人")  # fmt: skip
    c = case("fusho_ok_styles", None,
             "不詳レセプト（ラベルなしの摘要、半角カナ・全角数字まじり、市町村国保なので事業所名なし・"
             "マイナ保険証・初診・実日数1・オン資 該当資格なし）",
             must_not=good, also_ok=not_found)  # fmt: skip
    fusho_claim(c, birth="1962-11-03", service="2026-10-16", sex="女", kind="kokuho",
                style="plain", contact="令和８年１０月２２日",
                name=("鈴木\u3000花子", "スズキ\u3000ハナコ"),
                tekiyo="不詳\u3000ｽｽﾞｷ ﾊﾅｺ\u3000市町村国保\u3000架空区国民健康保険\u3000"
                       "東京都架空区見本町4-5-6\u3000０３－００００－１２３５\u3000"
                       "令和８年１０月２２日連絡\u3000本人")  # fmt: skip

    # --- 記載事項不備 (fusho_missing_entry) -------------------------------------------------
    entry_ok = ["insurer_number_invalid", "fusho_not_allowed", "fusho_followup_required"]
    c = case("fusho_missing_phone", "fusho_missing_entry",
             "不詳レセプトの摘要に連絡先（電話番号）がない（他の項目はあり、連絡日は「10月9日」）",
             must_not=entry_ok, also_ok=not_found)  # fmt: skip
    fusho_claim(c, birth="1971-08-09", service="2026-10-06", sex="男", kind="kyokai",
                style="short", contact="10月9日", drop=("phone",))  # fmt: skip
    c = case("fusho_missing_phone", "fusho_missing_entry",
             "国保の不詳レセプトの摘要に連絡先がない（他の項目はあり）",
             must_not=entry_ok, also_ok=not_found)  # fmt: skip
    fusho_claim(c, birth="1958-01-25", service="2026-10-19", sex="女", kind="kokuho",
                style="formal", contact="令和8年10月26日", drop=("phone",))  # fmt: skip
    c = case("fusho_missing_office", "fusho_missing_entry",
             "健保組合の不詳レセプトに事業所名がない（組合・協会けんぽ・共済は必須）",
             must_not=entry_ok, also_ok=not_found)  # fmt: skip
    fusho_claim(c, birth="1980-03-15", service="2026-10-07", sex="男", kind="kumiai",
                style="short", contact="R8.10.13", drop=("office",))  # fmt: skip
    c = case("fusho_missing_office", "fusho_missing_entry",
             "健保組合の不詳レセプトに事業所名がない（保険種別「組合健保」）",
             must_not=entry_ok, also_ok=not_found)  # fmt: skip
    r = fusho_claim(c, birth="1992-12-01", service="2026-10-21", sex="女", kind="kumiai",
                    style="formal", contact="令和8年10月27日", drop=("office",),
                    relation="家族")  # fmt: skip
    r["摘要"] = str(r["摘要"]).replace("保険種別：健保組合", "保険種別：組合健保")

    # --- no contact date (fusho_followup_required; a missing item as well) ----------------
    c = case("fusho_no_contact_date", "fusho_followup_required",
             "不詳レセプトの摘要に患者への連絡を行った日がない",
             must_not=["insurer_number_invalid", "fusho_not_allowed"],
             also_ok=["fusho_missing_entry", *not_found])  # fmt: skip
    fusho_claim(c, birth="1975-05-05", service="2026-10-09", sex="女", kind="kyokai",
                style="short", contact="", drop=("contact",))  # fmt: skip
    c = case("fusho_no_contact_date", "fusho_followup_required",
             "共済の不詳レセプトの摘要に患者への連絡を行った日がない",
             must_not=["insurer_number_invalid", "fusho_not_allowed"],
             also_ok=["fusho_missing_entry", *not_found])  # fmt: skip
    fusho_claim(c, birth="1966-02-20", service="2026-10-23", sex="男", kind="kyosai",
                style="formal", contact="", drop=("contact",))  # fmt: skip

    # --- 不詳 not allowed (fusho_not_allowed) ------------------------------------------------
    allowed_ok = ["insurer_number_invalid", "fusho_missing_entry", "fusho_followup_required"]
    c = case("fusho_not_myna", "fusho_not_allowed",
             "確認方法が資格確認書なのに不詳で請求（不詳はマイナ保険証の提示が条件）",
             must_not=allowed_ok)  # fmt: skip
    fusho_claim(c, birth="1983-09-30", service="2026-10-05", sex="男", kind="kyokai",
                style="short", contact="R8.10.8", method="資格確認書", validity=None)  # fmt: skip
    c = case("fusho_not_myna", "fusho_not_allowed",
             "国保・確認方法が資格確認書なのに不詳で請求",
             must_not=allowed_ok)  # fmt: skip
    fusho_claim(c, birth="1970-07-17", service="2026-10-26", sex="女", kind="kokuho",
                style="formal", contact="令和8年10月29日", method="資格確認書",
                validity=None)  # fmt: skip
    c = case("fusho_revisit", "fusho_not_allowed",
             "初再診が「再診」の不詳レセプト（過去の資格で請求すべき）",
             must_not=allowed_ok, also_ok=not_found)  # fmt: skip
    fusho_claim(c, birth="1977-11-11", service="2026-10-13", sex="男", kind="kyokai",
                style="short", contact="R8.10.16", visit_type="再診")  # fmt: skip
    c = case("fusho_revisit", "fusho_not_allowed",
             "後期・初再診が「再診」の不詳レセプト（番号77777777、事業所名は不要）",
             must_not=allowed_ok, also_ok=not_found)  # fmt: skip
    fusho_claim(c, birth="1947-03-03", service="2026-10-20", sex="女", kind="kouki",
                style="formal", contact="令和8年10月23日", visit_type="再診")  # fmt: skip
    c = case("fusho_online_invalid", "fusho_not_allowed",
             "オン資「無効」（喪失した資格が分かる）なのに不詳で請求",
             must_not=allowed_ok, also_ok=["eligibility_invalid"])  # fmt: skip
    fusho_claim(c, birth="1959-12-12", service="2026-10-08", sex="男", kind="kyokai",
                style="short", contact="R8.10.14", validity="無効")  # fmt: skip
    c = case("fusho_online_invalid", "fusho_not_allowed",
             "オン資「無効（新しい資格あり）」（コード3）なのに不詳で請求",
             must_not=allowed_ok, also_ok=["eligibility_invalid"])  # fmt: skip
    fusho_claim(c, birth="1986-04-04", service="2026-10-27", sex="女", kind="kumiai",
                style="formal", contact="令和8年10月30日", validity="3", relation="家族")  # fmt: skip
    # 9月に保険者の分かるレセプトがある患者 (the September claims are added in seed_september)
    for key, birth, sex, kind, s_prev, s_now, style, contact in (
        ("fusho_prior_claim", "1968-06-06", "男", "kyokai", "2026-09-11", "2026-10-12", "short",
         "R8.10.15"),
        ("fusho_prior_claim", "1988-10-10", "女", "kumiai", "2026-09-17", "2026-10-22", "formal",
         "令和8年10月28日"),
    ):  # fmt: skip
        c = case(key, "fusho_not_allowed",
                 f"9月（{s_prev}）は{KIND_JA[kind]}で請求済みなのに10月は不詳（初診）で請求"
                 "（過去の資格で請求すべき）", must_not=allowed_ok, also_ok=not_found)  # fmt: skip
        name = pick_name(sex)
        prev, _, _ = visit(birth=birth, service=s_prev, sex=sex, kind=kind, name=name,
                           relation="本人", claim=PREV)  # fmt: skip
        prev["初再診"] = "初診"
        c.receipts.append(prev)
        fusho_claim(c, birth=birth, service=s_now, sex=sex, kind=kind, style=style,
                    contact=contact, name=name)  # fmt: skip

    # --- follow-up needed (fusho_followup_required) -------------------------------------------
    follow_ok = ["insurer_number_invalid", "fusho_missing_entry", "fusho_not_allowed"]
    c = case("fusho_many_days", "fusho_followup_required",
             "実日数2日の不詳レセプト（2回目の受診時に資格を確認できた）",
             must_not=follow_ok, also_ok=not_found)  # fmt: skip
    fusho_claim(c, birth="1994-08-18", service="2026-10-02", sex="女", kind="kyokai",
                style="short", contact="R8.10.20", days=2)  # fmt: skip
    c = case(
        "fusho_many_days",
        "fusho_followup_required",
        "国保・実日数2日の不詳レセプト",
        must_not=follow_ok,
        also_ok=not_found,
    )
    fusho_claim(c, birth="1964-10-30", service="2026-10-05", sex="男", kind="kokuho",
                style="formal", contact="令和8年10月19日", days=2)  # fmt: skip
    c = case("fusho_contact_before_visit", "fusho_followup_required",
             "摘要の連絡日（R8.10.10）が受診日（10/15）より前", must_not=follow_ok,
             also_ok=not_found)  # fmt: skip
    fusho_claim(c, birth="1973-02-28", service="2026-10-15", sex="男", kind="kyokai",
                style="short", contact="R8.10.10")  # fmt: skip
    c = case("fusho_contact_before_visit", "fusho_followup_required",
             "摘要の患者連絡日（令和8年10月1日）が受診日（10/28）より前",
             must_not=follow_ok, also_ok=not_found)  # fmt: skip
    fusho_claim(c, birth="1999-06-15", service="2026-10-28", sex="女", kind="kumiai",
                style="formal", contact="令和8年10月1日")  # fmt: skip
    c = case("fusho_newborn", "fusho_followup_required",
             "生後10日の新生児の不詳レセプト（資格確認書で受診すべき）", must_not=follow_ok,
             also_ok=not_found)  # fmt: skip
    fusho_claim(c, birth="2026-10-05", service="2026-10-15", sex="男", kind="kyokai",
                style="short", contact="R8.10.19", relation="家族")  # fmt: skip
    c = case(
        "fusho_newborn",
        "fusho_followup_required",
        "国保・生後10日の新生児の不詳レセプト",
        must_not=follow_ok,
        also_ok=not_found,
    )
    fusho_claim(c, birth="2026-10-14", service="2026-10-24", sex="女", kind="kokuho",
                style="formal", contact="令和8年10月28日", relation="家族")  # fmt: skip


# ---------------------------------------------------------------------------------------
# September 2026: claims that came back as 返戻 in October, and one return that matches
# nothing. A return row carries ``_claim`` (the receipt it returns; its レセプト番号 and
# 合計点数 are filled in when written) and ``_pid`` (write the patient's ID).


def again(r: dict[str, object], *, service: str, claim: str) -> dict[str, object]:
    """The same patient and card on another visit (new points and copay)."""
    out = dict(r)
    days = int(str(r["実日数"]))
    points = rng.randint(150, 900) * days
    ratio = int(str(r["負担割合"]).rstrip("割"))
    out.update({"診療年月": claim, "診療日": service, "合計点数": str(points),
                "一部負担金": str((points * ratio + 5) // 10 * 10), "初再診": "再診",
                "_raw": set(r["_raw"])})  # type: ignore[call-overload]  # fmt: skip
    return out


def return_row(
    r: dict[str, object] | None,
    *,
    reason: str,
    code: str,
    note: str = "",
    receipt_no: bool = False,
    pid: bool = False,
    numbers: bool = True,
    person: dict[str, object] | None = None,
) -> dict[str, object]:
    """A 返戻 row for claim ``r`` as the 審査支払機関 lists it (name, insurer as billed)."""
    src = person or r or {}
    return {
        "返戻年月": CLAIM, "診療年月": PREV, "氏名": src["氏名"], "カナ氏名": src["カナ氏名"],
        "生年月日": src["生年月日"], "性別": src["性別"],
        "保険者番号": src["保険者番号"] if numbers else "", "記号": src["記号"] if numbers else "",
        "番号": src["番号"] if numbers else "", "返戻事由コード": code, "返戻理由": reason,
        "補足": note, "_claim": r, "_receipt_no": receipt_no, "_pid": pid, "患者ID": "",
        "_points": src.get("合計点数", ""),
    }  # fmt: skip


def seed_september() -> None:
    matched = dict(must_not=["return_unmatched"])

    # 資格喪失後の受診: 9月は旧組合で請求、10月のオン資で新しい協会けんぽが有効 -> 再請求 可
    c = case("returned_eligibility", "returned",
             "返戻（資格喪失後の受診）：9月は旧健保組合で請求、10月のオン資で新しい協会けんぽが有効"
             "（レセプト番号で照合、再請求 可）", **matched)  # fmt: skip
    name = pick_name("男")
    prev, _, _ = visit(birth="1979-06-21", service="2026-09-08", sex="男", kind="kumiai",
                       name=name, relation="本人", claim=PREV)  # fmt: skip
    r, o, k = visit(birth="1979-06-21", service="2026-10-15", sex="男", kind="kyokai", name=name,
                    relation="本人")  # fmt: skip
    k.update({"発効期日": "2026-09-01", "交付年月日": "2026-09-20"})
    c.receipts.append(prev)
    add(c, r, o, k)
    c.returns.append(return_row(prev, reason="資格喪失後の受診", code="1103",
                                note="令和8年8月31日 資格喪失", receipt_no=True))  # fmt: skip

    # 資格喪失後の受診: 10月の受診なし（新しい資格が分からない）-> 確認待ち
    c = case("returned_eligibility", "returned",
             "返戻（資格喪失後の受診）：10月の受診・照会がなく新しい資格は未確認（患者IDで照合、"
             "再請求 確認待ち）", **matched)  # fmt: skip
    prev, _, _ = visit(birth="1963-03-03", service="2026-09-29", sex="男", kind="kumiai",
                       relation="本人", claim=PREV)  # fmt: skip
    c.receipts.append(prev)
    c.returns.append(return_row(prev, reason="資格喪失後の受診", code="1103",
                                note="令和8年9月15日 資格喪失", pid=True))  # fmt: skip

    # 記号・番号の誤り: 9月の番号が入れ違い、10月は正しい番号でオン資有効
    c = case("returned_eligibility", "returned",
             "返戻（記号・番号の誤り）：9月の番号の数字が入れ違い、10月は正しい番号でオン資有効"
             "（患者IDで照合、再請求 可）", **matched)  # fmt: skip
    r, o, k = visit(birth="1990-02-14", service="2026-10-20", sex="女", kind="kyokai",
                    relation="家族")  # fmt: skip
    prev = again(r, service="2026-09-16", claim=PREV)
    number = str(r["番号"]).rjust(2, "1")
    prev["番号"] = number[:-2] + number[-1] + number[-2] if number[-1] != number[-2] else number + "1"
    c.receipts.append(prev)
    add(c, r, o, k)
    c.returns.append(return_row(prev, reason="記号・番号の誤り", code="1101",
                                note="被保険者証の番号相違", pid=True))  # fmt: skip

    # 本人・家族等誤り: 9月は「本人」で請求、実際は家族（10月は家族で正しく請求）
    c = case("returned_eligibility", "returned",
             "返戻（本人・家族等誤り）：9月は本人で請求、オン資・10月のレセプトは家族"
             "（保険者番号＋番号で照合。10月に登録の券面は家族なので事前チェックでも指摘）",
             also_ok=["relation_mismatch"], **matched)  # fmt: skip
    r, o, k = visit(birth="1995-07-30", service="2026-10-08", sex="女", kind="kumiai",
                    relation="家族")  # fmt: skip
    prev = again(r, service="2026-09-09", claim=PREV)
    prev["本人家族"], prev["枝番"] = "本人", "00"
    c.receipts.append(prev)
    add(c, r, o, k)
    c.returns.append(return_row(prev, reason="本人・家族等の誤り", code="1105",
                                note="被扶養者として認定あり"))  # fmt: skip

    # 後期高齢者該当: 9/12に75歳、9/25の受診を旧協会けんぽで請求。返戻の氏名は「●田　誠」
    c = case("returned_eligibility", "returned",
             "返戻（後期高齢者該当）：9/12に75歳、9/25の受診を旧協会けんぽ2割で請求。"
             "返戻一覧の氏名は「●田　誠」、番号なし（カナ氏名・生年月日・性別で照合）",
             also_ok=["ratio_implausible_for_age", "ratio_billed_vs_verified"],
             **matched)  # fmt: skip
    name = ("髙田\u3000誠", "タカダ\u3000マコト")
    prev, _, _ = visit(birth="1951-09-12", service="2026-09-05", sex="男", kind="kyokai",
                       ratio=2, name=name, relation="本人", claim=PREV)  # fmt: skip
    prev["診療日"] = "2026-09-25"
    r, o, k = visit(birth="1951-09-12", service="2026-10-09", sex="男", kind="kouki", name=name)
    c.receipts.append(prev)
    add(c, r, o, k)
    ret = return_row(prev, reason="後期高齢者該当", code="1108",
                     note="令和8年9月12日 後期高齢者医療の資格取得", numbers=False)  # fmt: skip
    ret.update({"氏名": "●田\u3000誠", "カナ氏名": half_kana(name[1])})
    c.returns.append(ret)

    # 不詳 記載不備: 9月の不詳レセプトに連絡先がない（事前チェックで指摘済み）
    c = case("returned_fusho", "returned",
             "返戻（不詳 記載事項不備）：9月の不詳レセプトの摘要に連絡先がない"
             "（事前チェックでも指摘、レセプト番号で照合）",
             also_ok=["fusho_missing_entry"], **matched)  # fmt: skip
    prev = fusho_claim(c, birth="1972-04-08", service="2026-09-10", sex="女", kind="kyokai",
                       style="formal", contact="令和8年9月16日", drop=("phone",),
                       validity=None, claim=PREV)  # fmt: skip
    c.returns.append(return_row(prev, reason="不詳レセプト 記載事項不備", code="3001",
                                note="患者の連絡先の記載がありません", receipt_no=True))  # fmt: skip
    c = case("returned_fusho", "returned",
             "返戻（不詳 記載事項不備）：9月の不詳レセプトの摘要に患者への連絡を行った日がない"
             "（事前チェックでも指摘、患者IDで照合）",
             also_ok=["fusho_missing_entry", "fusho_followup_required"], **matched)  # fmt: skip
    prev = fusho_claim(c, birth="1990-11-21", service="2026-09-03", sex="男", kind="kumiai",
                       style="short", contact="", drop=("contact",), validity=None,
                       claim=PREV)  # fmt: skip
    c.returns.append(return_row(prev, reason="不詳レセプト 記載事項不備", code="3001",
                                note="患者への連絡を行った日の記載がありません", pid=True))  # fmt: skip

    # 負担割合: 未就学児（4歳）を3割で請求（事前チェックで指摘済み）
    c = case("returned_ratio", "returned",
             "返戻（負担割合）：未就学児（4歳）を3割で請求（事前チェックでも指摘、レセプト番号で照合）",
             also_ok=["ratio_implausible_for_age", "ratio_billed_vs_verified"],
             **matched)  # fmt: skip
    prev, _, _ = visit(birth="2022-05-19", service="2026-09-14", sex="男", kind="kumiai",
                       relation="家族", claim=PREV)  # fmt: skip
    set_ratio(prev, 3)
    c.receipts.append(prev)
    c.returns.append(return_row(prev, reason="一部負担金割合の誤り", code="2001",
                                note="未就学児は2割", receipt_no=True))  # fmt: skip
    # 負担割合: 72歳・国保を給付割合90（1割）で請求（事前チェックで指摘済み）
    c = case("returned_ratio", "returned",
             "返戻（負担割合）：72歳・国保を給付割合90（1割負担）で請求（事前チェックでも指摘、"
             "保険者番号＋番号で照合、返戻一覧の保険者番号は0で8桁）",
             also_ok=["ratio_implausible_for_age", "ratio_billed_vs_verified"],
             **matched)  # fmt: skip
    prev, _, _ = visit(birth="1954-06-06", service="2026-09-18", sex="女", kind="kokuho",
                       relation="本人", claim=PREV)  # fmt: skip
    set_ratio(prev, 1)
    c.receipts.append(prev)
    ret = return_row(prev, reason="負担区分の誤り", code="2002", note="70歳以上の一部負担金（2割）")
    ret["保険者番号"] = str(prev["保険者番号"]).zfill(8)
    c.returns.append(ret)

    # その他: 症状詳記の添付漏れ
    c = case("returned_other", "returned",
             "返戻（その他）：症状詳記の添付漏れ（レセプト番号で照合）", **matched)  # fmt: skip
    prev, _, _ = visit(birth="1984-01-09", service="2026-09-24", sex="女", kind="kyokai",
                       claim=PREV)  # fmt: skip
    c.receipts.append(prev)
    c.returns.append(return_row(prev, reason="症状詳記の添付漏れ", code="9001",
                                note="請求内容の確認のため", receipt_no=True))  # fmt: skip
    c = case("returned_other", "returned",
             "返戻（その他）：算定回数の誤り（後期、レセプト番号で照合）", **matched)  # fmt: skip
    prev, _, _ = visit(birth="1944-12-05", service="2026-09-19", sex="男", kind="kouki",
                       claim=PREV)  # fmt: skip
    c.receipts.append(prev)
    c.returns.append(return_row(prev, reason="算定回数の誤り", code="9002",
                                note="月の上限回数を超えた検査", receipt_no=True))  # fmt: skip

    # 照合できない返戻（患者ID 999999 はどこにもない）
    c = case("return_unmatched", "return_unmatched",
             "返戻（該当者なし）の患者ID 999999・小林 正（1957-01-01）に対応する9月のレセプトがない",
             must_not=["returned"])  # fmt: skip
    ghost: dict[str, object] = {"氏名": "小林\u3000正", "カナ氏名": "コバヤシ\u3000タダシ", "生年月日": "1957-01-01",
             "性別": "男", "保険者番号": INSURERS["kyokai"][2], "記号": "99990001",
             "番号": "90909", "合計点数": "512"}  # fmt: skip
    ret = return_row(None, reason="該当者なし", code="1102", person=ghost)
    c.pid = ret["患者ID"] = "999999"  # an ID that exists nowhere (kept by assign_new_ids)
    c.returns.append(ret)
    c = case("return_unmatched", "return_unmatched",
             "8月診療分の返戻（資格喪失後の受診）、患者ID 999998・石田 恵：8月分のレセプトは"
             "読み込んでいない", must_not=["returned"])  # fmt: skip
    ghost = {"氏名": "石田\u3000恵", "カナ氏名": "イシダ\u3000メグミ", "生年月日": "1970-03-21",
             "性別": "女", "保険者番号": INSURERS["kumiai"][1], "記号": "5501", "番号": "3120",
             "合計点数": "296"}  # fmt: skip
    ret = return_row(None, reason="資格喪失後の受診", code="1103", person=ghost)
    ret["診療年月"] = "2026-08"
    c.pid = ret["患者ID"] = "999998"
    c.returns.append(ret)


def september_clean() -> list[dict[str, object]]:
    """Receipts of clean patients who came only in September (IDs given later)."""
    out = []
    for _ in range(N_PREV_NEW):
        service = dt.date(2026, 9, rng.randint(1, 30))
        birth = dt.date(rng.randint(1935, 2023), rng.randint(1, 12), rng.randint(1, 28))
        band = band_of(birth, service)
        kind = "kouki" if band == BAND_KOUKI else rng.choice(["kyokai", "kumiai", "kyosai", "kokuho"])
        sex = rng.choice("男女")
        r, _, _ = visit(birth=birth.isoformat(), service=service.isoformat(), sex=sex, kind=kind,
                        relation="家族" if band == BAND_PRESCHOOL else None, claim=PREV)  # fmt: skip
        out.append(r)
    return out


def september_repeats(base: list[Case]) -> list[dict[str, object]]:
    """September receipts of clean October patients (same person and card, earlier visit)."""
    pick = random.Random(SEED + 4)
    out: list[dict[str, object]] = []
    for c in pick.sample(base, len(base)):
        if len(out) == N_PREV_REPEAT:
            break
        r = c.receipts[0]
        birth, oct_day = _d(r["生年月日"]), _d(r["診療日"])
        service = dt.date(2026, 9, pick.randint(1, 30))
        if birth >= service or band_of(birth, service) != band_of(birth, oct_day):
            continue  # turned 70/75 in between: the September ratio would differ
        prev = again(r, service=service.isoformat(), claim=PREV)
        prev["_new"] = True
        out.append(prev)
    return out


def number_receipts(rows: list[dict[str, object]]) -> None:
    """レセプト番号 1, 2, … in the order the receipts are written."""
    n = 0
    for _, part in receipt_order(rows):
        for r in part:
            n += 1
            r["レセプト番号"] = n


UNREADABLE_KEYS = {"生年月日": "unreadable_birth_date", "負担割合": "unreadable_ratio",
                   "合計点数": "unreadable_points"}  # fmt: skip
KIND_JA = {"kyokai": "協会けんぽ", "kumiai": "健保組合", "kyosai": "共済", "kokuho": "国保",
           "kouki": "後期"}  # fmt: skip


def future_korei(card: dict[str, object], eff: str, ratio: int) -> dict[str, object]:
    """A 高齢受給者証 already registered but effective only from ``eff``."""
    out = dict(card)
    out.update({
        "証の種類": "高齢受給者証", "負担割合": f"{ratio}割", "発効期日": eff,
        "有効期限": iso(AUG_END), "交付年月日": "2026-10-10", "限度額適用区分": "一般",
        "_raw": set(),
    })  # fmt: skip
    return out


def half_kana(text: str) -> str:
    return jaconv.z2h(text, kana=True, ascii=False, digit=False).replace("\u3000", " ")


# ---------------------------------------------------------------------------------------
# Value forms (vendor quirks).


def wareki(x: dt.date, style: str) -> str:
    """``x`` in 和暦 (the era table of ``rules.domain.eras``); ISO before 明治."""
    era = eras.era_at(x)
    if era is None:
        return x.isoformat()
    y = x.year - era.start_year + 1
    if style == "long":
        ys = "元" if y == 1 else str(y)
        return f"{era.name}{ys}年{x.month}月{x.day}日"
    sep = "/" if style == "slash" else "."
    return f"{era.letter}{y}{sep}{x.month}{sep}{x.day}"


def wareki_month(year: int, month: int) -> str:
    """A claim month in 和暦 (令和8年10月)."""
    era = eras.era_at(dt.date(year, month, 1))
    assert era is not None
    return f"{era.name}{year - era.start_year + 1}年{month}月"


def date_form(value: object, forms: list[str], weights: list[int] | None = None) -> object:
    """Render an ISO date in one of ``forms``; anything else is returned unchanged."""
    text = str(value)
    try:
        x = dt.date.fromisoformat(text)
    except ValueError:
        return value
    form = vrng.choices(forms, weights)[0]
    return {
        "wareki": lambda: wareki(x, "short"),
        "wareki_slash": lambda: wareki(x, "slash"),
        "wareki_long": lambda: wareki(x, "long"),
        "slash": lambda: x.strftime("%Y/%m/%d"),
        "slash_short": lambda: f"{x.year}/{x.month}/{x.day}",
        "iso": lambda: text,
        "compact": lambda: x.strftime("%Y%m%d"),
        "datetime": lambda: x.strftime("%Y/%m/%d ") + f"{vrng.randint(8, 18):02d}:{vrng.randint(0, 59):02d}",
        "excel": lambda: dt.datetime(x.year, x.month, x.day),
    }[form]()


def to_int_or_text(value: object) -> object:
    text = str(value)
    return int(text) if text.isdigit() else text


# ---------------------------------------------------------------------------------------
# Writers. Each returns {patient_id: [(sheet, excel_row, service_date), ...]} for receipts.

TITLE = "レセプト一覧 令和8年10月診療分"

SHAHO_HEADERS = [
    "患者 ＩＤ", "診療年月", "診療日", "氏　名", "カナ氏名", "性別", "生年月日", " 保険者番号",
    "記号", "番号", "枝番", "本人家族", "負担割合", "実日数", "合計点数", "一部負担金",
    "特記事項", "摘要", "資格確認方法", "初再診", "備考",
]  # fmt: skip
KOKUHO_HEADERS = [
    "カルテ番号", "診療年月", "受診日", "患者氏名", "フリガナ", "男女区分", "生年月日",
    "保険者番号", "被保険者証記号", "被保険者証番号", "枝番", "続柄区分", "給付割合",
    "診療実日数", "請求点数", "窓口負担額", "特記事項", "摘要欄", "確認方法", "初診再診",
]  # fmt: skip
REMARKS = ["往診", "紹介状あり", "電話再診", "次回検査予定", "家族受診"]


def month_parts(r: dict[str, object]) -> tuple[int, int]:
    y, m = str(r["診療年月"]).split("-")
    return int(y), int(m)


def shaho_row(r: dict[str, object]) -> list[object]:
    forms_for(r)
    raw: set[str] = r["_raw"]  # type: ignore[assignment]
    year, month = month_parts(r)
    insurer = str(r["保険者番号"])
    if "保険者番号" not in raw and insurer.isdigit() and len(insurer) == 8:
        if insurer.startswith("0") and vrng.random() < 0.7:
            insurer_cell: object = int(insurer)  # Excel lost the leading zero
        elif insurer.startswith("39") and vrng.random() < 0.5:
            insurer_cell = int(insurer)
        else:
            insurer_cell = insurer
    else:
        insurer_cell = insurer
    ratio = str(r["負担割合"])
    if "負担割合" not in raw and ratio.endswith("割"):
        ratio = vrng.choices([ratio, ratio.translate(FULLWIDTH), ratio[:-1]], [75, 15, 10])[0]
    remark = vrng.choice(REMARKS) if vrng.random() < 0.1 else ""
    return [
        to_int_or_text(r["患者ID"]), wareki_month(year, month),
        date_form(r["診療日"], ["wareki", "wareki_long", "slash"], [3, 2, 1]),
        r["氏名"], r["カナ氏名"], r["性別"],
        date_form(r["生年月日"], ["wareki", "wareki_slash", "wareki_long", "slash", "iso"],
                  [3, 2, 2, 2, 1]),
        insurer_cell, r["記号"], r["番号"], r["枝番"], r["本人家族"], ratio,
        to_int_or_text(r["実日数"]), to_int_or_text(r["合計点数"]),
        to_int_or_text(r["一部負担金"]), r["特記事項"], r["摘要"], r["資格確認方法"],
        r["初再診"], remark,
    ]  # fmt: skip


def kokuho_row(r: dict[str, object]) -> list[object]:
    forms_for(r)
    raw: set[str] = r["_raw"]  # type: ignore[assignment]
    year, month = month_parts(r)
    burden = str(r["負担割合"])
    if "負担割合" not in raw and burden.endswith("割"):
        benefit = 10 - int(burden[:-1])
        ratio = vrng.choice([f"{benefit}0", f"{benefit}割"])
    else:
        ratio = burden
    kana = str(r["カナ氏名"]) if "カナ氏名" in raw else half_kana(str(r["カナ氏名"]))
    return [
        str(r["患者ID"]), f"{year}{month:02d}",
        date_form(r["診療日"], ["compact", "wareki_long"], [2, 1]),
        r["氏名"], kana, "1" if r["性別"] == "男" else "2",
        date_form(r["生年月日"], ["wareki", "slash_short"], [1, 1]),
        r["保険者番号"], r["記号"], r["番号"], r["枝番"],
        "1" if r["本人家族"] == "本人" else "2", ratio, r["実日数"], r["合計点数"],
        r["一部負担金"], r["特記事項"], r["摘要"], r["資格確認方法"], r["初再診"],
    ]  # fmt: skip


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def workbook(path: Path) -> xlsxwriter.Workbook:
    """A workbook with fixed metadata, so that rebuilding gives the same bytes."""
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"title": path.stem, "author": "henrei sample", "created": CREATED})
    return wb


def receipt_order(rows: list[dict[str, object]]) -> list[tuple[str, list[dict[str, object]]]]:
    """The rows of each receipt sheet in the order they are written."""

    def key(x: dict[str, object]) -> tuple[str, str]:
        return str(x["患者ID"]), str(x["診療日"])

    shaho = sorted((r for r in rows if r["_kind"] != "kokuho"), key=key)
    kokuho = sorted((r for r in rows if r["_kind"] == "kokuho"), key=key)
    return [(SHEET_SHAHO, shaho), (SHEET_KOKUHO, kokuho)]


def write_receipts(
    path: Path, rows: list[dict[str, object]], *, title: str = TITLE, receipt_no: bool = False
) -> dict[str, list[dict[str, object]]]:
    """One receipts workbook; with ``receipt_no`` a レセプト番号 column follows the patient
    ID (its values are in each row's ``レセプト番号``, see ``number_receipts``)."""
    wb = workbook(path)
    bold = wb.add_format({"bold": True})
    where: dict[str, list[dict[str, object]]] = {}
    (_, shaho), (_, kokuho) = receipt_order(rows)
    for sheet, part, headers, first, render, sheet_title in (
        (SHEET_SHAHO, shaho, SHAHO_HEADERS, 3, shaho_row, title),
        (SHEET_KOKUHO, kokuho, KOKUHO_HEADERS, 2, kokuho_row, "国保分 " + title),
    ):
        ws = wb.add_worksheet(sheet)
        ws.write_string(0, 0, sheet_title, bold)
        shown = [headers[0], "レセプト番号", *headers[1:]] if receipt_no else headers
        ws.write_row(first - 1, 0, shown, bold)
        ws.freeze_panes(first, 0)
        for i, r in enumerate(part):
            cells = render(r)
            if receipt_no:
                cells = [cells[0], r["レセプト番号"], *cells[1:]]
            for j, v in enumerate(cells):
                write_cell(ws, first + i, j, v)
            where.setdefault(str(r["患者ID"]), []).append({
                "file": path.name, "sheet": sheet, "row": first + i + 1,
                "service_date": str(r["診療日"]),
            })  # fmt: skip
        ws.set_column(0, len(headers) - (0 if receipt_no else 1), 12)
    wb.close()
    return where


def write_cell(ws: object, row: int, col: int, v: object, date_fmt: object = None) -> None:
    if v is None or v == "":
        return
    if isinstance(v, dt.datetime):
        ws.write_datetime(row, col, v, date_fmt)  # type: ignore[attr-defined]
    elif isinstance(v, int):
        ws.write_number(row, col, v)  # type: ignore[attr-defined]
    else:
        ws.write_string(row, col, str(v))  # type: ignore[attr-defined]


ONLINE_CSV_HEADERS = [
    "患者番号", "照会日", "資格有効性", "保険者番号", "記号", "番号", "枝番", "本人家族",
    "氏名", "カナ氏名", "性別", "生年月日", "一部負担金割合", "限度額適用区分",
    "電子証明書有効期限", "有効期限",
]  # fmt: skip


def ratio_form(text: str) -> str:
    if not text.endswith("割") or not text[:-1].isdigit():
        return text
    k = int(text[:-1])
    return vrng.choice([f"{k}割", f"{k * 10}", f"{k * 10:03d}", f"0.{k}", f"{k * 10}%"])


def write_online(path: Path, rows: list[dict[str, object]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(ONLINE_CSV_HEADERS)
    for r in sorted(rows, key=lambda x: (x["照会日"], x["患者ID"])):
        forms_for(r)
        raw: set[str] = r["_raw"]  # type: ignore[assignment]
        validity = str(r["資格有効性"])
        if "資格有効性" not in raw and vrng.random() < 0.4:
            validity = VALIDITY_CODE[validity]
        insurer = str(r["保険者番号"])
        if len(insurer) == 6:
            insurer = vrng.choice([insurer, insurer.rjust(8), insurer.zfill(8)])
        limit = str(r["限度額適用区分"])
        if limit and "限度額適用区分" not in raw and vrng.random() < 0.5:
            limit = LIMIT_CODES[limit]
        w.writerow([
            r["患者ID"], date_form(r["照会日"], ["slash", "compact", "wareki", "datetime"],
                                   [4, 2, 2, 2]),
            validity, insurer, r["記号"], r["番号"], r["枝番"], r["本人家族"], r["氏名"],
            r["カナ氏名"], r["性別"], date_form(r["生年月日"], ["slash", "compact"]),
            ratio_form(str(r["負担割合"])), limit,
            date_form(r["電子証明書有効期限"], ["slash", "compact"]),
            date_form(r["有効期限"], ["slash", "compact"]),
        ])  # fmt: skip
    path.write_bytes(buf.getvalue().encode("cp932"))


CARD_XLSX_HEADERS = [
    "患者ID", "証の種類", "保険者番号", "記号", "番号", "枝番", "本人・家族", "氏名",
    "カナ氏名", "生年月日", "負担割合", "発効期日", "有効期限", "交付年月日", "限度額区分",
]  # fmt: skip
KOREI_HEADERS = [
    "カルテNo", "証の種類", "保険者番号", "記号", "番号", "枝番", "本人家族", "氏名",
    "フリガナ", "生年月日", "負担割合", "発効期日", "有効期限", "交付年月日", "限度額適用区分",
]  # fmt: skip


def write_cards(path: Path, rows: list[dict[str, object]]) -> None:
    wb = workbook(path)
    bold = wb.add_format({"bold": True})
    date_fmt = wb.add_format({"num_format": "yyyy/mm/dd"})
    general = [r for r in rows if r["証の種類"] != "高齢受給者証"]
    korei = [r for r in rows if r["証の種類"] == "高齢受給者証"]
    ws = wb.add_worksheet(SHEET_CARDS)
    ws.write_row(0, 0, CARD_XLSX_HEADERS, bold)
    forms = ["wareki_long", "wareki", "slash"]
    for i, r in enumerate(sorted(general, key=lambda x: (x["患者ID"], x["発効期日"])), 1):
        forms_for(r)
        vals = [r[h] for h in CARD_HEADERS]
        for j in (9, 11, 12, 13):  # dates
            vals[j] = date_form(vals[j], forms, [3, 2, 1])
        for j, v in enumerate(vals):
            write_cell(ws, i, j, v)
    ws.set_column(0, len(CARD_XLSX_HEADERS) - 1, 13)
    ws = wb.add_worksheet(SHEET_KOREI)
    ws.write_string(0, 0, "高齢受給者証 登録一覧（令和8年10月）", bold)
    ws.write_row(1, 0, KOREI_HEADERS, bold)
    for i, r in enumerate(sorted(korei, key=lambda x: (x["患者ID"], x["発効期日"])), 2):
        forms_for(r)
        vals = [r[h] for h in CARD_HEADERS]
        vals[0] = to_int_or_text(vals[0])
        insurer = str(vals[2])
        vals[2] = int(insurer) if insurer.isdigit() and len(insurer) == 8 else insurer
        vals[10] = vrng.choice([vals[10], str(vals[10]).translate(FULLWIDTH)])
        for j in (9, 11, 12, 13):
            vals[j] = date_form(vals[j], ["excel"])
        for j, v in enumerate(vals):
            write_cell(ws, i, j, v, date_fmt)
    ws.set_column(0, len(KOREI_HEADERS) - 1, 13)
    wb.close()


# ---------------------------------------------------------------------------------------
# Assembly.


def base_rows() -> tuple[list[Case], int]:
    """Clean patients from the generator, one pseudo-case each (not listed as problems)."""
    m = generate_month(N_BASE, seed=SEED, claim_month=CLAIM, problems=False)
    out: list[Case] = []
    cards_by_pid: dict[str, list[dict[str, object]]] = {}
    for k in m["cards"].to_dict("records"):
        k["_raw"] = set()
        cards_by_pid.setdefault(str(k["患者ID"]), []).append(k)
    for r, o in zip(m["receipts"].to_dict("records"), m["online"].to_dict("records"),
                    strict=True):  # fmt: skip
        insurer = str(r["保険者番号"])
        r["_kind"] = "kokuho" if len(insurer) == 6 else "kouki" if insurer[:2] == "39" else "x"
        r["_raw"], o["_raw"] = set(), set()
        c = Case("clean", None, "")
        c.receipts, c.online, c.cards = [r], [o], cards_by_pid[str(r["患者ID"])]
        out.append(c)
    return out, len(m["receipts"])


def assign_ids(cases: list[Case]) -> None:
    ids = list(range(FIRST_ID, FIRST_ID + len(cases)))
    random.Random(SEED + 2).shuffle(ids)
    for c, pid in zip(cases, ids, strict=True):
        c.pid = str(pid)
        for row in c.receipts + c.online + c.cards:
            row["患者ID"] = c.pid


def assign_new_ids(cases: list[Case], first: int) -> None:
    """IDs after the existing ones for the cases added later (the old IDs stay as they were);
    a case whose ID is already set (the unmatched return) keeps it."""
    todo = [c for c in cases if not c.pid]
    ids = list(range(first, first + len(todo)))
    random.Random(SEED + 3).shuffle(ids)
    for c, pid in zip(todo, ids, strict=True):
        c.pid = str(pid)
        for row in c.receipts + c.online + c.cards:
            row["患者ID"] = c.pid
            row["_new"] = True
        for ret in c.returns:
            ret["患者ID"] = c.pid if ret["_pid"] else ""


RETURNS_HEADERS = [
    "返戻年月", "診療年月", "レセプト番号", "患者ID", "氏名", "カナ氏名", "生年月日", "性別",
    "保険者番号", "記号", "番号", "返戻事由コード", "返戻理由", "補足", "請求点数",
]  # fmt: skip


def write_returns(path: Path, rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """The 返戻一覧 the clinic keeps in Excel: a title row, a blank row, then the table.
    Returns where each row went (for the README)."""
    wb = workbook(path)
    bold = wb.add_format({"bold": True})
    ws = wb.add_worksheet(SHEET_RETURNS)
    ws.write_string(0, 0, "返戻内訳書 令和8年10月受付分", bold)
    ws.write_row(2, 0, RETURNS_HEADERS, bold)
    ws.freeze_panes(3, 0)
    where = []
    for i, ret in enumerate(rows, 3):
        forms_for({"_new": True})
        claim = ret["_claim"]
        receipt_no = claim["レセプト番号"] if ret["_receipt_no"] and claim else ""  # type: ignore[index]
        cells = [
            "令和8年10月", f"R8.{str(ret['診療年月'])[5:]}", receipt_no, to_int_or_text(ret["患者ID"]), ret["氏名"],
            ret["カナ氏名"], date_form(ret["生年月日"], ["wareki", "wareki_long"]),
            "1" if ret["性別"] == "男" else "2", ret["保険者番号"], ret["記号"], ret["番号"],
            ret["返戻事由コード"], ret["返戻理由"], ret["補足"], to_int_or_text(ret["_points"]),
        ]  # fmt: skip
        for j, v in enumerate(cells):
            write_cell(ws, i, j, v)
        where.append({"file": path.name, "sheet": SHEET_RETURNS, "row": i + 1})
    ws.set_column(0, len(RETURNS_HEADERS) - 1, 13)
    wb.close()
    return where


def main() -> None:
    seed_cases()
    n_old = len(CASES)
    base, _ = base_rows()
    assign_ids(base + CASES)  # the IDs of the original month
    seed_fusho_cases()
    seed_september()
    prev_clean = [Case("clean", None, "", receipts=[r]) for r in september_clean()]
    assign_new_ids(CASES[n_old:] + prev_clean, FIRST_ID + len(base) + n_old)
    repeats = september_repeats(base)
    everyone = base + CASES + prev_clean
    receipts = [r for c in everyone for r in c.receipts] + repeats
    online = [o for c in everyone for o in c.online]
    cards = [k for c in everyone for k in c.cards]
    returns = [ret for c in CASES for ret in c.returns]
    for r in receipts:
        if "_kind" not in r:
            raise AssertionError(r)
    rows = {CLAIM: [r for r in receipts if r["診療年月"] == CLAIM],
            PREV: [r for r in receipts if r["診療年月"] == PREV]}  # fmt: skip
    assert len(rows[CLAIM]) + len(rows[PREV]) == len(receipts)
    assert all(str(o["照会日"]).startswith(CLAIM) for o in online)
    check_september(rows[PREV], returns)
    number_receipts(rows[PREV])
    OUT.mkdir(parents=True, exist_ok=True)
    OUT_PREV.mkdir(parents=True, exist_ok=True)
    where = write_receipts(OUT / RECEIPTS_FILE, rows[CLAIM])
    where_prev = write_receipts(OUT_PREV / RECEIPTS_FILE_PREV, rows[PREV],
                                title="レセプト一覧 令和8年9月診療分", receipt_no=True)  # fmt: skip
    write_online(OUT / ONLINE_FILE, online)
    write_cards(OUT / CARDS_FILE, cards)
    write_returns(OUT_PREV / RETURNS_FILE, returns)
    # the same month as the clinic's systems write it (UKE, HEN, result XML): issue 15
    write_native(NATIVE, rows, online, returns, OUT / CARDS_FILE,
                 service_band(lambda b, s: band_of(d(b), d(s))))  # fmt: skip

    expected = [
        {
            "patient_id": c.pid,
            "problem": c.key,
            "category": c.category,
            "must_not": c.must_not,
            "also_ok": c.also_ok,
            "note": c.note,
            "receipts": where_prev.get(c.pid, []) + where.get(c.pid, []),
        }
        for c in sorted(CASES, key=lambda c: c.pid)
    ]
    (HERE / "expected_problems.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    patients = {str(r["患者ID"]) for r in receipts}
    update_readme(expected, {"n_receipts": len(rows[CLAIM]), "n_online": len(online),
                             "n_cards": len(cards),
                             "n_patients": len({str(r["患者ID"]) for r in rows[CLAIM]}),
                             "n_receipts_prev": len(rows[PREV]),
                             "n_patients_prev": len({str(r["患者ID"]) for r in rows[PREV]}),
                             "n_returns": len(returns), "n_patients_all": len(patients),
                             "n_cases": len(CASES)})  # fmt: skip
    print(f"{len(rows[CLAIM])} + {len(rows[PREV])} receipts (2026-10 + 2026-09), "
          f"{len(online)} online results, {len(cards)} card records, {len(returns)} returns, "
          f"{len(CASES)} seeded cases -> {OUT}, {OUT_PREV}")  # fmt: skip


def check_september(rows: list[dict[str, object]], returns: list[dict[str, object]]) -> None:
    """Each matched return must match its own claim only (by the path it is meant for)."""
    keys = [(r["保険者番号"], r["番号"]) for r in rows if r["保険者番号"] not in ("77777777",)]
    assert len(keys) == len(set(keys)), "two September claims share insurer + 番号"
    births = [str(r["生年月日"]) for r in rows]
    for ret in returns:
        if ret["_claim"] is None:
            assert str(ret["生年月日"]) not in births
            assert (ret["保険者番号"], ret["番号"]) not in keys
        elif not ret["_receipt_no"] and not ret["_pid"] and not ret["番号"]:
            assert births.count(str(ret["生年月日"])) == 1


CATEGORY_JA = {
    "ratio_online_vs_card": "ratio_online_vs_card（負担割合の不一致：オン資と券面）",
    "ratio_billed_vs_verified": "ratio_billed_vs_verified（請求した負担割合の誤り）",
    "ratio_implausible_for_age": "ratio_implausible_for_age（年齢とあわない負担割合）",
    "limit_category_mismatch": "limit_category_mismatch（限度額区分の不一致）",
    "eligibility_invalid": "eligibility_invalid（資格無効）",
    "eligibility_not_found": "eligibility_not_found（該当資格なし）",
    "insurer_changed": "insurer_changed（保険者の変更が未反映）",
    "identity_mismatch": "identity_mismatch（生年月日・性別の不一致）",
    "name_mismatch": "name_mismatch（氏名の不一致）",
    "insurer_number_invalid": "insurer_number_invalid（保険者番号の誤り）",
    "card_number_format": "card_number_format（記号・番号・枝番の形式誤り）",
    "relation_mismatch": "relation_mismatch（本人・家族の不一致）",
    "card_expired": "card_expired（証の有効期限切れ）",
    "ecert_expired": "ecert_expired（電子証明書の期限切れ）",
    "full_charge_collected": "full_charge_collected（10割徴収）",
    "fusho_missing_entry": "fusho_missing_entry（不詳レセプトの記載漏れ）",
    "fusho_not_allowed": "fusho_not_allowed（不詳で請求できない）",
    "fusho_followup_required": "fusho_followup_required（不詳レセプトの要確認）",
    "returned": "returned（返戻）",
    "return_unmatched": "return_unmatched（元のレセプトが見つからない返戻）",
    "input_invalid": "input_invalid（読み取れない値）",
}


README = HERE / "README.md"
TABLE_START = "<!-- problems:start (written by build.py) -->"
TABLE_END = "<!-- problems:end -->"


def update_readme(expected: list[dict[str, object]], counts: dict[str, int]) -> None:
    """Rewrite the problem table (and the counts) between the markers of README.md."""
    lines = ["| 患者ID | 問題 | 期待される指摘区分 |", "|---|---|---|"]
    for e in expected:
        cat = e["category"]
        if cat:
            shown = CATEGORY_JA.get(str(cat), str(cat))
        else:
            not_list = "、".join(str(x) for x in e["must_not"])  # type: ignore[attr-defined]
            shown = f"指摘なし（{not_list} を出さない）"
        lines.append(f"| {e['patient_id']} | {e['note']} | {shown} |")
    text = README.read_text(encoding="utf-8")
    head, rest = text.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    text = head + TABLE_START + "\n" + "\n".join(lines) + "\n" + TABLE_END + tail
    for key, value in counts.items():
        text = re.sub(rf"(<!-- {key} -->)[0-9]*", rf"\g<1>{value}", text)
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
