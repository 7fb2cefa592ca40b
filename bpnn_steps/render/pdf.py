"""Compile a LaTeX document to PDF with pdflatex (or latexmk), atomically.

The document is compiled in a temporary folder with shell escape switched off;
only the finished PDF is moved to the target, so a failed compile never leaves
a partial file behind.
"""

from __future__ import annotations

import os
from collections.abc import Callable
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import ProblemError
from ..files.textio import write_atomic

INSTALL_HINT = ("--pdf needs pdflatex, which was not found; install it with "
                "'sudo apt-get install --no-install-recommends texlive-latex-base "
                "texlive-latex-recommended texlive-pictures latexmk' (Debian/Ubuntu), "
                "'brew install --cask basictex' (macOS) or TeX Live/MiKTeX "
                "(https://tug.org/texlive/)")
TIMEOUT_SECONDS = 180


def tex_command() -> list[str] | None:
    """The compiler to run: pdflatex (one pass is enough: no references), else latexmk."""
    flags = ["-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape"]
    if shutil.which("pdflatex"):
        return ["pdflatex", *flags]
    if shutil.which("latexmk"):
        return ["latexmk", "-pdf", "-quiet", "-pdflatex=pdflatex " + " ".join(flags) + " %O %S"]
    return None


def compile_pdf(tex: str, target: str | os.PathLike[str],
                timeout: float = TIMEOUT_SECONDS,
                write: Callable[[str | os.PathLike[str], bytes], None] = write_atomic) -> None:
    """Write the PDF of ``tex`` to ``target`` (by ``write``: an OutputGroup's, for a
    run of several files); ProblemError with the first LaTeX error (or the install
    hint) when it cannot (or within ``timeout`` seconds)."""
    command = tex_command()
    if command is None:
        raise ProblemError(INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="bpnn-steps-") as tmp:
        source = Path(tmp) / "sheet.tex"
        source.write_text(tex, encoding="utf-8")
        env = dict(os.environ, openout_any="p", openin_any="p")
        try:
            result = subprocess.run([*command, source.name], cwd=tmp, env=env,
                                    stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                    errors="replace", timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ProblemError(f"{command[0]} did not finish within {timeout:.0f} s",
                               file=str(target)) from None
        except OSError as exc:
            raise ProblemError(f"cannot run {command[0]}: {exc.strerror or exc}",
                               file=str(target)) from None
        pdf = Path(tmp) / "sheet.pdf"
        if result.returncode != 0 or not pdf.exists():
            raise ProblemError(f"{command[0]} failed: {_first_error(Path(tmp) / 'sheet.log')}",
                               file=str(target))
        write(target, pdf.read_bytes())


def _first_error(log: Path) -> str:
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "no log written"
    for k, line in enumerate(lines):
        if line.startswith("!"):
            detail = " ".join(s.strip() for s in lines[k + 1:k + 3] if s.strip())
            return f"{line[1:].strip()} {detail}".strip()
    return "see the LaTeX log"
