"""insurer_number_invalid — a 保険者番号 that cannot exist.

Catches on the billed insurer number (DOMAIN §4): a length other than 6 (市町村国保) or 8,
non-digits, an unknown 法別番号 (first two of 8 digits), or a wrong check digit. Lost
leading zeros and 国保 numbers padded to 8 are repaired while reading, not reported.
不詳 markers 77777777 / 77777779 and the disaster number 99999999 are never errors.
Fix: copy the number again from the card or the online result.
"""

from __future__ import annotations

import pandas as pd

from rules._insurer import DISASTER_INSURER, KNOWN_HOUBETSU, check_digit_ok, is_fusho
from rules.findings import concat_findings, make_findings

CATEGORY = "insurer_number_invalid"


def check(df: pd.DataFrame) -> pd.DataFrame:
    ins = df["insurer_no"].fillna("").astype(str)
    judged = ins.ne("") & ~is_fusho(ins) & ins.ne(DISASTER_INSURER)
    digits = ins.str.fullmatch(r"\d+").fillna(False).astype(bool)
    bad_form = judged & (~digits | ~ins.str.len().isin([6, 8]))
    bad_houbetsu = judged & ~bad_form & ins.str.len().eq(8) & ~ins.str[:2].isin(KNOWN_HOUBETSU)
    bad_check = judged & ~bad_form & ~bad_houbetsu & ~check_digit_ok(ins)
    hint = df["on_insurer_no"].fillna(df["cd_insurer_no"]).fillna("").astype("object")
    hint_t = hint.map(lambda h: f"（オンライン資格確認・券面では {h}）" if h else "")
    action = "証またはオンライン資格確認の保険者番号を確認して入力し直してください。"
    common = {"category": CATEGORY, "severity": "error", "actual": ins.astype("object"), "action": action}
    return concat_findings(
        [
            make_findings(df, bad_form, rule_id="INSURER_FORM", expected="6桁（国保）または8桁の数字",
                          message="保険者番号「" + ins + "」は桁数または文字が正しくありません" + hint_t + "。",
                          **common),  # type: ignore[arg-type]
            make_findings(df, bad_houbetsu, rule_id="INSURER_HOUBETSU", expected="既知の法別番号（01, 06, 31, 39 など）",
                          message="保険者番号「" + ins + "」の法別番号「" + ins.str[:2] + "」は医療保険にありません" + hint_t + "。",
                          **common),  # type: ignore[arg-type]
            make_findings(df, bad_check, rule_id="INSURER_CHECK_DIGIT", expected="検証番号が正しい保険者番号",
                          message="保険者番号「" + ins + "」の検証番号（最後の1桁）が合いません" + hint_t + "。",
                          **common),  # type: ignore[arg-type]
        ]
    )
