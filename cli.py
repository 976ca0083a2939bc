#!/usr/bin/env python
"""``python cli.py COMMAND``: the same as the installed ``contamkit COMMAND``.

The commands are declared in ``contamkit/cli.py``; this file lets a checkout run them uninstalled.
"""

import sys

from contamkit.cli import main

if __name__ == "__main__":
    sys.exit(main())
