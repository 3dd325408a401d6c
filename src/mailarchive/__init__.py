"""mailarchive: a self-hostable archive for mailing lists."""

__version__ = "0.1.0"
