"""The qc tool (PyPI ``qualitative-coding``) as a real REFI-QDA peer, both ways.

``.ci/install-qc-peer`` installs it into a virtual environment of its own (``.ci/.venvs/qc``);
these tests skip cleanly where it is absent. qc 1.7.8 has a stray ``breakpoint()`` in its reader,
so it runs with ``PYTHONBREAKPOINT=0``. qc codes whole lines: a project made with qc's own commands
(init, corpus import, code with an editor that writes the codes file, export) is imported here with
every coding on the turn its line holds; a project exported here is imported by qc with its users,
codes and codings (qc's own database is read to check, line by line).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from lxml import etree
from sqlmodel import col, select

from qualcode.cli.main import cli
from qualcode.exchange.refi_export import export_refi_project
from qualcode.exchange.refi_import import import_refi_project
from qualcode.project import Project
from qualcode.store.models import Code, Coder, Coding, Segment, SegmentStatus, Transcript

ROOT = Path(__file__).resolve().parents[1]
QC = ROOT / ".ci" / ".venvs" / "qc" / "bin" / "qc"
P = "{urn:QDA-XML:project:1.0}"

pytestmark = pytest.mark.skipif(not QC.exists(), reason="the qc peer is not installed (.ci/install-qc-peer)")

INTERVIEW = (
    "Interviewer: How do you plan lessons?\n"
    "Teacher: We plan together on Mondays.\n"
    "Interviewer: And meetings?\n"
    "Teacher: We meet weekly, but time is short.\n"
    "Teacher: Time is the hardest part.\n"
)
# The codes ann types beside each line (0-based) in qc's codes file.
ANN = {1: "planning", 3: "planning, meetings", 4: "time"}
FILL = """import sys
from pathlib import Path
codes = Path(sys.argv[1])
n = len(codes.read_text().splitlines())
wanted = {wanted!r}
codes.write_text("".join(wanted.get(i, "") + "\\n" for i in range(n)))
"""


# qc's own command line (its click group, the `qc` entry point) run for several commands in one
# process of qc's environment: each `qc` process spends seconds importing its libraries.
DRIVER = """import sys
from qualitative_coding.cli import cli
for line in sys.stdin.read().splitlines():
    cli.main(line.split("\\t"), prog_name="qc", standalone_mode=False)
"""


def qc(*commands: tuple[str, ...], cwd: Path) -> None:
    """Run each of ``commands`` (qc's arguments) in order in ``cwd``, as `qc` does."""
    env = {**os.environ, "PYTHONBREAKPOINT": "0"}
    result = subprocess.run(
        [str(QC.parent / "python"), "-c", DRIVER],
        input="\n".join("\t".join(c) for c in commands),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def qc_export(tmp_path_factory) -> Path:
    """A project made with qc's own commands and exported by qc."""
    folder = tmp_path_factory.mktemp("qc-project")
    qc(("init",), cwd=folder)
    fill = folder / "fill.py"
    fill.write_text(FILL.format(wanted=ANN), encoding="utf-8")
    settings = yaml.safe_load((folder / "settings.yaml").read_text())
    # qc opens an editor on the codes file; its settings name any command as the editor.
    settings["editor"] = "fill"
    settings["editors"] = {
        "fill": {
            "name": "fill",
            "code_command": f'{sys.executable} {fill} "{{codes_file_path}}"',
            "memo_command": "true",
        }
    }
    (folder / "settings.yaml").write_text(yaml.safe_dump(settings))
    (folder / "interview.txt").write_text(INTERVIEW, encoding="utf-8")
    qc(
        ("corpus", "import", "--importer", "verbatim", "interview.txt"),
        ("code", "ann", "--first"),
        ("export", "out.qdpx"),
        cwd=folder,
    )
    return folder / "out.qdpx"


def test_project_made_with_qc_arrives_with_every_coding(qc_export, project):
    with zipfile.ZipFile(qc_export) as archive:
        root = etree.fromstring(archive.read("project.qde"))
    in_file = len(list(root.iter(f"{P}Coding")))
    assert in_file == 4  # planning, planning, meetings, time
    summary = import_refi_project(project, qc_export, viewer=None)
    assert summary.codings_by_user == (("ann", in_file),)
    assert summary.left_out == ()
    with project.read() as s:
        transcript = s.exec(select(Transcript)).one()
        assert transcript.text == INTERVIEW
        rows = s.exec(
            select(Segment.position, Code.name, Coder.name, Coding.quote_start, Coding.source)
            .join(Segment, col(Segment.id) == Coding.segment_id)
            .join(Code, col(Code.id) == Coding.code_id)
            .join(Coder, col(Coder.id) == Coding.coder_id)
        ).all()
        # Line N is turn N + 1; qc's selection is the whole line (label and newline included), which
        # covers the whole turn: no quote.
        assert sorted(rows) == [
            (2, "planning", "ann", None, "import"),
            (4, "meetings", "ann", None, "import"),
            (4, "planning", "ann", None, "import"),
            (5, "time", "ann", None, "import"),
        ]
        done = s.exec(select(SegmentStatus)).all()
        assert len(done) == 5  # ann's work on the interview is done: every turn counts for agreement


def _small_study(tmp_path: Path) -> Path:
    """A project made here: two transcripts, a codebook, two coders' codings, a lead."""
    target = tmp_path / "here.db"
    (tmp_path / "a.txt").write_text(INTERVIEW, encoding="utf-8")
    (tmp_path / "b.txt").write_text("Moderator: Who leads?\nP1: The coach does.\nP2: We all do.\n", encoding="utf-8")
    (tmp_path / "codings.csv").write_text(
        "transcript,segment,coder,code,start,end\n"
        "a,2,ana,Shared vision and strategy,,\n"
        "a,4,ana,Work design,,\n"
        "a,4,ben,Work design,132,136\n"  # "time"
        "b,2,ben,Supportive administration,,\n",
        encoding="utf-8",
    )
    for args in (
        ("init", target, "--lead", "lee"),
        ("coders", "add", "ana", "--as", "lee"),
        ("coders", "add", "ben", "--as", "lee"),
        ("import", tmp_path / "a.txt", tmp_path / "b.txt", "--as", "lee"),
        ("codebook", "load", ROOT / "codebooks" / "seven_conditions.yaml", "--as", "lee"),
        ("codings", "import", tmp_path / "codings.csv", "--as", "lee"),
    ):
        result = CliRunner().invoke(cli, [str(a) for a in args] + (["-p", str(target)] if args[0] != "init" else []))
        assert result.exit_code == 0, (args, result.output)
    return target


def test_project_exported_here_arrives_in_qc_with_users_codes_and_codings(tmp_path):
    out = tmp_path / "study.qdpx"
    with Project(_small_study(tmp_path)) as here:
        export_refi_project(here, "lee", out)
    expected: dict[str, set[tuple[str, int, str]]] = {}  # coder -> (source name, line, code name)
    with zipfile.ZipFile(out) as archive:
        root = etree.fromstring(archive.read("project.qde"))
        users = {u.get("guid"): u.get("name") for u in root.iter(f"{P}User")}
        codes = {c.get("guid"): c.get("name") for c in root.iter(f"{P}Code")}
        for source in root.iter(f"{P}TextSource"):
            text = archive.read("sources/" + source.get("plainTextPath").removeprefix("internal://")).decode()
            for selection in source.iter(f"{P}PlainTextSelection"):
                line = text.count("\n", 0, int(selection.get("startPosition")))
                assert selection.get("name") == f"line:{line}"
                for coding in selection.iter(f"{P}Coding"):
                    code = codes[coding.find(f"{P}CodeRef").get("targetGUID")]
                    expected.setdefault(users[coding.get("creatingUser")], set()).add((source.get("name"), line, code))
    assert sum(len(v) for v in expected.values()) == 4
    folder = tmp_path / "qc"
    folder.mkdir()
    qc(("init", "--import", str(out)), cwd=folder)
    with sqlite3.connect(folder / "qualitative_coding.sqlite3") as db:
        coders = {name for (name,) in db.execute("select name from coder")}
        qc_codes = {name for (name,) in db.execute("select name from code")}
        lines = db.execute(
            "select cl.coder_id, di.document_id, cl.line, cl.code_id from coded_line cl "
            "join coded_line_location_association a on a.coded_line_id = cl.id "
            "join location l on l.id = a.location_id join document_index di on di.id = l.document_index_id"
        ).fetchall()
    assert coders == {"ana", "ben", "lee"}
    assert set(codes.values()) <= qc_codes
    got: dict[str, set[tuple[str, int, str]]] = {}
    for coder, document, line, code in lines:
        got.setdefault(coder, set()).add((Path(document).stem, line, code))
    assert (
        got
        == expected
        == {
            "ana": {("a", 1, "Shared vision and strategy"), ("a", 3, "Work design")},
            "ben": {("a", 3, "Work design"), ("b", 1, "Supportive administration")},
        }
    )
