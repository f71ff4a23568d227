"""``python -m gradus.cli`` == ``gradus``."""
import sys

from .main import main

sys.exit(main())
