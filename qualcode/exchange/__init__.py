"""Exchange with other tools and with coders' separate copies.

REFI-QDA projects in and out (with every coding), merging coders' copies, coders' hand-outs.
Above ``project`` in the layers: merging opens a second project.
"""
