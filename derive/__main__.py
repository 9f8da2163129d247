"""``python -m derive`` is the ``derive`` command."""

import sys

from derive.cli import main

sys.exit(main())
