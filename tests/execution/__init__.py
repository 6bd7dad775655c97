"""Tests of job execution and object storage (issue 4)."""
