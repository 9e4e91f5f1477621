"""`python -m orchestration.demo`: the generator's command line."""

import sys

from orchestration.demo.cli import main

sys.exit(main())
