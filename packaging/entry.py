"""The frozen app's entry point. `main()` calls multiprocessing.freeze_support() first, so
the model host (this same executable started by multiprocessing) is caught before the
command line is read."""

import sys

from desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
