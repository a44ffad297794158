"""ionto-trace: requirements, risk file and test evidence, checked and reported.

Reads `spec/`, `hazard_analysis/`, the test results written by the pytest
plugin (`traceability.pytest_plugin`) and the verifier's results; never
imports `core` except to render the state diagram when no SVG exists.
"""

DEFAULT_RESULTS = "out/test-results/results.json"
DEFAULT_VERIFICATION = "out/verification/results.json"
ROOT_ENV = "IONTO_TRACE_ROOT"
RESULTS_ENV = "IONTO_TRACE_RESULTS"
