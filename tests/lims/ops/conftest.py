"""Operations tests may run in both storage modes (``@both_modes``)."""

from tests.lims.storage_modes import app, storage_mode  # noqa: F401  (fixtures)
