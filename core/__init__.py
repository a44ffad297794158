"""Control core of a home-use tap-water iontophoresis device.

Layers (see docs/architecture.md): the C regulator (cext/) enforces every
patient-protecting limit; `core.machine.TherapyMachine` alone decides what the
output may do; `core.supervisor` turns those decisions into regulator commands.
"""
