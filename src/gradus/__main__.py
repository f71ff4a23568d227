"""``python -m gradus`` is the ``gradus`` command."""
from .cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
