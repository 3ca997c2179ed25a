"""qualcode.codebook"""
