"""How well a classifier does on *every* class or label: the imbalance reports.

Accuracy hides a model that ignores rare classes. :func:`imbalance_report`
puts per-class recall, precision, F1 and specificity next to summaries that
weigh classes equally (balanced accuracy, macro-F1, G-mean, worst-class
recall). :func:`multilabel_report` scores a multi-label classifier (one
score column per label): mAP, macro/micro-F1 and per-label metrics, grouped
by training frequency (:func:`frequency_groups`). The numbers come from
scikit-learn's metrics; this module only gathers them.
"""

from classbalance.metrics._imbalance_report import (
    SUMMARY_METRICS,
    ImbalanceReport,
    imbalance_report,
)
from classbalance.metrics._multilabel_report import MultiLabelReport, multilabel_report
from classbalance.metrics._recalls import (
    FREQUENCY_BOUNDS,
    FREQUENCY_GROUPS,
    balanced_accuracy,
    class_recalls,
    frequency_groups,
)

__all__ = [
    "FREQUENCY_BOUNDS",
    "FREQUENCY_GROUPS",
    "SUMMARY_METRICS",
    "ImbalanceReport",
    "MultiLabelReport",
    "balanced_accuracy",
    "class_recalls",
    "frequency_groups",
    "imbalance_report",
    "multilabel_report",
]
