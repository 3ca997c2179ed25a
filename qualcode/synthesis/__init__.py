"""qualcode.synthesis"""
