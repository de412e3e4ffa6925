"""The path-in, file-out function that each Snakemake rule calls (``workflow/scripts``).

May import every layer below it.
"""
