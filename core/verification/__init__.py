"""`ionto-verify`: the therapy state machine verified as it runs.

introspect  reads the class into a neutral model (never a hand-written copy)
explore     drives the class itself under every guard value and event
promela     generates Promela from the same model and runs SPIN
mutate      every single change of the table, each checked
diagram     the state diagram (SVG), coloured by output permission
cli         the console script
"""
