"""The lab's own tests: unit/ (tools/test's unit tier) and integration/ (its integration tier)."""
