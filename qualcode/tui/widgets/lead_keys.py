"""Keys of the lead analyst's screens, as data in the same shape as ``qualcode.tui.bindings``.

Kept here (not in bindings.py) while that table is being edited; the rows can move into
``bindings.KEY_TABLE`` unchanged, and the help screen then lists them with the rest.
"""

from __future__ import annotations

from textual.binding import Binding

from ..bindings import KeySpec

TAKE_KEYS = "123456789"

LEAD_KEY_TABLE: tuple[KeySpec, ...] = (
    # agreement dashboard
    KeySpec("agreement_drill", "enter", "drill", "Disagreements", "agreement"),
    KeySpec("agreement_coders", "c", "cycle_coders", "Coders", "agreement"),
    KeySpec("agreement_round", "r", "cycle_round", "Round", "agreement"),
    KeySpec("agreement_level", "l", "cycle_level", "Level", "agreement"),
    KeySpec("agreement_codebook", "b", "cycle_codebook", "Codebook", "agreement"),
    KeySpec("agreement_order", "o", "toggle_order", "Order", "agreement"),
    KeySpec("agreement_queue", "Q", "open_queue", "Whole queue", "agreement"),
    KeySpec("lead_back", "escape", "back", "Back", "agreement"),
    # reconciliation queue
    *(KeySpec(f"reconcile_take_{n}", n, f"take({n})", "Take coder", "reconcile", show=n == "1") for n in TAKE_KEYS),
    KeySpec("reconcile_union", "u", "decide('union')", "Union", "reconcile"),
    KeySpec("reconcile_intersection", "i", "decide('intersection')", "Intersect", "reconcile"),
    KeySpec("reconcile_present", "y", "set_present(True)", "Present", "reconcile"),
    KeySpec("reconcile_absent", "x", "set_present(False)", "Absent", "reconcile"),
    KeySpec("reconcile_memo", "m", "memo", "Memo", "reconcile"),
    KeySpec("reconcile_flag", "f", "flag", "Flag", "reconcile"),
    KeySpec("reconcile_round", "R", "second_round", "Round 2", "reconcile"),
    KeySpec("reconcile_filter", "slash", "filter_code", "Filter", "reconcile"),
    KeySpec("reconcile_decided", "D", "toggle_decided", "Decided", "reconcile"),
    KeySpec("reconcile_open", "o", "open_segment", "Open transcript", "reconcile", show=False),
    KeySpec("reconcile_back", "escape", "back", "Back", "reconcile"),
    # CQR table
    KeySpec("cqr_evidence", "enter", "evidence", "Evidence", "cqr"),
    KeySpec("cqr_unit", "u", "cycle_unit", "Case unit", "cqr"),
    KeySpec("cqr_layer", "l", "cycle_layer", "Layer", "cqr"),
    KeySpec("cqr_order", "o", "toggle_order", "Order", "cqr"),
    KeySpec("cqr_groups", "g", "cycle_groups", "Groups", "cqr"),
    KeySpec("cqr_codebook", "b", "cycle_codebook", "Codebook", "cqr"),
    KeySpec("cqr_back", "escape", "back", "Back", "cqr"),
    # memo matrix
    KeySpec("matrix_evidence", "enter", "evidence", "Evidence", "matrix"),
    KeySpec("matrix_memo", "m", "cell_memo", "Cell memo", "matrix"),
    KeySpec("matrix_pattern", "p", "pattern", "Pattern", "matrix"),
    KeySpec("matrix_transpose", "t", "transpose", "Transpose", "matrix"),
    KeySpec("matrix_order", "o", "cycle_order", "Order cases", "matrix"),
    KeySpec("matrix_layer", "l", "cycle_layer", "Layer", "matrix"),
    KeySpec("matrix_back", "escape", "back", "Back", "matrix"),
    # evidence list
    KeySpec("evidence_open", "enter", "open_segment", "Open in transcript", "evidence"),
    KeySpec("evidence_exemplar", "e", "exemplar", "Pick exemplar", "evidence"),
    KeySpec("evidence_back", "escape", "back", "Back", "evidence"),
    # pattern dialog
    KeySpec("pattern_save", "ctrl+s", "save", "Save", "pattern_dialog"),
    KeySpec("pattern_cancel", "escape", "cancel", "Cancel", "pattern_dialog"),
)

LEAD_SCOPE_TITLES = {
    "agreement": "Agreement dashboard",
    "reconcile": "Reconciliation queue",
    "cqr": "CQR table",
    "matrix": "Memo matrix",
    "evidence": "Evidence list",
    "pattern_dialog": "Pattern judgement dialog",
}


def lead_specs(scope: str) -> list[KeySpec]:
    return [spec for spec in LEAD_KEY_TABLE if spec.scope == scope]


def lead_bindings(scope: str) -> list[Binding]:
    """Textual bindings for one of the lead screens' scopes (ids allow keymap overrides)."""
    return [Binding(s.key, s.action, s.description, show=s.show, id=s.id) for s in lead_specs(scope)]
