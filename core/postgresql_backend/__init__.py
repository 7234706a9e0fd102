"""django-tenants' PostgreSQL backend that does not send a search path the server already has (base.py)."""
