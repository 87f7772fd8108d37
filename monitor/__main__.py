"""`python -m monitor` is the same as `news-monitor`."""

import sys

from .cli.main import main

sys.exit(main())
