"""Synthesis commands: `table cqr`, `matrix` (and its memo/pattern/exemplar writers),
`frequencies`, `cooccurrence` and `plot heatmap|agreement|saturation`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from ..table import Table
from .common import (
    FORMATS_MANUSCRIPT,
    QualcodeGroup,
    as_option,
    codebook_option,
    emit,
    open_project,
    output_options,
    pass_project,
    project_option,
    say,
    segment_ref,
    stored_number,
    stored_offset,
)

if TYPE_CHECKING:
    from sqlmodel import Session

    from ..project import Project

layer_option = click.option(
    "--layer",
    "layer",
    metavar="consensus|CODER",
    help="Count the consensus (default once it exists) or one coder's codings.",
)


pseudonymize_option = click.option(
    "--pseudonymize",
    is_flag=True,
    help="Replace the lead's accepted de-identification terms by their pseudonyms (docs/deidentify.md).",
)


def _pseudonymizer(project: Project, on: bool):
    """The ``--pseudonymize`` replacer (None without the flag)."""
    if not on:
        return None
    from ..assist.pseudonymize import Pseudonymizer

    pseudonymizer = Pseudonymizer.for_project(project)
    if not pseudonymizer:
        say("note: no accepted de-identification terms, so nothing is replaced (qualcode deidentify)", err=True)
    return pseudonymizer


def _emit_hidden(pseudonymizer, table: Table, fmt: str, out: str | None, *, json_data=None) -> None:
    """``emit`` with every text pseudonymized first when ``--pseudonymize`` asked for it."""
    if pseudonymizer is not None:
        table, json_data = pseudonymizer.table(table), pseudonymizer.value(json_data)
    emit(table, fmt, out, json_data=json_data)


def writer_options(f):
    """Who writes (``project.user``), in which project (passed as ``project``) and codebook."""
    return pass_project(codebook_option(f))


def reader_options(f):
    """Who reads (``project.user``) which layer of which codebook in which project (passed as ``project``)."""
    return writer_options(layer_option(f))


def _evidence_table(frame, title: str) -> Table:
    return Table.from_frame(frame, title=title, note="Every segment behind the counts, in transcript order.")


def _emit_frame(frame, fmt: str, out: str | None, table: Table, pseudonymizer=None) -> None:
    if pseudonymizer is not None:  # offsets into the pseudonymized transcripts
        from dataclasses import replace

        frame = pseudonymizer.frame(frame)
        table = replace(table, rows=Table.from_frame(frame).rows)
    _emit_hidden(pseudonymizer, table, fmt, out, json_data=frame.to_dict(orient="records") if fmt == "json" else None)


@click.group("table", cls=QualcodeGroup)
def table_group() -> None:
    """Manuscript tables."""


@table_group.command("cqr")
@reader_options
@click.option(
    "--case-unit",
    default="transcript",
    show_default=True,
    metavar="UNIT",
    help="What one case is: transcript, speaker (participant), case (site), or a case or speaker attribute.",
)
@click.option("--groups", metavar="ATTRIBUTE", help="Add one column per group (e.g. role): blocks from that group.")
@click.option(
    "--labels",
    "labels",
    default="hill2005",
    show_default=True,
    metavar="RULE",
    help="Frequency labels: hill2005, hill1997, none (every category with blocks and cases, no labels), "
    "or a rule such as 'general >= N-1; typical > N/2; variant >= 2'.",
)
@click.option("--order", type=click.Choice(["codebook", "count"]), default="codebook", show_default=True)
@click.option("--evidence", is_flag=True, help="List the segments behind each row instead of the table.")
@click.option("--code", "code_name", metavar="CODE", help="With --evidence: only this domain or category.")
@click.option("--case", "case_name", metavar="UNIT", help="With --evidence: only this case (a --case-unit value).")
@click.option("--group", "group_name", metavar="GROUP", help="With --evidence and --groups: only this group's blocks.")
@pseudonymize_option
@output_options(FORMATS_MANUSCRIPT)
def table_cqr(
    project: Project,
    codebook,
    layer,
    case_unit,
    groups,
    labels,
    order,
    evidence,
    code_name,
    case_name,
    group_name,
    pseudonymize,
    fmt,
    out,
) -> None:
    """The CQR domain/category table with blocks, cases and frequency labels."""
    from ..codebook.lookup import CodeResolver
    from ..synthesis.cqr import cqr_table
    from ..synthesis.evidence import evidence_frame

    hidden = _pseudonymizer(project, pseudonymize)
    with project.read() as s:
        result = cqr_table(
            s,
            codebook=codebook,
            layer=layer,
            case_unit=case_unit,
            groups=groups,
            labels=labels,
            order=order,
            viewer=project.user,
        )
        if not evidence:
            _emit_hidden(
                hidden,
                result.table(),
                fmt,
                out,
                json_data={
                    "n_cases": result.n_cases,
                    "case_unit": result.unit.name,
                    "layer": result.data.layer.name,
                    "rule": result.rule.spec,
                    "note": result.note(),
                    "rows": result.frame.to_dict(orient="records"),
                },
            )
            return
        code_id = CodeResolver(s, result.data.codebook).resolve(code_name).id if code_name else None
        rows = result.evidence(code_id, case_name, group_name)
        frame = evidence_frame(s, rows, {c.id: c.path for c in result.data.tree.codes}).rename(
            columns={"unit": "case unit"}
        )
        _emit_frame(frame, fmt, out, _evidence_table(frame, "Evidence for the CQR table"), hidden)


def _split_cells(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@click.group("matrix", cls=QualcodeGroup, invoke_without_command=True)
@project_option
@as_option
@codebook_option
@layer_option
@click.option(
    "--rows",
    "rows",
    type=click.Choice(["codes", "cases"]),
    default="codes",
    show_default=True,
    help="What runs down the side (cases transposes the matrix).",
)
@click.option(
    "--cell",
    "cell",
    default="count,memo",
    show_default=True,
    metavar="PARTS",
    help="Comma list of count, memo, quotes and case attributes (survey_{key}, or a prefix such as survey).",
)
@click.option("--order-by", "order_by", metavar="ATTRIBUTE", help="Order cases by a case attribute.")
@click.option("--code", "codes", multiple=True, metavar="CODE", help="Only these codes (repeatable).")
@click.option(
    "--quotes",
    "max_quotes",
    type=click.IntRange(0),
    default=2,
    show_default=True,
    help="Quotes per cell with --cell quotes.",
)
@click.option("--evidence", is_flag=True, help="List the segments behind each cell instead of the matrix.")
@click.option("--case", "case_name", metavar="CASE", help="With --evidence: only this case.")
@pseudonymize_option
@output_options(FORMATS_MANUSCRIPT)
@click.pass_context
def matrix_group(
    ctx,
    project_target,
    viewer,
    codebook,
    layer,
    rows,
    cell,
    order_by,
    codes,
    max_quotes,
    evidence,
    case_name,
    pseudonymize,
    fmt,
    out,
) -> None:
    """The cross-case memo matrix: codes by cases, with counts, memos, quotes and case data."""
    if ctx.invoked_subcommand is not None:  # the subcommand opens the project
        return
    from ..synthesis.annotations import find_case
    from ..synthesis.evidence import evidence_frame
    from ..synthesis.matrix import memo_matrix

    with open_project(project_target, viewer) as project, project.read() as s:
        hidden = _pseudonymizer(project, pseudonymize)
        matrix = memo_matrix(
            s,
            codebook=codebook,
            layer=layer,
            codes=list(codes) or None,
            cell=_split_cells(cell),
            order_by=order_by,
            max_quotes=max_quotes,
            viewer=project.user,
        )
        if evidence:
            selected = matrix.evidence(find_case(s, case_name).id if case_name else None)
            frame = evidence_frame(s, selected, {r.code_id: r.path for r in matrix.rows})
            _emit_frame(frame, fmt, out, _evidence_table(frame, "Evidence for the cross-case matrix"), hidden)
            return
        table = matrix.table(transpose=rows == "cases")
        _emit_hidden(hidden, table, fmt, out, json_data=_matrix_json(matrix))


def _matrix_json(matrix) -> dict:
    from dataclasses import asdict

    return {
        "layer": matrix.data.layer.name,
        "order_by": matrix.order_by,
        "cases": [asdict(c) for c in matrix.columns],
        "rows": [
            {**asdict(r), "cells": [asdict(matrix.cell(r.code_id, c.case_id)) for c in matrix.columns]}
            for r in matrix.rows
        ],
    }


def _text_argument(text: str) -> str:
    return sys.stdin.read() if text == "-" else text


def _code(session: Session, codebook: str | None, name: str):
    from ..codebook.lookup import CodeResolver, get_codebook

    return CodeResolver(session, get_codebook(session, codebook)).resolve(name)


@matrix_group.command("memo")
@writer_options
@click.argument("code")
@click.argument("case")
@click.argument("text")
def matrix_memo(project: Project, codebook, code, case, text) -> None:
    """Write your memo on the cell CODE x CASE (TEXT '-' reads stdin; '' deletes it)."""
    from ..synthesis.annotations import find_case, set_cell_memo

    with project.transaction() as s:
        row, site = _code(s, codebook, code), find_case(s, case)
        memo = set_cell_memo(s, project.user, row.id, site.id, _text_argument(text))
    say(f"{'wrote' if memo else 'deleted'} memo on {row.name} x {site.name}")


@matrix_group.command("pattern")
@writer_options
@click.argument("code")
@click.argument("label", type=click.Choice(["convergence", "divergence", "contradiction", "none"]))
@click.argument("note", default="")
def matrix_pattern(project: Project, codebook, code, label, note) -> None:
    """Judge the row CODE across cases, with a NOTE ('none' and no note deletes it)."""
    from ..synthesis.annotations import set_pattern

    with project.transaction() as s:
        row = _code(s, codebook, code)
        memo = set_pattern(s, project.user, row.id, None if label == "none" else label, _text_argument(note))
    say(f"{'judged' if memo else 'cleared'} {row.name}: {label}")


@matrix_group.command("exemplar")
@writer_options
@click.argument("code")
@click.argument("segment", type=segment_ref)
@click.option("--start", type=stored_offset, help="Quote start (transcript offset; default: the segment's start).")
@click.option("--end", type=stored_offset, help="Quote end, exclusive (default: the segment's end).")
@click.option(
    "--remove", "remove_id", type=stored_number, metavar="ID", help="Remove exemplar ID instead (SEGMENT is ignored)."
)
def matrix_exemplar(project: Project, codebook, code, segment, start, end, remove_id) -> None:
    """Pick SEGMENT (an id or TRANSCRIPT:POSITION) as an exemplar quote of CODE in its case."""
    from ..synthesis.annotations import add_exemplar, find_segment, remove_exemplar

    with project.transaction() as s:
        if remove_id is not None:
            remove_exemplar(s, project.user, remove_id)
            message = f"removed exemplar {remove_id}"
        else:
            row = _code(s, codebook, code)
            exemplar = add_exemplar(s, project.user, row.id, find_segment(s, segment).id, start, end)
            message = f"added exemplar {exemplar.id} for {row.name}"
    say(message)


@click.command("frequencies")
@reader_options
@click.option(
    "--case-unit",
    default="case",
    show_default=True,
    metavar="UNIT",
    help="Columns: transcript, speaker, case, or a case or speaker attribute.",
)
@pseudonymize_option
@output_options(FORMATS_MANUSCRIPT)
def frequencies_cmd(project: Project, codebook, layer, case_unit, pseudonymize, fmt, out) -> None:
    """Segments per code and case."""
    from ..synthesis.frequencies import code_frequencies, frequencies_table

    with project.read() as s:
        frame = code_frequencies(s, codebook=codebook, layer=layer, case_unit=case_unit, viewer=project.user)
    table = frequencies_table(frame)
    _emit_hidden(_pseudonymizer(project, pseudonymize), table, fmt, out, json_data=table.records())


@click.command("cooccurrence")
@reader_options
@click.option("--measure", type=click.Choice(["count", "jaccard"]), default="count", show_default=True)
@pseudonymize_option
@output_options(FORMATS_MANUSCRIPT)
def cooccurrence_cmd(project: Project, codebook, layer, measure, pseudonymize, fmt, out) -> None:
    """Segments coded with both codes of each pair."""
    from ..synthesis.cooccurrence import cooccurrence, cooccurrence_table

    with project.read() as s:
        frame = cooccurrence(s, codebook=codebook, layer=layer, measure=measure, viewer=project.user)
    table = cooccurrence_table(frame, measure)
    _emit_hidden(_pseudonymizer(project, pseudonymize), table, fmt, out, json_data=table.records())


@click.group("plot", cls=QualcodeGroup)
def plot_group() -> None:
    """Figures as PNG or SVG (by the --out suffix)."""


plot_out_option = click.option(
    "--out", "-o", "out", required=True, type=click.Path(dir_okay=False), help="FILE.png or FILE.svg"
)


@plot_group.command("heatmap")
@project_option
@as_option
@codebook_option
@layer_option
@click.option("--case-unit", default="case", show_default=True, metavar="UNIT")
@plot_out_option
def plot_heatmap(project_target, viewer, codebook, layer, case_unit, out) -> None:
    """Cases x codes heatmap of coded segments."""
    from ..export.plots import heatmap, plot_format
    from ..synthesis.frequencies import code_frequencies

    plot_format(out)  # refuse a bad suffix before any work
    with open_project(project_target, viewer) as project, project.read() as s:
        frame = code_frequencies(s, codebook=codebook, layer=layer, case_unit=case_unit, viewer=project.user)
    heatmap(frame.drop(columns=["Total"]).T, out, "Coded segments by case", ylabel=case_unit)
    click.echo(f"wrote {out}", err=True)


@plot_group.command("agreement")
@project_option
@as_option
@codebook_option
@click.option("--round", "round_", type=stored_number, help="Only this round.")
@plot_out_option
def plot_agreement(project_target, viewer, codebook, round_, out) -> None:
    """Per-code Cohen's kappa bars (mean over coder pairs), with Landis & Koch bands."""
    from ..agreement.report import agreement_report
    from ..export.plots import bar_chart, plot_format

    plot_format(out)  # refuse a bad suffix before any work
    with open_project(project_target, viewer) as project, project.read() as s:
        report = agreement_report(s, project.user, codebook=codebook, round=round_)
    values = {row.path: row.cohen_kappa for row in report.per_code}
    pooled = report.pooled_kappa
    pooled_text = "undefined" if pooled is None else f"{pooled:.2f}"  # no code was ever applied
    bar_chart(
        values,
        out,
        f"Per-code agreement (pooled κ = {pooled_text})",
        reference={"moderate": 0.41, "substantial": 0.61, "almost perfect": 0.81},
    )
    click.echo(f"wrote {out}", err=True)


@plot_group.command("saturation")
@project_option
@as_option
@codebook_option
@click.option(
    "--format", "-f", "fmt", type=click.Choice(["png", "svg"]), help="png or svg (default: the --out suffix)."
)
@plot_out_option
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False), help="Also write the curves' data as CSV to FILE.")
def plot_saturation(project_target, viewer, codebook, fmt, out, csv_out) -> None:
    """New codes (and CQR categories) per transcript in coding order, and their cumulative count,
    per coder and for the consensus (a blinded coder sees only their own curve)."""
    from pathlib import Path

    from ..assist.saturation import saturation
    from ..errors import QualcodeError
    from ..export.plots import plot_format, saturation_chart
    from ..export.writers import output_path, write

    if fmt and not Path(out).suffix:
        out = f"{out}.{fmt}"
    if fmt and plot_format(out) != fmt:
        raise QualcodeError(
            f"--format {fmt} but --out {out} asks for {plot_format(out)} by its suffix: make them agree"
        )
    plot_format(out)  # refuse a bad suffix or folder before any work
    if csv_out:
        output_path(csv_out)
    with open_project(project_target, viewer) as project:
        result = saturation(project, project.user, codebook=codebook)
    if not result.curves:
        raise QualcodeError(f"no coding in {result.codebook} yet: nothing to plot")
    saturation_chart(
        {c.series: [p.new_codes for p in c.points] for c in result.curves},
        out,
        f"Saturation ({result.codebook})",
        new_categories={c.series: [p.new_categories or 0 for p in c.points] for c in result.curves}
        if result.categories
        else None,
    )
    click.echo(f"wrote {out}", err=True)
    if csv_out:
        write(result.table(), csv_out, "csv")
        click.echo(f"wrote {csv_out}", err=True)
