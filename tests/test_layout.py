"""Layout: reading order, blocks, kinds and direction on line boxes; vertical columns; paragraph text."""

from __future__ import annotations

import numpy as np

from shizi.document import Block, Document, Line, Page, join_lines
from shizi.geometry import HORIZONTAL, VERTICAL, line_direction, offset_polygon, quad_of
from shizi.layout import Layout, as_blocks, page_directions
from shizi.recognition.types import RecognitionResult
from shizi.recognition.vertical import glyph_cells, merge, prepare


def box(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)


def column_lines(x0, x1, y0, n, pitch=30, h=20, widths=None):
    widths = widths or [1.0] * n
    return [box(x0, y0 + k * pitch, x0 + (x1 - x0) * w, y0 + k * pitch + h) for k, w in enumerate(widths)]


def order(blocks):
    return [i for b in blocks for i in b.lines]


def test_two_columns_under_a_centred_title_are_read_column_by_column():
    # a title centred over the gutter (it would hide the gutter from a whole-page projection), then
    # two columns whose rows are side by side
    title = [box(250, 20, 550, 50)]
    left = column_lines(40, 380, 80, 8, widths=[1, 1, 1, 0.5, 1, 1, 1, 0.9])
    right = column_lines(420, 760, 80, 8)
    polys = title + left + right
    blocks = Layout().arrange(polys)
    assert order(blocks) == list(range(17))
    assert blocks[0].lines == [0] and blocks[0].kind == "heading"


def test_aligned_paragraph_gaps_do_not_cut_the_columns():
    # both columns have a blank row at the same height: the page is still read column by column
    left = column_lines(40, 380, 80, 4) + column_lines(40, 380, 230, 4)
    right = column_lines(420, 760, 80, 4) + column_lines(420, 760, 230, 4)
    blocks = Layout().arrange(left + right)
    assert order(blocks) == list(range(16))
    assert [b.lines for b in blocks][:2] == [[0, 1, 2, 3], [4, 5, 6, 7]]  # the gap starts a paragraph


def test_full_width_paragraph_between_column_sets():
    top = column_lines(40, 380, 80, 3) + column_lines(420, 760, 80, 3)
    middle = column_lines(40, 760, 190, 2)
    bottom = column_lines(40, 380, 280, 3) + column_lines(420, 760, 280, 3)
    blocks = Layout().arrange(top + middle + bottom)
    assert order(blocks) == list(range(14))


def test_a_table_is_read_row_by_row_as_one_block():
    cells = []
    for r in range(4):
        for c, w in enumerate((60, 140, 30)):
            x = 40 + c * 200
            cells.append(box(x, 50 + r * 30, x + w - 10 * (r % 2), 70 + r * 30))
    (block,) = Layout().arrange(cells)
    assert block.kind == "table" and block.lines == list(range(12))


def test_header_and_footer_are_read_first_and_last_and_page_numbers_recognised():
    body = column_lines(40, 760, 100, 10)
    header = box(40, 20, 300, 34)  # smaller print at the top
    footer = box(380, 460, 420, 474)  # a short, small line at the bottom
    blocks = Layout().arrange([footer, *body, header])
    assert blocks[0].kind == "header" and blocks[0].lines == [11]
    assert blocks[-1].kind == "footer" and blocks[-1].lines == [0]
    assert Layout.refine("footer", "- 12 -") == "page_number"
    assert Layout.refine("footer", "第 3 页") == "page_number"
    assert Layout.refine("footer", "Chapter 2") == "footer"
    assert Layout.refine("paragraph", "12") == "paragraph"


def test_indent_and_taller_lines_start_blocks():
    lines = [box(40, 20, 500, 56)]  # a heading: taller
    lines += [box(80, 80, 700, 100), box(40, 110, 700, 130), box(40, 140, 300, 160)]  # indented paragraph
    lines += [box(80, 170, 700, 190), box(40, 200, 700, 220)]  # the next, indented again, no extra gap
    blocks = Layout().arrange(lines)
    assert [b.lines for b in blocks] == [[0], [1, 2, 3], [4, 5]]
    assert [b.kind for b in blocks] == ["heading", "paragraph", "paragraph"]


def test_vertical_page_with_a_horizontal_title():
    title = box(100, 20, 500, 60)
    cols = [box(x, 100, x + 30, 500) for x in (450, 400, 350, 300)]  # right to left
    single = box(250, 100, 280, 130)  # one glyph: takes the page's direction
    blocks = Layout().arrange([*cols, title, single])
    assert blocks[0].lines == [4] and blocks[0].direction == HORIZONTAL
    assert order(blocks[1:]) == [0, 1, 2, 3, 5] and {b.direction for b in blocks[1:]} == {VERTICAL}
    assert page_directions([single]) == [HORIZONTAL]  # alone, a square line is horizontal


def test_skewed_columns():
    polys = column_lines(40, 380, 80, 6) + column_lines(420, 760, 80, 6)
    theta = np.radians(4)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    turned = [p @ rot.T + [60, 0] for p in polys]
    assert order(Layout().arrange(turned)) == list(range(12))


def test_simple_layouts_and_geometry_helpers():
    polys = [box(0, 0, 10, 100), box(0, 0, 100, 10)]
    blocks = as_blocks([[0], [1]], polys)
    assert [(b.lines, b.direction) for b in blocks] == [([0], VERTICAL), ([1], HORIZONTAL)]
    assert line_direction(box(0, 0, 20, 22)) is None
    assert quad_of(np.array([[5, 0], [10, 5], [5, 10], [0, 5]], float)).shape == (4, 2)
    grown = offset_polygon(box(0, 0, 10, 10), 2)
    assert grown.min() <= -1.9 and grown.max() >= 11.9
    assert offset_polygon(box(0, 0, 10, 10), -6) is None
    assert Layout().arrange([]) == []


def test_join_lines_and_block_text():
    assert join_lines(["第一行文字", "第二行", ""]) == "第一行文字第二行"
    assert join_lines(["read the infor-", "mation, then", "write"]) == "read the information, then write"
    assert join_lines(["an e-", "Mail"]) == "an e- Mail"  # a capital after the hyphen: kept
    assert join_lines(["中文", "English"]) == "中文English"
    line = Line("文字", 0.9, [(0, 0), (10, 0), (10, 10), (0, 10)])
    page = Page(0, 100, 100, [Block([line, line], kind="heading", direction=VERTICAL), Block([line])])
    doc = Document([page])
    assert doc.text() == "文字文字\n\n文字"
    again = Document.from_dict(doc.to_dict())
    assert (again.pages[0].blocks[0].kind, again.pages[0].blocks[0].direction) == ("heading", VERTICAL)
    assert again.pages[0].blocks[1].kind == "paragraph"


# ---------------------------------------------------------------------------- vertical columns


def _column(glyphs, size=24, step=30, split_second=False, mark_at=None):
    """A white column image with dark square glyphs (one with a blank row inside, like 二)."""
    h = 10 + step * len(glyphs)
    img = np.full((h, size + 8, 3), 255, np.uint8)
    for k, g in enumerate(glyphs):
        y = 5 + k * step + (step - size) // 2
        if g == "mark":  # a small mark at the top right of its square, as vertical setting places it
            img[y : y + 6, 4 + size - 8 : 4 + size - 2] = 0
        elif g == "two":
            img[y : y + size // 3, 4 : 4 + size] = 0
            img[y + 2 * size // 3 : y + size, 4 : 4 + size] = 0
        else:
            img[y : y + size, 4 : 4 + size] = 0
    return img


def test_glyph_cells_keep_split_glyphs_whole_and_cut_touching_ones():
    col = prepare(_column(["g", "two", "g", "mark", "g"]))
    assert len(col.cells) == 5
    cells, iw = glyph_cells((_column(["g"] * 3, step=24)[:, :, 0] < 128).astype(np.uint8))
    assert len(cells) == 3 and 20 <= iw <= 26  # touching glyphs (no blank row) cut at the pitch
    stacked = col.stacked
    assert stacked.shape[1] > stacked.shape[0] * 4  # laid out as a row
    # the mark moved to the bottom left of its cell
    k = 3
    x0 = col.pad + k * col.crop.shape[1]
    ink = np.argwhere(stacked[:, x0 : x0 + col.crop.shape[1], 0] < 128)
    assert ink[:, 0].min() > stacked.shape[0] / 2 and ink[:, 1].max() < col.crop.shape[1] / 2


def test_merge_takes_each_cell_from_the_surer_reading():
    col = prepare(_column(["g", "g", "g"]))
    w = col.crop.shape[1]
    centres = [col.pad + (k + 0.5) * w for k in range(3)]
    stacked = RecognitionResult("中文字", 0.8, [0.99, 0.3, 0.99], centres, [(c - 5, c + 5) for c in centres])
    rows = [(a + b) / 2 for a, b in col.cells]
    turned = RecognitionResult("xAy", 0.6, [0.2, 0.95, 0.2], rows, [(r - 5, r + 5) for r in rows])
    r = merge(col, stacked, turned)
    assert r.text == "中A字"
    assert [round(c, 2) for c in r.char_confidences] == [0.99, 0.95, 0.99]
    assert all(a < b for a, b in r.char_rows) and r.char_rows[0][0] < r.char_rows[2][0]
    blank = prepare(np.full((200, 30, 3), 255, np.uint8))
    assert blank.cells == [] and merge(blank, None, turned).text == "xAy"
    # Han read in the turned column was read lying on its side: the stacked cell stands, however unsure
    turned_han = RecognitionResult("x口y", 0.6, [0.2, 0.95, 0.2], rows, [(r - 5, r + 5) for r in rows])
    assert merge(col, stacked, turned_han).text == "中文字"
    turned_bracket = RecognitionResult("x（y", 0.6, [0.2, 0.95, 0.2], rows, [(r - 5, r + 5) for r in rows])
    assert merge(col, stacked, turned_bracket).text == "中（字"  # brackets are set turned
