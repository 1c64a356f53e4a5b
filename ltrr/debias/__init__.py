"""Position-bias correction shared by the memory index and the ranker."""

from ltrr.debias.examination import ExaminationCurve, estimate_examination, position_ctr

__all__ = ["ExaminationCurve", "estimate_examination", "position_ctr"]
