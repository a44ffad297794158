"""Build hook: compiles the C regulator and simulated load with cffi (out-of-line API mode)."""
from setuptools import setup

setup(cffi_modules=["cext/build_cffi.py:ffibuilder"])
