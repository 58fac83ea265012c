"""Demo data for `lims demo` (added only where missing, through the services)."""


def seed() -> None:
    """Filled in by the intake feature."""
