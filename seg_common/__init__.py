"""Shared building blocks for the DeepLabv3+, Bayesian SegNet and EncNet packages.

Sub-packages: `layers` (ops proved against NumPy oracles), `backbones`, `data`;
modules `losses`, `metrics`, `training`, `export`. Library code never reads flags.
"""
