"""
Which remedy works? ``compare`` on the long-tailed digits
=========================================================

:func:`classbalance.compare.compare` trains the same model under several remedies and seeds
with an equal budget of optimizer steps, keeps each run's best epoch on validation, and
scores the test set with bootstrap intervals. This build runs a small grid (4 remedies, 2
seeds, 8 epochs, a few seconds per run on a CPU) so the figures below come from a real run;
``make demo`` runs the full grid (13 remedies, 3 seeds, 30 epochs).
"""

import tempfile
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.image import imread

from classbalance.compare import compare, write_report
from classbalance.datasets import long_tailed_digits

x_train, y_train, x_test, y_test = long_tailed_digits(imbalance_ratio=50)
result = compare(
    x_train,
    y_train,
    x_test=x_test,
    y_test=y_test,
    strategies=["none", "class_weight", "balanced_sampling", "logit_adjusted_loss"],
    seeds=2,
    epochs=8,
    jobs=1,
)
print(result.recommendation)
print(result.summary[["balanced_accuracy", "ci_low", "ci_high", "vs_none", "steps"]].round(3))

# %%
# ``write_report`` writes what the command writes: ``results.csv``, ``results.json``,
# ``report.md`` and the figures. The strategies with their 95% intervals:

out = Path(tempfile.mkdtemp()) / "compare-report"
write_report(result, out)


def show(png, width=8.0):
    image = imread(out / png)
    figure = Figure(figsize=(width, width * image.shape[0] / image.shape[1]))
    ax = figure.add_axes((0, 0, 1, 1))
    ax.imshow(image)
    ax.axis("off")
    return figure


strategies = show("strategies.png")

# %%
# Recall of the head, medium and tail classes (more than 100, 20 to 100, fewer than 20
# training samples) per strategy:

shot_groups = show("shot_groups.png")

# %%
# The confusion matrices of no remedy and of the best one, row-normalized:

confusion_none = show("confusion_none.png", width=5.5)
confusion_best = show("confusion_best.png", width=5.5)

# %%
# The report opens with the recommendation, built from the intervals:

print((out / "report.md").read_text().split("\n\n")[1].strip("*"))
