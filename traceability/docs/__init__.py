"""`ionto-trace docs`: the IEC 62304 class C documentation set, generated from
the repository (records, code, risk file, test results) and stamped with the
commit and each document's revision history from git."""

# id, title, IEC 62304 clause(s)
DOCUMENTS = (
    ("development-plan", "Software development plan", "5.1"),
    ("architecture", "Software architecture", "5.3"),
    ("detailed-design", "Software detailed design", "5.4"),
    ("verification", "Unit, integration and system verification: plans and reports", "5.5, 5.6, 5.7"),
    ("release-record", "Software release record", "5.8"),
    ("soup", "SOUP list", "5.3.3, 5.3.4, 7.1.2, 7.1.3, 8.1.2"),
    ("maintenance-plan", "Software maintenance plan", "6"),
    ("problem-reports", "Problem report log", "9"),
    ("clause-map", "IEC 62304 clause map", "4-9"),
    ("bibliography", "Domain facts and their sources", "4.2 (inputs of the risk analysis), 5.2"),
)
DOC_IDS = tuple(d[0] for d in DOCUMENTS)
