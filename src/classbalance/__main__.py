"""``python -m classbalance``: the command line (see :mod:`classbalance.cli`)."""

from classbalance.cli import main

main(prog_name="classbalance")
