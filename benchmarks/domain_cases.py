"""The cases of ``benchmarks/domains.py``: held-out faces, second-family phantoms, cached, scored.

One task per face (:func:`run_face`, run in a joblib worker): the clean photo is scored, two
flushed copies of it (:func:`pigmentscan.simulation.add_erythema`, diffuse and patchy) and each
of the face's phantoms (:func:`pigmentscan.simulation.draw_case`) with seven derived photos:
a flush, side light, flash, warm white balance (:func:`~pigmentscan.simulation.relight`), two
retakes (:func:`~pigmentscan.simulation.retake`) and the mirrored photo
(:func:`~pigmentscan.simulation.mirror`). Every draw comes from a seed fixed by the face's name
and ``--seed``. Each generated photo is kept in ``CACHE/sim-<hash>/<domain>/...`` as an ``.npz``
(the RGB image, the truth as JSON text and, for a phantom, its truth and skin masks as packed
bits; no pickles), so scoring a new measure regenerates nothing. ``<hash>`` covers the sources
the photos and their truth are made from (``pigmentscan/simulation``, ``regions``, ``colour``,
``landmarks``): changing them starts a new cache; changing the measure does not.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from pathlib import Path

import numpy as np

from accuracy import REGIONS, WITH_REAL_SPOTS, _to_crop, split_faces

REPO = Path(__file__).resolve().parents[1]
HELD_OUT = ("3dsk", "london_smiling")  # faces/README.md: kept out of every fit and tuning
OWN_DOMAIN = "london"  # the project's own studio: its TEST split is the reference column
PER_FACE = {"london_smiling": 2, "3dsk": 1}  # phantoms per face by default
VARIANTS = ("base", "flush", "side", "flash", "warm", "retake_a", "retake_b", "mirror")
LIGHTS = ("side", "flash", "warm")
SWAP = {"right_malar": "left_malar", "left_malar": "right_malar"}
# Strength ranges drawn uniformly (docs/simulation.md): a* rise of a flush, useful 1.5-12; side
# light, EV between the cheeks, useful 0.3-2; flash and warm 0-1, drawn from 0.25 (our choice: a
# visible change every time; 0.25 warm is about 4900 K).
FLUSH_RANGE = (1.5, 12.0)
LIGHT_RANGES = {"side": (0.3, 2.0), "flash": (0.25, 1.0), "warm": (0.25, 1.0)}
_SIM_SOURCES = ("pigmentscan/simulation", "pigmentscan/regions.py", "pigmentscan/colour.py", "pigmentscan/landmarks.py")


def faces_root(given=None) -> Path:
    """The folder holding the domain folders: ``--faces``, ``$PIGMENTSCAN_FACES``, else ../shared/faces."""
    env = os.environ.get("PIGMENTSCAN_FACES")
    return Path(given) if given else (Path(env) if env else REPO.parent / "shared" / "faces")


def domain_dir(root: Path, domain: str) -> Path | None:
    """``root/domain``; when ``root`` is itself one domain's folder (as ``$PIGMENTSCAN_FACES`` is for
    benchmarks/accuracy.py: the London folder), its sibling ``domain`` (or ``root`` when it is that one)."""
    for candidate in (root / domain, root.parent / domain):
        if candidate.is_dir():
            return candidate
    return root if root.name == domain and root.is_dir() else None


def domain_faces(folder: Path, domain: str) -> list:
    """The faces of a domain: every JPEG; London: its TEST split (accuracy.py). London faces with real
    brown spots or freckles (001, 038, 107; faces/README.md) carry pigment no truth knows of: left out."""
    files = sorted(folder.glob("*.jpg"))
    if domain == OWN_DOMAIN:
        files = split_faces(files, "test")
    return [f for f in files if not (domain.startswith("london") and f.name[:3] in WITH_REAL_SPOTS)]


def spotted_faces(folder: Path, domain: str) -> list:
    return [f for f in sorted(folder.glob("*.jpg")) if domain.startswith("london") and f.name[:3] in WITH_REAL_SPOTS]


def _seed(*parts) -> int:
    return zlib.crc32(":".join(map(str, parts)).encode())


def simulation_hash() -> str:
    digest = hashlib.sha256()
    for name in _SIM_SOURCES:
        path = REPO / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.relative_to(REPO).as_posix().encode() + file.read_bytes())
    return digest.hexdigest()[:10]


def face_tasks(domain: str, files, per_face: int, seed: int, cache: Path, model=None) -> list:
    return [{"domain": domain, "path": str(f), "face": f.stem, "seed": seed, "cache": str(cache), "model": model,
             "phantoms": [_seed(domain, f.stem, i, seed) for i in range(per_face)]} for f in files]


def confounder_plan(phantom_seed: int) -> dict:
    """The flush, lights and retakes of one phantom, drawn from its seed."""
    rng = np.random.default_rng([phantom_seed, 34])
    plan = {"flush": {"kind": ("diffuse", "patchy")[int(rng.integers(2))],
                      "strength": float(rng.uniform(*FLUSH_RANGE)), "seed": int(rng.integers(2**31))}}
    for kind in LIGHTS:
        plan[kind] = {"kind": kind, "strength": float(rng.uniform(*LIGHT_RANGES[kind])), "seed": int(rng.integers(2**31))}
    plan["retake_a"], plan["retake_b"] = ({"seed": int(rng.integers(2**31))} for _ in range(2))
    return plan


# --- the cache: one .npz per photo, no pickles ---------------------------------------------------

def _save(path: Path, image, info: dict, **masks) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + f".{os.getpid()}.tmp.npz")
    packed = {k: np.packbits(np.asarray(v, bool)) for k, v in masks.items()}
    np.savez_compressed(tmp, image=np.asarray(image, np.uint8), truth=np.array(json.dumps(info)), **packed)
    os.replace(tmp, path)


def _load(path: Path) -> tuple:
    with np.load(path, allow_pickle=False) as data:
        image = data["image"]
        info = json.loads(str(data["truth"]))
        n = image.shape[0] * image.shape[1]
        masks = {k: np.unpackbits(data[k])[:n].reshape(image.shape[:2]).astype(bool)
                 for k in data.files if k not in ("image", "truth")}
    return image, info, masks


def _landmarks(task, cache_state):
    if "landmarks" not in cache_state:
        from pigmentscan.io import load_rgb
        from pigmentscan.landmarks import detect_landmarks

        rgb, _ = load_rgb(task["path"])
        cache_state["rgb"] = rgb
        cache_state["landmarks"] = detect_landmarks(rgb, source=task["path"])
    return cache_state["rgb"], cache_state["landmarks"]


def phantom_photos(task: dict, seed: int, folder: Path, state: dict) -> dict:
    """variant -> (image, truth dict, masks) of one phantom, from the cache or made (and cached) now.
    A variant that could not be made is a string: why."""
    paths = {v: folder / f"{task['face']}_{seed}" / f"{v}.npz" for v in VARIANTS}
    if all(p.is_file() for p in paths.values()):
        return {v: _load(p) for v, p in paths.items()}
    from pigmentscan.simulation import add_erythema, draw_case, mirror, relight, retake

    rgb, landmarks = _landmarks(task, state)
    face = draw_case(rgb, seed, landmarks=landmarks)
    plan = confounder_plan(seed)
    makers = {"base": lambda: face, "flush": lambda: add_erythema(face, **plan["flush"]),
              "retake_a": lambda: retake(face, seed=plan["retake_a"]["seed"]),
              "retake_b": lambda: retake(face, seed=plan["retake_b"]["seed"]), "mirror": lambda: mirror(face)}
    makers.update({kind: (lambda kind=kind: relight(face, **plan[kind])) for kind in LIGHTS})
    out = {}
    for variant in VARIANTS:
        try:
            made = makers[variant]()
        except Exception as error:  # noqa: BLE001 - a variant that cannot be made is reported, not fatal
            out[variant] = f"not generated: {type(error).__name__}: {error}"
            continue
        info = {**made.to_dict(), "plan": plan.get(variant, {})}
        masks = {"truth_mask": made.truth_mask, "skin_mask": made.skin_mask} if variant == "base" else {}
        _save(paths[variant], made.image, info, **masks)
        out[variant] = (made.image, info, masks)
    return out


def flushed_clean_photos(task: dict, folder: Path, state: dict) -> dict:
    """kind -> (image, info) of the clean face flushed diffusely and patchily (strength from the seed)."""
    from pigmentscan.simulation import add_erythema

    out = {}
    for kind in ("diffuse", "patchy"):
        seed = _seed(task["domain"], task["face"], "flush", kind, task["seed"])
        strength = float(np.random.default_rng(seed).uniform(*FLUSH_RANGE))
        path = folder / f"{task['face']}_clean" / f"flush_{kind}_{seed}.npz"
        if path.is_file():
            image, info, _ = _load(path)
            out[kind] = (image, info)
            continue
        try:
            rgb, landmarks = _landmarks(task, state)
            image = add_erythema(rgb, landmarks, strength=strength, kind=kind, seed=seed)
        except Exception as error:  # noqa: BLE001
            out[kind] = f"not generated: {type(error).__name__}: {error}"
            continue
        info = {"kind": kind, "strength": strength, "seed": seed}
        _save(path, image, info)
        out[kind] = (image, info)
    return out


# --- scoring -----------------------------------------------------------------------------------

_MODELS = {}


def score(image, model=None) -> tuple:
    """(measures dict, FaceScore or None): status, reasons, totals, ITA and each region's continuous
    area and grades. A photo pigmentscan rules out is status ``error`` with its reasons."""
    import pigmentscan

    if model not in _MODELS:
        _MODELS[model] = pigmentscan.load_model(model)
    try:
        result = pigmentscan.score_image(image, model=_MODELS[model])
    except pigmentscan.PigmentScanError as error:
        report = getattr(error, "report", None)
        return {"status": "error", "reasons": " | ".join(report.reasons if report is not None else [error.reason])}, None
    row = {"status": result.status, "reasons": " | ".join(result.qc.reasons), "masi": result.masi,
           "mmasi": result.mmasi, "ita_deg": result.analysis.reference.ita_deg}
    for key, region in result.regions.items():
        row.update({f"{key}_area_pct": region.area_pct, f"{key}_area_score": region.area_score,
                    f"{key}_darkness": region.darkness, f"{key}_homogeneity": region.homogeneity})
    return row, result


def _dice(result, truth_mask, skin_mask) -> dict:
    """Lesion Dice per region inside the analysis's region mask and the phantom's visible skin."""
    found, true, skin = result.analysis.lesion_mask, _to_crop(truth_mask, result), _to_crop(skin_mask, result)
    out = {}
    for key in REGIONS:
        region = result.analysis.region_masks[key] & skin
        t, f = true & region, found & region
        out[f"{key}_dice"] = 2 * (t & f).sum() / (t.sum() + f.sum()) if t.any() else np.nan
    return out


def _prefixed(prefix: str, row: dict) -> dict:
    return {f"{prefix}_{k}": v for k, v in row.items()}


def run_face(task: dict) -> list:
    """Score one face: its clean photo, two flushed copies, and its phantoms with their variants."""
    model = task["model"]
    folder = Path(task["cache"]) / task["domain"]
    state = {}
    base = {"domain": task["domain"], "face": task["face"]}
    clean, _ = score(task["path"], model)
    rows = [{**base, "kind": "clean", **clean}]
    face_ita = clean.get("ita_deg", np.nan)
    for kind, made in flushed_clean_photos(task, folder, state).items():
        if isinstance(made, str):
            rows.append({**base, "kind": f"flush_{kind}", "status": "not generated", "reasons": made})
            continue
        measured, _ = score(made[0], model)
        rows.append({**base, "kind": f"flush_{kind}", "strength": made[1]["strength"], **measured,
                     "clean_masi": clean.get("masi", np.nan)})
    for seed in task["phantoms"]:
        row = {**base, "kind": "phantom", "seed": seed, "face_ita_deg": face_ita}
        try:
            photos = phantom_photos(task, seed, folder, state)
        except Exception as error:  # noqa: BLE001 - the phantom could not be made at all
            rows.append({**row, "base_status": "not generated", "base_reasons": f"{type(error).__name__}: {error}"})
            continue
        for variant, made in photos.items():
            if isinstance(made, str):
                row.update({f"{variant}_status": "not generated", f"{variant}_reasons": made})
                continue
            image, info, masks = made
            measured, result = score(image, model)
            row.update(_prefixed(variant, measured))
            row.update({f"{variant}_true_masi": info["masi"], f"{variant}_true_mmasi": info["mmasi"]})
            if variant == "base":
                row.update({f"param_{k}": v for k, v in info["params"].items() if k != "seed"})
                row.update({"true_masi": info["masi"], "true_mmasi": info["mmasi"]})
                for key, truth in info["regions"].items():
                    row.update({f"{key}_true_{k}": truth[k] for k in ("area_pct", "area_score", "darkness_jnd")})
                if result is not None:
                    row.update(_dice(result, masks["truth_mask"], masks["skin_mask"]))
            elif variant in ("flush", *LIGHTS):
                row[f"{variant}_strength"] = info["plan"]["strength"]
        if not np.isfinite(row["face_ita_deg"]):  # the clean photo was not scored: the phantom's reference skin
            row["face_ita_deg"] = row.get("base_ita_deg", np.nan)
        rows.append(row)
    return rows
