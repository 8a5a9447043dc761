"""``python -m swin_tutor.train``: the command line of :mod:`swin_tutor.train.cli`."""

from swin_tutor.train.cli import main

main()
