"""The ``classbalance`` command line: inspect, split, oversample, weights, leakage, compare.

One module per command (``classbalance.cli.inspect``, ...; ``compare`` lives in
:mod:`classbalance.compare.command`), the options they share in
:mod:`classbalance.cli.options`, and the group in ``_app``. Every command only
calls the public API. Errors print one line (``Error: ...``) and exit with
status 1; ``classbalance --debug ...`` (or ``CLASSBALANCE_DEBUG=1``) shows the
traceback instead.

Commands are registered by name in :data:`COMMANDS` (``"name": "module:attribute"``
of a ``click.Command``) and imported only when they run or ``--help`` lists them,
so heavy imports (Keras, matplotlib) never slow down the other commands.
``main.add_command(cmd)`` works as well for commands defined at import time.
"""

from classbalance.cli._app import COMMANDS, main

__all__ = ["COMMANDS", "main"]
