"""The one list of categories (``rules.registry``): discovered from the rule modules, in
CONTRACT §2 order, each with its fixture file, rule IDs and renamed IDs consistent, and
the README's category table generated from it."""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

import rules
from rules import registry
from rules.registry import (
    CATEGORIES,
    CATEGORY_LIST,
    NEEDED_BY,
    RECEIPT_RULES,
    RULE_ID_ALIASES,
    RULE_IDS,
    canonical_rule_id,
    category_of,
    discover,
    readme_table,
)
from worker.normalise.typed import CHECKED

ROOT = Path(__file__).parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "rules"
README_START, README_END = "<!-- categories:start -->", "<!-- categories:end -->"

#: CONTRACT §2, the stable names in their order (associations count by them)
CONTRACT_CATEGORIES = (
    "ratio_online_vs_card",
    "ratio_billed_vs_verified",
    "ratio_implausible_for_age",
    "limit_category_mismatch",
    "eligibility_invalid",
    "eligibility_not_found",
    "insurer_changed",
    "identity_mismatch",
    "name_mismatch",
    "masked_characters",
    "insurer_number_invalid",
    "card_number_format",
    "relation_mismatch",
    "card_expired",
    "ecert_expired",
    "fusho_missing_entry",
    "fusho_not_allowed",
    "fusho_followup_required",
    "full_charge_collected",
    "returned",
    "return_unmatched",
    "input_invalid",
)


def test_categories_are_contract_order() -> None:
    # every CONTRACT category is registered, in CONTRACT order; a new one may be added (a
    # contract change: CONTRACT §2 gets it too) but none renamed, dropped or moved
    assert [c for c in CATEGORIES if c in CONTRACT_CATEGORIES] == list(CONTRACT_CATEGORIES)
    assert rules.CATEGORIES == CATEGORIES  # the package's public name, loaded lazily
    assert list(rules.CATEGORY_LABELS_JA) == list(CATEGORIES)


def test_labels_are_unchanged() -> None:
    labels = {c: rules.CATEGORY_LABELS_JA[c] for c in CONTRACT_CATEGORIES}
    assert labels == {
        "ratio_online_vs_card": "負担割合の不一致（オン資と券面）",
        "ratio_billed_vs_verified": "請求した負担割合の誤り",
        "ratio_implausible_for_age": "年齢・保険者とあわない負担割合",
        "limit_category_mismatch": "限度額区分の不一致",
        "eligibility_invalid": "資格無効",
        "eligibility_not_found": "該当資格なし",
        "insurer_changed": "保険者の変更が未反映",
        "identity_mismatch": "生年月日・性別の不一致（別人の可能性）",
        "name_mismatch": "氏名の不一致",
        "masked_characters": "氏名・住所の●表示",
        "insurer_number_invalid": "保険者番号の誤り",
        "card_number_format": "記号・番号・枝番の形式誤り",
        "relation_mismatch": "本人・家族の不一致",
        "card_expired": "証の有効期限切れ",
        "ecert_expired": "電子証明書の期限切れ",
        "fusho_missing_entry": "不詳レセプトの摘要記載漏れ",
        "fusho_not_allowed": "不詳レセプトにできない請求",
        "fusho_followup_required": "不詳レセプトの要確認",
        "full_charge_collected": "10割徴収（返金が必要）",
        "returned": "返戻",
        "return_unmatched": "元のレセプトが見つからない返戻",
        "input_invalid": "読み取れない値",
    }


def test_receipt_rules_are_the_receipt_stage_in_order() -> None:
    receipt = [c.name for c in CATEGORY_LIST if c.stage == "receipt"]
    assert [m.__name__ for m in RECEIPT_RULES] == [f"rules.{c}" for c in receipt]
    assert {c.name for c in CATEGORY_LIST if c.stage == "return"} == {"returned", "return_unmatched"}
    assert {c.name for c in CATEGORY_LIST if c.stage == "input"} == {"input_invalid"}
    assert all(callable(m.check) for m in RECEIPT_RULES)


def test_every_category_has_its_cases() -> None:
    for c in CATEGORY_LIST:
        assert (ROOT / c.tested_by).is_file(), f"{c.name}: {c.tested_by} does not exist"
        if not c.has_fixture:
            assert not (ROOT / c.fixture).exists(), f"{c.name} has a fixture file but names {c.tested_by}"
    by_fixture = {c.fixture: c.name for c in CATEGORY_LIST if c.has_fixture}
    for path in FIXTURES.glob("*.toml"):
        rel = path.relative_to(ROOT).as_posix()
        assert rel in by_fixture, f"{rel} names no registered category with a fixture file"
    # the return categories are covered by test_returns, and the registry says so
    assert {c.name: c.tested_by for c in CATEGORY_LIST if not c.has_fixture} == {
        "returned": "tests/test_returns.py",
        "return_unmatched": "tests/test_returns.py",
    }


def test_rule_ids_and_aliases_are_consistent() -> None:
    declared = [r for c in CATEGORY_LIST for r in c.rule_ids]
    assert len(declared) == len(set(declared)), "a rule ID is declared twice"
    assert all(c.rule_ids for c in CATEGORY_LIST), "a category declares no rule ID"
    old = [o for c in CATEGORY_LIST for o in c.aliases]
    assert len(old) == len(set(old)), "an old rule ID is aliased by two modules"
    for c in CATEGORY_LIST:
        for o, new in c.aliases.items():
            assert new in c.rule_ids, f"{c.name}: alias {o} -> {new}, which the module does not emit"
            assert o not in declared, f"{c.name}: {o} is both a current rule ID and an alias"
    assert set(RULE_ID_ALIASES) == set(old)


def test_input_invalid_rule_ids_name_the_checked_fields() -> None:
    fields = [*CHECKED, "patient_id"]
    assert set(RULE_IDS["input_invalid"]) == {f"input_invalid.{f}" for f in fields}


def _module(name: str, **attrs: object) -> ModuleType:
    module = ModuleType(f"rules.{name}")
    module.__dict__.update(attrs)
    return module


def _meta(name: str, **extra: object) -> dict[str, object]:
    return {
        "CATEGORY": name,
        "ORDER": 999,
        "LABEL_JA": "ラベル",
        "SUMMARY_JA": "内容",
        "RULE_IDS": ("NEW_ID",),
        "ALIASES": {},
        "NEEDS": (),
        "check": lambda df: df,
        **extra,
    }


def test_an_alias_maps_the_old_id_to_the_new_one() -> None:
    entry = category_of(_module("renamed_rule", **_meta("renamed_rule", ALIASES={"OLD_ID": "NEW_ID"})))
    assert canonical_rule_id("OLD_ID", entry.aliases) == "NEW_ID"
    assert canonical_rule_id("NEW_ID", entry.aliases) == "NEW_ID"
    assert canonical_rule_id("OTHER", entry.aliases) == "OTHER"
    assert canonical_rule_id("RATIO_BILLED") == "RATIO_BILLED"  # the real registry: no renames yet
    assert rules.canonical_rule_id is canonical_rule_id


def test_a_module_missing_metadata_is_named() -> None:
    meta = _meta("half_done")
    del meta["RULE_IDS"]
    with pytest.raises(TypeError, match=r"rules\.half_done: a rule module must declare RULE_IDS"):
        category_of(_module("half_done", **meta))
    with pytest.raises(TypeError, match="must be the module's name"):
        category_of(_module("other_name", **_meta("half_done")))
    meta = _meta("no_check")
    del meta["check"]
    with pytest.raises(TypeError, match="a receipt rule needs check"):
        category_of(_module("no_check", **meta))


def test_discovery_finds_a_new_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "scratch_rules"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text("X = 1\n")  # no CATEGORY: not a rule
    (package / "new_rule.py").write_text(
        textwrap.dedent(
            """
            CATEGORY = "new_rule"
            ORDER = 5
            LABEL_JA = "新しい区分"
            SUMMARY_JA = "新しい区分の内容"
            RULE_IDS = ("NEW_RULE",)
            ALIASES = {}
            NEEDS = ()
            def check(df):
                return df
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        found = discover("scratch_rules", package)
    finally:
        for name in [m for m in sys.modules if m.startswith("scratch_rules")]:
            del sys.modules[name]
    assert [(c.name, c.rule_ids, c.stage, c.tested_by) for c in found] == [
        ("new_rule", ("NEW_RULE",), "receipt", "tests/fixtures/rules/new_rule.toml")
    ]
    assert readme_table(found) == "| 区分 | 内容 |\n|---|---|\n| new_rule | 新しい区分の内容 |\n"


def test_readme_table_is_generated_from_the_registry() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert README_START in text and README_END in text, f"README.md lacks {README_START} … {README_END}"
    current = text.split(README_START, 1)[1].split(README_END, 1)[0].strip()
    assert current == readme_table().strip(), (
        "README.md's category table differs from the rule modules' metadata. Regenerate it with\n"
        "    .venv/bin/python -m rules.registry\n"
        f"and paste the output between {README_START} and {README_END}."
    )


def test_rules_import_nothing_of_the_application() -> None:
    for path in (ROOT / "rules").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            bad = [n for n in names if n.split(".")[0] in ("worker", "tasks")]
            assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_registry_module_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    registry.main()
    assert capsys.readouterr().out == readme_table()


def test_needs_names_the_tables_each_category_compares_with() -> None:
    # what a run without online results or card records names as checks that could not run
    assert NEEDED_BY["online"][:2] == ("ratio_online_vs_card", "ratio_billed_vs_verified")
    assert {"eligibility_invalid", "eligibility_not_found", "ecert_expired"} <= set(NEEDED_BY["online"])
    assert "card_expired" in NEEDED_BY["cards"] and "card_expired" not in NEEDED_BY["online"]
    assert not {"eligibility_invalid", "ecert_expired"} & set(NEEDED_BY["cards"])
    assert NEEDED_BY["returns"] == ("returned", "return_unmatched")
    for name in ("insurer_number_invalid", "fusho_missing_entry", "input_invalid"):
        assert all(name not in cats for cats in NEEDED_BY.values())
    with pytest.raises(TypeError, match="NEEDS may name only"):
        category_of(_module("odd", **_meta("odd", NEEDS=("receipts",))))
    meta = _meta("no_needs")
    del meta["NEEDS"]
    with pytest.raises(TypeError, match="must declare NEEDS"):
        category_of(_module("no_needs", **meta))
