"""A small block font for words Textual's ``Digits`` cannot draw ("ALL GREEN", "3d 4h"), and the
ASCII stand-in for ``Digits`` itself under ``--ascii`` (whose glyphs are box-drawing characters).

Glyphs are 5 rows of ``#`` and ``.``; each ``#`` is drawn as a full block (``#`` in ASCII), and
twice as wide when there is room, since terminal cells are about twice as tall as they are wide.
"""

from __future__ import annotations

FONT: dict[str, tuple[str, ...]] = {
    "A": ("###", "#.#", "###", "#.#", "#.#"),
    "C": ("###", "#..", "#..", "#..", "###"),
    "D": ("##.", "#.#", "#.#", "#.#", "##."),
    "E": ("###", "#..", "##.", "#..", "###"),
    "G": ("###", "#..", "#.#", "#.#", "###"),
    "H": ("#.#", "#.#", "###", "#.#", "#.#"),
    "I": ("###", ".#.", ".#.", ".#.", "###"),
    "K": ("#.#", "#.#", "##.", "#.#", "#.#"),
    "L": ("#..", "#..", "#..", "#..", "###"),
    "N": ("#..#", "##.#", "#.##", "#..#", "#..#"),
    "O": ("###", "#.#", "#.#", "#.#", "###"),
    "P": ("###", "#.#", "###", "#..", "#.."),
    "R": ("##.", "#.#", "##.", "#.#", "#.#"),
    "S": ("###", "#..", "###", "..#", "###"),
    "T": ("###", ".#.", ".#.", ".#.", ".#."),
    "U": ("#.#", "#.#", "#.#", "#.#", "###"),
    "W": ("#...#", "#...#", "#.#.#", "##.##", "#...#"),
    "0": ("###", "#.#", "#.#", "#.#", "###"),
    "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"),
    "3": ("###", "..#", ".##", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", "..#", "..#", "..#"),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "###"),
    "d": ("..#", "..#", "###", "#.#", "###"),
    "h": ("#..", "#..", "###", "#.#", "#.#"),
    "m": ("....", "....", "###.", "#.##", "#.##"),
    "s": ("...", ".##", "#..", "..#", "##."),
    ":": (".", "#", ".", "#", "."),
    " ": ("..",),
}
HEIGHT = 5


def big_lines(text: str, ascii: bool = False, double: bool = True) -> list[str]:
    """``text`` as 5 lines of block letters; characters the font lacks are left out."""
    ink = "#" if ascii else "█"
    rows = [""] * HEIGHT
    glyphs = [FONT[c] for c in text if c in FONT]
    for index, glyph in enumerate(glyphs):
        for row in range(HEIGHT):
            pattern = glyph[row] if row < len(glyph) else "." * len(glyph[0])
            cells = pattern.replace("#", ink).replace(".", " ")
            if double:
                cells = "".join(ch * 2 for ch in cells)
            rows[row] += cells + (" " if index < len(glyphs) - 1 else "")
    return rows


def big_width(text: str, double: bool = True) -> int:
    return len(big_lines(text, ascii=True, double=double)[0])
