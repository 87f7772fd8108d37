"""`python -m monitor` is the same as `news-monitor`."""

import sys

from .cli import main

sys.exit(main())
