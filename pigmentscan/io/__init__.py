"""Reading photos and tables, writing output files: the edges of pigmentscan.

Everything that touches the file system lives here (and in ``report`` / ``cli``):
the rest of the package works on numpy arrays.

- :mod:`pigmentscan.io.images`: photos in (hostile files refused with a clear reason);
- :mod:`pigmentscan.io.tables`: the manifest and scores tables, visit ordering;
- :mod:`pigmentscan.io.files`: atomic writes, metadata-free PNGs, npz archives without pickles, finding photos.
"""

from .files import (IMAGE_SUFFIXES, atomic_open, atomic_write_bytes, atomic_write_text, find_images, npz_bytes, read_npz,
                    write_png)
from .images import MAX_IMAGE_PIXELS, MIN_IMAGE_SIDE_PX, ImageHeader, as_rgb_array, image_header, load_rgb, read_image
from .tables import read_manifest, read_scores, visit_order_key

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_IMAGE_PIXELS",
    "MIN_IMAGE_SIDE_PX",
    "ImageHeader",
    "as_rgb_array",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_open",
    "find_images",
    "image_header",
    "load_rgb",
    "npz_bytes",
    "read_npz",
    "read_image",
    "read_manifest",
    "read_scores",
    "visit_order_key",
    "write_png",
]
