"""四张清单 evaluation (附件1). Models arrive with the evaluation issue."""
