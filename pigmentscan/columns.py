"""The columns of pigmentscan's CSV outputs, as data: what :mod:`pigmentscan.dictionary` describes.

One entry per column or pattern: (name, meaning, unit, range as (low, high) or text, source).
Patterns: ``<region>`` (forehead, right_malar, left_malar, chin), ``<arm>`` (an arm's name),
``<side>`` (right, left: the patient's), ``<half>`` (forehead_right, forehead_left, chin_right,
chin_left: a region cut at the face's midline for split-face trials).
A new column needs one line in the list of its table.
"""

from .lesions import AREA_LEVELS_JND, level_suffix

_OD = "OD (optical density, natural log, along the melanin direction)"
#: Unit of the banded MASI grades: ordinal, so no percent change is formed from them.
GRADE = "grade (ordinal)"

_IDENTITY = [
    ("image", "path of the photo as given in the manifest or on the command line", "text", "", "input"),
    ("subject", "subject identifier", "text", "", "manifest"),
    ("visit", "visit label (baseline first)", "text", "", "manifest"),
    ("date", "ISO date of the visit", "YYYY-MM-DD", "", "manifest"),
    ("arm", "treatment arm or group of the subject", "text", "", "manifest"),
]
_SCORES = _IDENTITY + [
    ("status", "ok; warn (scored, a quality check failed: see error); error (not scored: see error)", "text",
     "ok, warn, error", "pigmentscan.qc"),
    ("error", "why the photo was not scored, or the quality warnings of a scored photo", "text", "",
     "pigmentscan.qc, pigmentscan.errors"),
    ("masi", "MASI of the scoring model (the default model is not calibrated to physicians: masi equals "
             "masi_raw)", "points", (0, 48), "Kimbrough-Green 1994; pigmentscan.scoring"),
    ("mmasi", "modified MASI (no homogeneity) of the scoring model", "points", (0, 24),
     "Pandya 2011; pigmentscan.scoring"),
    ("masi_raw", "MASI formula over each region's expected grades, before any calibration", "points", (0, 48),
     "pigmentscan.scoring.expected_grade"),
    ("mmasi_raw", "mMASI formula over the expected grades, before any calibration", "points", (0, 24),
     "pigmentscan.scoring.expected_grade"),
    ("masi_banded", "MASI formula over the banded grades as listed (a grading sheet's sum)", "points", (0, 48),
     "Kimbrough-Green 1994"),
    ("mmasi_banded", "mMASI formula over the banded grades as listed", "points", (0, 24), "Pandya 2011"),
    ("<region>_area_pct", "lesion share of the region's visible skin", "%", (0, 100), "pigmentscan.lesions"),
    ("<region>_area_score", "MASI area grade A of the region (bands 0, <10, 10-29, 30-49, 50-69, 70-89, "
                            "90-100 %)", GRADE, (0, 6), "Kimbrough-Green 1994"),
    ("<region>_darkness", "MASI darkness grade D of the region", GRADE, (0, 4), "models/default.json thresholds"),
    ("<region>_homogeneity", "MASI homogeneity grade H of the region", GRADE, (0, 4),
     "models/default.json thresholds"),
    ("<region>_darkness_jnd", "median contrast of the region's lesion on the face's own skin (0 without lesion): "
                              "the continuous darkness", "JND (ΔE*ab 2.3)", (0, None),
     "docs/grading_scale.md; pigmentscan.lesions"),
    ("<region>_melanin_contrast", "median melanin of the region's lesion above the face's expected normal skin "
                                  "(0 without lesion)", _OD, (None, None), "Tsumura 1999; pigmentscan.lesions"),
    *[(f"<region>_area_pct_{level_suffix(level)}", f"lesion share of the region's visible skin counting pigment "
       f"from {level:g} JND (what a model detecting from that level gives)", "%", (0, 100),
       "pigmentscan.lesions; pigmentscan calibrate") for level in AREA_LEVELS_JND],
    ("<region>_delta_e", "colour difference of the lesion's mean colour from normal skin (CIE76)", "ΔE*ab",
     (0, None), "CIE 1976"),
    ("<region>_delta_l_star", "L* of the lesion minus L* of normal skin (negative: darker)", "L* (CIELAB)",
     (-100, 100), "CIE 1976"),
    ("<region>_delta_melanin_takiwaki", "ΔMelanin = -1.06 Δa* - 1.44 ΔL* of the lesion against normal skin",
     "CIELAB units", (None, None), "Takiwaki 2002"),
    ("<region>_patch_diameter_iod", "area-weighted mean diameter of the lesion patches: the continuous "
                                    "homogeneity", "inter-ocular distances", (0, None), "pigmentscan.lesions"),
    ("<region>_n_lesions", "connected lesion patches in the region", "count", (0, None), "pigmentscan.lesions"),
    ("qc_status", "quality status of the photo", "text", "ok, warn, error", "pigmentscan.qc"),
    ("qc_reasons", "the quality checks that failed, with their measure and limit", "text", "", "pigmentscan.qc"),
    ("qc_yaw_deg", "head turn about the vertical axis (positive: towards the subject's left)", "degrees",
     (-90, 90), "pigmentscan.landmarks.head_pose_deg"),
    ("qc_pitch_deg", "head nod (positive: chin raised)", "degrees", (-90, 90), "pigmentscan.landmarks"),
    ("qc_roll_deg", "head tilt in the image plane (positive: clockwise)", "degrees", (-180, 180),
     "pigmentscan.landmarks"),
    ("qc_iod_px", "distance between the pupils in the photo as stored", "px", (0, None), "MediaPipe FaceMesh"),
    ("qc_n_faces", "faces found in the photo (the largest is scored)", "count", (0, None), "MediaPipe FaceMesh"),
    ("qc_<region>_coverage", "visible-skin share of the region (not hair, glasses, shadow or glare)", "fraction",
     (0, 1), "pigmentscan.qc"),
    ("qc_blur", "blur effect of the face: 0 sharp, 1 featureless (sharp photos 0.34-0.51)", "ratio", (0, 1),
     "Crété-Roffet 2007"),
    ("qc_clipped_pct", "share of the regions' pixels with a channel at 250 or more (burnt out)", "%", (0, 100),
     "pigmentscan.qc"),
    ("qc_crushed_pct", "share of the regions' skin pixels with a channel at 5 or less (black)", "%", (0, 100),
     "pigmentscan.qc"),
    ("qc_sclera_a_star", "a* of the whites of the eyes (a colour cast shows here)", "a* (CIELAB)", (-128, 127),
     "CIE 1976"),
    ("qc_sclera_b_star", "b* of the whites of the eyes", "b* (CIELAB)", (-128, 127), "CIE 1976"),
    ("qc_skin_hue_deg", "CIELAB hue angle of the normal skin", "degrees", (0, 360), "CIE 1976"),
    ("qc_wb_gain_r", "gain applied to red (linear light, green 1) so the whites of the eyes look white", "ratio",
     (0, None), "pigmentscan.whitebalance"),
    ("qc_wb_gain_b", "gain applied to blue (linear light, green 1)", "ratio", (0, None), "pigmentscan.whitebalance"),
    ("qc_wb_from_sclera", "true when the white balance was taken from the whites of the eyes (false: none applied)",
     "boolean", "True, False", "pigmentscan.whitebalance"),
    ("qc_pass", "true when no quality check failed", "boolean", "True, False", "pigmentscan.qc"),
    ("model", "scoring model, name@content-hash", "text", "", "pigmentscan.scoring"),
    ("pigmentscan_version", "pigmentscan version that scored the photo", "text", "", "pigmentscan"),
    ("reference_skin_ita_deg", "individual typology angle of the face's normal skin", "degrees", (-90, 90),
     "Chardon 1991"),
    ("reference_skin_category", "skin-tone band of the ITA (very light ... dark)", "text", "", "Chardon 1991"),
    ("normal_skin_spread_jnd", "how far the normal skin's melanin strays from its expectation (robust SD)",
     "JND (ΔE*ab 2.3)", (0, None), "pigmentscan.lesions.expectation"),
    ("jnd_per_melanin_od", "just-noticeable differences one OD of melanin makes on this face's skin", "JND per OD",
     (0, None), "pigmentscan.lesions.excess"),
    ("chart_used", "true when a colour chart was found and the photo corrected to it", "boolean", "True, False",
     "pigmentscan.chart"),
    ("chart_residual_delta_e", "mean colour error of the chart's patches after correction (empty: no chart)",
     "ΔE*ab", (0, None), "pigmentscan.chart"),
    ("image_sha256", "SHA-256 of the photo's bytes (what a re-run recognises)", "hex text", "", "pigmentscan.batch"),
    ("quality_limits", "quality-control limits the row was checked with, default@hash or custom@hash", "text", "",
     "pigmentscan.batch"),
    ("error_type", "class of the error of an error row (empty for scored photos)", "text", "", "pigmentscan.batch"),
    ("lesion_pigment_pct", "pigment left in the subject's baseline lesions, as % of the baseline's (100 at "
                           "baseline, 0 like normal skin)", "% of baseline pigment", (0, None),
     "pigmentscan.longitudinal.pigment"),
    ("lesion_pigment_note", "why lesion_pigment_pct is empty, or a remark on it", "text", "",
     "pigmentscan.longitudinal.pigment"),
    ("lesion_area_pct", "lesion share of the four regions weighted 0.3/0.3/0.3/0.1 (continuous, no bands)", "%",
     (0, 100), "pigmentscan.longitudinal.lesion_area_pct"),
    ("hemi_<side>_masi", "hemi-face MASI of the patient's right or left side, as named (split-face trials): "
                         "0.15·A·(D+H) of its forehead half + 0.3·A·(D+H) of its malar region + 0.05·A·(D+H) of its "
                         "chin half, over the expected grades, not calibrated; the two sides add up to MASI when each "
                         "half grades like its region",
     "points", (0, 24), "Kimbrough-Green 1994 weights shared out by area; pigmentscan.split_face"),
    ("hemi_<side>_mmasi", "hemi-face mMASI of the patient's right or left side: 0.15·A·D + 0.3·A·D + 0.05·A·D over "
                          "its forehead half, malar region and chin half", "points", (0, 12),
     "Pandya 2011 (mMASI); pigmentscan.split_face"),
    ("hemi_<side>_lesion_area_pct", "lesion share of the patient's right or left side of the face: its forehead "
                                    "half, malar region and chin half weighted 0.15/0.3/0.05 (continuous, no bands)",
     "%", (0, 100), "pigmentscan.split_face"),
    ("<half>_area_pct", "lesion share of the visible skin of the patient's right or left half of the forehead or chin "
                        "(the region cut at the face's midline)", "%", (0, 100),
     "pigmentscan.split_face; pigmentscan.regions.midline_halves"),
    ("<half>_area_score", "MASI area grade A of the half region (the area bands applied to the half's own skin)", GRADE,
     (0, 6), "Kimbrough-Green 1994"),
    ("<half>_darkness", "MASI darkness grade D of the half region", GRADE, (0, 4), "models/default.json thresholds"),
    ("<half>_homogeneity", "MASI homogeneity grade H of the half region (patches cut at the midline count on each "
                           "side with their part there)", GRADE, (0, 4), "models/default.json thresholds"),
]

#: Split-face trials (pigmentscan.longitudinal.split_face): the between-side columns of each hemi-face
#: measure, as (measure, unit, largest absolute change of one side).
_SIDE_MEASURES = [("masi", "points", 24), ("mmasi", "points", 12), ("lesion_area_pct", "%", 100)]
_SIDE_CHANGES = [("treated_side", "the patient's side treated in a split-face trial: --treated-side, else the "
                                  "subject's arm when it names one side (empty: not known)", "text",
                  "right, left, empty", "manifest arm or --treated-side; pigmentscan.longitudinal.split_face")]
for _m, _unit, _top in _SIDE_MEASURES:
    _SIDE_CHANGES += [
        (f"hemi_{_m}_change_right_minus_left", f"change of the right side's hemi_{_m} from baseline minus the left "
                                              "side's (patient's sides)", _unit, (-2 * _top, 2 * _top),
         "pigmentscan.longitudinal.split_face"),
        (f"hemi_treated_{_m}_change", f"change of the treated side's hemi_{_m} from baseline", _unit, (-_top, _top),
         "pigmentscan.longitudinal.split_face"),
        (f"hemi_untreated_{_m}_change", f"change of the untreated side's hemi_{_m} from baseline", _unit,
         (-_top, _top), "pigmentscan.longitudinal.split_face"),
        (f"hemi_{_m}_change_treated_minus_untreated", f"change of the treated side's hemi_{_m} minus the untreated "
                                                      "side's (negative: the treated side improved more)", _unit,
         (-2 * _top, 2 * _top), "pigmentscan.longitudinal.split_face"),
    ]
_PHOTO_CHECKS = [
    ("face_distance_iod", "median landmark distance to the subject's other photos after 3-D alignment (pose, "
                          "size and position removed)", "inter-ocular distances", (0, None),
     "pigmentscan.longitudinal.identity"),
    ("skin_tone_difference_deg", "median ITA difference of the normal skin from the subject's other photos",
     "degrees", (0, 180), "pigmentscan.longitudinal.identity"),
    ("same_face", "false when the photo does not match the subject's other photos (empty: not checked)",
     "boolean", "True, False, empty", "pigmentscan.longitudinal.identity"),
    ("identity_note", "why same_face is false or empty, or what could not be compared", "text", "",
     "pigmentscan.longitudinal.identity"),
]
_CHANGES = _IDENTITY + _PHOTO_CHECKS + [
    ("visit_order", "place of the visit in the study's order (0 = first)", "index", (0, None),
     "pigmentscan.io.visit_order_key"),
    ("days_from_baseline", "days since the subject's baseline visit", "days", (None, None), "manifest dates"),
    ("n_images", "photos of this visit used (averaged)", "count", (0, None), "pigmentscan.longitudinal"),
    ("n_images_failed", "photos of this visit left out (not scored, or not the subject's face)", "count",
     (0, None), "pigmentscan.longitudinal"),
    ("qc_status", "worst quality status of the photos used at this visit (of all its photos when none was used: "
                  "error, none was scored)", "text", "ok, warn, error", "pigmentscan.qc"),
    ("qc_reasons", "each photo of the visit with a quality problem: file name and reason", "text", "",
     "pigmentscan.qc"),
    ("is_baseline", "true at the subject's baseline visit", "boolean", "True, False", "pigmentscan.longitudinal"),
    ("note", "why the subject has no changes (no usable baseline), else empty", "text", "",
     "pigmentscan.longitudinal"),
    ("beyond_sdc", "true when a detect_by measure changed by more than its smallest detectable change", "boolean",
     "True, False, empty", "Weir 2005; pigmentscan.longitudinal"),
    ("detected_change", "improved, worsened, mixed or none beyond the smallest detectable change", "text",
     "improved, worsened, mixed, none, empty", "pigmentscan.longitudinal.detect_changes"),
] + _SIDE_CHANGES
_PHOTOS = _SCORES + _PHOTO_CHECKS + [
    ("used", "true when the photo is in the changes (scored, and not another face)", "boolean", "True, False",
     "pigmentscan.longitudinal"),
]
_SUMMARY = [
    ("arm", "treatment arm", "text", "", "manifest"),
    ("visit_order", "place of the visit in the study's order (0 = first)", "index", (0, None),
     "pigmentscan.io.visit_order_key"),
    ("visit", "visit label(s) at this place in the order", "text", "", "manifest"),
    ("n", "subjects with a MASI change at this visit", "count", (0, None), "pigmentscan.longitudinal"),
    ("beyond_sdc_fraction", "share of subjects whose change exceeds the smallest detectable change", "fraction",
     (0, 1), "pigmentscan.longitudinal"),
    ("improved_fraction", "share of subjects improved beyond the smallest detectable change", "fraction", (0, 1),
     "pigmentscan.longitudinal"),
    ("worsened_fraction", "share of subjects worsened beyond the smallest detectable change", "fraction", (0, 1),
     "pigmentscan.longitudinal"),
]
_SPLIT_FACE = [
    ("visit_order", "place of the visit in the study's order (0 = first)", "index", (0, None),
     "pigmentscan.io.visit_order_key"),
    ("visit", "visit label(s) at this place in the order", "text", "", "manifest"),
    ("n", "subjects with a hemi-MASI change on both sides at this visit (all arms pooled)", "count", (0, None),
     "pigmentscan.longitudinal.split_face_summary"),
    ("n_treated_side", "of them, the subjects whose treated side is known", "count", (0, None),
     "pigmentscan.longitudinal.split_face_summary"),
]
_ARMS = [
    ("visit", "visit label(s)", "text", "", "manifest"),
    ("visit_order", "place of the visit in the study's order", "index", (0, None), "pigmentscan.io"),
    ("measure", "changes column compared between the arms", "text", "", "pigmentscan.longitudinal"),
    ("test", "Mann-Whitney U (two arms) or Kruskal-Wallis (more)", "text", "", "scipy.stats"),
    ("arms", "the arms compared, in sorted order", "text", "", "manifest"),
    ("statistic", "U or H of the test", "test statistic", (0, None), "scipy.stats"),
    ("p_value", "two-sided p-value, not adjusted for several visits or measures", "probability", (0, 1),
     "scipy.stats"),
    ("effect_size", "rank-biserial r (two arms) or epsilon-squared (more)", "ratio", (-1, 1),
     "Kerby 2014; Tomczak & Tomczak 2014"),
    ("effect_size_name", "name of the effect size", "text", "", "pigmentscan.longitudinal"),
    ("hl_shift", "Hodges-Lehmann shift: median of the pairwise differences first arm - second arm",
     "unit of the measure", (None, None), "Hodges & Lehmann 1963"),
    ("n_<arm>", "subjects of the arm in the test", "count", (0, None), "pigmentscan.longitudinal"),
    ("median_<arm>", "median of the measure in the arm", "unit of the measure", (None, None),
     "pigmentscan.longitudinal"),
]
_SDC = [
    ("measure", "the measure", "text", "", "pigmentscan.longitudinal.reliability"),
    ("n_subjects", "stable subjects with at least two sessions", "count", (0, None), "retest scores"),
    ("n_sessions", "sessions of those subjects", "count", (0, None), "retest scores"),
    ("sd_within", "pooled within-subject standard deviation (standard error of measurement)",
     "unit of the measure", (0, None), "Weir 2005"),
    ("sdc", "smallest detectable change, z * sqrt(2) * sd_within", "unit of the measure", (0, None), "Weir 2005"),
    ("sdc_ci_low", "lower bound of the SDC's interval (chi-square on SD_w^2)", "unit of the measure", (0, None),
     "Weir 2005"),
    ("sdc_ci_high", "upper bound of the SDC's interval", "unit of the measure", (0, None), "Weir 2005"),
    ("confidence", "coverage of the SDC and of its interval", "fraction", (0, 1), "pigmentscan.longitudinal"),
]
_AGREEMENT = [
    ("analysis", "visit (scores at a visit) or change_from_baseline (changes between visits)", "text",
     "visit, change_from_baseline", "pigmentscan.validation"),
    ("visit", "visit label, or all (pooled)", "text", "", "manifest"),
    ("measure", "masi, mmasi, or the MASI component (area, darkness, homogeneity)", "text", "",
     "pigmentscan.validation"),
    ("component", "total, or the region of a component", "text", "", "pigmentscan.validation"),
    ("objective", "pigmentscan's column compared", "text", "", "scores"),
    ("physician", "the reference column compared with it (physician_* by default)", "text", "", "manifest"),
    ("n_subjects", "subjects among the pairs", "count", (0, None), "pigmentscan.validation"),
    ("n", "pairs with both values", "count", (0, None), "pigmentscan.validation"),
    ("icc2_1", "ICC(2,1), absolute agreement, single rater", "ratio", (-1, 1), "Shrout & Fleiss 1979"),
    ("icc3_1", "ICC(3,1), consistency, single rater", "ratio", (-1, 1), "Shrout & Fleiss 1979"),
    ("ccc", "Lin's concordance correlation coefficient", "ratio", (-1, 1), "Lin 1989"),
    ("pearson_r", "Pearson correlation", "ratio", (-1, 1), "scipy.stats"),
    ("pearson_p", "p-value of Pearson's r", "probability", (0, 1), "scipy.stats"),
    ("spearman_rho", "Spearman rank correlation", "ratio", (-1, 1), "scipy.stats"),
    ("spearman_p", "p-value of Spearman's rho", "probability", (0, 1), "scipy.stats"),
    ("mae", "mean absolute difference", "unit of the measure", (0, None), "pigmentscan.validation"),
    ("rmse", "root mean squared difference", "unit of the measure", (0, None), "pigmentscan.validation"),
    ("bias", "mean of pigmentscan - reference", "unit of the measure", (None, None), "Bland & Altman 1986"),
    ("sd_diff", "standard deviation of the differences", "unit of the measure", (0, None), "Bland & Altman 1986"),
    ("loa_lower", "lower 95 % limit of agreement, bias - 1.96 sd_diff", "unit of the measure", (None, None),
     "Bland & Altman 1986"),
    ("loa_upper", "upper 95 % limit of agreement, bias + 1.96 sd_diff", "unit of the measure", (None, None),
     "Bland & Altman 1986"),
    ("kappa_quadratic", "quadratic-weighted kappa over the grade's full range", "ratio", (-1, 1), "Cohen 1968"),
    ("reason", "why statistics are empty (not defined), else empty", "text", "", "pigmentscan.validation"),
]

#: Derived columns: (suffix, meaning template, unit template, range rule). ``{b}`` is the base
#: column's name (described in its own table), ``{u}`` its unit. Range rules: "same", "difference"
#: (low - high to high - low), "pct_change" (-100 or more; never of a GRADE), "fraction", "boolean".
_CHANGE_RULES = [
    ("_baseline", "{b} at the subject's baseline visit", "{u}", "same"),
    ("_change", "change of {b} from the subject's baseline: this visit - baseline", "{u}", "difference"),
    ("_change_pct", "change of {b} as % of its baseline value (empty when the baseline is 0)", "%", "pct_change"),
    ("_responder_50", "{b} improved by at least 50 % from baseline (empty at baseline)", "boolean", "boolean"),
    ("_responder_75", "{b} improved by at least 75 % from baseline (empty at baseline)", "boolean", "boolean"),
    ("_beyond_sdc", "{b} changed by more than its smallest detectable change", "boolean", "boolean"),
]
_SUMMARY_RULES = [
    ("_mean", "mean of {b} over the subjects", "{u}", "same"),
    ("_ci_low", "lower bound of the 95 % t interval of the mean of {b}", "{u}", "same"),
    ("_ci_high", "upper bound of the 95 % t interval of the mean of {b}", "{u}", "same"),
    ("_fraction", "share of the subjects whose {b} is true", "fraction", "fraction"),
]
_AGREEMENT_RULES = [("_ci_low", "lower bound of the 95 % interval of {b}", "{u}", "same"),
                    ("_ci_high", "upper bound of the 95 % interval of {b}", "{u}", "same")]

#: The tables pigmentscan writes: (columns, derived rules, table whose columns the rules derive from).
TABLES = {
    "scores": (_SCORES, [], None),
    "photos": (_PHOTOS, [], None),
    "changes": (_CHANGES, _CHANGE_RULES, "scores"),
    "summary": (_SUMMARY, _SUMMARY_RULES, "changes"),
    "split_face": (_SPLIT_FACE, _SUMMARY_RULES, "changes"),
    "arms": (_ARMS, [], None),
    "sdc": (_SDC, [], None),
    "agreement": (_AGREEMENT, _AGREEMENT_RULES, None),
}
