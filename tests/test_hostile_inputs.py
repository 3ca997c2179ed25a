"""Hostile inputs (issue 12): each answered with one line naming the file (and line), exit 2, nothing
changed; limits on what archives unpack, how deep codebooks nest, and how long a parser may take.

The files come from ``tests/hostile/make_corpus.py``, written into a temporary folder per test session.
"""

from __future__ import annotations

import csv
import json
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from qualcode import decoding
from qualcode.cli.main import cli
from qualcode.codebook.formats import read_codebook
from qualcode.errors import InputError
from qualcode.ingest import speakers
from qualcode.ingest.attributes import read_case_attributes
from qualcode.ingest.manifest import read_manifest
from qualcode.ingest.sources import read_sources
from qualcode.ingest.speakers import compile_speaker_pattern
from tests.hostile.make_corpus import CELL, make_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return make_corpus(tmp_path_factory.mktemp("hostile"))


@pytest.fixture
def run(project_path):
    def invoke(*args: str):
        return CliRunner().invoke(cli, [*args, "--project", str(project_path)])

    invoke("init")
    return invoke


@pytest.fixture
def small_csv_cells(monkeypatch):
    """A low cell limit for one test; the process-wide csv limit is put back afterwards."""
    before = csv.field_size_limit()
    monkeypatch.setattr(decoding, "MAX_CSV_CELL", 1000)
    yield
    csv.field_size_limit(before)


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- archives ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, message",
    [
        ("crc.qdpx", r"crc\.qdpx:sources/a\.txt: damaged archive member \(Bad CRC-32"),
        ("encrypted.qdpx", r"encrypted\.qdpx:sources/a\.txt: encrypted member"),
        ("method.qdpx", r"method\.qdpx:sources/a\.txt: unsupported compression method 99"),
        ("claims_huge.qdpx", r"claims_huge\.qdpx:sources/a\.txt: unpacks to 1073741824 bytes, more than the 512 MB"),
    ],
)
def test_damaged_qdpx_is_one_error_naming_the_member(corpus, name, message):
    with pytest.raises(InputError, match=message):
        read_sources(corpus[name], "qdpx")


def test_qdpx_that_unpacks_past_the_limit_is_stopped_while_unpacking(corpus, monkeypatch):
    monkeypatch.setattr(decoding, "MAX_UNPACKED_BYTES", 1024 * 1024)  # the file unpacks to 2 MB
    with pytest.raises(InputError, match=r"bomb\.qdpx:sources/a\.txt: unpacks to .*more than the 1 MB"):
        read_sources(corpus["bomb.qdpx"], "qdpx")


def test_docx_with_malformed_document_xml(corpus):
    with pytest.raises(InputError, match=r"malformed\.docx: not a readable \.docx \(malformed XML"):
        read_sources(corpus["malformed.docx"], "docx")


@pytest.mark.parametrize("name", ["crc.qdpx", "encrypted.qdpx", "method.qdpx", "malformed.docx", "mixed_utf8.txt"])
def test_import_of_one_bad_file_is_one_line_and_exit_2(run, corpus, name):
    line = one_error_line(run("import", str(corpus[name])))
    assert line.startswith(f"error: {corpus[name]}")
    assert json.loads(run("transcripts", "list", "--format", "json").output) == []


def test_a_folder_batch_goes_on_past_bad_files_and_reports_each(run, corpus, tmp_path):
    folder = tmp_path / "Lincoln"
    folder.mkdir()
    (folder / "good.txt").write_text("P1: fine\n", encoding="utf-8")
    for name in ("crc.qdpx", "encrypted.qdpx", "malformed.docx"):
        (folder / name).write_bytes(corpus[name].read_bytes())
    (folder / "undecodable.csv").write_bytes(b"speaker,text\nAna,\x81\x8d\n")
    result = run("import", str(folder))
    assert result.exit_code == 2
    assert f"imported  {folder / 'good.txt'} -> 'good' (case Lincoln)" in result.stdout
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed")]
    assert [line.split()[1].split(":")[0] for line in failed] == [
        str(folder / name) for name in ("crc.qdpx", "encrypted.qdpx", "malformed.docx", "undecodable.csv")
    ]
    assert result.stderr.splitlines()[-1] == "error: 1 imported, 0 skipped, 4 failed"
    assert [t["title"] for t in json.loads(run("transcripts", "list", "--format", "json").output)] == ["good"]


# -- CSV cells --------------------------------------------------------------------------------------
def test_csv_cells_over_128_kb_are_read(corpus, tmp_path):
    [source], _ = read_sources(corpus["big_cell.csv"], "csv")
    assert len(source.parsed.text) > CELL
    [value] = read_case_attributes(corpus["big_cell_attributes.csv"])
    assert len(value.value) == CELL
    model = read_codebook(corpus["big_cell_codebook.csv"])
    assert len(model.codes[0].definition) == CELL
    (tmp_path / "a.txt").write_text("P1: hi\n", encoding="utf-8")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(f"file,case,title\na.txt,Lincoln,{'t' * CELL}\n", encoding="utf-8")
    [entry] = read_manifest(manifest).values()
    assert entry.title is not None and len(entry.title) == CELL


def test_a_cell_over_the_limit_names_file_and_line(corpus, small_csv_cells):
    for path, read in (
        (corpus["big_cell.csv"], lambda p: read_sources(p, "csv")),
        (corpus["big_cell_attributes.csv"], read_case_attributes),
        (corpus["big_cell_codebook.csv"], read_codebook),
    ):
        with pytest.raises(InputError, match=rf"^{re.escape(str(path))}:2: cannot read this CSV row: a cell longer"):
            read(path)


# -- time and text ----------------------------------------------------------------------------------
def test_vtt_parsing_time_is_linear(corpus):
    started = time.perf_counter()
    [source], _ = read_sources(corpus["quadratic.vtt"], "vtt")  # no tag closes: every '<' stays, as before
    assert source.parsed.text.endswith("<<<") and time.perf_counter() - started < 2  # was 70 s


def test_docx_bold_label_time_is_linear(corpus):
    started = time.perf_counter()
    [source], _ = read_sources(corpus["blank_label.docx"], "docx")  # 20,000 blanks: did not finish in minutes
    assert source.parsed.turns[0].speaker.startswith("Ana") and time.perf_counter() - started < 2


def test_a_backtracking_speaker_pattern_is_stopped_with_the_file_named(corpus, monkeypatch):
    monkeypatch.setattr(speakers, "SPEAKER_PATTERN_SECONDS", 0.5)
    path = corpus["backtracking.txt"]
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}: --speaker-pattern took more than 0\.5 s"):
        read_sources(path, "txt", compile_speaker_pattern(r"^(?P<speaker>(a|aa)+)b"))
    started = time.perf_counter()  # the pattern of the issue, which hung forever with re
    [source], _ = read_sources(path, "txt", compile_speaker_pattern(r"^(?P<speaker>(a+)+)b"))
    assert source.parsed.turns == [] and time.perf_counter() - started < 2


def test_mixed_utf8_says_where_the_bad_bytes_are(corpus, run):
    path = corpus["mixed_utf8.txt"]
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}:2: byte 0xe9 at byte offset 15 \(column 5\)"):
        read_sources(path, "txt")
    [source], _ = read_sources(path, "txt", encoding="latin-1")
    assert source.parsed.text.startswith("Ana: cafÃ©\nBo: été")
    assert run("import", str(path), "--encoding", "latin-1").exit_code == 0
    unknown = one_error_line(run("import", str(path), "--encoding", "klingon"))
    assert unknown == "error: --encoding: unknown encoding 'klingon' (e.g. utf-8, cp1252, latin-1, utf-16)"


# -- codebooks --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, message",
    [
        ("bomb.yaml", r"bomb\.yaml:3: YAML anchors and aliases \(&name, \*name\) are not allowed"),
        ("recursive.yaml", r"recursive\.yaml:2: YAML anchors and aliases"),
        ("deep.yaml", r"deep\.yaml:2: nested deeper than a codebook can be \(100 levels of codes\)"),
        ("deep_codes.yaml", r"deep_codes\.yaml:\d+: nested deeper than a codebook can be"),
        ("deep_chain.csv", r"deep_chain\.csv: row 102: codes nest deeper than 100 levels"),
        ("deep.qdc", r"deep\.qdc:2: nested deeper than a codebook can be \(100 levels of codes\)"),
        ("deep_codes.qdc", r"deep_codes\.qdc:\d+: codes nest deeper than 100 levels"),
    ],
)
def test_codebook_bombs_and_depth_fail_fast_with_one_line(corpus, name, message):
    started = time.perf_counter()
    with pytest.raises(InputError, match=message) as raised:
        read_codebook(corpus[name])
    assert len(str(raised.value).splitlines()) == 1
    assert time.perf_counter() - started < 2  # the 569-byte bomb took 14 s and 400 MB


def test_codebook_load_of_an_alias_bomb_is_exit_2(run, corpus):
    line = one_error_line(run("codebook", "load", str(corpus["bomb.yaml"])))
    assert line.startswith(f"error: {corpus['bomb.yaml']}:3: YAML anchors and aliases")


def test_a_long_parent_chain_within_the_limit_loads(tmp_path):
    path = tmp_path / "chain.csv"
    path.write_text("code,parent\nc0,\n" + "".join(f"c{i},c{i - 1}\n" for i in range(1, 100)), encoding="utf-8")
    model = read_codebook(path)
    assert model.count() == 100 and max(depth for _, _, depth in model.walk()) == 99


# -- case attributes and manifests ------------------------------------------------------------------
def test_a_date_that_is_not_a_day_is_refused_with_file_and_line(corpus, tmp_path):
    path = corpus["bad_date.csv"]
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}:3: started = '2024-02-30' is not a YYYY-MM-DD"):
        read_case_attributes(path)
    (tmp_path / "a.txt").write_text("P1: hi\n", encoding="utf-8")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,case,date\na.txt,Lincoln,2023-02-29\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"manifest\.csv:2: date '2023-02-29' is not a day of the calendar"):
        read_manifest(manifest)


def test_a_duplicate_attribute_column_is_refused(corpus, run):
    path = corpus["duplicate_column.csv"]
    line = one_error_line(run("cases", "import-attributes", str(path), "--create-cases"))
    assert line == f"error: {path}:1: column 'level' appears twice (columns 2 and 3)"
    assert json.loads(run("cases", "list", "--format", "json").output) == []
