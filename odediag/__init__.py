"""odediag: measurements of why an ODE solve is expensive."""

__version__ = "0.1.0"
