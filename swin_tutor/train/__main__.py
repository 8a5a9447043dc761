"""``python -m swin_tutor.train``: the command line of :mod:`swin_tutor.train.cli`."""

from .cli import main

main()
