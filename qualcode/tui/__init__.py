"""qualcode.tui"""
