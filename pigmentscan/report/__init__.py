"""Human-readable reports: self-contained HTML pages and PNG figures.

Reports open in a browser with no network: figures are embedded as base64 PNG,
there is no script, font or stylesheet fetched from anywhere. Files are written
atomically and only under the folder the caller names.

Modules: :mod:`.page` (HTML pages, PNG figures), :mod:`.panels` (before/after panels aligned on the baseline face),
:mod:`.scores` (the page of a scores table). One photo's overlay and its file name are
:mod:`pigmentscan.overlay` (below the pipeline, which writes overlays), re-exported here.
"""

from ..overlay import REGION_COLOURS, overlay_paths, render_overlay, write_overlay  # noqa: F401
from .page import HtmlReport, figure_png_bytes, save_figure
from .panels import (  # noqa: F401
    PANEL_MAX_SUBJECTS,
    PanelVisit,
    comparison_panel,
    comparison_panels,
    fit_panels,
    panel_visits,
    warp_to_reference,
)
from .scores import scores_report

__all__ = ["HtmlReport", "figure_png_bytes", "save_figure", "render_overlay", "overlay_paths", "write_overlay",
           "warp_to_reference", "comparison_panel", "comparison_panels", "panel_visits", "PanelVisit", "fit_panels",
           "scores_report"]
