"""`python -m librobot_gym.cli`: the `librobot` command."""

import sys

from librobot_gym.cli import main

sys.exit(main())
