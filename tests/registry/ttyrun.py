#!/usr/bin/env python3
"""Run a command with stderr on a pseudo-terminal (stdout and stdin stay
as they are) and print what a terminal would show at the end: the output
replayed on a small screen model that knows the escapes gantry's progress
display uses (CR, LF, ESC[nA cursor up, ESC[K erase line, ESC[J erase
below). The raw bytes go to RAW when given. Exits with the command's
status.

    ttyrun.py [--raw RAW] -- COMMAND ARGS...
"""
import fcntl
import os
import re
import struct
import subprocess
import sys
import termios

COLS, ROWS = 200, 60


def replay(data):
    lines, row, col = [""], 0, 0
    for m in re.finditer(r"\x1b\[(\d*)([AKJ])|\r|\n|[^\x1b\r\n]+", data):
        tok = m.group(0)
        while len(lines) <= row:
            lines.append("")
        if tok == "\r":
            col = 0
        elif tok == "\n":
            row, col = row + 1, 0
        elif m.group(2) == "A":
            row = max(0, row - int(m.group(1) or 1))
        elif m.group(2) == "K":
            lines[row] = lines[row][:col]
        elif m.group(2) == "J":
            lines[row] = lines[row][:col]
            del lines[row + 1:]
        else:
            line = lines[row].ljust(col)
            lines[row] = line[:col] + tok + line[col + len(tok):]
            col += len(tok)
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def main():
    args = sys.argv[1:]
    raw = None
    if args[:1] == ["--raw"]:
        raw, args = args[1], args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    proc = subprocess.Popen(args, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            b = os.read(master, 65536)
        except OSError:
            break
        if not b:
            break
        chunks.append(b)
    status = proc.wait()
    data = b"".join(chunks).decode("utf-8", "replace")
    if raw:
        with open(raw, "w") as f:
            f.write(data)
    for line in replay(data):
        print(line)
    sys.exit(status)


if __name__ == "__main__":
    main()
