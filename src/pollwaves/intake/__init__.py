"""Deliveries in: readers (sav, dta, csv, xlsx, parquet), byte-reproducible writers,
harmonisation to the codebook, cleaning, raking margins and derived raking columns, and
``add-wave`` / ``check-wave`` (propose, render, check).

May import ``pollwaves.survey``, ``pollwaves.config``, ``pollwaves.files`` and
``pollwaves.errors``.
"""
