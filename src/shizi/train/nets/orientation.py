"""Page-orientation classifier: a grey patch [N, 1, P, P] → scores of the four turns (0, 90, 180, 270)."""

from __future__ import annotations

import torch
from torch import nn


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class OrientNet(nn.Module):
    """Six 3x3 conv layers (16 → 128 channels, total stride 16), global average pooling, a linear layer:
    282,612 parameters, about 35 MFLOPs per 128 x 128 patch."""

    def __init__(self, classes: int = 4):
        super().__init__()
        self.features = nn.Sequential(
            _conv(1, 16, 2), _conv(16, 32, 2), _conv(32, 64, 2), _conv(64, 64),
            _conv(64, 128, 2), _conv(128, 128),
        )
        self.head = nn.Linear(128, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))
