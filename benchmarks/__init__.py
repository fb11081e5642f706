"""Side-by-side benchmarks of this plugin and the vendor's ``AzureVoiceLive``.

Run ``python -m benchmarks`` (``--quick`` for a smoke run); results go to
``benchmarks/results/``. See ``benchmarks/run.py`` for what runs where, and each
figure's module for what exactly is measured.
"""

__all__: list[str] = []
