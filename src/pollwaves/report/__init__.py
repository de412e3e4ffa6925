"""Figures and the self-contained HTML report: its sections, tables and Jinja2 templates.

May import ``pollwaves.analysis``, ``pollwaves.survey``, ``pollwaves.config``,
``pollwaves.files`` and ``pollwaves.errors``.
"""
