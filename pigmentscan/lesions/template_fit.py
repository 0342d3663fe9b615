"""Learning a :class:`~pigmentscan.lesions.template.FaceTemplate` from clean face photos.

Each clean face is read as the lesion stage reads it (:func:`~pigmentscan.lesions.face_readings`),
its expectation fitted with the current template, and what is left over laid onto the canonical
face. The template's mean pattern is refined from those leftovers over a few rounds; their
principal modes, and how much each varies among the faces, are the natural spread.
"""

from __future__ import annotations

import numpy as np

from .expectation import normal_skin_expectation
from .skin import skin_maps
from .template import FaceTemplate, canonical_shape, fill_canonical, principal_modes, template_maps, to_canonical
from .types import LesionParams

__all__ = ["fit_face_template"]

#: Rounds of refining the mean pattern (parameter: it moves by under 0.02 JND after three).
ROUNDS = 3
#: A canonical pixel belongs to the template where at least this share of the faces had skin.
MIN_FACE_SHARE = 0.05
#: Least natural spread at a point, as a share of its median over the face (parameter: a point
#: where few faces had skin is not taken as unusually quiet).
SPREAD_FLOOR = 0.5


def fit_face_template(faces, params: LesionParams, *, n_modes: int = 6) -> FaceTemplate:
    """Learn the natural melanin pattern of clean faces.

    Parameters
    ----------
    faces : sequence of (rgb, points_px, iod_px)
        Clean face crops (RGB uint8) with their landmarks, at ``params.work_iod_px`` between the
        pupils (see :func:`~pigmentscan.lesions.working_copy`). Mirrored photos (with landmarks
        found on the mirrored photo) make the template symmetric.
    params : LesionParams
    n_modes : int
        Principal modes kept.

    Returns
    -------
    FaceTemplate
    """
    from . import face_readings  # the package's reading step (this module is imported after it)

    readings = []
    for rgb, points, iod in faces:
        maps = skin_maps(rgb, points, iod, params)
        reading, covariates, _, _ = face_readings(rgb, maps, iod, params)
        readings.append((np.asarray(points, float), reading, covariates, maps.measurable))
    canonical, size = canonical_shape([points for points, *_ in readings])
    ones = np.ones(size, np.float32)
    template = FaceTemplate(canonical, 0 * ones, np.zeros((0,) + size, np.float32), np.zeros(0), ones > 0, ones)

    def leftovers(template):
        """Each face's reading less its fitted expectation, on the canonical face, filled in the domain.

        The domain is where the faces' measurable skin lies, whatever the template's: a domain
        taken from the last round's template would shrink by a pixel at every round.
        """
        stack, seen = [], []
        for points, reading, covariates, measurable in readings:
            patterns, _, _ = template_maps(template, points, reading.shape)
            fit = normal_skin_expectation(reading, covariates, patterns, template.mode_variance, measurable,
                                          width=params.expectation_width, prior_weight=params.mode_prior_weight,
                                          restart=False)
            values, valid = to_canonical(reading - fit.expected_jnd, measurable, points, canonical, size)
            stack.append(values)
            seen.append(valid)
        seen = np.array(seen)
        domain = seen.mean(axis=0) >= MIN_FACE_SHARE
        return np.array([fill_canonical(v, s, domain) for v, s in zip(stack, seen)]), domain

    for _ in range(ROUNDS + 1):
        filled, domain = leftovers(template)
        mean = np.where(domain, template.mean_jnd + filled.mean(axis=0), 0.0).astype(np.float32)
        template = FaceTemplate(canonical, mean, template.modes, template.mode_variance, domain, ones)
    modes, variance = principal_modes(filled, domain, n_modes)
    template = FaceTemplate(canonical, template.mean_jnd, modes, variance, domain, ones)
    # The spread clean skin keeps once the modes are fitted too.
    filled, _ = leftovers(template)
    spread = np.sqrt(np.mean(filled**2, axis=0))
    spread = np.where(domain, np.maximum(spread, np.median(spread[domain]) * SPREAD_FLOOR), 1.0).astype(np.float32)
    return FaceTemplate(canonical, template.mean_jnd, modes, variance, domain, spread)
