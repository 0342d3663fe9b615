"""The cases of ``benchmarks/domains.py``: held-out faces, phantoms of two families, cached, scored.

One task per face (:func:`run_face`, run in a joblib worker): the clean photo is scored, two
flushed copies of it (:func:`pigmentscan.simulation.add_erythema`, diffuse and patchy) and each
of the face's phantoms of each family (:data:`FAMILIES`) with its derived photos. The second
family (:mod:`pigmentscan.simulation`) gives seven: a flush, side light, flash, warm white
balance, two retakes and the mirrored photo; the third (:mod:`pigmentscan.heldout_phantoms`) a
flush, two retakes and the mirrored photo. Every draw comes from a seed fixed by the face's name,
the family and ``--seed``. Each generated photo is kept in ``CACHE/<family cache>/<domain>/...`` as
an ``.npz`` (the RGB image, the truth as JSON text and, for a phantom, its truth and skin masks as
packed bits; no pickles), so scoring a new measure regenerates nothing. The family's cache name
ends in a hash of the sources its photos and truth are made from (the family's package,
``regions``, ``colour``, ``landmarks``): changing them starts a new cache; changing the measure does not.
"""

from __future__ import annotations

import hashlib
import importlib
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
#: a* rise of the third family's flush at strength 1 on light skin (docs/heldout_phantoms.md).
THIRD_FLUSH_A_STAR_PER_STRENGTH = 8.0
LIGHT_RANGES = {"side": (0.3, 2.0), "flash": (0.25, 1.0), "warm": (0.25, 1.0)}
_SHARED_SOURCES = ("pigmentscan/regions.py", "pigmentscan/colour.py", "pigmentscan/landmarks.py")
#: The phantom families drawn on the held-out faces: package, derived photos, cache-name prefix.
#: The third family is the held-out one; the second was looked into on London tune faces in the
#: third session of 2026-12-07 (docs/experiments.md) and is reported as development data since.
FAMILIES = {
    "third": {"module": "pigmentscan.heldout_phantoms", "variants": ("base", "flush", "retake_a", "retake_b", "mirror"),
              "prefix": "third", "held_out": True},
    "second": {"module": "pigmentscan.simulation", "variants": VARIANTS, "prefix": "sim", "held_out": False},
}


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


def family_cache_name(family: str) -> str:
    """The cache folder of a family's photos: its prefix and a hash of the sources they are made from."""
    spec = FAMILIES[family]
    digest = hashlib.sha256()
    for name in ("pigmentscan/" + spec["module"].split(".")[1], *_SHARED_SOURCES):
        path = REPO / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.relative_to(REPO).as_posix().encode() + file.read_bytes())
    return f"{spec['prefix']}-{digest.hexdigest()[:10]}"


def face_tasks(domain: str, files, per_face: int, seed: int, cache: Path, model=None, families=tuple(FAMILIES)) -> list:
    """One task per face: its clean photo and ``per_face`` phantoms of each family (the second family's
    seeds are those of earlier runs, so its cache still serves)."""
    def seeds(family, stem):
        extra = () if family == "second" else (family,)
        return [_seed(domain, stem, i, seed, *extra) for i in range(per_face)]
    return [{"domain": domain, "path": str(f), "face": f.stem, "seed": seed, "cache": str(cache), "model": model,
             "phantoms": {family: seeds(family, f.stem) for family in families}} for f in files]


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


def phantom_photos(task: dict, seed: int, folder: Path, state: dict, family: str = "second") -> dict:
    """variant -> (image, truth dict, masks) of one phantom of ``family``, from the cache or made (and cached) now.
    A variant that could not be made is a string: why."""
    variants = FAMILIES[family]["variants"]
    paths = {v: folder / f"{task['face']}_{seed}" / f"{v}.npz" for v in variants}
    if all(p.is_file() for p in paths.values()):
        return {v: _load(p) for v, p in paths.items()}
    rgb, landmarks = _landmarks(task, state)
    plan = confounder_plan(seed)  # recorded with each variant in the a* rise it was drawn as
    makers = _family_makers(family, rgb, landmarks, seed, plan)
    out = {}
    for variant in variants:
        try:
            made = makers[variant]()
        except Exception as error:  # noqa: BLE001 - a variant that cannot be made is reported, not fatal
            out[variant] = f"not generated: {type(error).__name__}: {error}"
            continue
        info = {**_truth_info(made), "plan": plan.get(variant, {})}
        masks = {"truth_mask": made.truth_mask, "skin_mask": made.skin_mask} if variant == "base" else {}
        _save(paths[variant], made.image, info, **masks)
        out[variant] = (made.image, info, masks)
    return out


def _family_makers(family: str, rgb, landmarks, seed: int, plan: dict) -> dict:
    """variant -> a function making that photo of the phantom drawn from ``seed`` (drawn once, lazily),
    its confounders from ``plan`` (:func:`confounder_plan`)."""
    sim = importlib.import_module(FAMILIES[family]["module"])
    drawn = {}

    def face():
        if "face" not in drawn:
            drawn["face"] = sim.draw_case(rgb, seed, landmarks=landmarks)
        return drawn["face"]
    if family == "second":
        flush, flush_args = sim.add_erythema, plan["flush"]
    else:  # the same a* rise in the third family's unit: strength 1 is about +8 a* on light skin (its docs)
        flush = sim.add_flush
        flush_args = {**plan["flush"], "strength": plan["flush"]["strength"] / THIRD_FLUSH_A_STAR_PER_STRENGTH}
    makers = {"base": face, "flush": lambda: flush(face(), **flush_args),
              "retake_a": lambda: sim.retake(face(), seed=plan["retake_a"]["seed"]),
              "retake_b": lambda: sim.retake(face(), seed=plan["retake_b"]["seed"]), "mirror": lambda: sim.mirror(face())}
    if family == "second":
        makers.update({kind: (lambda kind=kind: sim.relight(face(), **plan[kind])) for kind in LIGHTS})
    return makers


def _truth_info(made) -> dict:
    """The truth of a phantom photo as the rows need it: MASI, mMASI, drawn parameters (with ``pigment``,
    the pigment's kind), and each region's area %, area score and darkness (JND)."""
    from pigmentscan.scoring import mmasi

    info = made.to_dict()
    regions = {key: {"area_pct": float(r["area_pct"]), "area_score": int(r["area_score"]),
                     "darkness_jnd": float(r["darkness_jnd"]), **({"darkness_grade": r["darkness_grade"]}
                                                                 if "darkness_grade" in r else {})}
               for key, r in info["regions"].items()}
    if "mmasi" not in info:  # the third family gives the grades; mMASI follows from them (Pandya 2011)
        info["mmasi"] = mmasi({key: {"area": r["area_score"], "darkness": r["darkness_grade"]} for key, r in regions.items()})
    params = {k: v for k, v in info.get("params", {}).items() if v is None or isinstance(v, (str, int, float, bool))}
    params.setdefault("pigment", params.get("kind"))  # the third family calls the pigment's kind "kind"
    return {"masi": float(info["masi"]), "mmasi": float(info["mmasi"]), "params": params, "regions": regions}


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
    """Score one face: its clean photo, two flushed copies, and its phantoms of each family with their variants."""
    model = task["model"]
    root = Path(task["cache"])
    state = {}
    base = {"domain": task["domain"], "face": task["face"]}
    clean, _ = score(task["path"], model)
    rows = [{**base, "kind": "clean", **clean}]
    face_ita = clean.get("ita_deg", np.nan)
    for kind, made in flushed_clean_photos(task, root / family_cache_name("second") / task["domain"], state).items():
        if isinstance(made, str):
            rows.append({**base, "kind": f"flush_{kind}", "status": "not generated", "reasons": made})
            continue
        measured, _ = score(made[0], model)
        rows.append({**base, "kind": f"flush_{kind}", "strength": made[1]["strength"], **measured,
                     "clean_masi": clean.get("masi", np.nan)})
    for family, seeds in task["phantoms"].items():
        folder = root / family_cache_name(family) / task["domain"]
        rows += [_phantom_row(task, seed, folder, state, family, {**base, "kind": "phantom", "family": family,
                                                                    "seed": seed, "face_ita_deg": face_ita})
                 for seed in seeds]
    return rows


def _phantom_row(task: dict, seed: int, folder: Path, state: dict, family: str, row: dict) -> dict:
    """One phantom's row: each variant's measures, the truth, Dice and confounder strengths."""
    model = task["model"]
    try:
        photos = phantom_photos(task, seed, folder, state, family)
    except Exception as error:  # noqa: BLE001 - the phantom could not be made at all
        return {**row, "base_status": "not generated", "base_reasons": f"{type(error).__name__}: {error}"}
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
    return row
