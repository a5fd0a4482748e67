"""Background jobs on PostgreSQL with procrastinate (ADR 0012). The in-memory queue is in adapters/memory/jobs.py."""
