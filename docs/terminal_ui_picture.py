"""Draws docs/terminal-ui.png: `mixaug train` in burn-train's terminal UI, as a terminal
of 110 x 34 cells shows it some seconds into the example run.

    pip install pyte pillow        # a terminal emulator and an image library
    cargo build --release -p mixaug-runner
    python docs/terminal_ui_picture.py [SECONDS]   # default 28

The program runs on a pseudo-terminal; pyte keeps the screen it draws (blank again each
time the UI enters the terminal's alternate screen, which pyte lacks), and each cell is
painted with DejaVu Sans Mono (Debian's fonts-dejavu-core). Braille cells, which the UI's
plots are made of, are painted as their dots.
"""
import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import tempfile
import termios
import time

import pyte
from PIL import Image, ImageDraw, ImageFont

COLS, ROWS = 110, 34
CELL_W, CELL_H = 9, 18
BACKGROUND = (24, 24, 24)
FOREGROUND = (220, 220, 220)
# xterm's 16 colours as pyte names them.
COLOURS = {
    "black": (0, 0, 0), "red": (205, 49, 49), "green": (13, 188, 121),
    "brown": (229, 229, 16), "blue": (36, 114, 200), "magenta": (188, 63, 188),
    "cyan": (17, 168, 205), "white": (229, 229, 229),
}
FONTS = "/usr/share/fonts/truetype/dejavu/"
ENTER_ALTERNATE = b"\x1b[?1049h"
# Braille dot → (column, row) in its 2 x 4 cell.
DOTS = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (0, 3), (1, 3)]


def colour(name, default):
    if name == "default":
        return default
    if name in COLOURS:
        return COLOURS[name]
    try:
        return tuple(int(name[i:i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        return default


def paint(screen, path):
    mono = ImageFont.truetype(FONTS + "DejaVuSansMono.ttf", 14)
    # Arrows and other symbols DejaVu Sans Mono lacks.
    sans = ImageFont.truetype(FONTS + "DejaVuSans.ttf", 13)
    image = Image.new("RGB", (COLS * CELL_W, ROWS * CELL_H), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for y in range(ROWS):
        for x in range(COLS):
            cell = screen.buffer[y][x]
            fg, bg = colour(cell.fg, FOREGROUND), colour(cell.bg, BACKGROUND)
            if cell.reverse:
                fg, bg = bg, fg
            left, top = x * CELL_W, y * CELL_H
            if bg != BACKGROUND:
                draw.rectangle([left, top, left + CELL_W - 1, top + CELL_H - 1], fill=bg)
            code = ord(cell.data[0]) if cell.data else 32
            if 0x2800 <= code <= 0x28FF:
                for bit, (col, row) in enumerate(DOTS):
                    if (code - 0x2800) >> bit & 1:
                        cx, cy = left + 2 + 4 * col, top + 2 + 4 * row
                        draw.rectangle([cx, cy, cx + 2, cy + 2], fill=fg)
            elif cell.data.strip():
                font = mono if mono.getmask(cell.data).getbbox() else sans
                draw.text((left, top), cell.data, font=font, fill=fg)
    image.save(path)


def ended(process, screen, start):
    """Stops with what mixaug's terminal showed when it ended before the picture."""
    process.wait()
    shown = "\n".join(line.rstrip() for line in screen.display).strip()
    sys.exit(f"mixaug ended after {time.time() - start:.0f} s, before the picture:\n{shown}")


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 28.0
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    work = tempfile.TemporaryDirectory(prefix="mixaug-ui-")
    out = work.name
    command = [
        os.path.join(root, "target/release/mixaug"), "train",
        os.path.join(root, "configs/examples/fashion_mnist_cutmix.toml"), "--out", out,
    ]
    screen = pyte.Screen(COLS, ROWS)
    stream = pyte.ByteStream(screen)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    env = dict(os.environ, TERM="xterm-256color")
    env.pop("CI", None)
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env,
                               cwd=root, start_new_session=True)
    os.close(slave)
    start = time.time()
    while time.time() - start < seconds:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the program closed its terminal.
                data = b""
            if not data:
                ended(process, screen, start)
            # pyte has no alternate screen: the UI's screen starts blank, as in a terminal.
            while ENTER_ALTERNATE in data:
                before, data = data.split(ENTER_ALTERNATE, 1)
                stream.feed(before)
                screen.reset()
            stream.feed(data)
        elif process.poll() is not None:
            ended(process, screen, start)
    paint(screen, os.path.join(root, "docs/terminal-ui.png"))
    process.terminate()
    process.wait()
    work.cleanup()
    print(f"docs/terminal-ui.png: the screen after {seconds:.0f} s")


if __name__ == "__main__":
    main()
