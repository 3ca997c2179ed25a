"""Agreement dashboard (lead and auditors): codes sorted by kappa, each with a bar.

The headline gives pooled kappa, Fleiss' kappa and Krippendorff's alpha for the chosen
coders, round and level; Enter on a code opens the reconciliation queue for it. The
module also registers the home screen's headline (pooled kappa and its label).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Static

from ...agreement.queries import AgreementOverview, agreement_overview, analyst_agreement
from ...agreement.report import AgreementReport, CodeAgreement
from ...errors import QualcodeError
from .. import bindings as keys
from ..widgets.columns import fit_columns, literal
from ..widgets.empty_state import Missing, missing_title, read_or_missing
from ..widgets.kappa_bar import band_colour, format_stat, kappa_bar
from ..widgets.lead_screen import LeadScreen, next_in

BAR_WIDTH = 20
CODE_WIDTH = 48
STAT_WIDTH = len("-0.003")  # format_stat's widest: a third decimal near zero
LEVELS = {"cqr": ("category", "domain"), "provisional": ("code",)}


@dataclass(frozen=True)
class AgreementChoice:
    """What the dashboard compares; None means the report's default."""

    codebook: str | None = None
    coders: tuple[str, ...] | None = None
    round: int | None = None
    level: str | None = None

    def describe(self) -> str:
        coders = "all coders" if self.coders is None else " & ".join(self.coders)
        round_ = "latest round" if self.round is None else f"round {self.round}"
        return f"{coders} · {round_}"


def coder_choices(coders: list[str]) -> list[tuple[str, ...] | None]:
    """All coders first, then every pair."""
    return [None, *combinations(coders, 2)]


def sorted_codes(per_code: list[CodeAgreement], ascending: bool) -> list[CodeAgreement]:
    """By Cohen's kappa (lowest first when ``ascending``); undefined kappas always last."""
    defined = [r for r in per_code if r.cohen_kappa is not None]
    undefined = [r for r in per_code if r.cohen_kappa is None]
    defined.sort(key=lambda r: (r.cohen_kappa, r.path), reverse=not ascending)
    return defined + undefined


def short_path(path: str, width: int = CODE_WIDTH) -> str:
    """Long category paths keep their end (the category), which tells them apart."""
    return path if len(path) <= width else "…" + path[-(width - 1) :]


def headline_text(report: AgreementReport) -> Text:
    text = Text()
    text.append("Pooled κ ", style="bold")
    text.append(format_stat(report.pooled_kappa), style="bold " + band_colour(report.landis_koch))
    if report.landis_koch:
        text.append(f" ({report.landis_koch})", style=band_colour(report.landis_koch))
    text.append(
        f" · Fleiss κ {format_stat(report.fleiss_kappa)} · Krippendorff α {format_stat(report.krippendorff_alpha)}"
        f" · AC1 {format_stat(report.gwet_ac1)} · {report.units} segments finished by all"
    )
    return text


class AgreementDashboard(LeadScreen):
    BINDINGS = keys.bindings("agreement")
    what = "the agreement dashboard"
    DEFAULT_CSS = """
    AgreementDashboard #agreement-headline, AgreementDashboard #agreement-choice {
        height: auto; padding: 0 1; background: $primary-background;
    }
    AgreementDashboard #agreement-codes { height: 1fr; }
    AgreementDashboard #agreement-pairs { height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, choice: AgreementChoice | None = None) -> None:
        super().__init__()
        self.choice = choice or AgreementChoice()
        self.ascending = True
        self.data: AgreementOverview | None = None
        self.rows: list[CodeAgreement] = []

    def compose(self) -> ComposeResult:
        yield Static("Agreement · loading…", id="agreement-headline")
        yield Static("", id="agreement-choice")
        yield DataTable(id="agreement-codes", cursor_type="row", zebra_stripes=True)
        yield Static("", id="agreement-pairs")
        yield Footer()

    # -- reading ------------------------------------------------------------------------------
    def read(self) -> AgreementOverview | Missing:
        choice = self.choice

        def overview() -> AgreementOverview:
            return agreement_overview(
                self.app.project,
                self.app.coder_name,
                codebook=choice.codebook,
                round=choice.round,
                level=choice.level,
                coders=list(choice.coders) if choice.coders else None,
            )

        return read_or_missing(self.app.project, overview, first=self.last_content is None)

    def show(self, content: AgreementOverview | Missing) -> None:
        if isinstance(content, Missing):
            self.data, self.rows = None, []
            self.query_one("#agreement-headline", Static).update(missing_title("Agreement", content))
            for part in ("#agreement-choice", "#agreement-pairs"):
                self.query_one(part, Static).update("")
            self.query_one(DataTable).clear(columns=True)
            return
        self.data = content
        report = content.report
        self.query_one("#agreement-headline", Static).update(headline_text(report))
        choice = Text()
        choice.append(report.codebook, style="italic")
        choice.append(
            f" · level {report.level} · {self.choice.describe()} · compared: {', '.join(report.coders)}"
            f" · sorted by κ {'lowest' if self.ascending else 'highest'} first"
        )
        self.query_one("#agreement-choice", Static).update(choice)
        pairs = " · ".join(
            f"{' & '.join(p.coders)} pooled κ {format_stat(p.pooled_kappa)} (n = {p.units})"
            for p in report.pooled_kappa_pairs
        )
        self.query_one("#agreement-pairs", Static).update(Text(f"{pairs} · Enter: the code's disagreements"))
        self.fill_table()

    def fill_table(self) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear(columns=True)
        self.rows = sorted_codes(self.data.report.per_code, self.ascending) if self.data else []
        widest = max([len(short_path(r.path)) for r in self.rows] + [4])
        # At 80 columns the code names and the bar give way first; the figures stay whole.
        fit_columns(
            table,
            [
                ("Code", min(widest, CODE_WIDTH), 15),
                ("Kappa", BAR_WIDTH, 4),
                ("κ", STAT_WIDTH, STAT_WIDTH),
                ("Fleiss", STAT_WIDTH, STAT_WIDTH),
                ("α", STAT_WIDTH, STAT_WIDTH),
                ("AC1", STAT_WIDTH, STAT_WIDTH),
                ("Disagree", 8, 8),
                ("Landis & Koch", 14, 11),
            ],
            self.app.size.width,
        )
        bar_width = table.ordered_columns[1].width
        for r in self.rows:
            band = r.landis_koch
            table.add_row(
                literal(short_path(r.path)),
                kappa_bar(r.cohen_kappa, band, bar_width),
                format_stat(r.cohen_kappa),
                format_stat(r.fleiss_kappa),
                format_stat(r.krippendorff_alpha),
                format_stat(r.gwet_ac1),
                str(r.disagreements),
                literal(band, band_colour(band)),
                key=str(r.code_id),
            )
        if self.rows:
            table.move_cursor(row=min(keep, len(self.rows) - 1))
        table.focus()

    # -- choices ------------------------------------------------------------------------------
    def action_cycle_coders(self) -> None:
        if self.data:
            self.rechoose(coders=next_in(coder_choices(self.data.coders), self.choice.coders))

    def action_cycle_round(self) -> None:
        if self.data:
            self.rechoose(round=next_in([None, *self.data.rounds], self.choice.round))

    def action_cycle_level(self) -> None:
        if self.data:
            levels = LEVELS.get(self.data.codebook_kind, ("code",))
            self.rechoose(level=next_in(list(levels), self.data.report.level))

    def action_cycle_codebook(self) -> None:
        if self.data:
            self.rechoose(codebook=next_in(self.data.codebooks, self.data.report.codebook), level=None)

    def action_toggle_order(self) -> None:
        self.ascending = not self.ascending
        if self.data:
            self.show(self.data)

    # -- drilling down ------------------------------------------------------------------------
    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_drill()

    def action_drill(self) -> None:
        code_row = self.at_cursor(self.rows)
        if code_row is not None:
            self.open_queue(code_row)

    def action_open_queue(self) -> None:
        self.open_queue(None)

    def open_queue(self, code_row: CodeAgreement | None) -> None:
        from .reconcile_queue import QueueChoice, ReconcileQueue

        choice = QueueChoice(
            codebook=self.data.report.codebook if self.data else None,
            coders=self.choice.coders,
            round=self.choice.round,
            code=code_row.path if code_row else None,
        )
        self.app.push_screen(ReconcileQueue(choice))


def agreement_headline(project, viewer: str) -> str | None:
    """The home screen's line for a lead or auditor: pooled kappa of the active codebook."""
    try:
        report = analyst_agreement(project, viewer)
    except QualcodeError:  # no codebook, too few coders: no headline
        return None
    if report is None or not report.units or report.pooled_kappa is None:
        return None
    return (
        f"Agreement: pooled κ = {format_stat(report.pooled_kappa)} ({report.landis_koch}) "
        f"over {report.units} segments, coders {', '.join(report.coders)}"
    )
