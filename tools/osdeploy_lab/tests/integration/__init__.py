"""The lab's integration tests: each backend brings real machines up and down (as root)."""
