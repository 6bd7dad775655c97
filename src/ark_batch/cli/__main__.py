"""``python -m ark_batch.cli``."""

from ark_batch.cli import main

main()
