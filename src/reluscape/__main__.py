"""Allow `python -m reluscape`."""

import sys

from reluscape.cli import main

sys.exit(main())
