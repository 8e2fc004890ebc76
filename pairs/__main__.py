"""``python -m pairs`` runs the command line."""

import sys

from pairs.cli import main

sys.exit(main())
