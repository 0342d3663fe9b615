"""Change across visits: per subject, per visit and per treatment arm.

Pure functions over the scores table (CONTRACT.md "Scores CSV") and one writer::

    scores --changes_from_baseline--> changes --group_summary--> summary
                                              --compare_arms---> arms

Visits are ordered, and each subject's baseline chosen, by :func:`pigmentscan.io.visit_order` (the
rule ``validate`` and the report's panels follow too): its day-0 visit, else its last visit before
day 0, in the order of :func:`pigmentscan.io.visit_order_key` (by ``date`` when visit labels are
missing or cannot be ordered: its first date). A subject whose visits all come after the study's
baseline, or whose baseline photo was not scored, gets a ``note`` and no changes; it is never
dropped silently.

Modules: :mod:`.changes` (change from baseline per subject and visit), :mod:`.pigment` (the
pigment left in each subject's baseline lesions, from the face maps a batch writes: a paired
measure, each photo aligned on the baseline face), :mod:`.reliability`
(smallest detectable change from test-retest photos), :mod:`.statistics`
(group summaries, between-arm tests, :func:`compare`), :mod:`.split_face` (split-face trials: each
side's hemi-face change and the difference between the sides), :mod:`.output` (figures, report, files).
"""

# RESPONDER_THRESHOLDS and CONFIDENCE: module constants of the former longitudinal.py, still importable here.
from .changes import RESPONDER_THRESHOLDS, changes_from_baseline, detect_changes, lesion_area_pct, sdc_mapping  # noqa: F401
from .reliability import RetestReliability, parse_sdc, smallest_detectable_change
from .pigment import LesionPigmentChange, add_lesion_pigment, lesion_pigment_change
from .output import compare_files, write_comparison_report
from .statistics import CONFIDENCE, Comparison, compare, compare_arms, group_summary, split_face_summary  # noqa: F401
from .split_face import add_side_differences, side_of_arm

__all__ = ["Comparison", "RetestReliability", "changes_from_baseline", "detect_changes", "lesion_area_pct",
           "smallest_detectable_change", "group_summary", "compare_arms", "compare", "write_comparison_report",
           "compare_files", "LesionPigmentChange", "lesion_pigment_change", "add_lesion_pigment", "sdc_mapping", "parse_sdc",
           "split_face_summary", "add_side_differences", "side_of_arm"]
