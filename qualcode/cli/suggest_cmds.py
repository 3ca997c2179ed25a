"""Code suggestions learned from the team's consensus (`qualcode suggest ...`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..errors import QualcodeError
from .common import (
    FORMATS_LIST,
    QualcodeGroup,
    codebook_option,
    emit,
    output_options,
    pass_project,
    say,
    segment_ref,
    stored_offset,
)

if TYPE_CHECKING:
    from ..assist.evaluate import Evaluation
    from ..project import Project

# The evaluation's formats: a methods paragraph with its table for the manuscript, or the figures as JSON.
FORMATS_EVALUATION = ("table", "json", "md", "latex", "docx")

from_option = click.option(
    "--from",
    "source",
    default="consensus",
    show_default=True,
    metavar="consensus|CODER",
    help="Learn from the consensus layer, or from one coder's finished segments.",
)


embeddings_option = click.option(
    "--embeddings",
    is_flag=True,
    help="Add sentence embeddings to the features (needs the extra: pip install 'qualcode[embeddings]').",
)


@click.group("suggest", cls=QualcodeGroup)
def suggest_group() -> None:
    """Code suggestions learned offline from the team's consensus, and how well they agree with it."""


@suggest_group.command("train")
@pass_project
@codebook_option
@from_option
@embeddings_option
def suggest_train(project: Project, codebook, source, embeddings) -> None:
    """Train the codebook's suggestion model and store it in the project (lead only, audited)."""
    from ..assist.suggest import train

    result = train(project, project.user, codebook=codebook, source=source, embeddings=embeddings)
    say(
        f"trained on {result.segments} segments of {result.transcripts} transcripts ({result.trained_from}) "
        f"in {result.seconds:.1f} s: {len(result.codes_modelled)} codes of {result.codebook!r}",
        err=True,
    )
    for path, examples in result.codes_modelled:
        say(f"  {path}: {examples} examples", err=True)
    if result.codes_without_model:
        say(f"  no model (too few examples): {', '.join(result.codes_without_model)}", err=True)


def _methods_document(ev: Evaluation, fmt: str) -> str | bytes:
    """The methods paragraph followed by the table, in ``fmt`` (md, latex, docx, table)."""
    from ..assist.evaluate import evaluation_table, methods_paragraph
    from ..export.writers import render

    paragraph = methods_paragraph(ev)
    table = evaluation_table(ev)
    rendered = render(table, fmt)
    if fmt == "docx":
        from io import BytesIO

        from docx import Document

        document = Document(BytesIO(rendered if isinstance(rendered, bytes) else rendered.encode()))
        first = document.paragraphs[0] if document.paragraphs else None
        if first is not None:
            first.insert_paragraph_before(paragraph)
        else:
            document.add_paragraph(paragraph)
        buffer = BytesIO()
        document.save(buffer)
        return buffer.getvalue()
    assert isinstance(rendered, str)
    if fmt == "md":
        from ..export.markdown import escape_markdown

        return escape_markdown(paragraph) + "\n\n" + rendered
    if fmt == "latex":
        from ..export.latex import escape_latex

        return escape_latex(paragraph) + "\n\n" + rendered
    from ..table import terminal_text

    return terminal_text(paragraph) + "\n\n" + rendered


@suggest_group.command("evaluate")
@pass_project
@codebook_option
@from_option
@click.option(
    "--resamples", type=click.IntRange(50), default=1000, show_default=True, help="Bootstrap resamples for the CIs."
)
@click.option("--seed", type=stored_offset, default=0, show_default=True, help="Bootstrap seed.")
@embeddings_option
@output_options(FORMATS_EVALUATION)
def suggest_evaluate(project: Project, codebook, source, resamples, seed, embeddings, fmt, out) -> None:
    """Leave-one-transcript-out agreement of the suggestions with the consensus: per code and pooled kappa
    with bootstrap 95% CIs, precision at 1, hit at 3, coverage and training n; md/latex/docx add a methods paragraph."""
    from pathlib import Path

    from ..assist.evaluate import evaluate
    from ..export.machine import json_text
    from ..export.writers import output_path

    ev = evaluate(
        project,
        project.user,
        codebook=codebook,
        source=source,
        resamples=resamples,
        seed=seed,
        embeddings=embeddings,
    )
    data: str | bytes = json_text(ev.to_json(), default=str) if fmt == "json" else _methods_document(ev, fmt)
    if out:
        path: Path = output_path(out)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
    elif isinstance(data, bytes):
        raise QualcodeError(f"--format {fmt} writes a file: give --out FILE")
    else:
        click.echo(data, nl=not data.endswith("\n"))


@suggest_group.command("show")
@pass_project
@click.argument("segment", type=segment_ref)
@codebook_option
@click.option("--top", "top", type=click.IntRange(1, 50), default=3, show_default=True, help="How many codes.")
@output_options(FORMATS_LIST)
def suggest_show(project: Project, segment, codebook, top, fmt, out) -> None:
    """The most probable codes for SEGMENT (#ID, TRANSCRIPT:POSITION or CASE/TRANSCRIPT:POSITION), with their
    calibrated confidence; "suggested" marks those above their code's threshold (what the workbench shows)."""
    from ..assist.suggest import suggestions_for
    from ..coding.refs import find_segment
    from ..table import Table

    with project.read() as s:
        seg_id = find_segment(s, segment).id
    assert seg_id is not None
    ranked = suggestions_for(project, project.user, seg_id, codebook=codebook, k=top, all_ranked=True)
    rows: list[list[Any]] = [
        [i, r.path, r.hotkey or "", r.confidence, r.threshold, "yes" if r.suggested else "no"]
        for i, r in enumerate(ranked, start=1)
    ]
    note = "" if ranked else "The model abstains: the segment shares no word with what it learned from."
    table = Table(
        columns=["Rank", "Code", "Key", "Confidence", "Threshold", "Suggested"],
        rows=rows,
        title=f"Suggestions for {segment}",
        note=note,
        formats={"Confidence": ".2f", "Threshold": ".2f"},
    )
    emit(table, fmt, out, json_data={"segment": segment, "suggestions": [r.to_json() for r in ranked]})


def _set(project: Project, enabled: bool) -> None:
    from ..assist.suggest import set_enabled

    changed = set_enabled(project, project.user, enabled)
    state = "shown to coders during blind rounds" if enabled else "hidden from coders during blind rounds"
    click.echo(f"suggestions {'are now' if changed else 'were already'} {state}", err=True)


@suggest_group.command("enable")
@pass_project
def suggest_enable(project: Project) -> None:
    """Show suggestions to coders during blind rounds too (lead only, audited; off by default)."""
    _set(project, True)


@suggest_group.command("disable")
@pass_project
def suggest_disable(project: Project) -> None:
    """Hide suggestions from coders during blind rounds again (lead only, audited)."""
    _set(project, False)


# The commands this module adds to `qualcode` (see main.py).
COMMANDS: tuple[click.Command, ...] = (suggest_group,)
