"""Agreement between pigmentscan's objective scores and physicians' scores.

Pure functions over arrays and tables (:mod:`.statistics`, :mod:`.study`), then
:func:`write_validation_report` and :func:`validate_files` (:mod:`.output`), the only
ones that touch files. Pairs with a value missing on either side are dropped; ``n``
always says how many pairs were used.
"""

from .output import validate_files, write_validation_report
from .statistics import (
           BlandAltman,
           Concordance,
           agreement,
           bland_altman,
           intraclass_correlation,
           lin_ccc,
           weighted_kappa,
)
from .study import ORDINAL_LABELS, change_from_baseline, merge_scores, validate

__all__ = ["ORDINAL_LABELS", "BlandAltman", "Concordance", "agreement", "bland_altman",
           "change_from_baseline", "intraclass_correlation", "lin_ccc", "merge_scores", "validate",
           "validate_files", "weighted_kappa", "write_validation_report"]
