"""The simulated music-search world: catalog, customers, intents, queries, clicks, truth.

``simulate(out, start, days, scale, seed, ...)`` writes the raw logs a serving system would
(``raw/catalog``, ``raw/searches``, ``raw/engagements``) plus the ground truth only a simulator
knows (``sim/truth``, ``sim/world.json``). See ``docs/simulator.md``.
"""

from ltrr.sim.world import simulate

__all__ = ["simulate"]
