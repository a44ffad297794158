"""Build hook: compiles the C regulator and simulated load with cffi (out-of-line API mode).

cffi builds the extension against the stable ABI (``_regulator_cffi.abi3.so``);
``py_limited_api`` tags the wheel accordingly (cp311-abi3), so one wheel serves
CPython 3.11 and later.
"""
from setuptools import setup

setup(cffi_modules=["cext/build_cffi.py:ffibuilder"],
      options={"bdist_wheel": {"py_limited_api": "cp311"}})
