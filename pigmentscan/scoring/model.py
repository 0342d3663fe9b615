"""The scoring model: lesion parameters, grading thresholds and their provenance, as a JSON file.

A scoring model is data: a JSON file (never pickle) holding the lesion-stage parameters, the
natural pattern of clean faces the lesion stage compares each face with, and the thresholds
that turn continuous measures into grades. The default ships in ``models/default.json``;
``pigmentscan calibrate`` writes fitted ones in the same format.

A model's identity (:attr:`ScoringModel.content_hash`) covers only what changes a score: the
parameters, the thresholds, the template and the region template. Its name, description and
model card (``provenance``) can be reworded without changing any score row.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from ..errors import ModelError
from ..io import read_input
from ..lesions import FaceTemplate, LesionParams
from ..regions import REGION_KEYS, TEMPLATE_VERSION
from .grading import Grading
from .model_schema import MAX_MODEL_BYTES, check_model_data

__all__ = ["ScoringModel", "load_model", "model_from_dict"]

MODEL_FORMAT, MODEL_FORMAT_VERSION = "pigmentscan-model", 2


@dataclass(frozen=True)
class ScoringModel:
    """A scoring model: lesion parameters, the clean-face template, grading thresholds, and its model card."""

    name: str
    lesion: LesionParams
    grading: Grading
    analysis_iod_px: float = 200.0
    region_template: str = TEMPLATE_VERSION
    description: str = ""
    provenance: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    face_template: FaceTemplate | None = None  # natural pattern of clean faces; the face's tone alone without one
    #: Smallest detectable change of each measure between two visits, measured with this model, and how
    #: (``source``): what ``compare`` judges changes by when no retest is given. Empty: none measured.
    smallest_detectable_change: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = {
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "name": self.name,
            "description": self.description,
            "region_template": self.region_template,
            "analysis_iod_px": self.analysis_iod_px,
            "lesion": self.lesion.to_dict(),
            "grading": self.grading.to_dict(),
            "provenance": dict(self.provenance),
        }
        if self.face_template is not None:
            out["face_template"] = self.face_template.to_dict()
        if self.smallest_detectable_change:
            out["smallest_detectable_change"] = dict(self.smallest_detectable_change)
        out.update(self.extra)
        return out

    def scoring_content(self) -> dict:
        """What changes a score: format, region template, scale, lesion parameters, face template, grading."""
        scoring = {k: v for k, v in self.to_dict().items() if k in _SCORING_KEYS}
        return scoring

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    @functools.cached_property
    def content_hash(self) -> str:
        """SHA-256 (first 16 hex digits) of what changes a score (:meth:`scoring_content`), as canonical JSON.

        The name, description, model card and any extra sections are left out: rewording them
        keeps every score row, and a batch re-run reuses them. Computed once per model (the
        model is frozen; its template alone is some 100 kB of JSON).
        """
        canonical = json.dumps(self.scoring_content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]

    @property
    def label(self) -> str:
        """``name@hash``, written in the scores' ``model`` column."""
        return f"{self.name}@{self.content_hash}"

    def with_grading(self, **changes) -> ScoringModel:
        return replace(self, grading=replace(self.grading, **changes))


def _number(value, where: str, source) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ModelError(source, f"{where} must be a finite number, got {value!r}")
    return float(value)


def _ascending(values, where: str, source, length: int = 4) -> tuple:
    if not isinstance(values, list) or len(values) != length:
        raise ModelError(source, f"{where} must be a list of {length} numbers")
    numbers = tuple(_number(v, where, source) for v in values)
    if any(b < a for a, b in zip(numbers, numbers[1:])):
        raise ModelError(source, f"{where} must be in ascending order, got {list(numbers)}")
    return numbers


def model_from_dict(data, *, source=None) -> ScoringModel:
    """Build and validate a :class:`ScoringModel` from parsed JSON.

    Nothing is built before :func:`~pigmentscan.scoring.model_schema.check_model_data` has
    checked the whole file: every number finite, sizes bounded, known fields of the right
    kind and in their plausible ranges.

    Raises
    ------
    ModelError
        On any missing, unknown, non-finite, oversized or out-of-range field.
    """
    if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
        raise ModelError(source, f"not a pigmentscan model file (expected \"format\": \"{MODEL_FORMAT}\")")
    if data.get("format_version") != MODEL_FORMAT_VERSION:
        raise ModelError(source, f"unsupported model format_version {data.get('format_version')!r}; this pigmentscan reads {MODEL_FORMAT_VERSION}")
    if data.get("region_template") != TEMPLATE_VERSION:
        raise ModelError(source, f"model was made for region template {data.get('region_template')!r}, this pigmentscan uses {TEMPLATE_VERSION!r}")
    check_model_data(data, source)  # every number finite, sizes bounded, known fields in range (model_schema)
    lesion_raw, grading_raw = data.get("lesion"), data.get("grading")
    if not isinstance(lesion_raw, dict) or not isinstance(grading_raw, dict):
        raise ModelError(source, "model needs \"lesion\" and \"grading\" objects")
    known = LesionParams.__dataclass_fields__
    unknown = sorted(set(lesion_raw) - set(known))
    if unknown:
        raise ModelError(source, f"unknown lesion parameters {unknown}")
    lesion_values = {}
    for key, value in lesion_raw.items():
        if key.endswith("_direction"):
            direction = tuple(_number(v, f"lesion.{key}", source) for v in value)
            if min(direction) < 0 or max(direction) <= 0:
                raise ModelError(source, f"lesion.{key} must be 3 non-negative numbers, not all 0 (an absorption direction)")
            lesion_values[key] = direction
        else:
            number = _number(value, f"lesion.{key}", source)
            lesion_values[key] = number
    gains = grading_raw.get("area_gain", {r: 1.0 for r in REGION_KEYS})
    if not isinstance(gains, dict) or set(gains) != set(REGION_KEYS):
        raise ModelError(source, f"grading.area_gain must give a number for each of {list(REGION_KEYS)}")
    grading = Grading(
        min_area_pct=_number(grading_raw.get("min_area_pct", 0.5), "grading.min_area_pct", source),
        area_gain={r: _number(gains[r], f"grading.area_gain.{r}", source) for r in REGION_KEYS},
        darkness_thresholds=_ascending(grading_raw.get("darkness_thresholds"), "grading.darkness_thresholds", source),
        homogeneity_thresholds=_ascending(grading_raw.get("homogeneity_thresholds"), "grading.homogeneity_thresholds", source),
        **{k: _number(grading_raw.get(k, d), f"grading.{k}", source)
           for k, d in (("masi_scale", 1.0), ("masi_offset", 0.0), ("mmasi_scale", 1.0), ("mmasi_offset", 0.0))},
        **{k: _number(grading_raw.get(k, 0.0), f"grading.{k}", source) for k in _UNCERTAINTIES},
    )
    unknown = sorted(set(grading_raw) - set(Grading.__dataclass_fields__))
    if unknown:
        raise ModelError(source, f"unknown grading parameters {unknown}")
    sdc = _smallest_detectable_change(data.get("smallest_detectable_change"), source)
    if "lesion_classifier" in data:
        raise ModelError(source, "lesion_classifier: this pigmentscan has no learned classifier (model format 1); "
                                 "use a model file of format 2")
    template = None
    if data.get("face_template") is not None:
        try:
            template = FaceTemplate.from_dict(data["face_template"])
        except ValueError as error:
            raise ModelError(source, str(error)) from None
    try:
        model = ScoringModel(
            name=str(data.get("name", "unnamed")),
            lesion=LesionParams(**lesion_values),
            grading=grading,
            analysis_iod_px=_number(data.get("analysis_iod_px", 200), "analysis_iod_px", source),
            region_template=TEMPLATE_VERSION,
            description=str(data.get("description", "")),
            provenance=dict(data.get("provenance", {})),
            extra={k: v for k, v in data.items() if k not in _MODEL_KEYS},
            face_template=template,
            smallest_detectable_change=sdc,
        )
    except (TypeError, ValueError) as error:
        raise ModelError(source, f"invalid model: {error}") from None
    return model


def _smallest_detectable_change(section, source) -> dict:
    """The optional ``smallest_detectable_change`` section: ``{measure: SDC >= 0, ..., "source": how measured}``."""
    if section is None:
        return {}
    where = "smallest_detectable_change"
    if not isinstance(section, dict) or not isinstance(section.get("source"), str) or not section["source"].strip():
        raise ModelError(source, f"{where} must be an object with a \"source\" text saying how it was measured")
    values = {k: _number(v, f"{where}.{k}", source) for k, v in section.items() if k != "source"}
    if not values or any(v < 0 for v in values.values()):
        raise ModelError(source, f"{where} must give at least one measure's SDC, each 0 or more")
    return values | {"source": section["source"].strip()}


_UNCERTAINTIES = ("area_uncertainty_pct", "darkness_uncertainty", "homogeneity_uncertainty_iod")
_MODEL_KEYS = {"format", "format_version", "name", "description", "region_template", "analysis_iod_px", "lesion", "grading",
               "provenance", "face_template", "smallest_detectable_change"}
#: The parts of a model file that change a score (:attr:`ScoringModel.content_hash`).
_SCORING_KEYS = {"format", "format_version", "region_template", "analysis_iod_px", "lesion", "grading", "face_template"}
_DEFAULT_MODEL = None


def _default_model_file():
    """``models/default.json``: in a source checkout the repository's copy, in a wheel the packaged one."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "models" / "default.json").is_file():
        return checkout / "models" / "default.json"
    return resources.files("pigmentscan.models").joinpath("default.json")


def load_model(model=None) -> ScoringModel:
    """Load a scoring model.

    Parameters
    ----------
    model : None, str, os.PathLike or ScoringModel
        ``None`` for the default model shipped with pigmentscan; a path to a JSON
        model file; or a model already loaded (returned as is).

    Raises
    ------
    ModelError
        If the file is missing, not JSON, or not a valid model. Model files are
        data: parsing one never runs code.
    """
    global _DEFAULT_MODEL
    if isinstance(model, ScoringModel):
        return model
    if model is None:
        if _DEFAULT_MODEL is None:
            text = _default_model_file().read_text(encoding="utf-8")
            _DEFAULT_MODEL = model_from_dict(json.loads(text), source="default.json")
        return _DEFAULT_MODEL
    path = Path(model)
    data = read_input(path, max_bytes=MAX_MODEL_BYTES, what="a pigmentscan model", error=ModelError)
    try:
        parsed = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ModelError(path, "cannot read model file: not UTF-8 text (a model is a JSON file)") from None
    except RecursionError:
        raise ModelError(path, "cannot read model file: nested too deep to be a pigmentscan model") from None
    except ValueError as error:  # JSONDecodeError, or an integer of more digits than Python converts
        raise ModelError(path, f"cannot read model file: not valid JSON ({error})") from None
    return model_from_dict(parsed, source=path)
