"""qualcode.agreement"""
