import sys

from authsurge.cli import main

sys.exit(main())
