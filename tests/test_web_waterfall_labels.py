"""Every field and level label the store's linkage can put in a waterfall is a msgid with an
Arabic translation, so an Arabic page never shows an English label."""

from __future__ import annotations

from babel.messages.pofile import read_po

from athar.linkage.comparisons import comparisons
from athar.linkage.spec import load_spec
from athar.web import waterfall
from athar.web.i18n import translations_dir


def _labels() -> tuple[set[str], set[str]]:
    fields, levels = set(), set()
    for creator in comparisons(load_spec("interchange")):
        comparison = creator.get_comparison("duckdb")
        fields.add(comparison.output_column_name)
        levels |= {level.label_for_charts for level in comparison.comparison_levels}
    return fields, levels


def test_every_label_of_the_packaged_linkage_is_marked_for_translation() -> None:
    fields, levels = _labels()
    assert fields <= set(waterfall.FIELDS), fields - set(waterfall.FIELDS)
    assert levels <= set(waterfall.LEVELS), levels - set(waterfall.LEVELS)


def test_every_waterfall_label_has_an_arabic_translation() -> None:
    with (translations_dir() / "ar" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    wanted = set(waterfall.FIELDS.values()) | set(waterfall.LEVELS)
    missing = sorted(m for m in wanted if m not in catalog or not catalog[m].string)
    assert missing == []
