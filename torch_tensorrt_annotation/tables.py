"""The one table printer: `tta check` / `tta.check` reports, the CLI's listings and the benchmarks' Markdown."""

from __future__ import annotations

from collections.abc import Sequence


def format_table(header: Sequence[str], rows: Sequence[Sequence], markdown: bool = False) -> str:
    """`rows` under `header` as text: columns padded to their widest cell and separated by two spaces, a dashed
    rule under the header (trailing spaces stripped); with `markdown`, a GitHub Markdown table. Cells are str()-ed.

    >>> print(format_table(["tactic", "median us"], [[1, "2.50"], [2, "3.10"]]))
    tactic  median us
    ------  ---------
    1       2.50
    2       3.10
    """
    text_rows = [[str(c) for c in r] for r in rows]
    header = [str(h) for h in header]
    if markdown:
        line = lambda cells: "| " + " | ".join(cells) + " |"  # noqa: E731
        return "\n".join([line(header), line(["---"] * len(header))] + [line(r) for r in text_rows])
    widths = [max(len(r[i]) for r in text_rows + [header]) for i in range(len(header))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in text_rows])
