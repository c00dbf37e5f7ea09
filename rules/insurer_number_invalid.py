"""insurer_number_invalid — a 保険者番号 that cannot exist.

Catches on the billed insurer number (DOMAIN §4): a length other than 6 (市町村国保) or 8
(a 5-digit number may be a Hokkaido 国保 number that lost its zero: the message says so),
non-digits, an unknown 法別番号 (first two of 8 digits), or a wrong check digit. Lost
leading zeros and 国保 numbers padded to 8 are repaired while reading, not reported.
不詳 markers 77777777 / 77777779 and the disaster number 99999999 are never errors.
Fix: copy the number again from the card or the online result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from rules.domain.columns import distinct, flags, ne_text
from rules.domain.context import text
from rules.domain.insurer import DISASTER_INSURER, KNOWN_HOUBETSU, check_digit_valid
from rules.findings import concat_findings, make_findings

CATEGORY: Final = "insurer_number_invalid"
ORDER: Final = 110  # CONTRACT §2
LABEL_JA: Final = "保険者番号の誤り"
SUMMARY_JA: Final = "保険者番号の桁数・法別番号・検証番号の誤り（不詳 77777777 は対象外）"
RULE_IDS: Final = ("INSURER_FORM", "INSURER_HOUBETSU", "INSURER_CHECK_DIGIT")
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ()
#: the columns the finding texts read (``make_findings(reads=...)``)
_READS: Final[tuple[str, ...]] = ("insurer_no", "on_insurer_no", "cd_insurer_no")


def _hint(d: pd.DataFrame) -> pd.Series:
    other = text(d["on_insurer_no"]).where(text(d["on_insurer_no"]).ne(""), text(d["cd_insurer_no"]))
    return other.map(lambda h: f"（オンライン資格確認・券面では {h}）" if h else "")


def _form_hint(d: pd.DataFrame) -> pd.Series:
    return text(d["insurer_no"]).map(
        lambda n: f"（先頭の0が落ちた国保の番号 0{n} の可能性があります）" if len(n) == 5 and n.isdigit() else ""
    )


def check(df: pd.DataFrame) -> pd.DataFrame:
    ins = df["insurer_no"]
    judged = ne_text(ins, "") & ~flags(df, "is_fusho_claim") & ne_text(ins, DISASTER_INSURER)
    codes, uniques = distinct(ins)  # each distinct number tested once, for the three tests
    names = [str(u) for u in uniques]
    form = np.array([not (n.isdigit() and len(n) in (6, 8)) for n in names] + [False])[codes]
    houbetsu = np.array([len(n) == 8 and n[:2] not in KNOWN_HOUBETSU for n in names] + [False])[codes]
    digit_ok = np.array([check_digit_valid(n) for n in names] + [False])[codes]
    bad_form = judged & form
    bad_houbetsu = judged & ~bad_form & houbetsu
    bad_check = judged & ~bad_form & ~bad_houbetsu & ~digit_ok
    action = "証またはオンライン資格確認の保険者番号を確認して入力し直してください。"

    def found(mask: np.ndarray, rule_id: str, expected: str, what: str) -> pd.DataFrame:
        return make_findings(
            df,
            mask,
            reads=_READS,
            category=CATEGORY,
            rule_id=rule_id,
            severity="error",
            expected=expected,
            actual=lambda d: text(d["insurer_no"]),
            action=action,
            message=lambda d: "保険者番号「" + text(d["insurer_no"]) + "」" + what + _hint(d) + _form_hint(d) + "。",
        )

    return concat_findings(
        [
            found(bad_form, "INSURER_FORM", "6桁（国保）または8桁の数字", "は桁数または文字が正しくありません"),
            found(
                bad_houbetsu,
                "INSURER_HOUBETSU",
                "既知の法別番号（01, 06, 31, 39 など）",
                "の法別番号（先頭2桁）は医療保険にありません",
            ),
            found(
                bad_check, "INSURER_CHECK_DIGIT", "検証番号が正しい保険者番号", "の検証番号（最後の1桁）が合いません"
            ),
        ]
    )
