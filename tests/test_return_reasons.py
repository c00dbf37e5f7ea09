from __future__ import annotations

import pytest

from rules.domain.return_reasons import classify_return


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("記号・番号の誤り", ("eligibility", "記号・番号の誤り")),
        ("記号番号相違", ("eligibility", "記号・番号の誤り")),
        ("該当者なし", ("eligibility", "該当者なし")),
        ("資格喪失後の受診", ("eligibility", "資格喪失後の受診")),
        ("資格喪失後受診（R8.9.30喪失）", ("eligibility", "資格喪失後の受診")),
        ("本人・家族等誤り", ("eligibility", "本人・家族等誤り")),
        ("旧証によるもの", ("eligibility", "旧証")),
        ("後期高齢者該当", ("eligibility", "後期高齢者該当")),
        ("国保該当", ("eligibility", "国保該当")),
        ("生年月日の誤り", ("eligibility", "生年月日の誤り")),
        ("性別の誤り", ("eligibility", "性別の誤り")),
        ("患者氏名の誤り", ("eligibility", "氏名の誤り")),
        ("認定外家族", ("eligibility", "認定外家族")),
        ("給付期間満了", ("eligibility", "給付期間満了")),
        ("不詳レセプト記載不備（連絡先なし）", ("fusho", "記載不備")),
        ("摘要欄記載不備", ("fusho", "記載不備")),
        ("負担割合誤り", ("ratio", "")),
        ("一部負担金の区分誤り", ("ratio", "")),
        ("請求内容不備", ("other", "")),
        ("", ("other", "")),
    ],
)
def test_classify_return(reason: str, expected: tuple[str, str]) -> None:
    assert classify_return(reason) == expected


def test_note_and_fullwidth_count() -> None:
    assert classify_return("", note="ﾌｼｮｳ 連絡先未記載") == ("fusho", "記載不備")
    assert classify_return("資格確認", note="喪失") == ("eligibility", "資格喪失後の受診")
