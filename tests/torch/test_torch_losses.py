"""Plain-PyTorch long-tail losses against the NumPy oracle, with gradcheck."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import loss_reference as ref  # noqa: E402
from classbalance.torch.losses import (  # noqa: E402
    ClassBalancedLoss,
    DeferredReweighting,
    LDAMLoss,
    LogitAdjustedLoss,
    SparseFocalLoss,
)

COUNTS = ref.COUNTS

torch_losses = importlib.import_module("classbalance.torch.losses")
CASES = ref.loss_cases(torch_losses)


def _data(n: int = 64, k: int = 4, seed: int = 0, spread: float = 3.0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, k)) * spread, rng.integers(0, k, size=n)


class TestAgainstOracle:
    @pytest.mark.parametrize("case", sorted(CASES))
    def test_values_match_reference(self, case):
        """Per-sample, mean and sum reductions equal the oracle (float32 constants)."""
        make, oracle = CASES[case]
        z, y = _data()
        loss = make()
        loss.reduction = "none"
        got = loss(torch.tensor(z), torch.tensor(y)).numpy()
        np.testing.assert_allclose(got, oracle(z, y), rtol=1e-5, atol=1e-7)
        loss.reduction = "mean"
        mean = loss(torch.tensor(z, dtype=torch.float32), torch.tensor(y)).item()
        assert mean == pytest.approx(oracle(z, y).mean(), rel=1e-4)
        loss.reduction = "sum"
        total = loss(torch.tensor(z), torch.tensor(y)).item()
        assert total == pytest.approx(oracle(z, y).sum(), rel=1e-5)

    @pytest.mark.parametrize("case", sorted(CASES))
    def test_gradcheck(self, case):
        """Autograd gradients agree with finite differences (float64)."""
        make, _ = CASES[case]
        z, y = _data(n=6, spread=1.0)
        zt = torch.tensor(z, requires_grad=True)
        assert torch.autograd.gradcheck(lambda t: make()(t, torch.tensor(y)), (zt,))

    @pytest.mark.parametrize("case", sorted(CASES))
    def test_gradients_finite_when_saturated(self, case):
        """Gradients stay finite when softmax saturates to exactly 0 and 1 (float32)."""
        make, _ = CASES[case]
        z, y = _data(spread=60.0)
        z[np.arange(8), y[:8]] = 200.0
        zt = torch.tensor(z, dtype=torch.float32, requires_grad=True)
        make()(zt, torch.tensor(y)).backward()
        assert torch.isfinite(zt.grad).all()

    def test_plain_cases_equal_cross_entropy(self):
        """gamma=0 focal, beta=0 class-balanced and tau=0 logit-adjusted are CrossEntropyLoss."""
        z, y = (torch.tensor(a) for a in _data())
        plain = torch.nn.CrossEntropyLoss()(z, y).item()
        for loss in (
            SparseFocalLoss(gamma=0.0),
            ClassBalancedLoss(COUNTS, beta=0.0),
            LogitAdjustedLoss(COUNTS, tau=0.0),
        ):
            assert loss(z, y).item() == pytest.approx(plain, rel=1e-9), type(loss).__name__


class TestWeightedMeanConvention:
    @pytest.mark.parametrize("case", sorted(ref.weighted_cases(torch_losses)))
    def test_mean_divides_by_samples_and_the_recipe_by_weights(self, case):
        """reduction='mean' divides by N; the documented recipe (sum / batch weights) gives
        CrossEntropyLoss(weight=...)'s convention. The batch tells the two apart."""
        make, oracle, w = ref.weighted_cases(torch_losses)[case]
        z, y = ref.long_tailed_batch()
        per_sample = oracle(z, y)
        over_n = ref.weighted_mean(per_sample, w[y], "samples")
        over_w = ref.weighted_mean(per_sample, w[y], "weights")
        assert abs(over_n - over_w) > 0.1 * over_n  # a mix-up cannot pass
        zt, yt = torch.tensor(z), torch.tensor(y)
        assert make()(zt, yt).item() == pytest.approx(over_n, rel=1e-6)
        loss = make()
        loss.reduction = "sum"
        recipe = loss(zt, yt) / loss.class_weight.to(zt.dtype)[yt].sum()
        assert recipe.item() == pytest.approx(over_w, rel=1e-6)

    def test_other_convention_is_cross_entropy_with_weight(self):
        """For CE the recipe equals torch's CrossEntropyLoss(weight=...), and that is the
        oracle's divide-by-weights mean, not ours."""
        z, y = (torch.tensor(a) for a in ref.long_tailed_batch())
        loss = ClassBalancedLoss(COUNTS, reduction="sum")
        w = loss.class_weight.to(z.dtype)
        torch_ce = torch.nn.CrossEntropyLoss(weight=w)(z, y).item()
        assert (loss(z, y) / w[y].sum()).item() == pytest.approx(torch_ce, rel=1e-6)
        assert ClassBalancedLoss(COUNTS)(z, y).item() != pytest.approx(torch_ce, rel=1e-2)


class TestModule:
    def test_buffers_follow_dtype_and_state_dict(self):
        """Per-class constants are buffers: in state_dict, moved by .to()."""
        loss = LDAMLoss(COUNTS, class_weight=[1, 1, 2, 2])
        assert {"class_counts", "margins", "class_weight"} <= set(loss.state_dict())
        assert loss.to(torch.float64).margins.dtype == torch.float64

    def test_trains_a_linear_model(self):
        """A few SGD steps with each loss lower it."""
        gen = torch.Generator().manual_seed(0)
        y = torch.randint(0, 4, (200,), generator=gen)
        x = torch.eye(4)[y] + 0.3 * torch.randn(200, 4, generator=gen)
        for make, _ in CASES.values():
            torch.manual_seed(0)
            model = torch.nn.Linear(4, 4)
            loss_fn = make()
            opt = torch.optim.SGD(model.parameters(), lr=0.05)
            first = loss_fn(model(x), y).item()
            for _ in range(30):
                opt.zero_grad()
                loss_fn(model(x), y).backward()
                opt.step()
            assert loss_fn(model(x), y).item() < first

    def test_deferred_reweighting(self):
        """DRW: no weights before start_epoch; class-balanced weights (sum K) from it on."""
        loss = LDAMLoss(COUNTS, scale=1.0)
        drw = DeferredReweighting(loss, start_epoch=3, beta=0.999)
        z, y = (torch.tensor(a) for a in _data())
        drw.set_epoch(2)
        assert loss.class_weight is None
        unweighted = loss(z, y).item()
        drw.set_epoch(3)
        w = loss.class_weight.numpy()
        assert w.sum() == pytest.approx(4, rel=1e-6)
        assert np.all(np.diff(w) > 0)  # rarer classes weigh more
        np.testing.assert_allclose(
            loss(z, y).item(), ref.ldam(z.numpy(), y.numpy(), COUNTS, scale=1.0, weight=w).mean()
        )
        assert loss(z, y).item() != pytest.approx(unweighted)
        drw.set_epoch(0)
        assert loss.class_weight is None


class TestValidation:
    def test_shapes(self):
        """Wrong shapes or class count raise with the shapes in the message."""
        loss = LogitAdjustedLoss(COUNTS)
        with pytest.raises(ValueError, match=r"logits.shape=\(3, 4\), target.shape=\(2,\)"):
            loss(torch.zeros(3, 4), torch.zeros(2, dtype=torch.long))
        with pytest.raises(ValueError, match="logits have 5 classes but the loss was built for 4"):
            loss(torch.zeros(3, 5), torch.zeros(3, dtype=torch.long))

    @pytest.mark.parametrize(
        ("make", "match"),
        [
            (lambda: SparseFocalLoss(reduction="avg"), "`reduction` must be one of"),
            (lambda: ClassBalancedLoss([3, 0]), r"classes \[1\] have none"),
            (lambda: LogitAdjustedLoss(), "exactly one of `class_counts` and `prior`"),
            (lambda: LDAMLoss(COUNTS, max_margin=-1), "`max_margin` must be a number > 0"),
            (lambda: DeferredReweighting(LogitAdjustedLoss(COUNTS), 1), "must be a classbalance"),
        ],
    )
    def test_bad_arguments(self, make, match):
        """Bad arguments raise a message naming the argument."""
        with pytest.raises(ValueError, match=match):
            make()


def test_focal_alpha_accepts_class_weights_dict():
    """SparseFocalLoss(alpha=cb.class_weights(y)) equals the loss with the weights as a list."""
    import classbalance as cb
    from classbalance.torch.losses import SparseFocalLoss

    y = torch.tensor([0] * 30 + [1] * 6 + [2] * 4)
    logits = torch.randn(len(y), 3, generator=torch.Generator().manual_seed(0))
    weights = cb.class_weights(y.numpy())
    a = SparseFocalLoss(alpha=weights)(logits, y)
    b = SparseFocalLoss(alpha=list(weights.values()))(logits, y)
    torch.testing.assert_close(a, b)
