"""How large a change must be to be told from measurement noise: test-retest photos.

Photograph stable subjects (no treatment, or the same day) several times, each time anew, score
the photos and pass the scores to :func:`smallest_detectable_change`. Its result goes to
:func:`pigmentscan.longitudinal.compare` (``sdc=``), which then marks each visit whose change
exceeds what repeat photography alone produces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from scipy import stats

from ..errors import ManifestError
from .changes import CONFIDENCE, DETECTION_MEASURES, visit_means


@dataclass(frozen=True)
class RetestReliability:
    """Test-retest noise of each measure and its smallest detectable change.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per measure: ``measure``, ``n_subjects`` (with at least two sessions),
        ``n_sessions``, ``sd_within`` (pooled within-subject SD, the standard error of
        measurement, in the measure's units), ``sdc`` (smallest detectable change of one
        subject's change between two sessions, same units), ``sdc_ci_low`` / ``sdc_ci_high``
        (its interval at ``confidence``, from the chi-square distribution of SD_w^2 with
        sessions - subjects degrees of freedom: a few retest subjects give a wide one) and
        ``confidence``.
    """

    table: pd.DataFrame

    @property
    def sdc(self) -> dict[str, float]:
        """``{measure: smallest detectable change}``, the ``sdc`` argument of ``compare``."""
        return {row.measure: float(row.sdc) for row in self.table.itertuples()}

    def to_dict(self) -> dict:
        return {"sdc": self.sdc, "table": self.table.to_dict(orient="records")}


def smallest_detectable_change(retest_scores: pd.DataFrame, *, measures=None,
                               confidence: float = CONFIDENCE) -> RetestReliability:
    """Smallest detectable change of each measure, from repeat photos of stable subjects.

    A session is one ``visit`` of one ``subject``; several photos of one session are averaged
    first, as :func:`changes_from_baseline` averages them, so that the SDC applies to changes
    measured the same way. Without a ``visit`` column every photo is its own session.
    SD_w is pooled over subjects (one-way ANOVA within-subject mean square),
    SDC = z * sqrt(2) * SD_w with z the two-sided normal quantile of ``confidence``.

    Parameters
    ----------
    retest_scores : pandas.DataFrame
        Scores table (CONTRACT.md) of subjects whose pigment did not change between sessions.
        Rows with status ``error`` are left out.
    measures : sequence of str, optional
        Columns to measure (default: those of ``DETECTION_MEASURES`` the scores have);
        ``lesion_area_pct`` is derived from the regions' ``area_pct``; ``lesion_pigment_pct``
        comes from :func:`~pigmentscan.longitudinal.add_lesion_pigment` (each subject's first
        session is its reference, 100; the reference's own error is shared by the later
        sessions, so their spread about the subject mean is still one photo's, and
        z * sqrt(2) * SD_w is still the SDC of a change).
    confidence : float
        Coverage of the SDC (0.95: a stable subject's change exceeds it 5 % of the time).

    Returns
    -------
    RetestReliability

    Raises
    ------
    ManifestError
        When no subject has two usable sessions, or a measure is missing.

    Examples
    --------
    >>> retest = pd.DataFrame({"subject": ["a", "a", "b", "b"], "visit": ["1", "2", "1", "2"],
    ...                        "masi": [10.0, 11.0, 4.0, 4.0]})
    >>> round(smallest_detectable_change(retest, measures=["masi"]).sdc["masi"], 2)
    1.39
    """
    if "visit" not in retest_scores.columns:  # every photo its own session
        retest_scores = retest_scores.assign(visit=[str(i) for i in range(len(retest_scores))])
    sessions = visit_means(retest_scores)
    z = stats.norm.ppf(0.5 + confidence / 2)
    rows = []
    if measures is None:
        measures = [m for m in DETECTION_MEASURES if m in sessions.columns and sessions[m].notna().any()]
    for measure in measures:
        if measure not in sessions.columns:
            raise ManifestError(None, f"the retest scores have no '{measure}' column")
        values = sessions[["subject", measure]].dropna()
        counts = values.groupby("subject")[measure].transform("size")
        values = values[counts >= 2]
        if values.empty:
            raise ManifestError(None, f"no subject has two scored sessions with '{measure}': a retest needs "
                                      "each stable subject photographed at least twice")
        deviation = values[measure] - values.groupby("subject")[measure].transform("mean")
        n_subjects, n_sessions = values["subject"].nunique(), len(values)
        df = n_sessions - n_subjects
        sd_within = math.sqrt(float((deviation**2).sum()) / df)
        # SD_w^2 * df / sigma^2 ~ chi-square(df): the interval of sigma, scaled to the SDC
        low, high = (math.sqrt(df / stats.chi2.ppf(q, df)) for q in (0.5 + confidence / 2, 0.5 - confidence / 2))
        sdc = z * math.sqrt(2.0) * sd_within
        rows.append({"measure": measure, "n_subjects": n_subjects, "n_sessions": n_sessions, "sd_within": sd_within,
                     "sdc": sdc, "sdc_ci_low": sdc * low, "sdc_ci_high": sdc * high, "confidence": confidence})
    return RetestReliability(pd.DataFrame(rows))


def model_sdc(model=None, *, measures=None, scores_models=()) -> tuple[dict | None, str]:
    """The smallest detectable changes stored with a scoring model, and where they come from, in words.

    Parameters
    ----------
    model : None, path or ScoringModel
        The scoring model (``None``: the shipped default); its ``smallest_detectable_change``
        section (measured on phantom retests, or on the site's own).
    measures : collection of str, optional
        Keep only these measures (those the scores have).
    scores_models : collection of str
        The ``model`` labels of the scores: when they differ from this model's, the text says
        that the SDC may not apply.

    Returns
    -------
    (dict or None, str)
        ``{measure: SDC}`` (None when the model has none for these measures) and a sentence
        naming the model and how the SDC was measured, or saying plainly that there is none.

    Examples
    --------
    >>> sdc, source = model_sdc(measures=["masi"])
    >>> source.startswith("stored with the scoring model") if sdc else source.startswith("none")
    True
    """
    from ..scoring import load_model

    scoring_model = load_model(model)
    section = dict(scoring_model.smallest_detectable_change)
    how = section.pop("source", "")
    if measures is not None:
        section = {m: v for m, v in section.items() if m in set(measures)}
    if not section:
        return None, (f"none: the scoring model {scoring_model.label} stores no smallest detectable change"
                      + (" for these measures" if scoring_model.smallest_detectable_change else "")
                      + ", and no retest photos (--retest) or SDC (--sdc) were given")
    others = sorted({str(m) for m in scores_models if str(m).strip()} - {scoring_model.label})
    warning = (f" (the scores were made with {', '.join(others)}, not with this model: it may not apply)"
               if others else "")
    return section, f"stored with the scoring model {scoring_model.label}: {how}{warning}"


def parse_sdc(text: str) -> float | dict[str, float]:
    """``"0.64"`` (MASI points) or ``"masi=0.64,lesion_area_pct=2.3"`` -> ``sdc`` for ``compare``."""
    try:
        if "=" not in text:
            return float(text)
        pairs = (item.split("=", 1) for item in text.split(",") if item.strip())
        return {name.strip(): float(value) for name, value in pairs}
    except ValueError:
        raise ValueError(f"--sdc {text!r}: give MASI points (0.64) or measure=value pairs "
                         "(masi=0.64,lesion_area_pct=2.3)") from None
