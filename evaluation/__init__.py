"""The yearly 四张清单 evaluation (附件1): schemes, peer groups, evidence, officers' scores, the pure pandas
scoring engine (`scoring.py`, `grading.py`), publication, what-if copies, report cards and exports (see
README.md beside this file).

May import: the ground floor, `institutions`, `reporting` and `indicators` (the stored values it reads for
定量 items) — it is the top app; nothing imports it but the project's wiring (tests/portal/test_layers.py).
"""
