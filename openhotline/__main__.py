from __future__ import annotations

import sys

from openhotline.cli import main

sys.exit(main())
