"""`python -m osteo_analytics.cli`: the same as the `osteo` command."""

from osteo_analytics.cli import main

main()
