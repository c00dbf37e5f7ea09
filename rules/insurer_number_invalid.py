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

import pandas as pd

from rules.domain.context import text
from rules.domain.insurer import DISASTER_INSURER, KNOWN_HOUBETSU, check_digit_ok, per_distinct
from rules.findings import concat_findings, make_findings

CATEGORY: Final = "insurer_number_invalid"
ORDER: Final = 110  # CONTRACT §2
LABEL_JA: Final = "保険者番号の誤り"
SUMMARY_JA: Final = "保険者番号の桁数・法別番号・検証番号の誤り（不詳 77777777 は対象外）"
RULE_IDS: Final = ("INSURER_FORM", "INSURER_HOUBETSU", "INSURER_CHECK_DIGIT")
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ()


def _hint(d: pd.DataFrame) -> pd.Series:
    other = text(d["on_insurer_no"]).where(text(d["on_insurer_no"]).ne(""), text(d["cd_insurer_no"]))
    return other.map(lambda h: f"（オンライン資格確認・券面では {h}）" if h else "")


def _form_hint(d: pd.DataFrame) -> pd.Series:
    return text(d["insurer_no"]).map(
        lambda n: f"（先頭の0が落ちた国保の番号 0{n} の可能性があります）" if len(n) == 5 and n.isdigit() else ""
    )


def check(df: pd.DataFrame) -> pd.DataFrame:
    ins = df["insurer_no"]
    judged = ins.ne("") & ~df["is_fusho_claim"] & ins.ne(DISASTER_INSURER)
    bad_form = judged & per_distinct(ins, lambda n: not (n.isdigit() and len(n) in (6, 8)))
    bad_houbetsu = judged & ~bad_form & per_distinct(ins, lambda n: len(n) == 8 and n[:2] not in KNOWN_HOUBETSU)
    bad_check = judged & ~bad_form & ~bad_houbetsu & ~check_digit_ok(ins)
    action = "証またはオンライン資格確認の保険者番号を確認して入力し直してください。"

    def found(mask: pd.Series, rule_id: str, expected: str, what: str) -> pd.DataFrame:
        return make_findings(
            df,
            mask,
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
