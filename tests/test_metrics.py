"""Scoring functions in shizi.metrics: small, fast, and each one able to fail."""

import math

import pytest

from shizi import metrics as M

# ------------------------------------------------------------------------------ normalize / CER


def test_normalize_nfkc_folds_fullwidth_and_compat():
    # full-width Latin/digits/punctuation fold to ASCII; ideographic space is whitespace
    assert M.normalize("ＡＢＣ１２３，") == "ABC123,"
    assert M.normalize("ﬁ") == "fi"  # ligature
    assert M.normalize("①") == "1"
    # CJK punctuation that NFKC keeps as is
    assert M.normalize("“中文”。") == "“中文”。"


def test_normalize_removes_all_whitespace():
    assert M.normalize(" a\tb\nc\u3000d\u00a0e\r\n ") == "abcde"
    assert M.normalize("") == ""
    assert M.normalize(None) == ""


@pytest.mark.parametrize(
    "a,b,d",
    [
        ("", "", 0),
        ("abc", "", 3),
        ("", "abc", 3),
        ("kitten", "sitting", 3),
        ("flaw", "lawn", 2),
        ("识字系统", "识别系统", 1),
        ("中文", "文中", 2),
        ("abc", "abc", 0),
    ],
)
def test_edit_distance_known_values(a, b, d):
    assert M.edit_distance(a, b) == d
    assert M.edit_distance(b, a) == d


def test_cer_sums_over_set_not_mean_of_rates():
    # 1 error / 1 char and 0 errors / 9 chars: set CER is 1/10, mean of rates would be 0.5
    r = M.cer([("a", "b"), ("123456789", "123456789")])
    assert (r.errors, r.ref_chars, r.n) == (1, 10, 2)
    assert r.cer == pytest.approx(0.1)


def test_cer_normalizes_both_sides():
    # whitespace and full-width differences are not errors
    r = M.cer([("Unix 文件 基础", "Ｕｎｉｘ文件\n基础")])
    assert r.errors == 0 and r.ref_chars == 8
    # a hypothesis can exceed 100% CER (insertions)
    assert M.cer([("ab", "xxxxxx")]).cer == pytest.approx(3.0)


def test_char_edits_name_each_edit_and_its_place():
    assert M.char_edits("abcdef", "abXdf") == [("c", "X", 2), ("e", "∅", 4)]
    assert M.char_edits("abc", "abc!") == [("∅", "!", 3)]
    assert M.char_edits("same", "same") == []


def test_cer_empty_reference():
    assert M.cer([]).cer == 0.0
    assert M.cer([(" ", "")]).cer == 0.0
    assert math.isinf(M.cer([("", "x")]).cer)


# ------------------------------------------------------------------------------------ geometry


def sq(x, y, s):
    return [[x, y], [x + s, y], [x + s, y + s], [x, y + s]]


def test_iou_known_shapes():
    assert M.polygon_iou(sq(0, 0, 10), sq(0, 0, 10)) == pytest.approx(1.0)
    assert M.polygon_iou(sq(0, 0, 10), sq(20, 20, 10)) == 0.0
    # half overlap: inter 50, union 150
    assert M.polygon_iou(sq(0, 0, 10), [[5, 0], [15, 0], [15, 10], [5, 10]]) == pytest.approx(1 / 3)
    # contained: 25 / 100
    assert M.polygon_iou(sq(0, 0, 10), sq(0, 0, 5)) == pytest.approx(0.25)
    # point order (clockwise vs counter-clockwise) does not matter
    assert M.polygon_iou(sq(0, 0, 10), sq(0, 0, 10)[::-1]) == pytest.approx(1.0)
    # rotated square (diamond) inside a square: diamond area 50 / square 100
    diamond = [[5, 0], [10, 5], [5, 10], [0, 5]]
    assert M.polygon_iou(sq(0, 0, 10), diamond) == pytest.approx(0.5)
    # degenerate input
    assert M.polygon_iou([[0, 0], [1, 1]], sq(0, 0, 1)) == 0.0


def test_area_share_is_one_sided():
    assert M.area_share(sq(0, 0, 5), sq(0, 0, 10)) == pytest.approx(1.0)  # all of the small one inside
    assert M.area_share(sq(0, 0, 10), sq(0, 0, 5)) == pytest.approx(0.25)
    assert M.area_share(sq(0, 0, 10), sq(20, 20, 10)) == 0.0
    assert M.area_share([[0, 0], [1, 1]], sq(0, 0, 1)) == 0.0


def test_box_to_polygon():
    assert M.polygon_iou(M.box_to_polygon([0, 0, 10, 10]), sq(0, 0, 10)) == pytest.approx(1.0)


def test_matching_is_one_to_one():
    ref = [sq(0, 0, 10)]
    # two near-identical predictions on one reference: only one may count
    preds = [sq(0, 0, 10), sq(0.5, 0, 10)]
    assert len(M.match_polygons(preds, ref)) == 1
    r = M.detection_prf([(preds, ref)])
    assert (r.matched, r.n_pred, r.n_ref) == (1, 2, 1)
    assert r.precision == pytest.approx(0.5) and r.recall == pytest.approx(1.0)
    assert r.hmean == pytest.approx(2 / 3)
    # one wide prediction covering two references counts for at most one (and here IoU < 0.5: none)
    wide = [[0, 0], [30, 0], [30, 10], [0, 10]]
    refs2 = [sq(0, 0, 10), sq(20, 0, 10)]
    assert M.match_polygons([wide], refs2) == []


def test_matching_prefers_best_iou_and_respects_threshold():
    refs = [[[0, 0], [100, 0], [100, 10], [0, 10]], [[0, 12], [100, 12], [100, 22], [0, 22]]]
    preds = [[[0, 1], [100, 1], [100, 11], [0, 11]], [[0, 12], [100, 12], [100, 22], [0, 22]]]
    m = sorted(M.match_polygons(preds, refs))
    assert [(i, j) for i, j, _ in m] == [(0, 0), (1, 1)]
    # IoU exactly below threshold: 10x10 vs shifted by 4 → inter 60, union 140 → 0.4286
    assert M.match_polygons([[[4, 0], [14, 0], [14, 10], [4, 10]]], [sq(0, 0, 10)]) == []
    assert len(M.match_polygons([[[4, 0], [14, 0], [14, 10], [4, 10]]], [sq(0, 0, 10)], 0.4)) == 1


def test_detection_prf_sums_over_pages_and_edge_cases():
    p1 = ([sq(0, 0, 10)], [sq(0, 0, 10), sq(50, 50, 10)])  # 1 match, 1 missed
    p2 = ([sq(0, 0, 10)], [])  # 1 false positive
    r = M.detection_prf([p1, p2])
    assert (r.matched, r.n_pred, r.n_ref) == (1, 2, 2)
    assert r.precision == pytest.approx(0.5) and r.recall == pytest.approx(0.5)
    assert r.hmean == pytest.approx(0.5)
    none = M.detection_prf([([], [sq(0, 0, 1)])])
    assert none.precision == 0.0 and none.recall == 0.0 and none.hmean == 0.0


def test_detection_dont_care_regions_count_for_neither_side():
    refs = [sq(0, 0, 10)]
    dont_care = [sq(50, 0, 10)]
    preds = [sq(0, 0, 10), sq(50, 0, 10), sq(100, 0, 10)]  # hit, on don't-care, false positive
    r = M.detection_prf([(preds, refs, dont_care)])
    assert (r.matched, r.n_pred, r.n_ref) == (1, 2, 1)


# -------------------------------------------------------------------------------- page text


def test_reading_order_rows_then_x():
    # second row given first; first row has two pieces given right-to-left, slightly misaligned
    polys = [
        [[0, 40], [100, 40], [100, 60], [0, 60]],
        [[120, 2], [200, 2], [200, 22], [120, 22]],
        [[0, 0], [100, 0], [100, 20], [0, 20]],
    ]
    assert M.reading_order(polys) == [2, 1, 0]
    lines = [{"text": t, "polygon": p} for t, p in zip(["三", "二", "一"], polys, strict=True)]
    assert M.page_text(lines, sort=True) == "一\n二\n三"
    assert M.page_text(lines) == "三\n二\n一"
    assert M.page_text(["a", "b"]) == "a\nb"


# ------------------------------------------------------------------------------------- evaluate


class _FakeReader:
    """Returns fixed lines per file name, like Reader.read(path, mode=...) -> Document."""

    def __init__(self, by_name):
        self.by_name = by_name

    def read(self, path, mode="page"):
        from types import SimpleNamespace as NS

        name = path.rsplit("/", 1)[-1]
        if name not in self.by_name:
            raise OSError("cannot read")
        lines = [NS(text=t, confidence=1.0, polygon=p) for t, p in self.by_name[name]]
        return NS(pages=[NS(lines=lines)])


def test_evaluate_page_and_line_sets(tmp_path):
    import json

    from shizi.evaluate import evaluate

    pages = tmp_path / "pages.jsonl"
    pages.write_text(
        "\n".join(
            json.dumps(d, ensure_ascii=False)
            for d in [
                {"image": "a.png", "lines": [{"text": "识字", "box": [0, 0, 10, 10]}]},
                {
                    "image": "b.png",
                    "lines": [
                        {"text": "你好", "poly": sq(0, 20, 10)},
                        {"text": "###", "poly": sq(50, 50, 10), "ignore": True},
                    ],
                },
                {"image": "missing.png", "lines": [{"text": "一", "box": [0, 0, 5, 5]}]},
            ]
        ),
        encoding="utf-8",
    )
    reader = _FakeReader(
        {
            "a.png": [("识别", sq(0, 0, 10))],  # 1 error, matched
            "b.png": [("你好", sq(0, 20, 10)), ("x", sq(50, 50, 10))],  # 1 insertion; 2nd on don't-care
        }
    )
    r = evaluate(reader, pages, details=True)
    assert r["kind"] == "page" and r["n"] == 3 and len(r["failed"]) == 1
    assert (r["errors"], r["ref_chars"]) == (1 + 1 + 1, 2 + 2 + 1)
    assert (r["matched"], r["n_pred"], r["n_ref"]) == (2, 2, 3)
    assert r["items"][0]["cer"] == pytest.approx(0.5)

    lines = tmp_path / "lines.jsonl"
    lines.write_text('{"image": "l.png", "text": "ＡＢ c"}\n', encoding="utf-8")
    r = evaluate(_FakeReader({"l.png": [("AB", None), ("c", None)]}), lines)
    assert r["kind"] == "line" and r["cer"] == 0.0 and "hmean" not in r


def test_bag_f1_ignores_order_and_sums_over_pages():
    r = M.bag_f1([("甲乙丙丁", "丁丙乙甲"), ("ＡＢ", "a b")])  # order-free; NFKC, whitespace, case kept
    assert (r.common, r.n_ref, r.n_hyp) == (4, 6, 6)
    assert abs(r.f1 - 4 / 6) < 1e-9
    r = M.bag_f1([("aab", "ab"), ("", "x")])  # multiset: one "a" matched; the extra "x" costs precision
    assert (r.common, r.n_ref, r.n_hyp) == (2, 3, 3)
    assert M.bag_f1([("", "")]).f1 == 0.0
