"""Quality control: is this photo fit to be scored, and can its score be trusted?

Every check compares a measure with a limit from :class:`QualityLimits` (one
documented place; pass your own to change them, or load them from JSON with
:func:`load_quality_limits`). A failed check makes the photo ``warn`` (scored, but
read the reason) or ``error`` (not scored).

The measures (QC columns of the scores CSV):

- ``qc_yaw_deg``, ``qc_pitch_deg``, ``qc_roll_deg``: head pose from the 3-D landmarks;
- ``qc_iod_px``: face resolution, pupil to pupil in the photo's own pixels;
- ``qc_blur``: blur of the face, 0 (sharp) to 1 (featureless), at a fixed face scale;
- ``qc_clipped_pct``, ``qc_crushed_pct``: exposure, the share of the MASI regions'
  pixels that are clipped white or crushed black;
- ``qc_sclera_a_star``, ``qc_sclera_b_star``, ``qc_skin_hue_deg``: colour cast, the
  CIELAB colour of the whites of the eyes and the hue angle of the face's normal skin;
- ``qc_<region>_coverage``: share of each region that is visible skin;
- ``qc_n_faces``: faces in the frame.
"""

from .checks import QualityReport, assess_quality, worst_status
from .limits import QualityLimits, load_quality_limits
from .measures import (  # noqa: F401 - the constants stay importable from pigmentscan.qc
    BLUR_IOD_PX,
    CLIPPED_LEVEL,
    CRUSHED_LEVEL,
    MIN_EYE_OPENING,
    SCLERA_MAX_DARKER_L_STAR,
    PhotoMeasures,
    blur_effect,
    blur_measure,
    exposure_pct,
    measure_photo,
    sclera_lab,
    skin_hue_deg,
)

__all__ = ["QualityLimits", "QualityReport", "PhotoMeasures", "assess_quality", "blur_effect", "blur_measure", "exposure_pct",
           "skin_hue_deg", "sclera_lab", "measure_photo", "load_quality_limits", "worst_status"]
