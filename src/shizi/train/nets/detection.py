"""Text detectors: a DB segmentation net and a CTPN anchor net, both sized for one CPU thread.

- ``db``: a plain residual backbone (strides 4/8/16/32, 24-40-80-128 channels) + FPN (48) fused at
  stride 4, heads upsampling x4 to full resolution. Training returns ``prob``, ``thresh`` and the
  differentiable binary map; in ``export`` mode only ``prob`` [N,1,H,W].
- ``ctpn``: a conv backbone at stride 16, a 3x3 window conv, a BiLSTM along each feature row, and per
  anchor (fixed 16-px width, ``K`` heights): text score, vertical regression (dy, dh), side refinement.
  Outputs ``score`` [N,H/16,W/16,K] (sigmoid), ``regr`` [N,H/16,W/16,K,2], ``side`` [N,H/16,W/16,K].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from shizi.config import CTPN_ANCHOR_HEIGHTS

CTPN_ANCHORS = list(CTPN_ANCHOR_HEIGHTS)  # anchor heights of the CTPN head (shizi.config)


def conv_bn(cin: int, cout: int, k: int = 3, s: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class Block(nn.Module):
    """Basic residual block (ResNet-style), optionally strided."""

    def __init__(self, cin: int, cout: int, s: int = 1):
        super().__init__()
        self.c1 = conv_bn(cin, cout, 3, s)
        self.c2 = nn.Sequential(nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.down = None
        if s != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, s, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.c2(self.c1(x))
        return F.relu(y + (x if self.down is None else self.down(x)), inplace=True)


class Backbone(nn.Module):
    """Stem (stride 2) then one stage per entry of ``widths`` (strides 4, 8, 16, 32), ``blocks`` each."""

    def __init__(self, widths=(24, 40, 80, 128), blocks=(1, 2, 2, 1), stem: int = 16):
        super().__init__()
        self.stem = conv_bn(3, stem, 3, 2)  # /2
        chans = [stem, *widths]
        self.stages = nn.ModuleList(
            nn.Sequential(Block(chans[i], chans[i + 1], 2), *[Block(chans[i + 1], chans[i + 1])
                                                              for _ in range(blocks[i] - 1)])
            for i in range(len(widths))
        )
        self.widths = widths

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        feats = []
        for st in self.stages:
            x = st(x)
            feats.append(x)
        return feats


class DBNet(nn.Module):
    def __init__(self, fpn: int = 48, k: float = 50.0):
        super().__init__()
        self.backbone = Backbone()
        self.lateral = nn.ModuleList(nn.Conv2d(c, fpn, 1) for c in self.backbone.widths)
        self.smooth = nn.ModuleList(conv_bn(fpn, fpn // 4) for _ in self.backbone.widths)
        self.prob_head = self._head(fpn)
        self.thresh_head = self._head(fpn)
        self.k = k
        self.export = False

    @staticmethod
    def _head(c: int) -> nn.Sequential:
        return nn.Sequential(conv_bn(c, c // 4), nn.ConvTranspose2d(c // 4, c // 4, 2, 2, bias=False),
                             nn.BatchNorm2d(c // 4), nn.ReLU(inplace=True),
                             nn.ConvTranspose2d(c // 4, 1, 2, 2))

    def forward(self, x: torch.Tensor):
        feats = self.backbone(x)
        lat = [lc(f) for lc, f in zip(self.lateral, feats, strict=False)]
        for i in range(len(lat) - 1, 0, -1):  # top-down
            lat[i - 1] = lat[i - 1] + F.interpolate(lat[i], size=lat[i - 1].shape[-2:], mode="nearest")
        size = lat[0].shape[-2:]
        outs = [sm(f) for sm, f in zip(self.smooth, lat, strict=False)]
        fuse = torch.cat([o if o.shape[-2:] == size else F.interpolate(o, size=size, mode="nearest")
                          for o in outs], 1)
        prob = torch.sigmoid(self.prob_head(fuse))
        if self.export:
            return prob
        thresh = torch.sigmoid(self.thresh_head(fuse))
        binary = torch.sigmoid(self.k * (prob - thresh))
        return prob, thresh, binary


class CTPN(nn.Module):
    def __init__(self, anchors=CTPN_ANCHORS, hidden: int = 64):
        super().__init__()
        self.anchors = list(anchors)
        k = len(self.anchors)
        self.backbone = Backbone(widths=(24, 48, 96), blocks=(1, 2, 2))
        self.window = conv_bn(96, 128, 3)
        self.rnn = nn.LSTM(128, hidden, bidirectional=True, batch_first=True)
        self.fc = nn.Sequential(nn.Conv2d(2 * hidden, 128, 1), nn.ReLU(inplace=True))
        self.score = nn.Conv2d(128, k, 1)
        self.regr = nn.Conv2d(128, 2 * k, 1)
        self.side = nn.Conv2d(128, k, 1)
        self.export = False

    def forward(self, x: torch.Tensor):
        f = self.backbone(x)[2]  # stride 16
        f = self.window(f)
        n, c, h, w = f.shape
        seq = f.permute(0, 2, 3, 1).reshape(n * h, w, c)
        seq, _ = self.rnn(seq)
        f = seq.reshape(n, h, w, -1).permute(0, 3, 1, 2)
        f = self.fc(f)
        k = len(self.anchors)
        score = self.score(f).permute(0, 2, 3, 1)  # N,h,w,K logits
        regr = self.regr(f).permute(0, 2, 3, 1).reshape(n, h, w, k, 2)
        side = self.side(f).permute(0, 2, 3, 1)
        if self.export:
            return torch.sigmoid(score), regr, side
        return score, regr, side


def build(arch: str) -> nn.Module:
    if arch.startswith("db"):
        return DBNet()
    if arch.startswith("ctpn"):
        return CTPN()
    raise ValueError(f"unknown detector arch {arch!r} (db | ctpn)")
