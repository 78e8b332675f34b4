"""The ``odediag`` command line: a thin layer over the :mod:`odediag` library."""
