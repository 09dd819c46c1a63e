"""Click commands grouped by concern; `cli.py` registers them on the `osteo` group."""
