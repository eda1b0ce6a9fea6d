"""The prefork stage: a supervising master (arbiter.py) and its event-loop workers (worker.py)."""
