"""What several rules share, pure (no application code; no I/O but reading the package's own
variant table, ``rules/name_variants.json``, once).

- ``age``: the burden ratio by age at every legal boundary (DOMAIN §2);
- ``cards``: the kind of card (資格確認方法, 証の種類), whether it is in force (the paper
  card's grace), and the comparison key of 記号・番号 (DOMAIN §3, §4);
- ``columns``: fast whole-column primitives on the Arrow-backed text columns (distinct values,
  membership, comparisons) as NumPy arrays;
- ``codes``: the stored codes as enums (資格有効性, 本人・家族, 性別, 証の種類, 返戻の分類, 照合方法) with
  labels and spellings;
- ``context``: the columns every rule uses, derived once from the linked table, and text helpers;
- ``eras``: the one 和暦 table (names, letters, GYYMMDD digits, first and last days);
- ``insurer``: 保険者番号 structure, check digit, 不詳 markers;
- ``names``: name and kana folding (width, spaces, look-alikes of ー, variation selectors,
  旧字体/異体字 from the generated ``rules/name_variants.json``, ● as a wildcard);
- ``return_reasons``: classifying a 返戻 by its reason;
- ``tekiyo``: the 不詳 摘要 checklist and its reader, with its recognisers in
  ``tekiyo_shapes`` (labels, phone numbers, dates) and ``tekiyo_words`` (保険種別, names, addresses).
"""

__all__ = [
    "age",
    "cards",
    "codes",
    "columns",
    "context",
    "eras",
    "insurer",
    "names",
    "return_reasons",
    "tekiyo",
    "tekiyo_shapes",
    "tekiyo_words",
]
