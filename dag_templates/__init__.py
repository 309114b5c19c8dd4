"""Jinja templates of generated DAG files: one per DAG kind, one per task operator."""
