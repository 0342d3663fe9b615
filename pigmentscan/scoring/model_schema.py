"""What a model file may hold, checked before anything is built from it: :func:`check_model_data`.

A model file may come from a stranger. Parsing it never runs code (it is JSON, never pickle),
but its numbers steer the analysis of every photo: a NaN in the face template would pass
through the expectation of every face, a negative area gain changes every MASI, a template of
millions of pixels asks for gigabytes per photo, and a working scale of 0.001 px between the
pupils fails deep inside OpenCV on each photo. So, on the parsed
JSON and before any array is made:

1. the whole tree (every field, known or not, provenance included): every number finite, at
   most :data:`MAX_MODEL_NUMBERS` numbers, no list longer than :data:`MAX_LIST_LENGTH`, no text
   longer than :data:`MAX_TEXT_CHARS`, nesting at most :data:`MAX_DEPTH` deep;
2. each known field against :data:`SCHEMA`, a table of (field pattern, kind, plausible range):
   first matching row wins, ``*`` matches any part of the dotted field path
   (``face_template.mode_variance``). A field the table does not name is
   only held to step 1; a new model section is protected by adding its rows here.

What a model file *can* do: change the lesion parameters, grading thresholds, area gains,
totals maps and the clean-face template within these bounds. What it cannot do: run
code, read or write files, or make the analysis of one photo need more than a bounded amount
of memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fnmatch import fnmatchcase

from ..errors import ModelError

__all__ = ["check_model_data", "SCHEMA", "Field", "MAX_MODEL_BYTES", "MAX_MODEL_NUMBERS", "MAX_LIST_LENGTH",
           "MAX_DEPTH", "MAX_TEXT_CHARS"]

#: Largest model file read, bytes (the default model is 0.19 MB).
MAX_MODEL_BYTES = 10_000_000
#: Most numbers in one model (all arrays together; the default's face template holds about 25,000).
MAX_MODEL_NUMBERS = 200_000
#: Longest list: a template map's rows and columns, the landmarks (478). The template's maps are
#: warped onto every face as one array per map, so their size bounds the memory a model can ask for.
MAX_LIST_LENGTH = 1024
#: Deepest nesting of objects and lists (the default's is 9).
MAX_DEPTH = 32
#: Longest text value, characters.
MAX_TEXT_CHARS = 100_000


@dataclass(frozen=True)
class Field:
    """One row of :data:`SCHEMA`: what the fields matching ``pattern`` must be.

    ``kind``: ``"number"``, ``"text"``, ``"object"``, ``"list"``, ``"texts"`` (a list of text)
    or ``"numbers"`` (lists of numbers nested ``depth`` deep, ``length`` long at the top when
    given). ``low`` / ``high`` bound every number of the field (``None``: unbounded), ``low``
    excluded when ``above`` (a gain or a scale must be more than 0). ``free``: a free-form
    object (provenance, a training summary) whose inside only step 1 checks.
    """

    pattern: str
    kind: str
    low: float | None = None
    high: float | None = None
    above: bool = False
    depth: int = 1
    length: int | None = None
    free: bool = False


# Sizes in IOD are fractions of the distance between the pupils; the ranges are plausibility
# bounds (parameters of this check), not fitted values. First matching row wins.
SCHEMA = (
    Field("name", "text"), Field("description", "text"), Field("provenance", "object", free=True),
    Field("analysis_iod_px", "number", 40, 1000),
    Field("lesion", "object"), Field("grading", "object"), Field("face_template", "object"),
    Field("smallest_detectable_change", "object"), Field("smallest_detectable_change.source", "text"),
    Field("smallest_detectable_change.*", "number", 0, None),
    # the lesion stage (pigmentscan.lesions.LesionParams)
    Field("lesion.*_direction", "numbers", 0, 10, length=3),
    Field("lesion.work_iod_px", "number", 20, 1000),  # the lesion stage's working scale, px between the pupils
    Field("lesion.smoothing_iod", "number", 0.005, 0.5),
    Field("lesion.outline_smoothing_iod", "number", 0, 0.5), Field("lesion.contrast_smoothing_iod", "number", 0, 0.2),
    Field("lesion.expectation_width", "number", 1, 10), Field("lesion.mode_prior_weight", "number", 0, 1e6),
    Field("lesion.detection_level_jnd", "number", 0.1, 10), Field("lesion.support_level_jnd", "number", 0.1, 10), Field("lesion.min_support_*", "number", 0, 1000),
    Field("lesion.hair_shading", "number", 0, 10), Field("lesion.hair_melanin", "number", 0, 10),
    Field("lesion.hair_tip_contrast_jnd", "number", 0, 100),
    Field("lesion.hair_texture", "number", 0, 1000), Field("lesion.highlight_shading", "number", -10, 0),
    Field("lesion.*_iod", "number", 0, 0.5), Field("lesion.hair_density", "number", 0, 1),
    Field("lesion.*", "number", -100, 100),
    # grading (pigmentscan.scoring.Grading)
    Field("grading.area_gain", "object"), Field("grading.area_gain.*", "number", 0, 100, above=True),
    Field("grading.min_area_pct", "number", 0, 100),
    Field("grading.*_thresholds", "numbers", -100, 100, length=4),
    Field("grading.masi_scale", "number", 0, 10, above=True), Field("grading.mmasi_scale", "number", 0, 10, above=True),
    # totals: MASI 0-48 (Kimbrough-Green 1994), mMASI 0-24 (Pandya 2011)
    Field("grading.masi_offset", "number", -48, 48), Field("grading.mmasi_offset", "number", -24, 24),
    Field("grading.*_uncertainty*", "number", 0, None),  # a standard deviation
    Field("grading.*", "number"),
    # the clean-face template (pigmentscan.lesions.FaceTemplate); its shapes are checked when it is built
    Field("face_template.iod_px", "number", 4, 200), Field("face_template.points_px", "numbers", depth=2, length=478),
    Field("face_template.mean_jnd", "numbers", -50, 50, depth=2), Field("face_template.modes", "numbers", -1e3, 1e3, depth=3),
    Field("face_template.mode_variance", "numbers", 0, 100, above=True),
    Field("face_template.domain", "numbers", 0, 1, depth=2), Field("face_template.spread_jnd", "numbers", 0, 50, depth=2),
)

_KIND_WORDS = {"number": "a finite number", "text": "text", "object": "an object", "list": "a list",
               "texts": "a list of text"}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer too large for a float
        return False


def _check_tree(data, source) -> None:
    """Step 1 of the module docstring, iteratively (no recursion for a deep file to exhaust)."""
    count, stack = 0, [(data, "model", 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ModelError(source, f"{where} is nested more than {MAX_DEPTH} deep: not a pigmentscan model")
        if isinstance(value, dict):
            stack.extend((item, f"{key}" if where == "model" else f"{where}.{key}", depth + 1)
                         for key, item in value.items())
        elif isinstance(value, list):
            if len(value) > MAX_LIST_LENGTH:
                raise ModelError(source, f"{where} has {len(value)} entries, more than the {MAX_LIST_LENGTH} a model "
                                         "may hold in one list (a layer that wide needs gigabytes per photo)")
            stack.extend((item, f"{where}.{index}", depth + 1) for index, item in enumerate(value))
        elif isinstance(value, str):
            if len(value) > MAX_TEXT_CHARS:
                raise ModelError(source, f"{where} is text of {len(value)} characters, more than {MAX_TEXT_CHARS}")
        elif _is_number(value):
            count += 1
            if count > MAX_MODEL_NUMBERS:
                raise ModelError(source, f"holds more than {MAX_MODEL_NUMBERS} numbers: not a pigmentscan model "
                                         "(its networks would need too much memory per photo)")
            if not _finite(value):
                raise ModelError(source, f"{where} is {value!r}: every number in a model must be finite")


def _numbers(value, depth: int):
    """The numbers of ``depth``-deep nested lists, or None when the value is not shaped so."""
    level = [value]
    for _ in range(depth):
        if not all(isinstance(item, list) for item in level):
            return None
        level = [inner for item in level for inner in item]
    return level if all(_is_number(item) for item in level) else None


def _check_field(value, where: str, field: Field, source) -> None:
    if field.kind == "numbers":
        numbers = _numbers(value, field.depth)
        if numbers is None or (field.length is not None and len(value) != field.length):
            size = f"{field.length} " if field.length is not None else ""
            shape = "a list of " + "lists of " * (field.depth - 1)
            raise ModelError(source, f"{where} must be {shape}{size}numbers")
    elif field.kind == "number":
        if not _is_number(value):
            raise ModelError(source, f"{where} must be a finite number, got {value!r}")
        numbers = [value]
    else:
        types = {"text": str, "object": dict, "list": list, "texts": list}[field.kind]
        if not isinstance(value, types) or (field.kind == "texts" and not all(isinstance(v, str) for v in value)):
            raise ModelError(source, f"{where} must be {_KIND_WORDS[field.kind]}, got {type(value).__name__}")
        return
    low, high = field.low, field.high
    for number in numbers:
        below = low is not None and (number <= low if field.above else number < low)
        if below or (high is not None and number > high):
            if high is None:
                bound = f"more than {low:g}" if field.above else f"{low:g} or more"
                raise ModelError(source, f"{where} = {number} must be {bound}")
            raise ModelError(source, f"{where} = {number} is outside its plausible range "
                                     f"{'above ' if field.above else ''}{low:g} to {high:g}")


def _check_schema(data, source) -> None:
    """Step 2 of the module docstring: every field reached through objects, against :data:`SCHEMA`."""
    stack = [(data, "")]
    while stack:
        value, where = stack.pop()
        if where:
            field = next((f for f in SCHEMA if fnmatchcase(where, f.pattern)), None)
            if field is not None:
                _check_field(value, where, field, source)
                if field.free or field.kind in ("number", "numbers", "text", "texts"):
                    continue
        if isinstance(value, dict):
            stack.extend((item, f"{where}.{key}" if where else str(key)) for key, item in value.items())


def check_model_data(data, source=None) -> None:
    """Refuse parsed model JSON that is not finite, too large, or has a known field of the wrong kind or range.

    Parameters
    ----------
    data : object
        ``json.loads`` of a model file.
    source : str or os.PathLike, optional
        Named in the error.

    Raises
    ------
    ModelError
        Naming the file and the field: see the module docstring.

    Examples
    --------
    >>> check_model_data({"analysis_iod_px": float("nan")}, "m.json")
    Traceback (most recent call last):
    ...
    pigmentscan.errors.ModelError: m.json: analysis_iod_px is nan: every number in a model must be finite
    >>> check_model_data({"grading": {"area_gain": {"chin": -1.0}}}, "m.json")
    Traceback (most recent call last):
    ...
    pigmentscan.errors.ModelError: m.json: grading.area_gain.chin = -1.0 is outside its plausible range above 0 to 100
    """
    _check_tree(data, source)
    if isinstance(data, dict):
        _check_schema(data, source)
