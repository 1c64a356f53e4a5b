"""Closed-loop experiment: LTR&R against static retrieval plans, uniform random and an oracle."""
