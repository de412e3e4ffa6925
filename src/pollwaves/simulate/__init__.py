"""The SIMULATED population, its targets and calibration, and the simulated deliveries in
their file formats (``pollwaves simulate``).

May import ``pollwaves.survey``, the readers and writers of ``pollwaves.intake``,
``pollwaves.config``, ``pollwaves.files`` and ``pollwaves.errors``.
"""
