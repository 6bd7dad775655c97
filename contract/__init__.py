"""Contract testing of the Ark batch-job API with schemathesis (CLI and pytest share this)."""
