"""Why faint pigment is lost, on London TUNE faces and the second family (development data, issue #34).

Prints three things, with the shipped (or ``--model``) model:

1. **What the expectation takes up of a lesion.** Second-family brown pigment (malar, blotchy,
   half the regions involved; :func:`pigmentscan.simulation.simulate_melasma`) at several true
   darknesses, read on the landmarks of the clean photo so that the two readings line up: inside
   the true lesion, the true contrast, how much the melanin reading rises, how much the
   expectation rises there and outside the lesion, and the excess that is left.
2. **Clean patches beside faint lesions.** The patches of skin at 1 JND or more
   (:func:`pigmentscan.lesions.lesion_masks`' level) on the clean tune faces, by support
   (:func:`pigmentscan.lesions.cluster_support`), and those of faint second-family lesions
   (1.5-2.5 JND): extent (IOD²), peak and mean excess (JND), support.
3. **How the expectation's free terms vary on clean faces** (template scale, shading and
   haemoglobin slopes): the room a lesion has to be taken up in.

Usage::

    python benchmarks/faint_pigment.py [--faces DIR] [--faces-n 41] [--lesion-faces 6] [--model FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import WITH_REAL_SPOTS, _face, default_faces_dir, split_faces  # noqa: E402

#: Patches smaller than this (IOD²) are not listed (specks).
MIN_PATCH_IOD2 = 0.003


def working_excess(image, landmarks, model):
    """The lesion stage's steps 1-2 on a photo's working copy, on the given landmarks.

    Returns ``(found, to_working, iod_px)``: the :class:`~pigmentscan.lesions.PigmentExcess`, a
    function that maps a photo-sized map onto the same working copy, and the copy's IOD in pixels.
    """
    import cv2

    from pigmentscan.lesions import pigment_excess, working_copy
    from pigmentscan.pipeline import crop_to_analysis

    crop, crop_landmarks, *_ = crop_to_analysis(image, landmarks, model.analysis_iod_px)
    small, factor = working_copy(crop, crop_landmarks.iod_px, model.lesion)
    found = pigment_excess(small, crop_landmarks.points_px * factor, crop_landmarks.iod_px * factor, model.lesion,
                           model.face_template)

    def to_working(photo_map):
        mapped, *_ = crop_to_analysis(np.asarray(photo_map, np.float32), landmarks, model.analysis_iod_px)
        return cv2.resize(mapped, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA)

    return found, to_working, crop_landmarks.iod_px * factor


def patches(found, iod_px: float, level_jnd: float = 1.0):
    """Each patch of measurable skin at ``level_jnd`` or more: (extent IOD², peak, mean, support, pixels, region).

    ``region`` is the MASI region holding the patch's best-supported pixel ("" outside them).
    """
    from pigmentscan.lesions import cluster_support
    from pigmentscan.lesions._ops import _label

    excess, skin = found.excess_jnd, found.measurable
    support = cluster_support(excess, skin, level_jnd, iod_px, found.weight)
    labels, count = _label((excess >= level_jnd) & skin)
    out = []
    for k in range(1, count + 1):
        pixels = labels == k
        extent = np.count_nonzero(pixels) / iod_px**2
        if extent >= MIN_PATCH_IOD2:
            best = np.unravel_index(np.argmax(np.where(pixels, support, -1.0)), pixels.shape)
            region = next((key for key, polygon in found.maps.regions.items() if polygon[best]), "")
            out.append((extent, float(excess[pixels].max()), float(excess[pixels].mean()), float(support[pixels].max()),
                        pixels, region))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=default_faces_dir())
    parser.add_argument("--faces-n", type=int, default=41, help="clean tune faces for parts 2 and 3")
    parser.add_argument("--lesion-faces", type=int, default=6, help="tune faces given faint lesions (part 2)")
    parser.add_argument("--model", default=None)
    args = parser.parse_args(argv)
    import pigmentscan
    from pigmentscan.simulation import simulate_melasma

    model = pigmentscan.load_model(args.model)
    files = [f for f in split_faces(sorted(args.faces.glob("*.jpg")), "tune") if f.name[:3] not in WITH_REAL_SPOTS]
    if not files:
        print(f"no face photos in {args.faces} (set --faces or PIGMENTSCAN_FACES)", file=sys.stderr)
        return 2

    def lesion(rgb, landmarks, darkness, texture="blotchy"):
        return simulate_melasma(rgb, seed=11, pattern="malar", darkness_jnd=darkness, texture=texture, involvement=0.5,
                                pigment="epidermal", landmarks=landmarks)

    print("1. what the expectation takes up (second-family brown, malar, blotchy, 50 %; medians inside the true lesion, JND)")
    print(f"{'face':>4} {'true':>5} {'reading rises':>14} {'expectation rises':>18} {'(outside)':>10} {'excess':>7}")
    for path in files[0:6:2]:
        rgb, landmarks = _face(path)
        clean, *_ = working_excess(rgb, landmarks, model)
        clean_reading = clean.excess_jnd + clean.expectation.expected_jnd
        for darkness in (1.5, 2.5, 4.0):
            case = lesion(rgb, landmarks, darkness)
            found, to_working, _ = working_excess(case.image, landmarks, model)
            truth = to_working(case.truth_mask)
            inside, outside = (truth >= 0.5) & found.measurable, found.measurable & ~(truth > 0)
            rise = found.expectation.expected_jnd - clean.expectation.expected_jnd
            reading = found.excess_jnd + found.expectation.expected_jnd - clean_reading
            print(f"{path.name[:3]:>4} {np.median(to_working(case.contrast_jnd)[inside]):>5.2f} {np.median(reading[inside]):>14.2f}"
                  f" {np.median(rise[inside]):>+18.2f} {np.median(rise[outside]):>+10.2f} {np.median(found.excess_jnd[inside]):>7.2f}")

    print("\n2. patches at >= 1 JND: clean tune faces (largest support first) and faint lesions (their patches inside the truth)")
    print(f"{'':>24} {'extent IOD2':>12} {'peak':>6} {'mean':>6} {'support':>8}  (clean: the top six per region)")
    clean_rows, coefficients = [], []
    for path in files[: args.faces_n]:
        rgb, landmarks = _face(path)
        found, _, iod = working_excess(rgb, landmarks, model)
        coefficients.append(found.expectation.coefficients[:4])
        clean_rows += [(f"{path.name[:3]} {p[5]}",) + p[:4] for p in patches(found, iod)]
    for region in ("forehead", "malar", "chin"):
        rows = sorted((r for r in clean_rows if region in r[0]), key=lambda r: -r[4])[:6]
        for name, extent, peak, mean, support in rows:
            print(f"{'clean ' + name:>24} {extent:>12.3f} {peak:>6.2f} {mean:>6.2f} {support:>8.2f}")
    for path in files[0: 2 * args.lesion_faces: 2]:
        rgb, landmarks = _face(path)
        for darkness in (1.5, 2.0, 2.5):
            for texture in ("blotchy", "reticulated"):
                case = lesion(rgb, landmarks, darkness, texture)
                found, to_working, iod = working_excess(case.image, landmarks, model)
                truth = to_working(case.truth_mask) >= 0.5
                inside = [p for p in patches(found, iod) if truth[p[4]].mean() > 0.5]
                for extent, peak, mean, support, *_ in sorted(inside, key=lambda p: -p[0])[:1]:
                    print(f"{f'lesion {path.name[:3]} {darkness} JND {texture[:5]}':>24} {extent:>12.3f} {peak:>6.2f}"
                          f" {mean:>6.2f} {support:>8.2f}")
    print(f"  thresholds: forehead {model.lesion.min_support_forehead}, malar {model.lesion.min_support_malar},"
          f" chin {model.lesion.min_support_chin}")

    table = np.array(coefficients)
    print(f"\n3. the expectation's terms on {len(table)} clean tune faces, mean ± SD (10th-90th percentile)")
    for i, name in enumerate(("tone (JND)", "template scale", "shading slope (JND/OD)", "haemoglobin slope (JND/OD)")):
        low, high = np.quantile(table[:, i], [0.1, 0.9])
        print(f"  {name:<28} {table[:, i].mean():>6.2f} ± {table[:, i].std():.2f}  ({low:.2f} to {high:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
