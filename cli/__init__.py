"""The headless command line: edit, plan, models, doctor."""
