"""The lab's unit tests: its decisions, with fixture files and fakes; no root, no machine."""
