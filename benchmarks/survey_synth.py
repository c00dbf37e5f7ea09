"""Synthetic survey submissions (seeded) for the tests and the benchmark — not part of the application.

``seeds_submissions``: 8,672 clinics whose true answers are the 保団連 2024-01 survey's
published counts (seeds/004); ``random_submissions``: many clinics × months.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from worker.survey.schema import SCHEMA, Count, FullCharge, Money, Returns, Submission

__all__ = ["SEEDS_2024_01", "random_submissions", "seeds_submissions"]

#: seeds/004: the published answers (n = 8,672)
SEEDS_2024_01 = {
    "clinics": 8672,
    "types": {"医科診療所": 6216, "歯科診療所": 1744, "病院": 582, None: 130},
    "trouble": 5188,
    "items": {  # 問4, category counted for it
        "masked_characters": 3492,
        "eligibility_invalid": 2554,
        "eligibility_not_found": 1321,
        "name_mismatch": 1071,
        "ratio_online_vs_card": 776,
        "limit_category_mismatch": 307,
        "identity_mismatch": 102,
    },
    "full_charge_clinics": 403,
    "full_charge_cases": 753,
    "returned_clinics": 1231,
}
#: seeds/004's 38 prefectures
PREFS_38 = tuple(
    [
        "北海道",
        "青森県",
        "岩手県",
        "宮城県",
        "秋田県",
        "茨城県",
        "栃木県",
        "群馬県",
        "埼玉県",
        "東京都",
        "神奈川県",
        "山梨県",
        "新潟県",
        "富山県",
        "石川県",
        "長野県",
        "岐阜県",
        "静岡県",
        "三重県",
        "滋賀県",
        "京都府",
        "大阪府",
        "兵庫県",
        "奈良県",
        "和歌山県",
        "鳥取県",
        "岡山県",
        "広島県",
        "山口県",
        "香川県",
        "愛媛県",
        "高知県",
        "福岡県",
        "佐賀県",
        "大分県",
        "宮崎県",
        "鹿児島県",
        "沖縄県",
    ]
)
KINDS = ("国保", "社保", "後期")
SEVERITY = {"masked_characters": "info", "eligibility_not_found": "error", "name_mismatch": "warning"}


def _sub(clinic: str, pref: str, ctype: str | None, month: str, counts: dict[tuple[str, str], int],
         full: int, returned: int, receipts: int) -> Submission:  # fmt: skip
    return Submission(
        schema=SCHEMA, clinic=clinic, prefecture=pref, clinic_type=ctype, month=month, henrei_version="0.1.0",
        created_at=datetime(2024, 2, 10, tzinfo=UTC), receipts=receipts,
        counts=[Count(c, SEVERITY.get(c, "error"), k, n) for (c, k), n in sorted(counts.items())],  # type: ignore[arg-type]
        returns=Returns(eligibility=returned), full_charge=FullCharge(cases=full, refund_yen=full * 4_560),
        money=Money(overpaid_yen=full * 4_560),
    )  # fmt: skip


def seeds_submissions(month: str = "2024-01", seed: int = 4) -> list[Submission]:
    """One submission per clinic whose answers add up to ``SEEDS_2024_01`` exactly."""
    rng = random.Random(seed)
    s = SEEDS_2024_01
    n, trouble = s["clinics"], s["trouble"]
    assert isinstance(n, int) and isinstance(trouble, int)
    order = list(range(n))
    rng.shuffle(order)  # order[:trouble] had trouble
    types = [t for t, k in s["types"].items() for _ in range(k)]  # type: ignore[attr-defined]
    rng.shuffle(types)
    counts: list[dict[tuple[str, str], int]] = [{} for _ in range(n)]
    start = 0
    for cat, k in s["items"].items():  # type: ignore[attr-defined]
        for j in range(k):  # consecutive windows over the clinics with trouble: their union is all of them
            c = order[(start + j) % trouble]
            counts[c][(cat, rng.choice(KINDS))] = rng.randint(1, 6)
        start += k
    full = [0] * n
    fc, cases = s["full_charge_clinics"], s["full_charge_cases"]
    assert isinstance(fc, int) and isinstance(cases, int)
    chosen = rng.sample(range(n), fc)
    for j, c in enumerate(chosen):
        full[c] = 1 + (1 if j < cases - fc else 0)
    returned = [0] * n
    for c in rng.sample(range(n), s["returned_clinics"]):  # type: ignore[arg-type]
        returned[c] = rng.randint(1, 4)
    return [
        _sub(
            f"A{c:05d}",
            PREFS_38[c % len(PREFS_38)],
            types[c],
            month,
            counts[c],
            full[c],
            returned[c],
            rng.randint(200, 3000),
        )
        for c in range(n)
    ]


def random_submissions(clinics: int, months: list[str], seed: int = 7) -> list[Submission]:
    """``clinics`` × ``months`` submissions with a few counts each."""
    rng = random.Random(seed)
    cats = (*SEEDS_2024_01["items"], "insurer_changed", "ecert_expired", "ratio_billed_vs_verified")  # type: ignore[misc]
    out = []
    for c in range(clinics):
        pref = PREFS_38[c % len(PREFS_38)]
        ctype = ("医科診療所", "歯科診療所", "病院")[c % 3]
        for m in months:
            counts = {(rng.choice(cats), rng.choice(KINDS)): rng.randint(1, 9) for _ in range(rng.randint(0, 8))}
            full = rng.randint(0, 1) if rng.random() < 0.05 else 0
            out.append(_sub(f"B{c:05d}", pref, ctype, m, counts, full, rng.randint(0, 3), rng.randint(100, 5000)))
    return out
