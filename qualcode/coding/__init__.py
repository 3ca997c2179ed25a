"""Coding: apply/undo, rounds, blinding and the consensus layer."""
