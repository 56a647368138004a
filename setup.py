"""Shim so that tools which only know setup.py can install the project."""
from setuptools import setup

setup()
