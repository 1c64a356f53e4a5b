"""Off-policy estimation, diagnostics and offline policy learning over retrieval plans.

Importing the package is cheap (numpy only): it exposes the array-level estimators and
diagnostics. The reward model, policy, gate and synthetic generator (pandas, lightgbm) live in
their modules: ``ltrr.bandit.reward_model``, ``ltrr.bandit.policy``, ``ltrr.bandit.gate``,
``ltrr.bandit.synthetic``. See ``docs/bandit.md``.
"""

from ltrr.bandit.diagnostics import (
    DiagnosticThresholds,
    PropensityDiagnostics,
    check_diagnostics,
    propensity_diagnostics,
)
from ltrr.bandit.ope import PolicyValue, dm, dr, dr_os, ips, snips, switch_dr

__all__ = [
    "DiagnosticThresholds",
    "PolicyValue",
    "PropensityDiagnostics",
    "check_diagnostics",
    "dm",
    "dr",
    "dr_os",
    "ips",
    "propensity_diagnostics",
    "snips",
    "switch_dr",
]
