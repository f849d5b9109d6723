"""The scheduler process's monitors: one module per monitor, all jobs declared in one list.

Filled by the run-supervision issue; the package exists so the layout matches the design.
"""
