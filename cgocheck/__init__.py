"""cgocheck: prove that a cgo cross build is what it claims to be."""

__version__ = "0.1.0"
