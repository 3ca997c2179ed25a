"""Every key of the workbench as data: (id, key, action, description) per screen.

Screens build their Textual ``BINDINGS`` from this table, the help screen lists it, and
``[keys]`` in the settings file overrides keys by id (Textual's keymap). A new screen joins
by adding its own rows under a new scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class KeySpec:
    id: str
    key: str  # Textual key names, comma-separated alternatives ("u,ctrl+z")
    action: str
    description: str
    scope: str  # "app", "home", "coding", "picker", "editor"
    show: bool = True  # shown in the footer (all are in the help screen)


TAKE_KEYS = "123456789"  # the reconciliation queue takes coder N's codes

KEY_TABLE: tuple[KeySpec, ...] = (
    # everywhere
    KeySpec("help", "question_mark,f1", "app.show_help", "Help", "app"),
    KeySpec("palette", "ctrl+p", "app.command_palette", "Commands", "app", show=False),  # the footer shows it already
    KeySpec("quit", "ctrl+q", "app.quit", "Quit", "app"),
    # home
    KeySpec("open_transcript", "enter", "open_selected", "Code", "home"),
    KeySpec("refresh", "ctrl+r", "refresh", "Refresh", "home", show=False),
    KeySpec("open_round", "R", "open_round", "New round (lead)", "home"),
    KeySpec("toggle_blinding", "B", "toggle_blinding", "Blind/unblind (lead)", "home"),
    KeySpec("open_agreement", "A", "app.open_screen('agreement')", "Agreement (lead)", "home", show=False),
    KeySpec("open_queue", "Q", "app.open_screen('queue')", "Reconciliation queue (lead)", "home", show=False),
    KeySpec("open_cqr", "T", "app.open_screen('cqr')", "CQR table (lead)", "home", show=False),
    KeySpec("open_matrix", "X", "app.open_screen('matrix')", "Memo matrix (lead)", "home", show=False),
    KeySpec("open_search", "slash", "app.open_screen('search')", "Search all", "home", show=False),
    # coding: moving
    KeySpec("next_segment", "down,j", "move(1)", "Next", "coding", show=False),
    KeySpec("previous_segment", "up,k", "move(-1)", "Previous", "coding", show=False),
    KeySpec("page_down", "pagedown", "page(1)", "Page down", "coding", show=False),
    KeySpec("page_up", "pageup", "page(-1)", "Page up", "coding", show=False),
    KeySpec("first_segment", "home,g", "jump_first", "First", "coding", show=False),
    KeySpec("last_segment", "end,G", "jump_last", "Last", "coding", show=False),
    KeySpec("next_uncoded", "f", "next_uncoded", "Next uncoded", "coding"),
    KeySpec("search", "slash", "search", "Search", "coding"),
    KeySpec("search_next", "n", "search_again(1)", "Next match", "coding", show=False),
    KeySpec("search_previous", "N", "search_again(-1)", "Previous match", "coding", show=False),
    # coding: coding
    KeySpec("toggle_done", "d", "toggle_done", "Done", "coding"),
    KeySpec("pick_code", "a", "pick_code", "Pick code", "coding"),
    KeySpec("segment_memo", "m", "segment_memo", "Memo", "coding"),
    KeySpec("code_memo", "M", "code_memo", "Code memo", "coding", show=False),
    KeySpec("core_idea", "c", "core_idea", "Core idea", "coding"),
    KeySpec("quote", "q", "quote", "Quote span", "coding"),
    KeySpec("undo", "u,ctrl+z", "undo", "Undo", "coding"),
    KeySpec("redo", "U,ctrl+y", "redo", "Redo", "coding", show=False),
    KeySpec("code_details", "i", "toggle_details", "Definition", "coding"),
    KeySpec("side_by_side", "s", "toggle_side_by_side", "All coders (lead, or once unblinded)", "coding"),
    KeySpec("back", "escape", "back", "Home", "coding", show=False),  # room in the footer for "? Help"
    KeySpec("propose_code", "P", "app.open_screen('propose')", "Propose a code", "coding", show=False),
    # modal dialogs
    KeySpec("picker_down", "down", "cursor(1)", "Next code", "picker", show=False),
    KeySpec("picker_up", "up", "cursor(-1)", "Previous code", "picker", show=False),
    KeySpec("picker_toggle", "enter", "choose", "Toggle code", "picker"),
    KeySpec("editor_save", "ctrl+s", "save", "Save", "editor"),
    KeySpec("editor_cancel", "escape", "cancel", "Cancel", "editor"),
    KeySpec("help_close", "escape,question_mark", "dismiss", "Close", "help"),
    KeySpec("confirm_yes", "y", "answer(True)", "Yes", "confirm"),
    KeySpec("confirm_no", "n,escape", "answer(False)", "No", "confirm"),
    # the lead analyst's screens
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
    # search across transcripts
    KeySpec("search_open", "enter", "open_hit", "Open in transcript", "search"),
    KeySpec("search_new", "slash", "new_search", "New search", "search"),
    KeySpec("search_lemma", "ctrl+l", "toggle_lemma", "Lemmas", "search"),
    KeySpec("search_regex", "ctrl+r", "toggle_regex", "Regex", "search"),
    KeySpec("search_mark", "space", "toggle_mark", "Mark", "search"),
    KeySpec("search_code", "c", "code_hits", "Code hits", "search"),
    KeySpec("search_undo", "u", "undo_coding", "Undo coding", "search"),
    KeySpec("search_back", "escape", "back", "Back", "search"),
    # pattern dialog
    KeySpec("pattern_save", "ctrl+s", "save", "Save", "pattern_dialog"),
    KeySpec("pattern_cancel", "escape", "cancel", "Cancel", "pattern_dialog"),
    # de-identification review (lead)
    KeySpec("deid_accept", "a", "accept", "Accept", "deid"),
    KeySpec("deid_reject", "r", "reject", "Reject", "deid"),
    KeySpec("deid_pseudonym", "p", "pseudonym", "Pseudonym", "deid"),
    KeySpec("deid_kind", "k", "cycle_kind", "Kind", "deid"),
    KeySpec("deid_decision", "f", "cycle_decision", "Show", "deid"),
    KeySpec("deid_scan", "S", "scan", "Scan again", "deid"),
    KeySpec("deid_back", "escape", "back", "Back", "deid"),
    # retrieval: every segment with a code
    KeySpec("retrieval_open", "enter", "open_segment", "Open in transcript", "retrieval"),
    KeySpec("retrieval_code", "c", "choose_code", "Code", "retrieval"),
    KeySpec("retrieval_layer", "l", "cycle_layer", "Layer", "retrieval"),
    KeySpec("retrieval_case", "f", "cycle_case", "Case", "retrieval"),
    KeySpec("retrieval_role", "r", "cycle_role", "Role", "retrieval"),
    KeySpec("retrieval_context", "x", "cycle_context", "Context", "retrieval"),
    KeySpec("retrieval_export", "e", "export", "Export", "retrieval"),
    KeySpec("retrieval_back", "escape", "back", "Back", "retrieval"),
    # memo browser
    KeySpec("memos_open", "enter", "open_segment", "Go to segment", "memos"),
    KeySpec("memos_search", "slash", "search", "Search", "memos"),
    KeySpec("memos_kind", "k", "cycle_kind", "Kind", "memos"),
    KeySpec("memos_export", "e", "export", "Export", "memos"),
    KeySpec("memos_back", "escape", "back", "Back", "memos"),
    # code proposals
    KeySpec("proposals_open", "enter", "open_segment", "Go to segment", "proposals", show=False),
    KeySpec("proposals_accept", "a", "accept", "Accept (lead)", "proposals"),
    KeySpec("proposals_merge", "m", "merge", "Merge (lead)", "proposals"),
    KeySpec("proposals_decline", "d", "decline", "Decline (lead)", "proposals"),
    KeySpec("proposals_new", "p", "propose", "Propose", "proposals"),
    KeySpec("proposals_status", "s", "cycle_status", "Show", "proposals"),
    KeySpec("proposals_back", "escape", "back", "Back", "proposals"),
    # propose-a-code dialog
    KeySpec("proposal_save", "ctrl+s", "save", "Propose", "proposal_dialog"),
    KeySpec("proposal_cancel", "escape", "cancel", "Cancel", "proposal_dialog"),
)

SCOPE_TITLES = {
    "app": "Everywhere",
    "home": "Home",
    "coding": "Coding screen",
    "picker": "Code picker",
    "editor": "Memo, core idea, search and quote dialogs",
    "confirm": "Questions (lead actions)",
    "help": "This help",
    "agreement": "Agreement dashboard",
    "reconcile": "Reconciliation queue",
    "cqr": "CQR table",
    "matrix": "Memo matrix",
    "evidence": "Evidence list",
    "search": "Search across transcripts",
    "pattern_dialog": "Pattern judgement dialog",
    "deid": "De-identification review (lead)",
    "retrieval": "Retrieval (segments with a code)",
    "memos": "Memo browser",
    "proposals": "Code proposals",
    "proposal_dialog": "Propose-a-code dialog",
}

CODE_HOTKEY_HELP = ("1 … 9, 0", "Toggle the code with that hotkey (set in the codebook) on the current segment")

KNOWN_IDS = frozenset(spec.id for spec in KEY_TABLE)


def specs(scope: str) -> list[KeySpec]:
    return [spec for spec in KEY_TABLE if spec.scope == scope]


def bindings(scope: str) -> list[Binding]:
    """Textual bindings for one scope; ids let the settings file's keymap replace keys."""
    return [Binding(s.key, s.action, s.description, show=s.show, id=s.id) for s in specs(scope)]


def effective_key(spec: KeySpec, keymap: dict[str, str]) -> str:
    return keymap.get(spec.id, spec.key)
