"""qualcode.cli"""
