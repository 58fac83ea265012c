"""Operations: the production server (``lims serve``), backups (``lims backup`` / ``lims
restore``), copying a database to another (``lims db copy``), static-file caching.

This package sits at the app-factory level (floor 9): it may read every feature's tables, but
it does so generically through the SQLAlchemy metadata, so a new feature's tables are covered
without a change here.
"""
