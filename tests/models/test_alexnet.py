"""AlexNet2012's local response normalisation against the paper's formula (§3.3)."""
import torch
from torch import nn

from helpers.models.alexnet import LRN_2012, AlexNet2012


def paper_lrn(a: torch.Tensor, n: int = 5, k: float = 2.0, alpha: float = 1e-4,
              beta: float = 0.75) -> torch.Tensor:
    """Krizhevsky et al. (2012), §3.3, written out: for channel i of N,
    b_i = a_i / (k + alpha * sum_{j=max(0, i-n/2)}^{min(N-1, i+n/2)} a_j^2) ** beta."""
    N = a.shape[1]
    out = torch.empty_like(a)
    for i in range(N):
        lo, hi = max(0, i - n // 2), min(N - 1, i + n // 2)
        s = (a[:, lo:hi + 1] ** 2).sum(dim=1)
        out[:, i] = a[:, i] / (k + alpha * s) ** beta
    return out


def test_lrn_2012_matches_the_papers_formula():
    torch.manual_seed(0)
    # large activations so the alpha term matters (alpha * sum ~ k), as after conv 1's ReLU
    a = torch.relu(torch.randn(2, 12, 5, 5, dtype=torch.float64) * 60)
    layer = nn.LocalResponseNorm(**LRN_2012)
    assert torch.allclose(layer(a), paper_lrn(a), rtol=0, atol=1e-12)
    # the paper's alpha passed straight to PyTorch is a different layer (alpha / 5 in the sum)
    naive = nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0)
    assert (naive(a) - paper_lrn(a)).abs().max() > 1e-3


def test_alexnet2012_uses_the_papers_lrn():
    model = AlexNet2012()
    lrns = [m for m in model.features if isinstance(m, nn.LocalResponseNorm)]
    assert len(lrns) == 2
    for m in lrns:
        assert (m.size, m.alpha, m.beta, m.k) == (5, 5e-4, 0.75, 2.0)
