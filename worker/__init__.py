"""henrei application: reading, normalising, linking, reporting, CLI, configuration."""
