"""``python -m toolkit ...``: see :mod:`toolkit.cli`."""

from toolkit.cli.main import main

raise SystemExit(main())
