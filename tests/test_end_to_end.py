"""The whole pipeline from the command line, on the real sample files, against hand-computed numbers."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from qualcode.cli.main import cli

from .conftest import CODEBOOKS, SAMPLES

BIRCHWOOD = "Birchwood Elementary"
# ana and ben code the Birchwood principal interview (32 turns): SV and SA on a few turns.
CODINGS = [
    ("ana", 2, "SV"),
    ("ana", 4, "SV"),
    ("ana", 6, "SV"),
    ("ana", 10, "SA"),
    ("ben", 2, "SV"),
    ("ben", 4, "SV"),
    ("ben", 8, "SV"),
    ("ben", 10, "SA"),
    ("ben", 12, "SA"),
]


def run(*args: str, ok: bool = True):
    result = CliRunner().invoke(cli, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e")
    db = str(folder / "study.db")
    run("init", db, "--lead", "lee")
    run("-p", db, "--as", "lee", "import", str(SAMPLES))
    run("-p", db, "--as", "lee", "cases", "import-attributes", str(SAMPLES / "case_attributes.csv"))
    run("-p", db, "--as", "lee", "codebook", "load", str(CODEBOOKS / "seven_conditions.yaml"))
    run("-p", db, "--as", "lee", "coders", "add", "ana")
    run("-p", db, "--as", "lee", "coders", "add", "ben")
    rows = "transcript,case,segment,coder,code\n" + "".join(
        f"Principal interview,{BIRCHWOOD},{seg},{coder},{code}\n" for coder, seg, code in CODINGS
    )
    path = folder / "codings.csv"
    path.write_text(rows, encoding="utf-8")
    run("-p", db, "--as", "lee", "codings", "import", str(path))
    return folder, db


def turns_in_file() -> int:
    """Count the speaker turns of the sample file directly, independent of the importer."""
    text = (SAMPLES / "birchwood_principal_interview.txt").read_text(encoding="utf-8")
    return sum(1 for line in text.splitlines() if line.startswith(("Renata Osei:", "Gloria Anaya:")))


def test_import_lists_every_sample_transcript(study):
    _, db = study
    listing = json.loads(run("transcripts", "list", "--format", "json", "-p", db).output)
    assert len(listing) == 17
    principal = [t for t in listing if t["title"] == "Principal interview" and t["case"] == BIRCHWOOD]
    assert principal[0]["segments"] == turns_in_file() == 32
    assert principal[0]["speakers"] == 2


def test_agreement_matches_the_hand_computation(study):
    _, db = study
    report = json.loads(run("agreement", "--as", "lee", "--format", "json", "-p", db).output)
    n = turns_in_file()
    assert report["units"] == n  # only the transcript both coders finished counts
    # SV: ana {2,4,6}, ben {2,4,8}; SA: ana {10}, ben {10,12}; six codes unused by both.
    po_sv, pe_sv = (n - 2) / n, (3 * 3 + (n - 3) ** 2) / n**2
    po_sa, pe_sa = (n - 1) / n, (1 * 2 + (n - 1) * (n - 2)) / n**2
    per_code = {c["key"]: c for c in report["per_code"]}
    assert per_code["SV"]["cohen_kappa"] == pytest.approx((po_sv - pe_sv) / (1 - pe_sv), abs=1e-6)
    assert per_code["SA"]["cohen_kappa"] == pytest.approx((po_sa - pe_sa) / (1 - pe_sa), abs=1e-6)
    mean_po, mean_pe = (po_sv + po_sa + 6) / 8, (pe_sv + pe_sa + 6) / 8
    assert report["pooled_kappa"] == pytest.approx((mean_po - mean_pe) / (1 - mean_pe), abs=1e-6)
    assert report["pooled_kappa"] == pytest.approx(0.639098, abs=1e-6)


def test_blinding_holds_in_reports_and_exports(study):
    _, db = study
    refused = run("agreement", "--as", "ana", "-p", db, ok=False)
    assert refused.exit_code == 2 and "lead" in refused.output
    own = list(csv.DictReader(io.StringIO(run("codings", "export", "--as", "ana", "-p", db).output)))
    assert {r["coder"] for r in own} == {"ana"} and len(own) == 4
    everyone = list(csv.DictReader(io.StringIO(run("codings", "export", "--as", "lee", "-p", db).output)))
    assert len(everyone) == len(CODINGS)


def test_consensus_tables_and_exports_carry_the_same_counts(study):
    folder, db = study
    run("reconcile", "accept-agreed", "--as", "lee", "-p", db)  # SV on 2 and 4, SA on 10
    table = list(
        csv.DictReader(
            io.StringIO(run("table", "cqr", "--case-unit", "case", "--format", "csv", "--as", "lee", "-p", db).output)
        )
    )
    counts = {r["Domain"]: (int(r["Blocks"]), int(r["Cases"])) for r in table}
    assert counts["Shared vision and strategy"] == (2, 1)
    assert counts["Supportive administration"] == (1, 1)
    assert counts["Work design"] == (0, 0)

    out = folder / "table.docx"
    run("table", "cqr", "--case-unit", "case", "--format", "docx", "--out", str(out), "--as", "lee", "-p", db)
    import docx

    cells = [[c.text for c in row.cells] for row in docx.Document(str(out)).tables[0].rows]
    body = {row[0]: row[2:4] for row in cells[1:]}
    assert body["Shared vision and strategy"] == ["2", "1"]

    matrix = list(
        csv.reader(
            io.StringIO(run("matrix", "--cell", "count,survey_SV", "--format", "csv", "--as", "lee", "-p", db).output)
        )
    )
    header, rows = matrix[0], {r[0]: r for r in matrix[1:]}
    cell = rows["Shared vision and strategy"][header.index(BIRCHWOOD)]
    with open(SAMPLES / "case_attributes.csv", encoding="utf-8") as fh:
        survey = {r["case"]: r["survey_SV"] for r in csv.DictReader(fh)}
    assert cell.startswith("2 segments, 1 participant")
    assert f"survey_SV = {float(survey[BIRCHWOOD]):.2f}" in cell


def test_bad_input_changes_nothing(study, tmp_path):
    _, db = study
    before = run("status", "-p", db).output
    missing = run("import", str(tmp_path / "nope.txt"), "-p", db, ok=False)
    assert missing.exit_code == 2 and "nope.txt" in missing.output
    bad = tmp_path / "bad.csv"
    bad.write_text("transcript,segment,coder,code\nPrincipal interview,1,ana,SV\n", encoding="utf-8")
    ambiguous = run("codings", "import", str(bad), "--as", "lee", "-p", db, ok=False)
    assert ambiguous.exit_code == 2 and "ambiguous" in ambiguous.output
    assert run("status", "-p", db).output == before
