"""Published toplines: parsing percentages with their qualifiers, mapping published labels
to codebook categories, the row-selection rule, row validation and ``add-published``.

May import ``pollwaves.config``, ``pollwaves.files`` and ``pollwaves.errors``.
"""
