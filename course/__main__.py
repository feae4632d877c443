"""``python -m course``: the same as ``autodiff-course``."""

import sys

from course.cli import main

sys.exit(main())
