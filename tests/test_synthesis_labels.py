"""CQR frequency labels: Hill et al. (2005) and Hill et al. (1997) edges, by hand."""

import pytest

from qualcode.errors import QualcodeError
from qualcode.synthesis.labels import MISCELLANEOUS, parse_rule


@pytest.mark.parametrize(
    "count, n, label",
    [
        (12, 12, "general"),  # all
        (11, 12, "general"),  # all but one
        (10, 12, "typical"),
        (7, 12, "typical"),  # more than half
        (6, 12, "variant"),  # exactly half is not "more than half"
        (2, 12, "variant"),
        (1, 12, MISCELLANEOUS),  # a single case
        (0, 12, ""),
        (15, 15, "general"),
        (3, 15, "variant"),
        (2, 15, "variant"),  # N = 15: no "rare" yet
        (16, 16, "general"),
        (15, 16, "general"),
        (14, 16, "typical"),
        (9, 16, "typical"),
        (8, 16, "variant"),  # exactly half of 16
        (4, 16, "variant"),
        (3, 16, "rare"),
        (2, 16, "rare"),
        (1, 16, MISCELLANEOUS),
        (2, 2, "general"),
        (1, 2, MISCELLANEOUS),  # single case wins over "all but one"
    ],
)
def test_hill2005(count, n, label):
    assert parse_rule("hill2005").label(count, n) == label


@pytest.mark.parametrize(
    "count, n, label",
    [
        (8, 8, "general"),
        (7, 8, "typical"),
        (4, 8, "typical"),  # at least half
        (3, 8, "variant"),
        (2, 8, "variant"),
        (1, 8, MISCELLANEOUS),
    ],
)
def test_hill1997(count, n, label):
    assert parse_rule("hill1997").label(count, n) == label


def test_default_is_hill2005():
    assert parse_rule(None).name == "hill2005"


def test_custom_rule_with_a_condition():
    rule = parse_rule("general = N; typical >= N/2; variant >= 3 if N > 10; variant >= 2 if N <= 10")
    assert [rule.label(c, 12) for c in (12, 6, 3, 2)] == ["general", "typical", "variant", ""]
    assert rule.label(2, 8) == "variant"


def test_description_spells_out_the_ranges():
    assert parse_rule("hill2005").describe(16) == (
        "Frequency labels (Hill et al., 2005; N = 16 cases): general = 15–16 cases; typical = 9–14 cases; "
        "variant = 4–8 cases; rare = 2–3 cases; a category found in a single case is listed as miscellaneous."
    )


@pytest.mark.parametrize("spec", ["general >= lots", "typical", "general >= N-1; ; variant =>2", ""])
def test_bad_rules_are_refused_in_one_line(spec):
    if spec == "":
        assert parse_rule(spec).name == "hill2005"
        return
    with pytest.raises(QualcodeError) as err:
        parse_rule(spec)
    assert "\n" not in str(err.value)


def test_labels_none_lists_every_category_without_labels_or_miscellaneous(demo_copy):
    from qualcode.project import Project
    from qualcode.synthesis.cqr import cqr_table
    from qualcode.synthesis.labels import parse_rule

    assert parse_rule("none").label(1, 4) == "" and parse_rule("NONE").label(4, 4) == ""
    with Project(demo_copy) as project, project.read() as s:
        plain = cqr_table(s, codebook="cqr", labels="none", viewer="lee")
        labelled = cqr_table(s, codebook="cqr", viewer="lee")
    table, usual = plain.table(), labelled.table()
    assert "Label" not in table.columns and "Label" in usual.columns
    single_case = set(labelled.miscellaneous["category"])
    assert single_case, "the demo has single-case categories"
    listed = {row[1] for row in table.rows}
    assert single_case <= listed and not single_case & {row[1] for row in usual.rows}
    assert "Miscellaneous" not in table.note and "No frequency labels" in table.note
    # The counts are the same table's: only the labels and the miscellaneous list go.
    assert len(table.rows) == len(usual.rows) + len(single_case)


def test_table_cqr_without_codebook_uses_the_cqr_codebook_as_the_workbench_does(demo_copy):
    from click.testing import CliRunner

    from qualcode.cli.main import cli

    # The demo's active codebook is the seven conditions; its CQR codebook is not active.
    plain = CliRunner().invoke(cli, ["-p", str(demo_copy), "--as", "lee", "table", "cqr"])
    named = CliRunner().invoke(cli, ["-p", str(demo_copy), "--as", "lee", "table", "cqr", "--codebook", "cqr"])
    assert plain.exit_code == 0 and named.exit_code == 0
    assert plain.output.splitlines()[0].startswith("Domains and Categories in CQR:")
    assert plain.output == named.output
