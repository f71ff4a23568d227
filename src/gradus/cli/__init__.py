"""The ``gradus`` command."""
