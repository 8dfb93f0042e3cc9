"""``python -m nn``: the ``edgegrad`` command."""

from .cli import main

raise SystemExit(main())
