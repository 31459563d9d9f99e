"""What the target's dynamic loader would do, worked out statically inside a sysroot."""
