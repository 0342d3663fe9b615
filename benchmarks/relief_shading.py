"""How much of a clean face's darkening can the face's geometry explain? (an exploration for issue #34)

The analyser reads melanin apart from shading by colour alone, and pigment greyer than its
melanin direction is lost (``benchmarks/pigment_direction.py``). A reading that does not hinge on
the colour would take melanin and shading together (the darkening) and explain the shading by
the face's relief instead: surface normals from FaceMesh's depth, a per-face second-order
(Lambertian and spherical-harmonic-like) term. This script fits, on clean London faces and with no
template, each candidate reading's expectation (:func:`pigmentscan.lesions.normal_skin_expectation`)
and prints the spread of what is left on clean skin (10th to 90th percentile, JND): the smaller,
the fainter a lesion that can be told from clean skin. Nothing is fitted across faces.

Usage::

    python benchmarks/relief_shading.py [--faces DIR] [--split tune] [--n-faces 16]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import WITH_REAL_SPOTS, default_faces_dir, split_faces  # noqa: E402


def surface_normals(points_px, depth_px, shape, iod_px: float) -> np.ndarray:
    """Unit surface normals (H, W, 3) of the face, from FaceMesh depth interpolated over its triangles."""
    from scipy.interpolate import LinearNDInterpolator

    rows, cols = np.mgrid[0:shape[0]:2, 0:shape[1]:2]
    height = LinearNDInterpolator(points_px, -np.asarray(depth_px))(cols, rows)  # towards the camera
    height = np.where(np.isfinite(height), height, np.nanmedian(height)).astype(np.float32)
    height = cv2.GaussianBlur(cv2.resize(height, (shape[1], shape[0])), (0, 0), 0.04 * iod_px)
    slope_y, slope_x = np.gradient(height)
    normals = np.stack([-slope_x, -slope_y, np.ones_like(height)], axis=-1)
    return normals / np.linalg.norm(normals, axis=-1, keepdims=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=default_faces_dir(), help="folder of London face JPEGs")
    parser.add_argument("--split", choices=("tune", "test", "all"), default="tune")
    parser.add_argument("--n-faces", type=int, default=16)
    args = parser.parse_args(argv)
    from pigmentscan.lesions import face_readings, normal_skin_expectation, skin_maps, working_copy
    from pigmentscan.pipeline import face_crop
    from pigmentscan.scoring import load_model

    files = [f for f in split_faces(sorted(args.faces.glob("*.jpg")), args.split) if f.name[:3] not in WITH_REAL_SPOTS]
    if not files:
        print(f"no face photos in {args.faces} (set --faces or PIGMENTSCAN_FACES)", file=sys.stderr)
        return 2
    params = load_model().lesion
    names = ("melanin, shading + redness terms (today)", "melanin + shading, redness term",
             "melanin + shading, relief + redness terms", "melanin + half the shading, relief + redness terms")
    spreads = []
    for path in files[: args.n_faces]:
        crop, landmarks = face_crop(str(path))
        small, factor = working_copy(crop, landmarks.iod_px, params)
        points, iod = landmarks.points_px * factor, landmarks.iod_px * factor
        maps = skin_maps(small, points, iod, params)
        skin = maps.measurable
        melanin, (shading_od, redness), scale, _ = face_readings(small, maps, iod, params)  # the stage's own readings
        shading = shading_od * scale
        n = surface_normals(points, landmarks.depth_px * factor, small.shape[:2], iod)
        relief = [n[..., 0], n[..., 1], n[..., 2], n[..., 0] ** 2, n[..., 1] ** 2, n[..., 0] * n[..., 1]]
        no_template = np.zeros(small.shape[:2] + (1,))
        row = []
        for reading, covariates in ((melanin, [shading, redness]), (melanin + shading, [redness]),
                                    (melanin + shading, relief + [redness]), (melanin + 0.5 * shading, relief + [redness])):
            fit = normal_skin_expectation(reading, covariates, no_template, np.zeros(0), skin,
                                          width=params.expectation_width, prior_weight=params.mode_prior_weight)
            left = (reading - fit.expected_jnd)[skin]
            row.append(float(np.quantile(left, 0.9) - np.quantile(left, 0.1)))
        spreads.append(row)
    print(f"{len(spreads)} clean {args.split} faces: spread left on clean skin, 10th-90th percentile (JND), median over faces")
    for name, value in zip(names, np.median(spreads, axis=0)):
        print(f"  {name:<52} {value:5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
