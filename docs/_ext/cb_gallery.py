"""An image scraper for the example gallery: classbalance draws without pyplot.

The library's plots return ``matplotlib.figure.Figure`` objects drawn on the Agg canvas and
never touch pyplot's global figure list, which sphinx-gallery's own matplotlib scraper reads.
This scraper saves every ``Figure`` the example holds in a global variable, once, after the
code block that created it, so the page shows the figures this build's run drew.
"""

from __future__ import annotations

from typing import Any

_SEEN: dict[str, set[int]] = {}


def figure_scraper(block: Any, block_vars: dict[str, Any], gallery_conf: dict[str, Any]) -> str:
    from matplotlib.figure import Figure
    from sphinx_gallery.scrapers import figure_rst

    seen = _SEEN.setdefault(str(block_vars["src_file"]), set())
    figures = [
        value
        for value in block_vars["example_globals"].values()
        if isinstance(value, Figure) and id(value) not in seen
    ]
    paths = []
    for figure, path in zip(figures, block_vars["image_path_iterator"]):
        figure.savefig(path, dpi=100, bbox_inches="tight")
        seen.add(id(figure))
        paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])
