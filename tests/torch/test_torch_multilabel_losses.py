"""PyTorch AsymmetricLoss against the NumPy oracle; gradcheck in float64."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import multilabel_reference as ref  # noqa: E402
from classbalance.torch.losses import AsymmetricLoss  # noqa: E402


class TestAsymmetricLoss:
    @pytest.mark.parametrize("case", sorted(ref.ASL_CASES))
    def test_matches_oracle(self, case):
        """Entries (reduction="none"), mean and sum equal the oracle written from the paper."""
        params = ref.ASL_CASES[case]
        z, y = ref.data(margin=params["clip"])
        expected = ref.asymmetric(z, y, **params)
        zt, yt = torch.tensor(z), torch.tensor(y)
        got = AsymmetricLoss(**params, reduction="none")(zt, yt).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
        assert AsymmetricLoss(**params)(zt, yt).item() == pytest.approx(expected.mean())
        assert AsymmetricLoss(**params, reduction="sum")(zt, yt).item() == pytest.approx(
            expected.sum()
        )

    def test_bce_case_equals_torch_bce(self):
        """gamma_neg = gamma_pos = clip = 0 is BCEWithLogitsLoss."""
        z, y = ref.data()
        zt, yt = torch.tensor(z), torch.tensor(y)
        plain = torch.nn.BCEWithLogitsLoss()(zt, yt).item()
        assert AsymmetricLoss(0, 0, 0)(zt, yt).item() == pytest.approx(plain, rel=1e-12)

    @pytest.mark.parametrize("case", sorted(ref.ASL_CASES))
    def test_gradcheck_float64(self, case):
        """torch.autograd.gradcheck passes (analytic vs numerical Jacobian, float64)."""
        params = ref.ASL_CASES[case]
        z, y = ref.data(n=6, n_labels=4, margin=params["clip"])
        zt = torch.tensor(z, requires_grad=True)
        yt = torch.tensor(y)
        loss = AsymmetricLoss(**params, reduction="none")
        assert torch.autograd.gradcheck(lambda t: loss(t, yt), (zt,), eps=1e-6, atol=1e-6)

    @pytest.mark.parametrize("case", sorted(ref.ASL_CASES))
    def test_gradient_matches_oracle_differences(self, case):
        """d mean-loss / d logits equals finite differences of the NumPy oracle."""
        params = ref.ASL_CASES[case]
        z, y = ref.data(n=6, n_labels=4, margin=params["clip"])
        zt = torch.tensor(z, requires_grad=True)
        AsymmetricLoss(**params)(zt, torch.tensor(y)).backward()
        expected = ref.numeric_gradient(lambda v: ref.asymmetric(v, y, **params).mean(), z)
        np.testing.assert_allclose(zt.grad.numpy(), expected, atol=1e-8)

    @pytest.mark.parametrize("case", sorted(ref.ASL_CASES))
    def test_finite_when_saturated(self, case):
        """Values and gradients stay finite for logits of +-200 (float32)."""
        z = torch.tensor([[200.0, -200.0, 200.0, -200.0]], requires_grad=True)
        y = torch.tensor([[1.0, 0.0, 0.0, 1.0]])
        value = AsymmetricLoss(**ref.ASL_CASES[case])(z, y)
        value.backward()
        assert torch.isfinite(value)
        assert torch.all(torch.isfinite(z.grad))

    def test_training_step_lowers_loss(self):
        """A few SGD steps on a linear model lower the loss."""
        torch.manual_seed(0)
        rng = np.random.default_rng(0)
        y = torch.tensor((rng.random((128, 3)) < 0.3).astype(np.float32))
        x = y + 0.3 * torch.tensor(rng.normal(size=(128, 3)).astype(np.float32))
        model = torch.nn.Linear(3, 3)
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        loss_fn = AsymmetricLoss()
        first = loss_fn(model(x), y).item()
        for _ in range(30):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
        assert loss.item() < first

    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"gamma_neg": -1}, ValueError, "`gamma_neg`"),
            ({"gamma_pos": "2"}, TypeError, "`gamma_pos`"),
            ({"clip": 1.0}, ValueError, "`clip`"),
            ({"clip": None}, TypeError, "`clip`"),
            ({"reduction": "avg"}, ValueError, "`reduction`"),
        ],
    )
    def test_bad_arguments(self, kwargs, error, match):
        """Bad arguments are refused, naming the argument."""
        with pytest.raises(error, match=match):
            AsymmetricLoss(**kwargs)

    def test_shape_mismatch(self):
        """Targets must have the logits' shape."""
        with pytest.raises(ValueError, match=r"same shape.*\(2, 3\).*\(2,\)"):
            AsymmetricLoss()(torch.zeros(2, 3), torch.zeros(2))
