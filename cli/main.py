"""Entry point of the ``odediag`` command line."""

import click

from odediag import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="odediag")
def cli() -> None:
    """odediag: measure why an ODE solve, or a neural ODE, is expensive.

    Trace every step a solver attempts, with the Jacobian spectrum along the
    way, and turn the trace into a stiffness verdict.
    """


from odediag_cli.trace import trace  # noqa: E402

cli.add_command(trace)
from odediag_cli.train import train  # noqa: E402

cli.add_command(train)
from odediag_cli.stiffness_report import stiffness_report  # noqa: E402

cli.add_command(stiffness_report)


def main() -> None:
    cli()
