"""Figures and the forecast appendix. Consumes results; computes nothing."""
