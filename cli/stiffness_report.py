"""``odediag stiffness-report``: the stiffness verdict of a saved trace."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from odediag.report import FORMATS
from odediag.report import stiffness_report as render_report
from odediag.stiffness import STABILITY_THRESHOLD
from odediag.trace import load_trace
from odediag_cli._common import friendly_errors


@click.command("stiffness-report")
@click.argument("trace_file", metavar="INPUT", type=click.Path(path_type=Path))
@click.option(
    "--output-dir",
    "-o",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for the PNG figures (and report.html); created if missing. "
    "Without it, text and json write no figures.",
)
@click.option(
    "--format",
    "-f",
    "format_",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text on the terminal, json summary on stdout, or html page in the folder.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1, min_open=True),
    default=STABILITY_THRESHOLD,
    show_default=True,
    help="Fraction of the stability boundary at which a step counts as "
    "stability-limited.",
)
@friendly_errors
def stiffness_report(
    trace_file: Path, output_dir: Path | None, format_: str, threshold: float
) -> None:
    """Say whether the solve recorded in INPUT was stiff, and why it cost what it did.

    INPUT is a trace saved by `odediag trace` (netCDF). The report tells which
    steps were limited by the method's stability rather than by accuracy, from
    when the problem turned stiff, and what to do about it. The html format
    writes DIR/report.html (default folder: odediag-report).
    """
    trace = load_trace(trace_file)
    if format_ == "html" and output_dir is None:
        output_dir = Path("odediag-report")
    if output_dir is not None:
        _make_folder(output_dir)
    result = render_report(trace, output_dir, format_, threshold)
    if format_ == "html":
        click.echo(f"wrote {result}")
    else:
        click.echo(result, nl=not result.endswith("\n"))


def _make_folder(path: Path) -> None:
    """Create the folder and check a file can be written in it, before any work."""
    if path.exists() and not path.is_dir():
        raise click.ClickException(
            f"invalid --output-dir {str(path)!r}: it is a file; give a folder "
            "for the figures"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise click.ClickException(
            f"invalid --output-dir {str(path)!r}: cannot write there "
            f"({error.strerror}); give a folder you can write to"
        ) from None
