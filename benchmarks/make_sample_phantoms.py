"""Make the phantom sample images: the public-domain portraits in ``sample_images/`` with melasma-like pigment.

Each ``sample_images/<name>_phantom.png`` is ``<name>`` with pigment of known extent added by
:func:`pigmentscan.phantom.make_phantom` (fixed seed, fixed grades chosen to be clearly
visible); ``<name>_phantom.json`` holds its truth (per-region area, darkness, homogeneity,
MASI). The originals are small (inter-ocular distance 43-84 px), so the patterns are coarse.

Run from the repository root::

    python benchmarks/make_sample_phantoms.py
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

SEED = 20240601
SAMPLES = {"grace_hopper.jpg": "grace_hopper_phantom", "astronaut_eileen_collins.png": "astronaut_eileen_collins_phantom"}
#: Grades of the samples: maximum-darkness (D4) malar patches, marked (D3) forehead and chin patches.
AREA = {"forehead": 0.25, "right_malar": 0.45, "left_malar": 0.35, "chin": 0.15}
DARKNESS = {"forehead": 3, "right_malar": 4, "left_malar": 4, "chin": 3}
HOMOGENEITY = {"forehead": 2, "right_malar": 3, "left_malar": 3, "chin": 2}


def main(folder: Path = Path(__file__).resolve().parents[1] / "sample_images") -> int:
    from pigmentscan.io import load_rgb, write_png
    from pigmentscan.phantom import make_phantom

    for source, stem in SAMPLES.items():
        rgb, _ = load_rgb(folder / source)
        phantom = make_phantom(rgb, seed=SEED, area_fraction=AREA, darkness=DARKNESS, homogeneity=HOMOGENEITY)
        os.chmod(write_png(folder / f"{stem}.png", phantom.image), 0o644)
        truth = {"source": source, "note": "pigment added by pigmentscan.phantom.make_phantom; truth of the added pigment only",
                 **phantom.to_dict(), "lesion_mask_pct_of_photo": float(100 * np.mean(phantom.lesion_mask))}
        (folder / f"{stem}.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
        print(f"{stem}.png: true MASI {phantom.masi:.1f}, mMASI {phantom.mmasi:.1f}, IOD {phantom.landmarks.iod_px:.0f} px")
    return 0


if __name__ == "__main__":
    sys.exit(main())
