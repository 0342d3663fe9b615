"""Reading photos and tables, writing output files: the edges of pigmentscan.

Everything that touches the file system lives here (and in ``report`` / ``cli``):
the rest of the package works on numpy arrays.

- :mod:`pigmentscan.io.images`: photos in (hostile files refused with a clear reason);
- :mod:`pigmentscan.io.tables`: the manifest and scores tables, and :func:`write_table`, the one
  CSV writer;
- :mod:`pigmentscan.io.visits`: visit labels in time order and each subject's baseline
  (:func:`visit_order`, the one rule of compare, validate and the report's panels);
- :mod:`pigmentscan.io.files`: inputs opened only when they are regular files, atomic writes
  that follow the umask, metadata-free PNGs, npz archives without pickles, finding photos;
- :mod:`pigmentscan.io.outputs`: :func:`check_outputs`, the output-path guard of every command.
"""

from .files import (IMAGE_SUFFIXES, atomic_open, atomic_write_bytes, atomic_write_text, display_path, file_kind,
                    find_images,
                    is_protected, npz_bytes, open_input, protect_inputs, read_input, read_npz, remove_stale, write_png)
from .images import MAX_IMAGE_PIXELS, MIN_IMAGE_SIDE_PX, ImageHeader, as_rgb_array, image_header, load_rgb, read_image
from .outputs import check_outputs
from .tables import (FORMULA_TRIGGERS, SCORES_TEXT_COLUMNS, escape_formula, format_cell, read_manifest, read_scores,
                     table_line, unescape_formula, write_table)
from .visits import BASELINE_KEY, visit_order, visit_order_key

__all__ = [
    "BASELINE_KEY",
    "IMAGE_SUFFIXES",
    "MAX_IMAGE_PIXELS",
    "MIN_IMAGE_SIDE_PX",
    "FORMULA_TRIGGERS",
    "SCORES_TEXT_COLUMNS",
    "ImageHeader",
    "as_rgb_array",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_open",
    "check_outputs",
    "display_path",
    "escape_formula",
    "file_kind",
    "find_images",
    "format_cell",
    "image_header",
    "is_protected",
    "load_rgb",
    "npz_bytes",
    "open_input",
    "protect_inputs",
    "read_input",
    "read_npz",
    "read_image",
    "read_manifest",
    "read_scores",
    "remove_stale",
    "table_line",
    "unescape_formula",
    "visit_order",
    "visit_order_key",
    "write_png",
    "write_table",
]
