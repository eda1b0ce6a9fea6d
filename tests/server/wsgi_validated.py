"""`validated:APPMODULE`: the app of APPMODULE wrapped in wsgiref.validate.validator, imported on demand."""

import importlib
from wsgiref.validate import validator


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return validator(importlib.import_module(name).app)
