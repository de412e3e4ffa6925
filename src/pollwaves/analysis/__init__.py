"""The study's models: pooled trends and subgroups of war support, attitudes by stance,
the alliance model inputs, the poll average and the claims ledger.

May import ``pollwaves.survey``, ``pollwaves.published``, ``pollwaves.config``,
``pollwaves.files`` and ``pollwaves.errors``.
"""
