"""Tests of the handwritten client layer and the ark-batch CLI."""
