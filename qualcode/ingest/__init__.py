"""qualcode.ingest"""
