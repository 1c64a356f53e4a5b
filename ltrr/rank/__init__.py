"""The LambdaMART ranker, once the training rows are in pandas (no Spark here).

- ``labels``: the graded label mapping (0..3) and LightGBM's ``label_gain``.
- ``spec``: ``FeatureSpec``/``FeatureDef``, the feature order and missing-value handling shared
  by the trainer and serving.
- ``debias``: position-bias correction (IPW weights, LightGBM's position debiasing, or none).
- ``train``: ``RankerParams`` and ``fit_ranker`` (LightGBM ``lambdarank``, early-stopped).
- ``metrics``: NDCG@k, IPS NDCG and bootstrap intervals (``evaluate_scorers``).
- ``gate``: ``ranker_gate``, the model must beat every baseline for sure.
- ``export``: the model folder serving loads (text model, spec, golden set) and the parity check.
- ``day``: ``train_ranker_day``, one night: fit, evaluate, gate, export, ``metrics.json``.

Submodules import LightGBM only inside the functions that need it, so importing this package
stays cheap (the DAG file must not import LightGBM). See docs/ranker.md.
"""
