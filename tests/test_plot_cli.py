"""`qualcode plot agreement` on a study where no code was ever applied."""

from __future__ import annotations

from click.testing import CliRunner

from qualcode.cli.main import cli
from qualcode.coding.service import TranscriptWork

from .builders import add_coders, build_codebook, build_transcript


def test_undefined_pooled_kappa_is_not_printed_as_zero(project, project_path, tmp_path):
    tid = build_transcript(project)
    build_codebook(project)
    add_coders(project, "ana", "ben")
    for coder in ("ana", "ben"):
        work = TranscriptWork(project, coder, tid)
        for seg in work.segments:
            work.set_done(seg.id)  # finished, nothing applied: kappa is undefined, not 0
    out = tmp_path / "bars.svg"
    result = CliRunner().invoke(cli, ["plot", "agreement", "--out", str(out), "--as", "lead", "-p", str(project_path)])
    assert result.exit_code == 0, result.output
    svg = out.read_text(encoding="utf-8")
    assert "pooled κ = undefined" in svg and "pooled κ = 0.00" not in svg
