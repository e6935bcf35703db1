"""Drawing the wall's tiles: each as bordered lines of text (``tile_lines``), a page of them as
one renderable (``render_page``), and ``TileGrid``, the widget that turns its pages with the
clock."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.widget import Widget

from buildradiator import fmt
from buildradiator.ui.widgets.palette import palette
from buildradiator.ui.widgets.tile import Tile
from buildradiator.ui.widgets.wall_tiles import TilePlan, plan_tiles

# --- drawing tiles -------------------------------------------------------------------------

BORDERS = {
    # (top-left, horizontal, top-right, vertical, bottom-left, bottom-right)
    (False, False): "┌─┐│└┘",
    (False, True): "┏━┓┃┗┛",
    (True, False): "+-+|++",
    (True, True): "#=#H##",
}


def tile_content(tile: Tile, lines: int) -> list[tuple[str, str]]:
    """The (text, role) lines a tile has room for: the title always, then the word, then more.
    Roles: ``title`` (glyph and name), ``word`` (status word), ``detail``."""
    if lines <= 1:
        return [(f"{tile.title}\t{tile.word}", "title")]
    body = [(tile.title, "title"), (tile.word, "word")]
    if tile.detail and lines >= 3:
        body.append((tile.detail, "detail"))
    return body


def _one_line(text: str, room: int, ascii: bool) -> str:
    """``title\tword`` in ``room`` cells: the name is cut before the status word ever is."""
    title, _, word = text.partition("\t")
    if not word:
        return fmt.truncate(title, room, ascii)
    return fmt.truncate(title, max(1, room - len(word) - 1), ascii) + " " + word


def tile_lines(tile: Tile, width: int, height: int, ascii: bool) -> list[tuple[str, str]]:
    """The tile as ``height`` strings of exactly ``width`` cells, each with its role (the
    border rows are ``frame``; a text row keeps its border cells first and last).

    Bordered when there is room (3 rows or more); one line of text otherwise.
    """
    if height < 3 or width < 6:
        text, _ = tile_content(tile, 1)[0]
        body = " " + _one_line(text, max(0, width - 2), ascii)
        return [(body.ljust(width)[:width], "title")] + [(" " * width, "blank")] * (height - 1)
    tl, hz, tr, vt, bl, br = tuple(BORDERS[(ascii, tile.filled)])
    inner_w, inner_h = width - 2, height - 2
    content = tile_content(tile, inner_h)
    # Centred as if every tile had its detail line: a tile without one keeps its title on the
    # same row as its neighbours' titles.
    top_pad = (inner_h - min(inner_h, 3)) // 2
    out = [(tl + hz * inner_w + tr, "frame")]
    for row in range(inner_h):
        index = row - top_pad
        if 0 <= index < len(content):
            text, role = content[index]
            body = " " + _one_line(text, inner_w - 2, ascii)
            out.append((vt + body.ljust(inner_w) + vt, role))
        else:
            out.append((vt + " " * inner_w + vt, "blank"))
    out.append((bl + hz * inner_w + br, "frame"))
    return out


def tile_styles(tile: Tile, styles: dict[str, Style]) -> dict[str, Style]:
    """Role -> style. Filled tiles are a block of colour with contrasting text; the others are
    framed in their colour with the title in it; stale tiles are grey throughout."""
    colour = styles.get(tile.style, styles[""])
    bold = Style(bold=True)
    if tile.filled and colour.color is not None and colour.color.triplet is not None:
        bg = colour.color.triplet.hex
        block = Style(color=Color.parse(bg).get_contrast_text(1.0).hex6, bgcolor=bg)
        return {
            "frame": block,
            "blank": block,
            "title": block + bold,
            "word": block + bold,
            "detail": block,
        }
    if tile.style == "stale":
        return {
            "frame": colour,
            "blank": colour,
            "title": colour + bold,
            "word": colour,
            "detail": colour,
        }
    return {
        "frame": colour,
        "blank": Style(),
        "title": colour + bold,
        "word": bold,
        "detail": Style(),
    }


def render_page(
    plan: TilePlan, page: int, width: int, height: int, styles: dict[str, Style], ascii: bool
) -> Text:
    tiles = plan.pages[page] if plan.pages else ()
    out = Text(no_wrap=True, overflow="crop", end="")
    lines: list[Text] = []
    bordered = plan.height >= 3 and plan.width >= 6
    for start in range(0, len(tiles), plan.cols):
        row = tiles[start : start + plan.cols]
        drawn = [tile_lines(t, plan.width, plan.height, ascii) for t in row]
        looks = [tile_styles(t, styles) for t in row]
        for line_no in range(plan.height):
            line = Text(no_wrap=True, overflow="crop", end="")
            for tile_rows, look in zip(drawn, looks, strict=True):
                chunk, role = tile_rows[line_no]
                if bordered and role != "frame":
                    line.append(chunk[0], look["frame"])
                    line.append(chunk[1:-1], look[role])
                    line.append(chunk[-1], look["frame"])
                else:
                    line.append(chunk, look[role])
            lines.append(line)
    if len(plan.pages) > 1:
        while len(lines) < height - 1:
            lines.append(Text(""))
        indicator = f"page {page + 1}/{len(plan.pages)}"
        if plan.collapsed:
            indicator = f"{plan.collapsed} passing folded{fmt.SEPARATOR[ascii]}{indicator}"
        lines.append(Text(indicator.rjust(width), styles["bold"]))
    for index, line in enumerate(lines):
        if index:
            out.append("\n")
        out.append_text(line)
    return out


class TileGrid(Widget):
    """The tiles, drawn as one renderable (200 widgets would be slow to lay out, for nothing)."""

    def __init__(self, page_seconds: float, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.page_seconds = page_seconds
        self.tiles: list[Tile] = []
        self.ascii = False
        self.page = 0
        self._page_epoch: float | None = None

    def show(self, tiles: list[Tile], ascii: bool) -> bool:
        if tiles == self.tiles and ascii == self.ascii:
            return False
        self.tiles, self.ascii = tiles, ascii
        self.page = min(self.page, max(0, len(self.plan().pages) - 1))
        self.refresh()
        return True

    def plan(self) -> TilePlan:
        return plan_tiles(self.tiles, self.size.width, self.size.height, self.ascii)

    def tick(self, monotonic: float) -> bool:
        """Turn the page when its time is up; the page follows the clock, not a counter."""
        if self._page_epoch is None:
            self._page_epoch = monotonic
        pages = len(self.plan().pages)
        page = int((monotonic - self._page_epoch) // self.page_seconds) % pages if pages else 0
        if page == self.page:
            return False
        self.page = page
        self.refresh()
        return True

    def restyle(self) -> None:
        self.refresh()

    def render(self) -> Text:
        plan = self.plan()
        page = min(self.page, max(0, len(plan.pages) - 1))
        styles = palette(self.app)
        return render_page(plan, page, self.size.width, self.size.height, styles, self.ascii)
