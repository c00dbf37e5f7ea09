"""returned — a claim came back (返戻): which claim, why, and exactly what to fix.

Input: the returns table linked to the original claims (``worker.engine.link.link_returns``),
with ``cl_*`` columns of the matched claim, ``match_method``, the categories of the
pre-submission findings on that claim (``claim_categories``), the 摘要 items those
findings said were missing (``claim_missing``) and the patient's latest online check
after the claim month (``lo_*``).
Catches: every matched return; ``expected`` holds the class and subtype in Japanese
(資格（資格喪失後の受診）, 不詳 記載不備, 負担割合, その他).
Fix: per reason — re-bill the new insurer a later online check shows; add the missing
摘要 items from the 被保険者資格申立書; correct 本人/家族 or the ratio; otherwise re-check
online and ask the patient for the current certificate. ``reclaim_table`` is the
返戻再請求 worksheet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import pandas as pd

from rules.domain.codes import MatchMethod, OnlineValidity, Relation, ReturnClass, Sex, labels_ja
from rules.domain.context import date_text, eligibility_text, text
from rules.domain.return_reasons import CLASS_LABELS_JA, classify_return
from rules.findings import make_findings

CATEGORY: Final = "returned"
ORDER: Final = 200  # CONTRACT §2
LABEL_JA: Final = "返戻"
SUMMARY_JA: Final = "返戻されたレセプトと、その直し方（下記）"
RULE_IDS: Final = ("RETURNED",)
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ("returns",)
STAGE: Final = "return"  # run on the linked returns by worker.engine, not by registry.run
TESTED_BY: Final = "tests/test_returns.py"

#: pre-submission categories that predict a return of each class
PREDICTORS: Final[dict[str, frozenset[str]]] = {
    ReturnClass.ELIGIBILITY: frozenset(
        {
            "eligibility_invalid",
            "eligibility_not_found",
            "insurer_changed",
            "identity_mismatch",
            "name_mismatch",
            "relation_mismatch",
            "insurer_number_invalid",
            "card_number_format",
            "card_expired",
            "ecert_expired",
            "ratio_implausible_for_age",
        }
    ),
    ReturnClass.FUSHO: frozenset({"fusho_missing_entry", "fusho_not_allowed", "fusho_followup_required"}),
    ReturnClass.RATIO: frozenset(
        {
            "ratio_billed_vs_verified",
            "ratio_online_vs_card",
            "ratio_implausible_for_age",
            "limit_category_mismatch",
            "full_charge_collected",
        }
    ),
    ReturnClass.OTHER: frozenset(),
}
METHOD_LABELS: Final[dict[str, str]] = dict(labels_ja(MatchMethod))
_REL: Final = labels_ja(Relation)
_NEEDS_NEW_ELIGIBILITY: Final = frozenset(
    {
        "資格喪失後の受診",
        "該当者なし",
        "記号・番号の誤り",
        "旧証",
        "後期高齢者該当",
        "国保該当",
        "認定外家族",
        "給付期間満了",
        "その他の資格誤り",
    }
)


def _fix(row: dict[Any, Any]) -> tuple[str, str]:
    """(action, 再請求 可/確認待ち) for one classified return."""
    cls, sub = str(row["_class"]), str(row["_subtype"])
    later_valid = row["lo_validity"] == OnlineValidity.VALID
    new_insurer = later_valid and (
        row["lo_insurer_no"] != row["cl_insurer_no"] or row["lo_card_number"] != row["cl_card_number"]
    )
    later = f"{row['_lo_ident']}（{row['_lo_date']} のオンライン資格確認）"
    if cls == ReturnClass.FUSHO:
        missing = str(row["claim_missing"] or "")
        if missing:
            return (f"被保険者資格申立書をもとに、摘要欄に {missing} を追記して再請求してください。", "可")
        return (
            "返戻理由の記載不備を確認し、申立書をもとに摘要欄（連絡先・患者連絡日など）を補って再請求してください。",
            "可",
        )
    if cls == ReturnClass.RATIO:
        return ("正しい負担割合で再請求し、窓口負担の差額を患者と精算してください。", "可")
    if cls == ReturnClass.ELIGIBILITY:
        if sub == "本人・家族等誤り":
            rel = _REL.get(str(row["lo_relation"]), "")
            hint = f"（オンライン資格確認では「{rel}」）" if rel else ""
            return (f"本人・家族の区分を直して再請求してください{hint}。", "可")
        if sub in ("生年月日の誤り", "性別の誤り", "氏名の誤り"):
            if later_valid:
                return (
                    f"オンライン資格確認の登録内容（{row['_lo_person']}）にあわせて直し、再請求してください。",
                    "可",
                )
            return ("証・本人確認書類で正しい値を確認して直し、再請求してください。", "確認待ち")
        if new_insurer:
            return (f"新しい資格が確認できます: {later}。この資格で再請求してください。", "可")
        if sub == "後期高齢者該当":
            return (
                "後期高齢者医療（保険者番号 39…）の資格確認書または再照会で資格を確認し、"
                "後期高齢者医療に再請求してください。",
                "確認待ち",
            )
        if sub in _NEEDS_NEW_ELIGIBILITY:
            return (
                "オンライン資格確認で再照会し、新しい資格が登録されていればその保険者に再請求してください。"
                "登録がなければ患者に資格確認書・資格情報のお知らせを確認し、保険者に問い合わせてください。",
                "確認待ち",
            )
    return ("返戻理由と補足を確認し、レセプトを直して再請求してください。", "確認待ち")


def classify(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``_class``, ``_subtype``, ``_predicted``, ``_action``, ``_reclaim`` to linked returns."""
    out = df.copy()
    keys = pd.Series(
        list(zip(text(out["reason"]), text(out["reason_code"]), text(out["note"]), strict=True)), index=out.index
    )
    classes = {k: classify_return(*k) for k in dict.fromkeys(keys)}
    out["_class"] = keys.map(lambda k: classes[k][0])
    out["_subtype"] = keys.map(lambda k: classes[k][1])
    cats = text(out["claim_categories"]).map(lambda s: frozenset(filter(None, s.split(","))))
    out["_predicted"] = [bool(c & PREDICTORS[k]) for c, k in zip(cats, out["_class"], strict=True)]
    out["_lo_ident"] = eligibility_text(out, "lo_")
    out["_lo_date"] = date_text(out["lo_checked_on"])
    out["_lo_person"] = (
        text(out["lo_name"])
        + " "
        + date_text(out["lo_birth_date"])
        + " "
        + text(out["lo_sex"]).map(labels_ja(Sex)).fillna("")
    ).str.strip()
    fixes = [_fix(r) for r in out.to_dict("records")] if len(out) else []
    out["_action"] = [f[0] for f in fixes]
    out["_reclaim"] = [f[1] for f in fixes]
    return out


def _expected(d: pd.DataFrame) -> pd.Series:
    """The return's class and subtype as a clerk reads them: 「資格（資格喪失後の受診）」, 「負担割合」."""
    label = d["_class"].map(CLASS_LABELS_JA)
    sub = d["_subtype"]
    said = pd.Series([s in lab for s, lab in zip(sub, label, strict=True)], index=d.index, dtype=bool)
    return label.where(sub.eq("") | said, label + "（" + sub + "）")


def _claim_where(d: pd.DataFrame) -> pd.Series:
    return (
        text(d["cl_file"])
        + " "
        + text(d["cl_sheet"])
        + " "
        + text(d["cl_row"]).str.replace(r"\.0$", "", regex=True)
        + "行目"
    )


def check(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` is ``classify``'s output."""
    matched = df["match_method"].ne("")

    def message(d: pd.DataFrame) -> pd.Series:
        predicted = d["_predicted"].map({True: "（事前チェックで指摘済み）", False: ""})
        return (
            "返戻: "
            + date_text(d["cl_claim_month"]).str[:7]
            + " 診療分のレセプト（"
            + _claim_where(d)
            + "、"
            + d["match_method"].map(METHOD_LABELS)
            + "で照合）が「"
            + text(d["reason"])
            + "」で返戻されました"
            + predicted
            + "。"
        )

    return make_findings(
        df,
        matched,
        category=CATEGORY,
        rule_id="RETURNED",
        severity="error",
        expected=_expected,
        actual=lambda d: text(d["reason"]).where(text(d["reason"]).ne(""), text(d["reason_code"])),
        message=message,
        action=lambda d: d["_action"],
    )


RECLAIM_COLUMNS: Final[tuple[str, ...]] = (
    "返戻年月",
    "診療年月",
    "患者ID",
    "氏名",
    "元のレセプト",
    "照合方法",
    "返戻理由",
    "分類",
    "詳細",
    "対応",
    "再請求",
    "事前チェック",
    "請求点数",
    "返戻ファイル",
    "行",
)


def reclaim_table(df: pd.DataFrame) -> pd.DataFrame:
    """The 返戻再請求 worksheet: one row per return (matched or not), in Japanese."""
    matched = df["match_method"].ne("")
    month = df["claim_month"].fillna(df["cl_claim_month"]) if "cl_claim_month" in df else df["claim_month"]
    return pd.DataFrame(
        {
            "返戻年月": date_text(df["return_month"]).str[:7],
            "診療年月": date_text(month).str[:7],
            "患者ID": text(df["cl_patient_id"]).where(matched, text(df["patient_id"])),
            "氏名": text(df["cl_name"]).where(matched & text(df["cl_name"]).ne(""), text(df["name"])),
            "元のレセプト": _claim_where(df).where(matched, "見つかりません"),
            "照合方法": df["match_method"].map(METHOD_LABELS).fillna("—"),
            "返戻理由": (text(df["reason_code"]) + " " + text(df["reason"])).str.strip(),
            "分類": df["_class"].map(CLASS_LABELS_JA),
            "詳細": df["_subtype"],
            "対応": df["_action"].where(
                matched, "元のレセプトが見つかりません。返戻された月のレセプト一覧も読み込んで照合してください。"
            ),
            "再請求": df["_reclaim"].where(matched, "確認待ち"),
            "事前チェック": df["_predicted"].map({True: "指摘済み", False: "なし"}).where(matched, "—"),
            "請求点数": df["points"],
            "返戻ファイル": text(df["_file"]),
            "行": df["_row"].astype("int64"),
        }
    )
