"""Sysroots: recipes, rootless creation, inspection and chroot-confined file access."""
