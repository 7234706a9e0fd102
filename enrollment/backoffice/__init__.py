"""The comune staff's back office at /admin/ on the comune's host.

Roles and their permissions (`roles.py`), staff-only writes (`services.py`),
reads for the list, dashboard and exports (`selectors.py`, `exports.py`),
and the pages (`views.py`, mounted by `enrollment.admin.staff_site`).
"""
