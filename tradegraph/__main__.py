import sys

from tradegraph.cli import main

sys.exit(main())
