"""Data files shipped with gmsim: parameters, population, targets, sources, calibrated values."""
