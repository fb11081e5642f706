"""Turning one run's results into target checks, a table, ``latest.md`` and plots.

* :mod:`.targets`: the targets, declared once, and their evaluation;
* :mod:`.table`: the summary table (terminal and Markdown);
* :mod:`.details`: the per-figure tables of ``latest.md``;
* :mod:`.markdown`: ``latest.md`` itself, and ``latest.json`` without raw samples;
* :mod:`.plots`: the PNG plots.
"""

from .markdown import VENDOR_QUIRKS, markdown, public
from .plots import plots
from .table import Row, markdown_table, rows, table
from .targets import TARGETS, Check, Mark, Target, targets

__all__ = [
    "TARGETS",
    "VENDOR_QUIRKS",
    "Check",
    "Mark",
    "Row",
    "Target",
    "markdown",
    "markdown_table",
    "plots",
    "public",
    "rows",
    "table",
    "targets",
]
