"""Seeded synthetic month of clinic exports: receipts, online eligibility results, cards.

``generate_month`` returns three tables whose columns are the Japanese header texts of
CONTRACT §1 and whose values are all strings, as a レセコン would export them. Everything
is vectorised (numpy for the semantic values, pyarrow compute for the text), so a month
of 1,000,000 receipts takes a few seconds.

The data follow DOMAIN §2 and §4: a clinic's age mix (many patients over 70), the burden
ratio that the age rule allows at the service date, insurer numbers with valid check
digits (法別 01/06/31–34/39 and 6-digit 国保), full-width katakana and kanji names. With
``problems=True`` about 1 % of the receipts carry one seeded problem (see
``PROBLEM_CATEGORIES``); ``truth=True`` adds a ``"problems"`` table that says which.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rules.domain import age as _age
from rules.domain.insurer import check_digit_valid

# ---------------------------------------------------------------------------------------
# Headers (CONTRACT §1) of the three generated tables, in column order.

RECEIPT_HEADERS: Final[tuple[str, ...]] = (
    "患者ID", "診療年月", "診療日", "氏名", "カナ氏名", "性別", "生年月日", "保険者番号",
    "記号", "番号", "枝番", "本人家族", "負担割合", "実日数", "合計点数", "一部負担金",
    "特記事項", "摘要", "資格確認方法", "初再診",
)  # fmt: skip
ONLINE_HEADERS: Final[tuple[str, ...]] = (
    "患者ID", "照会日", "資格有効性", "保険者番号", "記号", "番号", "枝番", "本人家族",
    "氏名", "カナ氏名", "性別", "生年月日", "負担割合", "限度額適用区分",
    "電子証明書有効期限", "有効期限",
)  # fmt: skip
CARD_HEADERS: Final[tuple[str, ...]] = (
    "患者ID", "証の種類", "保険者番号", "記号", "番号", "枝番", "本人家族", "氏名",
    "カナ氏名", "生年月日", "負担割合", "発効期日", "有効期限", "交付年月日", "限度額適用区分",
)  # fmt: skip
HEADERS: Final[Mapping[str, tuple[str, ...]]] = {
    "receipts": RECEIPT_HEADERS,
    "online": ONLINE_HEADERS,
    "cards": CARD_HEADERS,
}

#: Seeded problem key -> the CONTRACT §2 category a correct engine emits for it (None:
#: nothing must be flagged, e.g. a correctly filed 不詳 claim).
PROBLEM_CATEGORIES: Final[Mapping[str, str | None]] = {
    "billed_ratio_wrong": "ratio_billed_vs_verified",
    "online_card_ratio": "ratio_online_vs_card",
    "limit_category": "limit_category_mismatch",
    "eligibility_invalid": "eligibility_invalid",
    "eligibility_not_found": "eligibility_not_found",
    "insurer_changed": "insurer_changed",
    "identity_birth": "identity_mismatch",
    "identity_sex": "identity_mismatch",
    "name_different": "name_mismatch",
    "masked_name": "masked_characters",
    "insurer_check_digit": "insurer_number_invalid",
    "branch_in_number": "card_number_format",
    "relation_mismatch": "relation_mismatch",
    "card_expired": "card_expired",
    "ecert_expired": "ecert_expired",
    "full_charge": "full_charge_collected",
    "fusho_valid": None,
    "birth_unreadable": "input_invalid",
}

# ---------------------------------------------------------------------------------------
# Age bands and the burden ratio rule (DOMAIN §2).

BAND_PRESCHOOL: Final = 0  # 未就学: 2割
BAND_WORKING: Final = 1  # 6–69: 3割
BAND_ELDERLY: Final = 2  # 70–74 高齢受給者: 2割 or 3割
BAND_KOUKI: Final = 3  # 75+ 後期高齢者: 1, 2 or 3割 (insurer 39…)


def _as_days(x: object) -> np.ndarray:
    return np.asarray(x, dtype="datetime64[D]")


# The boundaries and the check digit are the rules' own (rules.domain.age and
# rules.domain.insurer): one definition, which the generator and the engine share.


def _boundary(of: Callable[[pd.Series], pd.Series], birth: object) -> np.ndarray:
    """A boundary of rules.domain.age on an array (or one date) of birth dates, in days."""
    b = _as_days(birth)
    return of(pd.Series(b.ravel())).to_numpy(dtype="datetime64[D]").reshape(b.shape)


def preschool_end(birth: object) -> np.ndarray:
    """Last day of 未就学: the first 3/31 on or after the day the child reaches 6."""
    return _boundary(_age.preschool_end, birth)


def elderly_start(birth: object) -> np.ndarray:
    """First day of 高齢受給者: the 1st of the month after reaching 70 (the day before the
    70th birthday); so the birthday month itself for those born on the 1st."""
    return _boundary(_age.elderly_start, birth)


def kouki_start(birth: object) -> np.ndarray:
    """First day of 後期高齢者: the 75th birthday itself."""
    return _boundary(_age.kouki_start, birth)


def age_band(birth: object, service: object) -> np.ndarray:
    """The ratio band (BAND_*) of each patient at each service date."""
    b, s = np.broadcast_arrays(_as_days(birth), _as_days(service))
    bounds = _age.Boundaries.of(pd.Series(b.ravel()))

    def days(col: pd.Series) -> np.ndarray:
        return col.to_numpy(dtype="datetime64[D]").reshape(b.shape)

    band = np.full(b.shape, BAND_KOUKI, dtype=np.int8)
    band[s < days(bounds.kouki_start)] = BAND_ELDERLY
    band[s < days(bounds.elderly_start)] = BAND_WORKING
    band[s <= days(bounds.preschool_end)] = BAND_PRESCHOOL
    return band


def check_digit(body: str) -> str:
    """Check digit of the first 7 (or 5 for 国保) digits of an insurer number: the one digit
    that makes the number valid by ``rules.domain.insurer.check_digit_valid``."""
    if not body.isdigit() or len(body) not in (5, 7):
        raise ValueError(f"not a 7- or 5-digit body: {body!r}")
    return next(d for d in "0123456789" if check_digit_valid(body + d))


def _with_check_digits(bodies: np.ndarray, width: int) -> np.ndarray:
    """Insurer numbers (text) of integer bodies of ``width`` digits (7, or 5 for 国保)."""
    texts = np.char.zfill(np.asarray(bodies, dtype=np.int64).astype(str), width).tolist()
    return np.array([t + check_digit(t) for t in texts])


# ---------------------------------------------------------------------------------------
# Names (made up from common names; no real persons).

SURNAMES: Final[tuple[tuple[str, str], ...]] = (
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
    ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
    ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
    ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"), ("井上", "イノウエ"),
    ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ"),
    ("山崎", "ヤマザキ"), ("森", "モリ"), ("池田", "イケダ"), ("橋本", "ハシモト"),
    ("阿部", "アベ"), ("石川", "イシカワ"), ("山下", "ヤマシタ"), ("中島", "ナカジマ"),
    ("石井", "イシイ"), ("小川", "オガワ"), ("前田", "マエダ"), ("岡田", "オカダ"),
    ("長谷川", "ハセガワ"), ("藤田", "フジタ"), ("後藤", "ゴトウ"), ("近藤", "コンドウ"),
    ("村上", "ムラカミ"), ("遠藤", "エンドウ"), ("青木", "アオキ"), ("坂本", "サカモト"),
    ("福田", "フクダ"), ("太田", "オオタ"), ("西村", "ニシムラ"), ("藤井", "フジイ"),
    ("金子", "カネコ"), ("岡本", "オカモト"), ("藤原", "フジワラ"), ("中野", "ナカノ"),
    ("三浦", "ミウラ"), ("原田", "ハラダ"), ("中川", "ナカガワ"), ("松田", "マツダ"),
    ("竹内", "タケウチ"), ("小野", "オノ"), ("田村", "タムラ"), ("中山", "ナカヤマ"),
    ("和田", "ワダ"), ("石田", "イシダ"), ("森田", "モリタ"), ("上田", "ウエダ"),
)  # fmt: skip
GIVEN_MALE: Final[tuple[tuple[str, str], ...]] = (
    ("太郎", "タロウ"), ("一郎", "イチロウ"), ("健一", "ケンイチ"), ("誠", "マコト"),
    ("浩", "ヒロシ"), ("隆", "タカシ"), ("茂", "シゲル"), ("清", "キヨシ"), ("実", "ミノル"),
    ("勇", "イサム"), ("正", "タダシ"), ("翔太", "ショウタ"), ("大輔", "ダイスケ"),
    ("拓也", "タクヤ"), ("健太", "ケンタ"), ("悠真", "ユウマ"), ("蓮", "レン"),
    ("湊", "ミナト"), ("陽翔", "ハルト"), ("和夫", "カズオ"), ("昭", "アキラ"),
    ("進", "ススム"), ("修", "オサム"), ("豊", "ユタカ"), ("直樹", "ナオキ"),
    ("剛", "ツヨシ"), ("亮", "リョウ"), ("義雄", "ヨシオ"), ("秀樹", "ヒデキ"), ("学", "マナブ"),
)  # fmt: skip
GIVEN_FEMALE: Final[tuple[tuple[str, str], ...]] = (
    ("花子", "ハナコ"), ("洋子", "ヨウコ"), ("幸子", "サチコ"), ("節子", "セツコ"),
    ("和子", "カズコ"), ("恵子", "ケイコ"), ("京子", "キョウコ"), ("久美子", "クミコ"),
    ("美智子", "ミチコ"), ("裕子", "ユウコ"), ("直子", "ナオコ"), ("由美子", "ユミコ"),
    ("真由美", "マユミ"), ("明美", "アケミ"), ("愛", "アイ"), ("彩", "アヤ"),
    ("美咲", "ミサキ"), ("陽菜", "ヒナ"), ("結衣", "ユイ"), ("葵", "アオイ"), ("凛", "リン"),
    ("芽依", "メイ"), ("さくら", "サクラ"), ("千代子", "チヨコ"), ("静子", "シズコ"),
    ("文子", "フミコ"), ("良子", "ヨシコ"), ("春子", "ハルコ"), ("光子", "ミツコ"),
    ("典子", "ノリコ"),
)  # fmt: skip

_SEP: Final = "\u3000"  # full-width space between family and given name

# ---------------------------------------------------------------------------------------
# Code lists.

#: 限度額適用区分 words and their online codes (DOMAIN §3). Index 0 = none.
LIMIT_WORDS: Final[tuple[str, ...]] = (
    "", "ア", "イ", "ウ", "エ", "オ", "現役並みⅢ", "現役並みⅡ", "現役並みⅠ", "一般",
    "低所得Ⅱ", "低所得Ⅰ", "一般Ⅱ", "一般Ⅰ",
)  # fmt: skip
LIMIT_CODES: Final[Mapping[str, str]] = {
    "ア": "A01", "イ": "A02", "ウ": "A03", "エ": "A04", "オ": "A05",
    "現役並みⅢ": "B01", "現役並みⅡ": "B02", "現役並みⅠ": "B03", "一般": "B04",
    "低所得Ⅱ": "B05", "低所得Ⅰ": "B06", "一般Ⅱ": "B09", "一般Ⅰ": "B10",
}  # fmt: skip
(_L_NONE, _L_A, _L_I, _L_U, _L_E, _L_O, _L_G3, _L_G2, _L_G1, _L_IPPAN, _L_LOW2, _L_LOW1,
 _L_IPPAN2, _L_IPPAN1) = range(14)  # fmt: skip
#: 特記事項 per limit index (only where the claim states the category)
_TOKKI: Final[tuple[str, ...]] = (
    "", "26", "27", "28", "29", "30", "26", "27", "28", "", "30", "30", "41", "42",
)  # fmt: skip

VALIDITY_WORDS: Final[tuple[str, ...]] = (
    "", "有効", "無効", "無効（新しい資格あり）", "該当資格なし", "複数該当",
)  # fmt: skip
METHODS: Final[tuple[str, ...]] = (
    "マイナ保険証", "資格確認書", "資格情報のお知らせ", "マイナポータル", "保険証",
)  # fmt: skip
_M_MYNA, _M_KAKUNIN, _M_OSHIRASE, _M_PORTAL, _M_HOKENSHO = range(5)
DOC_TYPES: Final[tuple[str, ...]] = (
    "資格確認書", "高齢受給者証", "後期高齢者医療資格確認書", "資格情報のお知らせ", "健康保険証",
)  # fmt: skip
_D_KAKUNIN, _D_KOREI, _D_KOUKI, _D_OSHIRASE, _D_HOKENSHO = range(5)

# insurer kinds
_K_KYOKAI, _K_KUMIAI, _K_KYOSAI, _K_KOKUHO, _K_KOUKI = range(5)
_KOKUHO_SYMBOLS: Final[tuple[str, ...]] = (
    "01", "02", "03", "11", "12", "21", "31", "区01", "市02", "町03", "国01", "一般",
)  # fmt: skip
_PREFS: Final = np.array([13, 11, 12, 14, 27, 23, 1, 40, 22, 28])
_PREF_P: Final = np.array([0.62, 0.1, 0.08, 0.1, 0.03, 0.02, 0.01, 0.01, 0.02, 0.01])

FUSHO_INSURER: Final = "77777777"

_XLSX_MAX_ROWS: Final = 1_048_576


# ---------------------------------------------------------------------------------------
# Small helpers over pyarrow / numpy.


def _take(table: pa.Array | list[str] | tuple[str, ...], idx: np.ndarray) -> pa.Array:
    arr = table if isinstance(table, pa.Array) else pa.array(list(table), pa.string())
    return pc.take(arr, pa.array(np.asarray(idx, dtype=np.int64)))


def _int_text(values: np.ndarray, width: int = 0) -> pa.Array:
    v = np.asarray(values, dtype=np.int64)
    if v.size > 1000 and v.min(initial=0) >= 0 and v.max(initial=0) < 200_000:
        # small non-negative numbers: one lookup table is faster than casting each
        table = pc.cast(pa.array(np.arange(v.max(initial=0) + 1)), pa.string())
        s = pc.take(table, pa.array(v))
    else:
        s = pc.cast(pa.array(v), pa.string())
    return pc.utf8_lpad(s, width, "0") if width else s


class _DateText:
    """ISO text of dates through one lookup table (dates repeat; the table is small)."""

    def __init__(self, *arrays: np.ndarray) -> None:
        present = [a for a in arrays if a.size and not np.isnat(a).all()]
        lows = [np.nanmin(a) for a in present]
        highs = [np.nanmax(a) for a in present]
        lows = [x for x in lows if not np.isnat(x)] or [np.datetime64("2000-01-01", "D")]
        highs = [x for x in highs if not np.isnat(x)] or lows
        self.lo = min(lows)
        span = np.arange(self.lo, max(highs) + np.timedelta64(1, "D"), dtype="datetime64[D]")
        self.table = pa.concat_arrays([pa.array([""], pa.string()), pc.cast(pa.array(span), pa.string())])

    def __call__(self, d: np.ndarray) -> pa.Array:
        idx = np.where(np.isnat(d), 0, (d - self.lo).astype(np.int64) + 1)
        return pc.take(self.table, pa.array(idx))


def _frame(columns: Mapping[str, pa.Array | np.ndarray]) -> pd.DataFrame:
    data = {}
    for k, v in columns.items():
        arr = v if isinstance(v, pa.Array) else pa.array(np.asarray(v).astype(str), pa.string())
        data[k] = pd.array(arr, dtype="str")
    return pd.DataFrame(data, copy=False)


def _month_end(d: np.ndarray) -> np.ndarray:
    return (d.astype("datetime64[M]") + 1).astype("datetime64[D]") - np.timedelta64(1, "D")


def _insurer_pools(rng: np.random.Generator) -> dict[int, np.ndarray]:
    """Insurer numbers with valid check digits, per insurer kind (small pools)."""

    def pool(hobetsu: np.ndarray, pref: np.ndarray, serial: np.ndarray) -> np.ndarray:
        return _with_check_digits(hobetsu * 100_000 + pref * 1000 + serial, 7)

    prefs = np.repeat(_PREFS, 6)
    kyokai = pool(np.full(len(_PREFS), 1), _PREFS, np.full(len(_PREFS), 1))
    kumiai = pool(np.full(prefs.size * 5, 6), np.tile(prefs, 5), rng.integers(1, 999, prefs.size * 5))
    kyosai = pool(rng.choice([31, 32, 33, 34], 24), rng.choice(_PREFS[:4], 24),
                  rng.integers(1, 999, 24))  # fmt: skip
    kouki = pool(np.full(30, 39), np.r_[np.full(24, 13), _PREFS[1:7]], rng.integers(1, 999, 30))
    kb = np.r_[np.full(40, 13), rng.choice(_PREFS[1:], 20)] * 1000 + rng.integers(1, 999, 60)
    kokuho = _with_check_digits(kb, 5)
    return {_K_KYOKAI: kyokai, _K_KUMIAI: kumiai, _K_KYOSAI: kyosai, _K_KOKUHO: kokuho,
            _K_KOUKI: kouki}  # fmt: skip


# ---------------------------------------------------------------------------------------
# The generator.


def generate_month(
    n_receipts: int,
    *,
    seed: int = 0,
    claim_month: str = "2026-10",
    problems: bool = True,
    truth: bool = False,
    problem_rate: float = 0.01,
    first_patient_id: int = 1_000_001,
) -> dict[str, pd.DataFrame]:
    """One month of exports for ``n_receipts`` patients (one receipt and one online check
    each; one card record each, a few 70–74 patients two).

    Returns {"receipts", "online", "cards"} (plus "problems" when ``truth``: patient_id,
    row = 0-based receipt row, problem, category). All values are strings; "" = empty.
    """
    n = int(n_receipts)
    rng = np.random.default_rng(seed)
    month = np.datetime64(claim_month, "M")
    m_start = month.astype("datetime64[D]")
    m_end = (month + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    n_days = int((m_end - m_start).astype(int)) + 1
    y0 = int(str(month)[:4])
    mo0 = int(str(month)[5:7])
    aug_start = np.datetime64(f"{y0 if mo0 >= 8 else y0 - 1}-08-01")
    aug_end = np.datetime64(f"{(y0 if mo0 >= 8 else y0 - 1) + 1}-07-31")

    service = m_start + rng.integers(0, n_days, n).astype("timedelta64[D]")

    # age mix of a clinic: many patients over 70
    edges = np.array([0, 6, 15, 40, 65, 70, 75, 85, 100])
    weights = np.array([6, 6, 10, 20, 10, 16, 22, 10], dtype=float)
    band_i = rng.choice(len(weights), n, p=weights / weights.sum())
    age = edges[band_i] + (rng.random(n) * (edges[band_i + 1] - edges[band_i])).astype(np.int64)
    birth = m_start - np.round((age + rng.random(n)) * 365.2425).astype("timedelta64[D]")
    birth = np.minimum(birth, service - np.timedelta64(1, "D"))
    band = age_band(birth, service)
    is_kouki = band == BAND_KOUKI
    is_elder = band == BAND_ELDERLY
    is_pre = band == BAND_PRESCHOOL
    age_now = (service - birth).astype(np.int64) / 365.2425

    sex = rng.integers(1, 3, n)

    # burden ratio
    u = rng.random(n)
    ratio = np.full(n, 3, dtype=np.int64)
    ratio[is_pre] = 2
    ratio[is_elder] = np.where(u[is_elder] < 0.8, 2, 3)
    ratio[is_kouki] = np.select([u[is_kouki] < 0.6, u[is_kouki] < 0.9], [1, 2], 3)

    # 限度額適用区分
    v = rng.random(n)
    limit = np.zeros(n, dtype=np.int64)
    young = ~(is_elder | is_kouki)
    limit[young & (v < 0.08)] = rng.integers(_L_A, _L_O + 1, n)[young & (v < 0.08)]
    gen = np.select([v < 0.1, v < 0.3], [_L_G3, _L_G2], _L_G1)
    low_e = np.select([v < 0.8, v < 0.92], [_L_IPPAN, _L_LOW2], _L_LOW1)
    low_k = np.select([v < 0.7, v < 0.9], [_L_IPPAN1, _L_LOW2], _L_LOW1)
    limit = np.where((is_elder | is_kouki) & (ratio == 3), gen, limit)
    limit = np.where(is_elder & (ratio == 2), low_e, limit)
    limit = np.where(is_kouki & (ratio == 2), _L_IPPAN2, limit)
    limit = np.where(is_kouki & (ratio == 1), low_k, limit)

    # insurer kind and number
    w = rng.random(n)
    p_kokuho = np.where(age_now >= 60, 0.65, 0.3)
    rest = 1.0 - p_kokuho  # the others share: 協会けんぽ 50 %, 組合 35 %, 共済 15 %
    kind = np.select(
        [w < p_kokuho, w < p_kokuho + 0.5 * rest, w < p_kokuho + 0.85 * rest],
        [_K_KOKUHO, _K_KYOKAI, _K_KUMIAI],
        _K_KYOSAI,
    )
    kind[is_kouki] = _K_KOUKI
    pools = _insurer_pools(rng)
    pool_all = np.concatenate([pools[k] for k in range(5)])
    offsets = np.cumsum([0] + [pools[k].size for k in range(5)])
    sizes = np.array([pools[k].size for k in range(5)])
    # weight Tokyo's 協会けんぽ and the first pool entries more (a clinic sees few insurers)
    pick = np.floor(sizes[kind] * rng.random(n) ** 2).astype(np.int64)
    ins_idx = offsets[kind] + pick

    # relation 本人/家族 and card symbols/numbers
    rel = np.where(rng.random(n) < np.where(age_now < 20, 0.03, 0.68), 1, 2)
    rel[is_kouki] = 1
    sym_len = np.select([kind == _K_KYOKAI, kind == _K_KOKUHO], [8, 0], 5)
    symbol_num = (rng.random(n) * 10.0 ** np.maximum(sym_len, 1)).astype(np.int64)
    num_hi = np.select([kind == _K_KOUKI, kind == _K_KOKUHO, kind == _K_KYOKAI], [8, 7, 6], 5)
    number = (10.0 ** (num_hi - 1) * (1 + 9 * rng.random(n))).astype(np.int64)
    number[kind == _K_KYOKAI] = rng.integers(1, 99_999, n)[kind == _K_KYOKAI]
    branch = np.where(rel == 1, 0, rng.integers(1, 5, n))

    # names
    ns, ng = len(SURNAMES), len(GIVEN_MALE)
    combos_kanji = [s + _SEP + g for gl in (GIVEN_MALE, GIVEN_FEMALE) for s, _ in SURNAMES
                    for g, _ in gl]  # fmt: skip
    combos_kana = [s + _SEP + g for gl in (GIVEN_MALE, GIVEN_FEMALE) for _, s in SURNAMES
                   for _, g in gl]  # fmt: skip
    name_idx = (sex - 1) * ns * ng + rng.integers(0, ns, n) * ng + rng.integers(0, ng, n)

    # visit
    days = rng.choice([1, 2, 3, 4, 5], n, p=[0.55, 0.25, 0.1, 0.06, 0.04])
    first = rng.random(n) < 0.15
    per_day = np.clip(rng.lognormal(np.log(220), 0.55, n), 60, 3000)
    points = np.round(per_day * days + np.where(first, 291, 0)).astype(np.int64)
    mw = rng.random(n)
    method = np.select([mw < 0.7, mw < 0.9, mw < 0.96], [_M_MYNA, _M_KAKUNIN, _M_OSHIRASE],
                       _M_PORTAL)  # fmt: skip
    myna = (method == _M_MYNA) | (method == _M_PORTAL)

    # online side
    ecert = np.where(
        myna,
        _month_end(m_end + rng.integers(40, 5 * 365, n).astype("timedelta64[D]")),
        np.datetime64("NaT"),
    ).astype("datetime64[D]")
    nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    valid_until_o = np.where(is_elder | is_kouki, aug_end, nat).astype("datetime64[D]")

    # card side
    doc = np.where(method == _M_KAKUNIN, _D_KAKUNIN, _D_OSHIRASE)
    doc[is_elder] = _D_KOREI
    doc[is_kouki & ((method == _M_KAKUNIN) | (rng.random(n) < 0.5))] = _D_KOUKI
    acquired = service - rng.integers(30, 15 * 365, n).astype("timedelta64[D]")
    acquired = np.maximum(acquired, birth)
    eff = acquired.copy()
    eff[is_elder] = np.maximum(elderly_start(birth[is_elder]), aug_start)
    eff[is_kouki] = np.maximum(kouki_start(birth[is_kouki]), aug_start)
    eff = np.minimum(eff, service)
    card_until = nat.copy()
    card_until[doc == _D_KAKUNIN] = _month_end(m_end + rng.integers(60, 5 * 365, n).astype("timedelta64[D]"))[
        doc == _D_KAKUNIN
    ]
    card_until[is_elder | (doc == _D_KOUKI)] = aug_end
    issued = np.maximum(eff - rng.integers(0, 25, n).astype("timedelta64[D]"), birth)
    card_ratio = np.where(is_elder | is_kouki | is_pre, ratio, 0)
    card_limit = np.where(is_elder | is_kouki, limit, 0)

    # per-source copies that problems may change
    r_ratio, o_ratio, c_ratio = ratio.copy(), ratio.copy(), card_ratio.copy()
    o_limit = limit.copy()
    o_birth, o_sex, o_name = birth.copy(), sex.copy(), name_idx.copy()
    o_valid = np.ones(n, dtype=np.int64)
    r_rel = rel.copy()
    c_ins, r_ins = ins_idx.copy(), ins_idx.copy()
    c_number, r_number = number.copy(), number.copy()
    c_eff, c_until, c_doc = eff.copy(), card_until.copy(), doc.copy()
    full_charge = np.zeros(n, dtype=bool)

    prob_rows = np.zeros(0, dtype=np.int64)
    prob_kind = np.zeros(0, dtype=np.int64)
    keys = list(PROBLEM_CATEGORIES)
    k = round(n * problem_rate) if problems else 0

    def rows(key: str) -> np.ndarray:
        """Receipt rows seeded with problem ``key``."""
        selected: np.ndarray = prob_rows[prob_kind == keys.index(key)]
        return selected

    if k:
        prob_rows = np.sort(rng.choice(n, k, replace=False))
        cand = {
            "billed_ratio_wrong": np.ones(n, bool),
            "online_card_ratio": is_elder | is_kouki,
            "limit_category": is_elder | is_kouki,
            "eligibility_invalid": np.ones(n, bool),
            "eligibility_not_found": np.ones(n, bool),
            "insurer_changed": ~is_kouki,
            "identity_birth": np.ones(n, bool),
            "identity_sex": np.ones(n, bool),
            "name_different": np.ones(n, bool),
            "masked_name": np.ones(n, bool),
            "insurer_check_digit": np.ones(n, bool),
            "branch_in_number": ~is_kouki,
            "relation_mismatch": ~is_kouki,
            "card_expired": np.ones(n, bool),
            "ecert_expired": myna,
            "full_charge": np.ones(n, bool),
            "fusho_valid": method == _M_MYNA,
            "birth_unreadable": np.ones(n, bool),
        }
        ok = np.stack([cand[key][prob_rows] for key in keys], axis=1)
        prob_kind = np.argmax(rng.random(ok.shape) * ok, axis=1)

        # semantic changes (numpy) ...
        i = rows("billed_ratio_wrong")
        r_ratio[i] = np.where(ratio[i] == 3, 2, 3)
        i = rows("online_card_ratio")
        o_ratio[i] = np.where(ratio[i] == 2, np.where(is_kouki[i], 1, 3), 2)
        i = rows("limit_category")
        o_limit[i] = np.select(
            [limit[i] == _L_IPPAN, limit[i] == _L_IPPAN1, limit[i] == _L_IPPAN2],
            [_L_LOW2, _L_LOW2, _L_IPPAN1],
            np.where(limit[i] == _L_G1, _L_G2, _L_G1),
        )
        o_valid[rows("eligibility_invalid")] = rng.integers(2, 4, rows("eligibility_invalid").size)
        o_valid[rows("eligibility_not_found")] = 4
        i = rows("insurer_changed")
        new_kind = np.where(kind[i] == _K_KYOKAI, _K_KUMIAI, _K_KYOKAI)
        new_ins = offsets[new_kind] + rng.integers(0, sizes[new_kind])
        c_ins[i] = r_ins[i] = new_ins
        c_number[i] = r_number[i] = number[i] // 10 + 1
        c_eff[i] = m_start - np.timedelta64(31, "D")
        c_doc[i] = np.where(is_elder[i], _D_KOREI, _D_KAKUNIN)
        c_until[i] = np.where(is_elder[i], aug_end, m_end + np.timedelta64(3 * 365, "D"))
        i = rows("identity_birth")
        o_birth[i] = birth[i] + rng.choice([-7, -3, -1, 1, 2, 10], i.size).astype("timedelta64[D]")
        o_sex[rows("identity_sex")] = 3 - sex[rows("identity_sex")]
        i = rows("name_different")
        o_name[i] = (name_idx[i] + 7 * ng) % (ns * ng) + (sex[i] - 1) * ns * ng
        i = rows("relation_mismatch")
        r_rel[i] = 3 - rel[i]
        i = rows("card_expired")
        c_until[i] = service[i] - rng.integers(1, 60, i.size).astype("timedelta64[D]")
        c_eff[i] = np.maximum(np.minimum(c_eff[i], c_until[i] - np.timedelta64(365, "D")), birth[i])
        c_doc[i] = np.where(c_doc[i] == _D_OSHIRASE, _D_KAKUNIN, c_doc[i])
        i = rows("ecert_expired")
        ecert[i] = service[i] - rng.integers(125, 700, i.size).astype("timedelta64[D]")
        full_charge[rows("full_charge")] = True

    # ---- text ----
    dates = _DateText(birth, o_birth, service, ecert, c_eff, c_until, issued, valid_until_o)
    pid = _int_text(np.arange(n) + first_patient_id)
    kanji_t = pa.array(combos_kanji, pa.string())
    kana_t = pa.array(combos_kana, pa.string())
    ratio_t = ["", "1割", "2割", "3割"]
    sex_t = ["", "男", "女"]
    rel_t = ["", "本人", "家族"]
    pool_t = pa.array(pool_all.tolist(), pa.string())

    sym_txt = pc.if_else(
        pa.array(kind == _K_KOKUHO),
        _take(_KOKUHO_SYMBOLS, rng.integers(0, len(_KOKUHO_SYMBOLS), n)),
        _int_text(symbol_num),
    )
    sym_txt = pc.if_else(pa.array(kind == _K_KOUKI), pa.scalar("", pa.string()), sym_txt)
    branch_txt = pc.if_else(pa.array(kind == _K_KOUKI), pa.scalar("", pa.string()), _int_text(branch, 2))
    r_copay = np.where(full_charge, points * 10, (points * r_ratio + 5) // 10 * 10)
    month_txt = pa.array(np.full(n, str(month)), pa.string())
    name_t = _take(kanji_t, name_idx)
    kana_n = _take(kana_t, name_idx)
    birth_t = dates(birth)

    receipts = _frame({
        "患者ID": pid,
        "診療年月": month_txt,
        "診療日": dates(service),
        "氏名": name_t,
        "カナ氏名": kana_n,
        "性別": _take(sex_t, sex),
        "生年月日": birth_t,
        "保険者番号": _take(pool_t, r_ins),
        "記号": sym_txt,
        "番号": _int_text(r_number),
        "枝番": branch_txt,
        "本人家族": _take(rel_t, r_rel),
        "負担割合": _take(ratio_t, r_ratio),
        "実日数": _int_text(days),
        "合計点数": _int_text(points),
        "一部負担金": _int_text(r_copay),
        "特記事項": _take(_TOKKI, limit),
        "摘要": pa.array(np.full(n, ""), pa.string()),
        "資格確認方法": _take(METHODS, method),
        "初再診": _take(["再診", "初診"], first.astype(np.int64)),
    })  # fmt: skip
    online = _frame({
        "患者ID": pid,
        "照会日": dates(service),
        "資格有効性": _take(VALIDITY_WORDS, o_valid),
        "保険者番号": _take(pool_t, ins_idx),
        "記号": sym_txt,
        "番号": _int_text(number),
        "枝番": branch_txt,
        "本人家族": _take(rel_t, rel),
        "氏名": _take(kanji_t, o_name),
        "カナ氏名": _take(kana_t, o_name),
        "性別": _int_text(o_sex),
        "生年月日": dates(o_birth),
        "負担割合": _take(ratio_t, o_ratio),
        "限度額適用区分": _take(LIMIT_WORDS, o_limit),
        "電子証明書有効期限": dates(ecert),
        "有効期限": dates(valid_until_o),
    })  # fmt: skip
    # card rows: one per patient, a second (資格情報のお知らせ, same ratio) for some 70–74
    # patients; a correctly filed 不詳 claim has no card on file
    extra = np.flatnonzero(is_elder & (rng.random(n) < 0.2))
    keep = np.ones(n, dtype=bool)
    if k:
        extra = np.setdiff1d(extra, prob_rows)
        keep[prob_rows[prob_kind == keys.index("fusho_valid")]] = False
    cp = np.concatenate([np.flatnonzero(keep), extra])
    is_extra = np.r_[np.zeros(cp.size - extra.size, bool), np.ones(extra.size, bool)]
    order = np.argsort(cp, kind="stable")
    cp, is_extra = cp[order], is_extra[order]
    cpa = pa.array(cp)
    c_doc_rows = np.where(is_extra, _D_OSHIRASE, c_doc[cp])
    c_until_rows = np.where(is_extra, np.datetime64("NaT"), c_until[cp]).astype("datetime64[D]")
    cards = _frame({
        "患者ID": pc.take(pid, cpa),
        "証の種類": _take(DOC_TYPES, c_doc_rows),
        "保険者番号": _take(pool_t, c_ins[cp]),
        "記号": pc.take(sym_txt, cpa),
        "番号": _int_text(c_number[cp]),
        "枝番": pc.take(branch_txt, cpa),
        "本人家族": _take(rel_t, rel[cp]),
        "氏名": pc.take(name_t, cpa),
        "カナ氏名": pc.take(kana_n, cpa),
        "生年月日": pc.take(birth_t, cpa),
        "負担割合": _take(ratio_t, c_ratio[cp]),
        "発効期日": dates(c_eff[cp]),
        "有効期限": dates(c_until_rows),
        "交付年月日": dates(issued[cp]),
        "限度額適用区分": _take(LIMIT_WORDS, card_limit[cp]),
    })  # fmt: skip

    # ---- problems that are edits of the text ----
    blank_online = ONLINE_HEADERS[3:8] + ONLINE_HEADERS[12:]
    if (i := rows("masked_name")).size:
        online.loc[i, "氏名"] = "●" + online.loc[i, "氏名"].str.slice(1)
    if (i := rows("insurer_check_digit")).size:
        s = receipts.loc[i, "保険者番号"]
        last = (s.str.slice(-1).astype(int) + 1 + rng.integers(0, 8, i.size)) % 10
        receipts.loc[i, "保険者番号"] = s.str.slice(0, -1) + last.astype(str)
    if (i := rows("branch_in_number")).size:
        receipts.loc[i, "番号"] = receipts.loc[i, "番号"] + receipts.loc[i, "枝番"]
        receipts.loc[i, "枝番"] = ""
    if (i := rows("eligibility_not_found")).size:
        for col in blank_online:
            online.loc[i, col] = ""
    if (i := rows("fusho_valid")).size:
        receipts.loc[i, "保険者番号"] = FUSHO_INSURER
        receipts.loc[i, "記号"] = ""
        receipts.loc[i, "番号"] = np.where(is_kouki[i], "77777777", "777777777")
        receipts.loc[i, "枝番"] = ""
        receipts.loc[i, "実日数"] = "1"
        receipts.loc[i, "初再診"] = "初診"
        contact = pd.Series(dates(np.minimum(service[i] + 3, m_end)).to_pylist(), index=i)
        tel = pd.Series((i % 10_000).astype(str), index=i).str.zfill(4)
        receipts.loc[i, "摘要"] = (
            "不詳　カナ氏名：" + receipts.loc[i, "カナ氏名"]
            + "　保険種別：わからない　保険者等名称：わからない　事業所名：わからない"
            + "　住所：東京都架空区見本町1-2-3　連絡先：03-0000-" + tel
            + "　患者連絡日：" + contact
        )  # fmt: skip
        for col in blank_online:
            online.loc[i, col] = ""
        online.loc[i, "資格有効性"] = "該当資格なし"
    if (i := rows("birth_unreadable")).size:
        receipts.loc[i, "生年月日"] = "令和99年13月40日"

    out = {"receipts": receipts, "online": online, "cards": cards}
    if truth:
        out["problems"] = pd.DataFrame({
            "patient_id": pd.array(pc.take(pid, pa.array(prob_rows)), dtype="str"),
            "row": prob_rows,
            "problem": pd.array([keys[j] for j in prob_kind], dtype="str"),
            "category": pd.array(
                [PROBLEM_CATEGORIES[keys[j]] or "" for j in prob_kind], dtype="str"
            ),
        })  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------
# Writing.

_FILE_STEMS: Final[Mapping[str, str]] = {
    "receipts": "receipts",
    "online": "online_results",
    "cards": "card_records",
}


def write_month(
    tables: Mapping[str, pd.DataFrame],
    out_dir: Path,
    *,
    form: str = "xlsx",
    claim_month: str | None = None,
) -> list[Path]:
    """Write one file per table: xlsx (XlsxWriter constant_memory, every cell a string) or
    CSV (CP932). Tables longer than an Excel sheet continue on further sheets, each with
    its header row. Returns the paths written."""
    if form not in ("xlsx", "csv"):
        raise ValueError(f"unknown form {form!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if claim_month is None:
        rec = tables.get("receipts")
        claim_month = str(rec["診療年月"].iloc[0]) if rec is not None and len(rec) else "month"
    paths: list[Path] = []
    for kind, df in tables.items():
        if kind not in _FILE_STEMS:
            continue
        path = out_dir / f"{_FILE_STEMS[kind]}_{claim_month}.{form}"
        if form == "csv":
            df.to_csv(path, index=False, encoding="cp932", lineterminator="\r\n")
        else:
            _write_xlsx(df, path, sheet=kind)
        paths.append(path)
    return paths


def _write_xlsx(df: pd.DataFrame, path: Path, *, sheet: str) -> None:
    import xlsxwriter

    headers = [str(c) for c in df.columns]
    cols = [df[c].to_numpy(dtype=object, na_value="") for c in df.columns]
    per_sheet = _XLSX_MAX_ROWS - 1
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    try:
        n = len(df)
        for part, start in enumerate(range(0, max(n, 1), per_sheet)):
            ws = wb.add_worksheet(sheet if part == 0 else f"{sheet}_{part + 1}")
            ws.write_row(0, 0, headers)
            ws_write = ws.write_string
            stop = min(start + per_sheet, n)
            # row by row is the only way constant_memory writes; the loop is the writer's
            for r, values in enumerate(zip(*(c[start:stop] for c in cols), strict=True), 1):
                for c, val in enumerate(values):
                    if val:
                        ws_write(r, c, val)
    finally:
        wb.close()
